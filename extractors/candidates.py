"""Discover actors the story does not know yet: names that news quotes or cites.

A person or organisation that an article quotes ("John Healey said", "said Mark Rutte",
"according to Kaja Kallas") may matter to the story. Such names are kept as candidates,
counted across articles, and a user promotes the ones worth following into the story's
registry (``storywatch actors --promote NAME``).

Attribution patterns need no model. A user who has installed a trained spaCy pipeline
(``STORYWATCH_NER_MODEL``) also gets the people and organisations it recognises in
sentences that report speech, including one-word names the patterns cannot tell apart.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from extractors.actors import surface_forms
from extractors.attribution import SPEECH_VERBS
from extractors.phrases import name_key, normalise
from extractors.records import Actor, Candidate
from extractors.sentences import Sentence

# A name: two to four capitalised words ("Kaja Kallas", "Mark Rutte", "Jean-Noel Barrot"),
# with particles ("von der Leyen", "de Gaulle").
_NAME = r"(?:[A-Z][\w'’-]+)(?:\s+(?:(?:von|van|der|de|la|al|bin|di|du)\s+)*[A-Z][\w'’-]+){1,3}"
_VERB = rf"(?:{SPEECH_VERBS})\b"
_PATTERNS = (
    re.compile(rf"(?<![\w-])({_NAME})(?:,\s+[^,]{{2,60}},)?\s+(?:has\s+|had\s+|also\s+)?{_VERB}"),
    re.compile(rf"(?:[,\"”’']\s*|\b){_VERB}\s+({_NAME})(?![\w-])"),
    re.compile(rf"\b[Aa]ccording\s+to\s+({_NAME})(?![\w-])"),
)
# Capitalised words that start a sentence or a title, not a name.
_NOT_FIRST = {
    "The", "A", "An", "But", "And", "In", "On", "At", "As", "If", "When", "While", "After", "Before",
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Mr", "Mrs", "Ms",
    "Dr", "Sir", "Dame", "Lord", "Lady", "President", "Prime", "Minister", "Foreign", "Defence",
    "Defense", "Secretary", "Chancellor", "Senator", "Governor", "General", "Ambassador", "Envoy",
    "Officials", "Speaking", "Asked", "It", "This", "That", "They", "He", "She", "We", "Breaking",
    "Reuters", "Meanwhile", "However", "Later", "Earlier", "Both", "European", "Western", "US", "UK",
    "State", "Nations",
}  # fmt: skip
# Titles: a word before one qualifies the title ("Finnish President"), not the name.
_TITLES = {"President", "Prime", "Minister", "Secretary", "Chancellor", "Senator", "Governor",
           "General", "Ambassador", "Envoy", "Spokesman", "Spokeswoman", "Leader", "Chief"}  # fmt: skip
# Who reports, not who acts.
_NEWS_AGENCIES = {"Associated Press", "Agence France-Presse", "Press Association", "Sky News", "Fox News"}
_RUN_ON = re.compile(r"[a-z][A-Z]")
_SURNAME_PREFIX = re.compile(r"^(?:Mc|Mac|O')")


class NerError(RuntimeError):
    """The configured NER pipeline cannot be used."""


def find_candidates(
    text: str, sentences: list[Sentence], actors: tuple[Actor, ...], ner_model: str | None = None
) -> list[Candidate]:
    """Names in attribution patterns (and, with ``ner_model``, the people and organisations
    that pipeline finds in sentences that report speech) that are not known actors."""
    known = set(surface_forms(actors, None))
    norm = normalise(text)
    found: dict[str, Candidate] = {}
    for sentence in sentences:
        for pattern in _PATTERNS:
            for match in pattern.finditer(norm, sentence.start, sentence.end):
                name = _clean(match.group(1))
                if name and name not in found and not _is_known(name, known):
                    found[name] = Candidate(name, sentence.index, sentence.text)
    if ner_model and sentences:
        for name, sentence in _entities(norm, sentences, ner_model):
            if name not in found and not _is_known(name, known):
                found[name] = Candidate(name, sentence.index, sentence.text)
    return list(found.values())


_SPEECH = re.compile(rf"\b{_VERB}|\b[Aa]ccording\s+to\b")


def _entities(norm: str, sentences: list[Sentence], model: str) -> list[tuple[str, Sentence]]:
    """PERSON and ORG entities in sentences that report speech."""
    speaking = [s for s in sentences if _SPEECH.search(norm, s.start, s.end)]
    if not speaking:
        return []
    nlp = load_pipeline(model)
    found = []
    for sentence, doc in zip(speaking, nlp.pipe(s.text for s in speaking), strict=True):
        for ent in doc.ents:
            name = " ".join(ent.text.split()).removesuffix("'s").removesuffix("’s")
            if ent.label_ in ("PERSON", "ORG") and name and name not in _NEWS_AGENCIES:
                found.append((name, sentence))
    return found


@lru_cache(maxsize=4)
def load_pipeline(model: str) -> Any:
    """The installed spaCy pipeline ``model`` (a package name or a folder), loaded once."""
    try:
        import spacy
    except ImportError:
        raise NerError(
            f"NER model {model!r} is set, but spaCy is not installed: pip install 'storywatch[ner]'"
        ) from None
    try:
        return spacy.load(model, exclude=["parser", "lemmatizer", "textcat"])
    except (OSError, ValueError) as exc:
        raise NerError(f"NER model {model!r} cannot be loaded: {exc}") from None


def _clean(name: str) -> str | None:
    words = name.replace("’", "'").split()
    # "Defence Secretary John Healey", "CNN's Jake Tapper", "Finnish President Alexander Stubb"
    while words and (
        words[0] in _NOT_FIRST
        or words[0] in _TITLES
        or words[0].endswith("'s")
        or (len(words) > 1 and words[1] in _TITLES)
    ):
        words = words[1:]
    if any(w.endswith("'s") or _RUN_ON.search(_SURNAME_PREFIX.sub("", w)) for w in words):
        return None  # "Britain's Starmer", or words run together ("InsiderHe")
    name = " ".join(words)
    return name if len(words) >= 2 and name not in _NEWS_AGENCIES else None


def _is_known(name: str, known: set[str]) -> bool:
    key = name_key(name)
    return (
        key in known
        or any(part in known for part in key.split())
        or any(form in key for form in known if len(form) > 3 and " " in form)
    )
