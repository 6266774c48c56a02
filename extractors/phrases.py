"""Compile the phrase lists of a story (terms, cues, aliases) into regular expressions.

Two matching rules, both documented for story authors in the README:
- terms and cues match case-insensitively at the start of a word and may run on
  ("peacekeep" finds "peacekeepers");
- names (actor aliases and role titles) match case-sensitively as whole words, with an
  optional possessive ("Starmer's"), so that "US" never matches "us".
Curly apostrophes are treated as straight ones throughout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'"})


def normalise(text: str) -> str:
    """Map typographic apostrophes to ``'`` without changing the text's length."""
    return text.translate(_APOSTROPHES)


def _alternation(phrases: Iterable[str]) -> str:
    # Longest first, so that "Donald Trump" wins over "Trump" at the same place.
    unique = sorted({normalise(p).strip() for p in phrases if p.strip()}, key=len, reverse=True)
    escaped = (re.escape(p).replace(r"\ ", r"\s+") for p in unique)
    # "the Kremlin" also starts a sentence as "The Kremlin", and "The Hague" runs on as
    # "the Hague".
    return "|".join(re.sub(r"^[Tt]he\\s\+", r"[Tt]he\\s+", p) for p in escaped)


@lru_cache(maxsize=512)
def terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """Case-insensitive start-of-word pattern for topic terms and cue phrases."""
    if not terms:
        return None
    return re.compile(rf"(?<!\w)(?:{_alternation(terms)})\w*", re.IGNORECASE)


@lru_cache(maxsize=512)
def exact_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """Case-insensitive whole-word pattern (for negators, where "no" must not find "north")."""
    if not phrases:
        return None
    return re.compile(rf"(?<!\w)(?:{_alternation(phrases)})(?!\w)", re.IGNORECASE)


@lru_cache(maxsize=512)
def names_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """Case-sensitive whole-word pattern for names, allowing a possessive 's."""
    if not names:
        return None
    return re.compile(rf"(?<![\w.])(?:{_alternation(names)})(?:'s)?(?![\w])")


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
