"""Measure the whole tagger (rules and learned model) on text it was not trained on, without
spending the sealed test set: the story's examples are split into five folds, a model is
trained on four of them, and the rules with that model tag the fifth.

The examples were written by helpers apart from the rules, and the rules were tuned on the
development set, so the numbers are a proxy for unseen coverage (in 2026-11 they came within
0.01 of the sealed set's attribution F1). A proxy with two biases: the held-out fold is written
like the training folds, so the model looks more reliable than on other writing; and what is
chosen by looking at these numbers (the holder model's levels; a few topic words added after
reading fold errors) makes them optimistic. Use it to choose between two ways of doing
something, check on the held-out set and the corpus replay (bench/replay.py) that real text
agrees, and keep the sealed set for the final check.

Prints attribution precision, recall and F1 of (actor, issue) pairs and the stance macro-F1,
summed over the folds, and the F1 of each label.

    .venv/bin/python bench/stance_folds.py [--story seeds/uk-troops-ukraine] [--folds 5]
    [--without-holders] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stance import Score, evaluate  # noqa: E402
from extractors.learned import MODEL_FILE, parse_model  # noqa: E402
from extractors.story import load_story  # noqa: E402
from extractors.training import example_files, load_examples, train  # noqa: E402


def run_fold(folder: str, fold: int, folds: int, holders: bool) -> dict:
    """Train on every fold but ``fold`` and score the tagger on it: counts, not ratios."""
    story = load_story(Path(folder), with_model=False)
    cases = load_examples(example_files(Path(folder)), story)
    order = list(range(len(cases)))
    random.Random(0).shuffle(order)
    held_out = set(order[fold::folds])
    doc = train(story, [c for i, c in enumerate(cases) if i not in held_out])
    if not holders:
        doc["holders"] = None
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / MODEL_FILE
        path.write_text(json.dumps(doc), encoding="utf-8")
        model = parse_model(path.read_bytes(), path, story.id, {i.id: i.labels for i in story.issues})
    report = evaluate([cases[i] for i in sorted(held_out)], replace(story, model=model))
    return {
        "attribution": [report.attribution.tp, report.attribution.fp, report.attribution.fn],
        "labels": {f"{i} {label}": [s.tp, s.fp, s.fn] for (i, label), s in report.labels.items()},
        "cases": len(held_out),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--story", type=Path, default=ROOT / "seeds" / "uk-troops-ukraine")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2, help="processes (one fold each at a time)")
    parser.add_argument(
        "--without-holders", action="store_true", help="leave who holds a stance to the rules"
    )
    args = parser.parse_args()
    try:
        import sklearn  # noqa: F401
    except ImportError:
        sys.exit("needs scikit-learn: pip install -e '.[learn]'")
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(
            pool.map(
                run_fold,
                [str(args.story)] * args.folds,
                range(args.folds),
                [args.folds] * args.folds,
                [not args.without_holders] * args.folds,
            )
        )
    attribution = Score(*(sum(r["attribution"][k] for r in results) for k in range(3)))
    labels: dict[str, Score] = {}
    for result in results:
        for name, (tp, fp, fn) in result["labels"].items():
            score = labels.setdefault(name, Score())
            score.tp, score.fp, score.fn = score.tp + tp, score.fp + fp, score.fn + fn
    cases = sum(r["cases"] for r in results)
    how = (
        "rules and model, who holds a stance by the rules alone"
        if args.without_holders
        else "rules and model"
    )
    print(f"{cases} examples in {args.folds} folds, each tagged by {how} trained on the other folds")
    print(
        f"actor attribution   P {attribution.precision:.3f}  R {attribution.recall:.3f}  "
        f"F1 {attribution.f1:.3f}   (goal F1 >= 0.95)"
    )
    for name, score in sorted(labels.items()):
        issue, label = name.split(" ")
        print(f"  {issue:<24} {label:<13} P {score.precision:.3f}  R {score.recall:.3f}  F1 {score.f1:.3f}")
    macro = sum(s.f1 for s in labels.values()) / len(labels) if labels else 0.0
    print(f"stance macro-F1     {macro:.3f}   (goal >= 0.85)")


if __name__ == "__main__":
    main()
