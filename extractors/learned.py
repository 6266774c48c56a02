"""A learned second reader for stances: a linear model trained on a story's labelled examples.

The rules of :mod:`extractors.stance` read a sentence first and explain what they find. Where
they find no cue for an issue, a story may have a model (``seeds/<story>/model.json``, made
by ``storywatch learn`` from ``seeds/<story>/examples/*.yaml``) that scores the sentence's
words for each label of the issue. Its guess counts only above a probability, is marked
``learned`` in the observation's qualifiers and weighs less than a rule's.

Who holds a stance is decided by :mod:`extractors.attribution` first. A second model, trained on
the same examples, scores each actor named in a sentence as the holder of a stance on an issue
stated there: it drops a holder the rules chose that it finds unlikely, and chooses holders
where the rules found none ("Putin told Trump that Russia accepted ...": Putin).

Features are the sentence's words and word pairs, with each actor's mention replaced by the
side it speaks for ("_russia_", "_us_"), so that "Lavrov" and "the Kremlin" teach the same
thing, and words after a negation marked as negated. The holder model sees each actor's
mentions as "_self_", those of its own side as "_ally_" and the rest as "_other_", with the
words around them.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from extractors.attribution import SPEECH_VERBS
from extractors.records import Actor, Mention

MODEL_FILE = "model.json"
MODEL_FORMAT = 1
NONE = "none"  # the class of a sentence that states no label for the issue
# "won't" is one word ending in "n't" (a negator), not "won" and "t".
_WORD = re.compile(r"[a-z]+?n't|[a-z]+|\d+")
_NEGATORS = frozenset({"not", "no", "never", "without", "nor", "cannot"})
# Words that carry no stance of their own: never where a stance is said.
_FUNCTION_WORDS = frozenset(
    re.findall(
        r"\w+",
        "a an the of to in on at for from by with as and or but that which who this these those its his "
        "her their our it he she they we is are was were be been being has have had do does did",
    )
)
# How many words after a negator count as negated.
NEGATION_REACH = 3
# How many words either side of an actor's mention tell whether it holds the stance.
HOLDER_REACH = 3
_SPEECH_VERB = re.compile(rf"(?:{SPEECH_VERBS})")


class ModelError(ValueError):
    """A story's model file cannot be read."""


@dataclass(frozen=True)
class Token:
    """A word of the sentence (or an actor's side), where it stands in the text."""

    text: str
    start: int
    end: int
    actor: str | None = None  # the actor a mention names (also a pronoun that stays a word)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: it holds large tables
class IssueModel:
    """One issue's classes (``none`` and the labels), their intercepts and feature weights."""

    classes: tuple[str, ...]
    intercept: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]


@dataclass(frozen=True, eq=False)
class StanceModel:
    """The models of a story's issues, and what they were trained on."""

    issues: dict[str, IssueModel]
    examples: int
    trained_on: tuple[str, ...]  # the example files, as `storywatch learn` was given them
    min_probability: float  # a guess below this is left alone
    overrule: float  # at or above this, a guess overrules the label the rules gave
    overrule_qualified: float  # ... and this, a label the rules gave after a negation or hedge
    holders: HolderModel | None = None  # who holds a stance stated in a sentence

    @cached_property
    def _joint(self) -> tuple[tuple[str, ...], dict[str, tuple[float, ...]]]:
        """Every issue's weights side by side: one look-up per feature reads all issues."""
        order = tuple(self.issues)
        widths = [len(self.issues[i].classes) for i in order]
        table: dict[str, list[float]] = {}
        offset = 0
        for issue_id, width in zip(order, widths, strict=True):
            for name, weights in self.issues[issue_id].weights.items():
                row = table.setdefault(name, [0.0] * sum(widths))
                row[offset : offset + width] = weights
            offset += width
        return order, {name: tuple(row) for name, row in table.items()}


@dataclass(frozen=True, eq=False)
class HolderModel:
    """Whether an actor named in a sentence holds the stance on an issue that it states."""

    intercept: float
    weights: dict[str, float]
    confirm: float  # a holder the rules chose stays only at or above this probability
    choose: float  # where the rules chose nobody, an actor at or above this holds the stance
    sure: float  # ... and at or above this, also beside those the rules chose


@dataclass(frozen=True)
class Guess:
    """The model's label for an issue in a sentence, and the word that weighed most for it."""

    label: str
    probability: float
    anchor: Token


def tokens(norm: str, start: int, end: int, mentions: list[Mention], actors: dict[str, Actor]) -> list[Token]:
    """The sentence's words in order, each actor mention one token naming its side."""
    found: list[Token] = []
    # A resolved "He said" stays the word "he": training data sees pronouns as words too.
    spans = sorted(
        (m.start, m.end, m.actor_id) for m in mentions if start <= m.start < end and m.how != "pronoun"
    )
    pronouns = {m.start: m.actor_id for m in mentions if start <= m.start < end and m.how == "pronoun"}
    position = start
    for m_start, m_end, actor_id in [*spans, (end, end, "")]:
        if m_start < position:
            continue  # a mention inside another one
        lowered = norm[position:m_start].lower()
        for w in _WORD.finditer(lowered):
            at = position + w.start()
            found.append(Token(w.group(), at, position + w.end(), pronouns.get(at)))
        if actor_id:
            actor = actors.get(actor_id)
            side = (actor.affiliation or actor.id) if actor else actor_id
            found.append(Token(f"_{side}_", m_start, m_end, actor_id))
        position = max(position, m_end)
    return found


def features(words: list[Token]) -> Counter[str]:
    """Word, word-pair and negated-word features of a sentence's tokens."""
    found: Counter[str] = Counter()
    negated = 0
    previous = "^"
    for word in words:
        found[f"w={word.text}"] += 1
        found[f"b={previous} {word.text}"] += 1
        if negated:
            found[f"n={word.text}"] += 1
            negated -= 1
        if word.text in _NEGATORS or word.text.endswith("n't"):
            negated = NEGATION_REACH
        previous = word.text
    return found


def holder_features(words: list[Token], actor: Actor, issue_id: str) -> Counter[str]:
    """What tells whether ``actor`` holds the stance on an issue that a sentence states: the
    words next to each of its mentions, where it stands among the actors named, the words
    before and after it, and whether a verb of saying is near."""
    found: Counter[str] = Counter()
    side = f"_{actor.affiliation or actor.id}_"
    # Another actor of the same side ("Peskov said the Kremlin ...") is an ally, not a rival.
    texts = [
        w.text
        if not w.actor
        else "_self_"
        if w.actor == actor.id
        else "_ally_"
        if w.text == side
        else "_other_"
        for w in words
    ]
    own = [k for k, text in enumerate(texts) if text == "_self_"]
    if not own:
        return found
    others = [k for k, w in enumerate(words) if w.actor and w.actor != actor.id]
    first = own[0]
    found[f"kind={actor.kind}"] = 1
    found[f"side={actor.affiliation or actor.id}|{issue_id}"] = 1
    found[f"actors={min(len({w.actor for w in words if w.actor}), 4)}"] = 1
    if not others or first < others[0]:
        found["first"] = 1
    if not others or first > others[-1]:
        found["last"] = 1
    found[f"position={min(first, 6)}"] = 1
    for k in own:
        for offset in range(-HOLDER_REACH, HOLDER_REACH + 1):
            j = k + offset
            if offset:
                found[f"o{offset}={texts[j] if 0 <= j < len(texts) else '^' if j < 0 else '$'}"] = 1
        right = " ".join(texts[k + 1 : k + 3])
        found[f"L2={' '.join(texts[max(0, k - 2) : k])}"] = 1
        found[f"R2={right}"] = 1
        found[f"R2|{issue_id}={right}"] = 1
        if any(_SPEECH_VERB.fullmatch(t) for t in texts[k + 1 : k + 5]):
            found["verb_after"] = 1
        if any(_SPEECH_VERB.fullmatch(t) for t in texts[max(0, k - 3) : k]):
            found["verb_before"] = 1
    for j, text in enumerate(texts):
        if text != "_self_":
            found[f"{'b' if j < first else 'a'}:{text}"] = 1
    return found


def holding(model: HolderModel, reading: Reading, actors: list[Actor], issue_id: str) -> dict[str, float]:
    """For each actor named in the sentence (of ``actors``), the probability that it holds the
    stance on the issue that the sentence states."""
    found = {}
    for actor in actors:
        named = holder_features(reading.words, actor, issue_id)
        if not named:
            continue  # not named in the sentence's own words (a speaker carried from before)
        score = model.intercept
        for name, count in named.items():
            score += model.weights.get(name, 0.0) * count
        if not math.isfinite(score):  # huge weights that cancel out say nothing
            continue
        found[actor.id] = 1 / (1 + math.exp(-max(-60.0, min(60.0, score))))
    return found


@dataclass(frozen=True, eq=False)
class Reading:
    """A sentence as the model sees it: its tokens and their features."""

    words: list[Token]
    features: Counter[str]


def read(norm: str, start: int, end: int, mentions: list[Mention], actors: dict[str, Actor]) -> Reading:
    """Tokens and features of the sentence between ``start`` and ``end``, once for every issue."""
    words = tokens(norm, start, end, mentions, actors)
    return Reading(words, features(words))


def guesses(model: StanceModel, reading: Reading) -> dict[str, Guess | None]:
    """For every issue of the model, the most probable label other than ``none`` (with its
    probability and the word that weighed most), reading the sentence's features once."""
    if not reading.words:
        return dict.fromkeys(model.issues)
    order, table = model._joint
    scores = [x for issue_id in order for x in model.issues[issue_id].intercept]
    for name, count in reading.features.items():
        weights = table.get(name)
        if weights is not None:
            scores = [s + w * count for s, w in zip(scores, weights, strict=True)]
    found: dict[str, Guess | None] = {}
    offset = 0
    for issue_id in order:
        issue_model = model.issues[issue_id]
        width = len(issue_model.classes)
        found[issue_id] = _best(issue_model, reading, tuple(scores[offset : offset + width]))
        offset += width
    return found


def _best(model: IssueModel, reading: Reading, scores: tuple[float, ...]) -> Guess:
    labels = [k for k, c in enumerate(model.classes) if c != NONE]
    top = max(labels, key=scores.__getitem__)
    peak = max(scores)
    total = sum(math.exp(s - peak) for s in scores)
    probability = math.exp(scores[top] - peak) / total
    return Guess(model.classes[top], probability, _anchor(model, reading.words, top))


def _anchor(model: IssueModel, words: list[Token], k: int) -> Token:
    """The word (not an actor) that adds most to class ``k``: where the stance is said."""
    best, best_weight = words[0], -math.inf
    for word in words:
        if word.text.startswith("_") or word.text in _FUNCTION_WORDS:
            continue
        weights = model.weights.get(f"w={word.text}")
        weight = weights[k] if weights else 0.0
        if weight > best_weight:
            best, best_weight = word, weight
    return best


def parse_model(raw: bytes, path: Path, story_id: str, labels: dict[str, tuple[str, ...]]) -> StanceModel:
    """Read a model file's bytes, checking that it fits the story (its id and its issues' labels)."""
    try:
        doc = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
        if not isinstance(doc, dict) or doc.get("format") != MODEL_FORMAT:
            found = doc.get("format") if isinstance(doc, dict) else None
            raise ModelError(f"{path}: format {found!r}, expected {MODEL_FORMAT}: run storywatch learn")
        if doc["story"] != story_id:
            raise ModelError(
                f"{path}: trained for story {doc['story']!r}, not {story_id!r}: run storywatch learn"
            )
        issues = {}
        for issue_id, entry in doc["issues"].items():
            if issue_id not in labels:
                raise ModelError(f"{path}: issue {issue_id!r} is not in the story: run storywatch learn")
            classes = tuple(str(c) for c in entry["classes"])
            width = len(classes)
            intercept = tuple(_finite(x) for x in entry["intercept"])
            weights = {str(f): tuple(_finite(x) for x in w) for f, w in entry["weights"].items()}
            unknown = set(classes) - {NONE, *labels[issue_id]}
            if unknown:
                raise ModelError(f"{path}: issue {issue_id!r} has no label(s) {', '.join(sorted(unknown))}")
            if (
                NONE not in classes
                or len(set(classes)) != width
                or width < 2
                or len(intercept) != width
                or any(len(w) != width for w in weights.values())
            ):
                raise ModelError(f"{path}: issue {issue_id!r}: classes, intercept and weights disagree")
            issues[str(issue_id)] = IssueModel(classes, intercept, weights)
        trained_on = tuple(str(f) for f in doc.get("trained_on", ()))
        limits = tuple(_finite(doc[k]) for k in ("min_probability", "overrule", "overrule_qualified"))
        holders = _holder_model(doc["holders"]) if doc.get("holders") is not None else None
        if holders is not None:
            limits += (holders.confirm, holders.choose, holders.sure)
        if not all(0 < limit <= 1 for limit in limits):
            raise ModelError(f"{path}: probabilities must be above 0 and at most 1")
        if holders is not None and not holders.confirm <= holders.choose <= holders.sure:
            raise ModelError(f"{path}: the holder model needs confirm <= choose <= sure")
        return StanceModel(issues, int(doc["examples"]), trained_on, *limits[:3], holders=holders)
    except ModelError:
        raise
    except KeyError as exc:
        raise ModelError(f"{path}: not a storywatch model (no {exc}): run storywatch learn") from None
    except (UnicodeDecodeError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        raise ModelError(f"{path}: not a storywatch model ({exc}): run storywatch learn") from None


def _holder_model(entry: dict) -> HolderModel:
    return HolderModel(
        _finite(entry["intercept"]),
        {str(f): _finite(w) for f, w in entry["weights"].items()},
        *(_finite(entry[k]) for k in ("confirm", "choose", "sure")),
    )


def _finite(value: object) -> float:
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")
