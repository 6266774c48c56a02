"""The tagger measured on the project's labelled sentences: a floor that must not be lost.

bench/stance.py prints the full report (per label, and the goals); this test keeps the
rules from getting worse unnoticed when cues or code change.
"""

from __future__ import annotations

import re

from bench.stance import EVAL, evaluate, load_cases, relevance_scores
from extractors.story import load_story
from extractors.training import example_files
from tests.conftest import SEED_STORY

STORY = load_story(SEED_STORY)
RULES = load_story(SEED_STORY, with_model=False)


def test_stance_and_attribution_stay_above_their_floor():
    # The rules alone, on the set they were tuned on.
    report = evaluate(load_cases(), RULES)
    assert report.cases >= 200
    assert report.macro_f1 >= 0.86, "\n".join(report.errors)
    assert report.attribution.f1 >= 0.88, "\n".join(report.errors)
    # Every label of every issue is tested, and found at least half the time.
    assert all(score.tp + score.fn >= 10 for score in report.labels.values())
    assert all(score.recall >= 0.5 for score in report.labels.values())


def test_sentences_written_apart_from_the_rules_stay_above_their_floor():
    # The held-out set was not tuned on case by case, nor is it among the model's examples.
    report = evaluate(load_cases(EVAL / "stances-heldout.yaml"), STORY)
    assert report.macro_f1 >= 0.80 and report.attribution.f1 >= 0.85, "\n".join(report.errors)


def test_the_story_as_shipped_stays_above_its_floor_on_the_development_set():
    # With the learned model, which was not trained on this set.
    report = evaluate(load_cases(), STORY)
    assert report.macro_f1 >= 0.84 and report.attribution.f1 >= 0.88, "\n".join(report.errors)


def test_the_models_examples_are_not_among_the_evaluation_sets():
    def words(text: str) -> str:
        return re.sub(r"\W+", " ", text.lower()).strip()

    evaluated = {words(c["text"]) for f in EVAL.glob("stances*.yaml") for c in load_cases(f)}
    examples = [c for f in example_files(SEED_STORY) for c in load_cases(f)]
    assert len(examples) >= 1000
    # Only the examples' ids are shown: the sealed set's sentences are never printed.
    assert [c["id"] for c in examples if words(c["text"]) in evaluated] == []


def test_the_learned_model_reads_more_than_the_rules_alone():
    # The reason the story carries a model: on sentences neither was tuned or trained on.
    cases = load_cases(EVAL / "stances-heldout.yaml")
    with_model, rules = evaluate(cases, STORY), evaluate(cases, RULES)
    assert with_model.attribution.recall > rules.attribution.recall
    assert with_model.macro_f1 > rules.macro_f1
    assert with_model.attribution.precision >= rules.attribution.precision - 0.02


def test_claims_are_told_from_own_statements():
    report = evaluate(load_cases(), STORY)
    assert report.kind_agree / report.kind_total >= 0.85


def test_relevance_keeps_story_items_and_drops_look_alikes():
    score, errors = relevance_scores(STORY)
    assert score.precision >= 0.85, "\n".join(errors)
