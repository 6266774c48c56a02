"""Decide whether an item is coverage of the story, with a score and the reason for it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from extractors.phrases import find_terms, names_pattern, normalise, terms_pattern
from extractors.records import Relevance

# Sharing the words of the story's coverage adds this much at most.
PROFILE_WEIGHT = 0.5
# An actor of the story named with one of its issues' topics ("Lavrov ... peacekeepers").
COOCCURRENCE_WEIGHT = 0.5
_WORD = re.compile(r"[a-z][a-z'-]{3,}")
_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "about after again against also among around because been before being between both could does  "
        "down during each even from have having here into itself just like make many more most much  "
        "must need only other over said same says should since some such than that their them then  "
        "there these they this those through under until very were what when where which while will  "
        "with would year years your week told news",
    )
)


@dataclass(frozen=True)
class Verdict:
    """Whether text belongs to the story, its score and the reason."""

    relevant: bool
    score: float
    reason: str


def judge(text: str, rules: Relevance, lenient: bool = False) -> Verdict:
    """Score ``text`` (title, summary and body together) against the story's relevance rules.

    ``lenient`` lowers the threshold by one: a feed's short summary may leave out what the
    article itself says, so it decides whether to fetch the page.
    """
    text = _without(normalise(text), rules.not_when)
    parts: list[tuple[float, str]] = []
    for phrase in find_terms(rules.any_of, text):
        parts.append((3.0, f"names {phrase}"))
    missing = []
    for group in rules.require_all:
        found = find_terms(group, text)
        if found:
            parts.append((1.0, found[0]))
        else:
            missing.append("/".join(group[:3]) + ("/..." if len(group) > 3 else ""))
    # Names and shared words only help an item that is already where the story happens:
    # "Trump" and "troops" also meet in Chicago.
    if rules.require_all and find_terms(rules.require_all[0], text):
        named = _names(rules.names, text)
        topics = find_terms(rules.topics, text) if named else []
        if named and topics:
            parts.append((COOCCURRENCE_WEIGHT, f"{named} with {topics[0]}"))
        share = _share(text, rules.profile)
        if share >= 0.2:
            parts.append(
                (round(min(PROFILE_WEIGHT, 2 * share), 2), f"{share:.0%} of its words are the story's")
            )
    score = round(sum(points for points, _ in parts), 2)
    # Lenient is one point lower, but never so low that an item with nothing passes.
    threshold = max(rules.threshold - 1.0, min(rules.threshold, 0.5)) if lenient else rules.threshold
    found = "; ".join(f"{reason} (+{points:g})" for points, reason in parts)
    if score >= threshold:
        return Verdict(True, score, f"score {score:g}: {found}")
    lacking = f"nothing about {'; '.join(missing)}" if missing else ""
    return Verdict(
        False, score, f"score {score:g} < {threshold:g}: " + ("; ".join(filter(None, [found, lacking])))
    )


def profile_words(texts: Iterable[str]) -> frozenset[str]:
    """The content words of ``texts``: what the story's coverage talks about."""
    words: set[str] = set()
    for text in texts:
        words.update(w for w in _WORD.findall(normalise(text).lower()) if w not in _STOPWORDS)
    return frozenset(words)


def _without(text: str, phrases: tuple[str, ...]) -> str:
    pattern = terms_pattern(phrases)
    return pattern.sub(lambda m: " " * len(m.group()), text) if pattern else text


def _names(names: tuple[str, ...], text: str) -> str | None:
    pattern = names_pattern(names) if names else None
    match = pattern.search(text) if pattern else None
    return match.group() if match else None


def _share(text: str, profile: frozenset[str]) -> float:
    if not profile:
        return 0.0
    words = {w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS}
    return len(words & profile) / len(words) if words else 0.0
