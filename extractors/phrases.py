"""Compile the phrase lists of a story (terms, cues, aliases) into regular expressions.

Two matching rules, both documented for story authors in the README:
- terms and cues match case-insensitively at the start of a word and may run on
  ("peacekeep" finds "peacekeepers"); after a modal, an adverb may stand before the next
  word ("would send" finds "would also send");
- names (actor aliases and role titles) match case-sensitively as whole words, with an
  optional possessive ("Starmer's"), so that "US" never matches "us".
Curly apostrophes are treated as straight ones throughout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


def normalise(text: str) -> str:
    """Map typographic apostrophes to ``'`` without changing the text's length."""
    # str.replace runs at C speed; translate() with a table looks up every character.
    return text.replace("’", "'").replace("‘", "'")


def alternation(phrases: Iterable[str], fold_case: bool = False) -> str:
    """One regular expression for all ``phrases``, as a trie: at any place the longest
    phrase wins ("Donald Trump" over "Trump"), and a place is rejected after a character
    or two instead of after trying every phrase (stories have hundreds of cues)."""
    trie: dict = {}
    for phrase in {normalise(p).strip() for p in phrases if p.strip()}:
        node = trie
        for atom in _atoms(phrase.lower() if fold_case else phrase):
            node = node.setdefault(atom, {})
        node[""] = {}  # a phrase ends here
    return _emit(trie)


def _atoms(phrase: str) -> list[str]:
    # "the Kremlin" also starts a sentence as "The Kremlin", and "The Hague" runs on as
    # "the Hague"; a space stands for any run of white space.
    atoms = []
    if phrase[:4] in ("the ", "The "):
        atoms, phrase = ["[Tt]", "h", "e", r"\s+"], phrase[4:]
    for n, ch in enumerate(phrase):
        if ch != " ":
            atoms.append(re.escape(ch))
        elif n and phrase[n - 1] == " ":
            continue  # one run of white space, one atom
        elif _MODAL.search(phrase, 0, n):
            atoms.append(_SPACE_AFTER_MODAL)  # "would also send", "will still back"
        else:
            atoms.append(r"\s+")
    return [a for n, a in enumerate(atoms) if not (a == r"\s+" and n and atoms[n - 1] == r"\s+")]


# An adverb between a modal and its verb leaves a phrase whole: "would only back", "will also send".
_MODAL = re.compile(r"(?:^|\s)(?:will|would|could|can|should|shall|must|may|might)$", re.IGNORECASE)
_SPACE_AFTER_MODAL = (
    r"\s+(?:(?:also|only|still|now|then|indeed|eventually|ultimately|readily|gladly|happily|"
    r"immediately|quickly|soon)\s+)?"
)


def _emit(node: dict) -> str:
    branches = [atom + _emit(child) for atom, child in sorted(node.items()) if atom]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 and len(branches[0]) == 1 else f"(?:{'|'.join(branches)})"
    return body + ("?" if "" in node else "")


@lru_cache(maxsize=512)
def terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """Case-insensitive start-of-word pattern for topic terms and cue phrases."""
    if not terms:
        return None
    return re.compile(rf"(?<!\w)(?:{alternation(terms, fold_case=True)})\w*", re.IGNORECASE)


@lru_cache(maxsize=512)
def exact_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """Case-insensitive whole-word pattern (for negators, where "no" must not find "north")."""
    if not phrases:
        return None
    return re.compile(rf"(?<!\w)(?:{alternation(phrases, fold_case=True)})(?!\w)", re.IGNORECASE)


@lru_cache(maxsize=512)
def names_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """Case-sensitive whole-word pattern for names, allowing a possessive 's."""
    if not names:
        return None
    return re.compile(rf"(?<![\w.])(?:{alternation(names)})(?:'s)?(?![\w])")


def name_key(name: str) -> str:
    """The form under which a name is looked up: single spaces, a leading "the" in lower case."""
    name = " ".join(normalise(name).split())
    return "t" + name[1:] if name.startswith("The ") else name


def find_terms(terms: tuple[str, ...], text: str) -> list[str]:
    """The distinct terms of ``terms`` that occur in ``text``, in the order given."""
    found = []
    norm = normalise(text)
    for term in terms:
        pattern = terms_pattern((term,))
        if pattern is not None and pattern.search(norm):
            found.append(term)
    return found
