"""Train a story's stance model (see :mod:`extractors.learned`) from labelled examples.

Examples use the format of the evaluation sets (``tests/eval/stances.yaml``): one sentence or
headline, its date, and every (actor, issue, stance) it states. The model learns, per issue,
which label a sentence states (or ``none``), and, across issues, which of the actors named in a
sentence that states a stance on an issue hold it.

Needs scikit-learn (the ``learn`` extra); reading a trained model does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any

import yaml

from extractors.actors import find_mentions
from extractors.learned import MODEL_FORMAT, NONE, Token, features, holder_features, tokens
from extractors.phrases import normalise
from extractors.records import Story
from extractors.sentences import Sentence

EXAMPLES_FOLDER = "examples"
# Below MIN_PROBABILITY a guess is left alone (when there are too few examples to choose it on
# folds of them); at OVERRULE it replaces the label of a cue the rules read bare, at
# OVERRULE_QUALIFIED one they read with a negation or hedge. Both are kept high on purpose:
# trained and read on the helpers' examples (bench/stance_folds.py) the model looks more
# reliable than it is on other writing, where a lower OVERRULE (0.6) overruled plain cues
# ("no plans to deploy") and made the held-out set worse.
MIN_PROBABILITY = 0.5
# The probabilities tried, and how many folds the examples are split into to try them.
THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)
FOLDS = 5
OVERRULE = 0.9
OVERRULE_QUALIFIED = 0.98
# Features seen in fewer examples than this teach nothing that carries over.
MIN_EXAMPLES_PER_FEATURE = 2
# How sure the holder model must be to drop a holder the rules chose (below CONFIRM), to choose
# one where they chose nobody (CHOOSE), or beside those they chose (SURE). Chosen with
# bench/stance_folds.py (train on four fifths of the examples, tag the rest with rules and
# model), never on an evaluation set; the gain measured there is optimistic for that reason.
CONFIRM = 0.3
CHOOSE = 0.5
SURE = 0.9


class TrainingError(ValueError):
    """The examples cannot be used to train a model."""


def load_examples(paths: Iterable[Path], story: Story) -> list[dict[str, Any]]:
    """The labelled cases of each YAML file, checked against the story: every error names its
    file and case."""
    actors = {a.id for a in story.actors}
    labels = {i.id: i.labels for i in story.issues}
    cases: list[dict[str, Any]] = []
    for path in paths:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise TrainingError(f"{path}: cannot read examples ({exc})") from None
        listed = doc.get("cases") if isinstance(doc, dict) else None
        if not isinstance(listed, list):
            raise TrainingError(f"{path}: needs a list under 'cases'")
        for n, case in enumerate(listed, 1):
            where = f"{path}: case {case.get('id', n) if isinstance(case, dict) else n}"
            if (
                not isinstance(case, dict)
                or not isinstance(case.get("text"), str)
                or not case["text"].strip()
            ):
                raise TrainingError(f"{where} needs a text")
            expect = case.get("expect") or []
            if not isinstance(expect, list):
                raise TrainingError(f"{where}: expect must be a list")
            for expected in expect:
                if not isinstance(expected, dict) or not {"actor", "issue", "stance"} <= expected.keys():
                    raise TrainingError(f"{where}: expect needs actor, issue and stance")
                actor, issue, stance = (expected[k] for k in ("actor", "issue", "stance"))
                if not isinstance(issue, str) or issue not in labels:
                    raise TrainingError(f"{where}: no issue {issue!r} in the story")
                if not isinstance(stance, str) or stance not in labels[issue]:
                    raise TrainingError(f"{where}: issue {issue!r} has no label {stance!r}")
                if not isinstance(actor, str) or actor not in actors:
                    raise TrainingError(f"{where}: no actor {actor!r} in the story")
        cases.extend(listed)
    if not cases:
        raise TrainingError("no examples to learn from: add labelled sentences to examples/*.yaml")
    return cases


def example_files(folder: Path) -> list[Path]:
    """The story's example files, in name order."""
    return sorted((folder / EXAMPLES_FOLDER).glob("*.yaml"))


def train(
    story: Story,
    cases: list[dict[str, Any]],
    regularisation: float = 1.0,
    balanced: bool = False,
    threshold: float | None = None,
) -> dict[str, Any]:
    """A model for each of the story's issues, as the JSON document ``parse_model`` reads.

    ``cases`` come from :func:`load_examples`, which has checked them against the story. The
    probability a guess needs is chosen on folds of the examples left out of training, unless
    ``threshold`` is given.
    """
    try:
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise TrainingError("training needs scikit-learn: pip install 'storywatch[learn]'") from None
    actors = {a.id: a for a in story.actors}
    rows, holder_rows, held = [], [], []
    for case in cases:
        text = case["text"]
        published = case.get("published")
        when = datetime.combine(published, clock(12), tzinfo=UTC) if isinstance(published, date) else None
        sentence = Sentence(0, 0, len(text), text)
        mentions = find_mentions(text, [sentence], story.actors, when)
        words = tokens(normalise(text), 0, len(text), mentions, actors)
        rows.append(features(words))
        for row, holds in _holder_examples(case, words, story):
            holder_rows.append(row)
            held.append(holds)
    rows = _common(rows)
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(rows)
    names = vectorizer.get_feature_names_out()
    issues: dict[str, Any] = {}
    targets = {issue.id: [_label(case, issue.id, issue.labels) for case in cases] for issue in story.issues}
    targets = {issue_id: target for issue_id, target in targets.items() if len(set(target)) > 1}
    threshold = _threshold(matrix, targets, regularisation, balanced) if threshold is None else threshold
    for issue in story.issues:
        target = targets.get(issue.id)
        if target is None:
            continue  # nothing to tell apart for this issue
        model = LogisticRegression(
            C=regularisation, max_iter=5000, class_weight="balanced" if balanced else None
        )
        model.fit(matrix, target)
        classes = [str(c) for c in model.classes_]
        coef = model.coef_ if len(classes) > 2 else _binary(model.coef_)
        intercept = model.intercept_ if len(classes) > 2 else _binary_intercept(model.intercept_)
        weights = {
            str(name): [round(float(coef[k][j]), 4) for k in range(len(classes))]
            for j, name in enumerate(names)
            if any(abs(coef[k][j]) >= 1e-4 for k in range(len(classes)))
        }
        issues[issue.id] = {
            "classes": classes,
            "intercept": [round(float(x), 4) for x in intercept],
            "weights": weights,
            "examples": {label: target.count(label) for label in classes},
        }
    if not issues:
        raise TrainingError("the examples state no stance to learn from")
    holders = _train_holders(holder_rows, held, LogisticRegression, DictVectorizer)
    return {
        "format": MODEL_FORMAT,
        "story": story.id,
        "examples": len(cases),
        "min_probability": threshold,
        "overrule": OVERRULE,
        "overrule_qualified": OVERRULE_QUALIFIED,
        "issues": issues,
        "holders": holders,
    }


def _holder_examples(
    case: dict[str, Any], words: list[Token], story: Story
) -> list[tuple[dict[str, int], int]]:
    """One row per issue the case states a stance on and actor named that may hold it: whether
    the case gives that actor a stance on the issue."""
    stated = {(e["actor"], e["issue"]) for e in case.get("expect") or []}
    named = [a for a in story.actors if any(w.actor == a.id for w in words)]
    found = []
    for issue in story.issues:
        if not any(issue_id == issue.id for _, issue_id in stated):
            continue
        for actor in named:
            if issue.may_be_held_by(actor):
                found.append(
                    (dict(holder_features(words, actor, issue.id)), int((actor.id, issue.id) in stated))
                )
    return found


def _train_holders(
    rows: list[dict[str, int]], held: list[int], model_class: Any, vectorizer_class: Any
) -> Any:
    """The holder model as the JSON entry ``parse_model`` reads, or None with too few examples."""
    if len(set(held)) < 2:
        return None
    rows = _common(rows)
    vectorizer = vectorizer_class()
    matrix = vectorizer.fit_transform(rows)
    model = model_class(C=1.0, max_iter=5000)
    model.fit(matrix, held)
    names = vectorizer.get_feature_names_out()
    weights = {
        str(name): round(float(w), 4) for name, w in zip(names, model.coef_[0], strict=True) if abs(w) >= 1e-4
    }
    return {
        "intercept": round(float(model.intercept_[0]), 4),
        "weights": weights,
        "examples": {"holds": sum(held), "does not": len(held) - sum(held)},
        "confirm": CONFIRM,
        "choose": CHOOSE,
        "sure": SURE,
    }


def _threshold(matrix: Any, targets: dict[str, list[str]], regularisation: float, balanced: bool) -> float:
    """The probability a guess needs: the one that reads the examples best (micro-F1 over the
    labels of every issue) when each fold of them is read by a model trained on the others."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold

    if matrix.shape[0] < FOLDS * 2:
        return MIN_PROBABILITY  # too few examples to hold any out
    guesses: list[tuple[str, str, float]] = []  # truth, best label, its probability
    for issue_id, target in targets.items():
        labels = [t for t in sorted(set(target)) if t != NONE]
        for train_rows, test_rows in KFold(FOLDS, shuffle=True, random_state=0).split(matrix):
            fold_target = [target[i] for i in train_rows]
            if len(set(fold_target)) < 2:
                continue
            model = LogisticRegression(
                C=regularisation, max_iter=5000, class_weight="balanced" if balanced else None
            )
            model.fit(matrix[train_rows], fold_target)
            classes = list(model.classes_)
            known = [classes.index(label) for label in labels if label in classes]
            for row, probabilities in zip(test_rows, model.predict_proba(matrix[test_rows]), strict=True):
                best = max(known, key=lambda k: probabilities[k]) if known else None
                if best is not None:
                    truth, guessed = f"{issue_id}:{target[row]}", f"{issue_id}:{classes[best]}"
                    guesses.append((truth, guessed, float(probabilities[best])))
    best_threshold, best_f1 = MIN_PROBABILITY, -1.0
    for candidate in THRESHOLDS:
        hit = sum(1 for truth, label, p in guesses if p >= candidate and label == truth)
        said = sum(1 for _, _, p in guesses if p >= candidate)
        real = sum(1 for truth, _, _ in guesses if not truth.endswith(f":{NONE}"))
        f1 = 2 * hit / (said + real) if said + real else 0.0
        if f1 > best_f1 + 1e-9:
            best_threshold, best_f1 = candidate, f1
    return best_threshold


def _common(rows: list) -> list[dict]:
    """Each row without the features seen in fewer than MIN_EXAMPLES_PER_FEATURE rows."""
    seen: dict[str, int] = {}
    for row in rows:
        for name in row:
            seen[name] = seen.get(name, 0) + 1
    return [{k: v for k, v in row.items() if seen[k] >= MIN_EXAMPLES_PER_FEATURE} for row in rows]


def _label(case: dict[str, Any], issue_id: str, order: tuple[str, ...]) -> str:
    """The label a case gives the issue: the most frequent, ties in the issue's label order."""
    labels = [e["stance"] for e in case.get("expect") or [] if e["issue"] == issue_id]
    if not labels:
        return NONE
    return min(set(labels), key=lambda label: (-labels.count(label), order.index(label)))


def _binary(coef: Any) -> list[list[float]]:
    # Two classes: scikit-learn keeps one row for the second class; softmax needs both.
    return [[-w / 2 for w in coef[0]], [w / 2 for w in coef[0]]]


def _binary_intercept(intercept: Any) -> list[float]:
    return [-intercept[0] / 2, intercept[0] / 2]
