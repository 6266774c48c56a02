"""Tag actors and their stances on the story's issues, sentence by sentence.

The rules are deliberately simple and explainable; every observation keeps the sentence
and the cue that produced it:
1. a sentence speaks to an issue when it has one of the issue's topic terms;
2. the earliest cue phrase in the sentence gives the label; a negator just before the
   cue turns it into the issue's negated label ("stopped short of offering a guarantee");
3. the stance belongs to the speaker ("Trump said ..."), else to an actor named right
   before the cue ("a US security guarantee"), else to the first actor named before the
   cue that is not the object of a preposition ("troops in Ukraine" is not Ukraine's).
"""

from __future__ import annotations

import re
from datetime import datetime

from extractors.actors import find_mentions
from extractors.phrases import exact_pattern, normalise, terms_pattern
from extractors.records import Issue, Mention, StanceObservation, Story, Tagging
from extractors.sentences import Sentence, split_sentences

TAGGER_VERSION = "1"
# How far before a cue a negator still negates it.
NEGATION_WINDOW_WORDS = 4
# Attribution looks this many characters around a name, so that tagging stays linear.
WINDOW_CHARS = 80
# A "sentence" longer than this is a page's debris (tables, lists), not a statement.
MAX_SENTENCE_CHARS = 1500
# How much a stance counts, by the way its holder was found.
CONFIDENCE = {"speaker": 0.9, "adjacent": 0.8, "subject": 0.7}
# Text from a feed's summary is shorter and less certain than the article itself.
SOURCE_WEIGHT = {"page": 1.0, "seed": 1.0, "feed": 0.85}

_SPEECH_VERBS = (
    r"said|says|told|tells|stated|states|responded|replied|added|warned|warns|insisted|"
    r"insists|argued|argues|declared|declares|announced|announces|pledged|pledges|promised|"
    r"confirmed|confirms|emphasi[sz]ed|stressed|signall?ed|signals|suggested|claimed|claims|"
    r"vowed|vows|wrote|posted|noted|reiterated|repeated|made clear|indicated"
)
_SPEAKER_AFTER = re.compile(
    rf"\s*(?:,\s*)?(?:has\s+|have\s+|had\s+|also\s+|again\s+|then\s+)*(?:{_SPEECH_VERBS})\b"
)
_SPEAKER_BEFORE = re.compile(rf"\b(?:{_SPEECH_VERBS}|[Aa]ccording to)\s*$")
_PREPOSITION_BEFORE = re.compile(
    r"\b(?:from|to|in|into|with|against|for|of|on|by|about|at|over|between|among|towards?"
    r"|than|like|as|inside|across|within|without|onto)\s+(?:the\s+|a\s+|an\s+)?$",
    re.IGNORECASE,
)
_ADJACENT_GAP = re.compile(r"^[\s,]*(?:[A-Za-z-]+\s+){0,2}$")


def rules_version(story: Story) -> str:
    """Identify the rules that produced an observation: tagger code plus story files."""
    return f"{TAGGER_VERSION}+{story.fingerprint}"


def tag_article(
    text: str, story: Story, published: datetime | None = None, text_source: str = "page"
) -> Tagging:
    """Find the story's actors in ``text`` and the stances they take on its issues."""
    sentences = split_sentences(text)
    mentions = find_mentions(text, sentences, story.actors, published)
    by_sentence: dict[int, list[Mention]] = {}
    for mention in mentions:
        by_sentence.setdefault(mention.sentence_index, []).append(mention)
    norm = normalise(text)
    version = rules_version(story)
    weight = SOURCE_WEIGHT.get(text_source, 1.0)
    observations = []
    for sentence in sentences:
        present = by_sentence.get(sentence.index)
        if not present or sentence.end - sentence.start > MAX_SENTENCE_CHARS:
            continue
        for issue in story.issues:
            found = _stance_in_sentence(norm, sentence, issue, present)
            if found is None:
                continue
            holder, how, label, cue = found
            observations.append(
                StanceObservation(
                    actor_id=holder.actor_id,
                    issue_id=issue.id,
                    stance=label,
                    confidence=round(CONFIDENCE[how] * weight, 3),
                    evidence=sentence.text,
                    sentence_index=sentence.index,
                    start=sentence.start,
                    end=sentence.end,
                    cue=cue,
                    rules_version=version,
                )
            )
    return Tagging(mentions=tuple(mentions), observations=tuple(observations))


def _stance_in_sentence(
    norm: str, sentence: Sentence, issue: Issue, mentions: list[Mention]
) -> tuple[Mention, str, str, str] | None:
    topic = terms_pattern(issue.topic)
    if topic is None or not topic.search(norm, sentence.start, sentence.end):
        return None
    cue_match, label = _earliest_cue(norm, sentence, issue)
    if cue_match is None:
        return None
    if label in issue.negation and _negated(norm, sentence.start, cue_match.start(), issue):
        label = issue.negation[label]
    # A name inside the cue ("no US troops") is part of the wording, not the holder.
    candidates = [m for m in mentions if not (cue_match.start() <= m.start < cue_match.end())]
    held = _holder(norm, sentence, candidates, cue_match.start())
    if held is None:
        return None
    return held[0], held[1], label, cue_match.group()


def _earliest_cue(norm: str, sentence: Sentence, issue: Issue) -> tuple[re.Match | None, str]:
    best: re.Match | None = None
    best_label = ""
    for label, cues in issue.cues.items():
        pattern = terms_pattern(cues)
        match = pattern.search(norm, sentence.start, sentence.end) if pattern else None
        if match is None:
            continue
        if best is None or (match.start(), -len(match.group())) < (best.start(), -len(best.group())):
            best, best_label = match, label
    return best, best_label


def _negated(norm: str, sentence_start: int, cue_start: int, issue: Issue) -> bool:
    pattern = exact_pattern(issue.negators)
    if pattern is None:
        return False
    before = norm[max(sentence_start, cue_start - WINDOW_CHARS) : cue_start]
    negators = list(pattern.finditer(before))
    return bool(negators) and len(before[negators[-1].end() :].split()) <= NEGATION_WINDOW_WORDS


def _holder(
    norm: str, sentence: Sentence, mentions: list[Mention], cue_start: int
) -> tuple[Mention, str] | None:
    for mention in mentions:
        after_end = min(sentence.end, mention.end + WINDOW_CHARS)
        before_start = max(sentence.start, mention.start - WINDOW_CHARS)
        if _SPEAKER_AFTER.match(norm, mention.end, after_end) or _SPEAKER_BEFORE.search(
            norm, before_start, mention.start
        ):
            return mention, "speaker"
    # The holder is named before the cue, and not as the object of a preposition
    # ("troops in Ukraine", "conflicts involving Russia" hold no stance).
    free = [
        m
        for m in mentions
        if m.end <= cue_start
        and not _PREPOSITION_BEFORE.search(norm, max(sentence.start, m.start - WINDOW_CHARS), m.start)
    ]
    for mention in reversed(free):
        if cue_start - mention.end <= WINDOW_CHARS and _ADJACENT_GAP.match(norm[mention.end : cue_start]):
            return mention, "adjacent"
    return (free[0], "subject") if free else None
