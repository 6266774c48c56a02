"""Measure actor attribution, stance labelling and relevance on the project's labelled sets.

The evaluation sets (tests/eval/stances*.yaml and tests/eval/relevance.yaml) were written
for this story by hand, in the style of international news, and are kept apart from the
rules: a case states what a careful reader takes from one sentence or headline. The rules
were tuned on stances.yaml; the story's learned model (if it has one) was trained on its own
examples (seeds/<story>/examples/), and the script says when an evaluation set is among them.

Prints, for the default story:
- actor attribution: precision, recall and F1 of (actor, issue) pairs, i.e. whether the
  stance was given to the actor who holds it;
- stance: precision, recall and F1 per issue and label of (actor, issue, label) triples,
  and their macro average;
- own statements against claims about an actor: how often the kind agrees;
- relevance: precision and recall of the item filter on labelled feed items;
- tagging speed in articles per second.

    .venv/bin/python bench/stance.py [--story seeds/uk-troops-ukraine] [--errors]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from datetime import time as clock
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractors.records import Story  # noqa: E402
from extractors.relevance import judge, profile_words  # noqa: E402
from extractors.stance import tag_article  # noqa: E402
from extractors.story import load_story  # noqa: E402

EVAL = ROOT / "tests" / "eval"
Triple = tuple[str, str, str]  # actor, issue, label


@dataclass
class Score:
    """Counts of true positives, false positives and false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    """What the evaluation found."""

    cases: int = 0
    attribution: Score = field(default_factory=Score)
    labels: dict[tuple[str, str], Score] = field(default_factory=dict)
    kind_agree: int = 0
    kind_total: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def macro_f1(self) -> float:
        return sum(s.f1 for s in self.labels.values()) / len(self.labels) if self.labels else 0.0


def load_cases(path: Path = EVAL / "stances.yaml") -> list[dict]:
    """The labelled sentences and headlines."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]


def predict(case: dict, story: Story) -> dict[Triple, str]:
    """What the tagger says of one case: (actor, issue, label) -> own | claim."""
    published = case.get("published")
    when = datetime.combine(published, clock(12), tzinfo=UTC) if isinstance(published, date) else None
    if case.get("kind") == "headline":
        tagging = tag_article("", story, when, title=case["text"])
    else:
        tagging = tag_article(case["text"], story, when)
    return {(o.actor_id, o.issue_id, o.stance): o.attribution for o in tagging.observations}


def evaluate(cases: list[dict], story: Story) -> Report:
    """Score the tagger against every case."""
    report = Report(cases=len(cases))
    for issue in story.issues:
        for label in issue.labels:
            report.labels[(issue.id, label)] = Score()
    for case in cases:
        expected = {
            (e["actor"], e["issue"], e["stance"]): e.get("attribution", "own")
            for e in case.get("expect") or []
        }
        got = predict(case, story)
        pairs_expected = {(a, i) for a, i, _ in expected}
        pairs_got = {(a, i) for a, i, _ in got}
        report.attribution.tp += len(pairs_expected & pairs_got)
        report.attribution.fp += len(pairs_got - pairs_expected)
        report.attribution.fn += len(pairs_expected - pairs_got)
        for triple in expected.keys() | got.keys():
            score = report.labels.setdefault((triple[1], triple[2]), Score())
            if triple in expected and triple in got:
                score.tp += 1
                report.kind_total += 1
                report.kind_agree += expected[triple] == got[triple]
            elif triple in got:
                score.fp += 1
            else:
                score.fn += 1
        if set(expected) != set(got):
            report.errors.append(
                f"{case['id']}: {case['text']}\n    expected {sorted(expected)}\n    got      {sorted(got)}"
            )
    return report


def relevance_scores(story: Story, path: Path = EVAL / "relevance.yaml") -> tuple[Score, list[str]]:
    """Precision and recall of the item filter on labelled feed items."""
    score, errors = Score(), []
    # What a first cycle knows of the story: its original article.
    rules = replace(story.relevance, profile=profile_words([story.seed.title, story.seed.text]))
    for item in yaml.safe_load(path.read_text(encoding="utf-8"))["items"]:
        verdict = judge(f"{item['title']}\n{item.get('summary', '')}", rules)
        truth = bool(item["relevant"])
        if verdict.relevant and truth:
            score.tp += 1
        elif verdict.relevant:
            score.fp += 1
            errors.append(f"{item['id']} kept, not relevant: {item['title']} ({verdict.reason})")
        elif truth:
            score.fn += 1
            errors.append(f"{item['id']} dropped, relevant: {item['title']} ({verdict.reason})")
    return score, errors


def tagging_speed(story: Story, seconds: float = 3.0) -> float:
    """Articles per second, tagging the seed article over and over."""
    text, count, started = story.seed.text, 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        tag_article(text, story, story.seed.published, title=story.seed.title)
        count += 1
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--story", type=Path, default=ROOT / "seeds" / "uk-troops-ukraine")
    parser.add_argument("--errors", action="store_true", help="print every case the tagger gets wrong")
    args = parser.parse_args()
    story = load_story(args.story)
    rules = load_story(args.story, with_model=False)
    if story.model is not None:
        print(
            f"The story's learned model reads what the rules find no cue in: {story.model.examples} examples "
            f"from {', '.join(story.model.trained_on)}\n"
        )
    else:
        print("The story has no learned model: the rules alone.\n")
    sets = (
        ("development set (the rules were tuned on it)", EVAL / "stances.yaml"),
        ("held-out set (written after tuning; a few of its errors were read)", EVAL / "stances-heldout.yaml"),
        ("sealed test set (never read, never tuned on)", EVAL / "stances-test.yaml"),
    )
    trained = story.model.trained_on if story.model is not None else ()
    for name, path in sets:
        if any(Path(f).name == path.name for f in trained):
            name += "; the learned model was trained on it too"
        print(f"== {name}: {path.relative_to(ROOT)}")
        # The sealed set's cases are never printed: reading them would unseal it.
        print_report(evaluate(load_cases(path), story), args.errors and "sealed" not in name)
        if story.model is not None:
            alone = evaluate(load_cases(path), rules)
            print(
                f"the rules alone:    attribution F1 {alone.attribution.f1:.3f}  "
                f"(P {alone.attribution.precision:.3f}  R {alone.attribution.recall:.3f})  "
                f"stance macro-F1 {alone.macro_f1:.3f}"
            )
        print()
    rel, rel_errors = relevance_scores(story)
    print(f"relevance           P {rel.precision:.3f}  R {rel.recall:.3f}  F1 {rel.f1:.3f}")
    if args.errors:
        for error in rel_errors:
            print(f"  {error}")
    speed = tagging_speed(story)
    print(f"tagging speed       {speed:.0f} articles/s (the seed article, {len(story.seed.text)} chars)")


def print_report(report: Report, errors: bool) -> None:
    """Print one set's scores (and, with ``errors``, every case not exactly right)."""
    if errors:
        for error in report.errors:
            print(error)
        print()
    a = report.attribution
    print(f"{report.cases} labelled sentences and headlines; {len(report.errors)} not exactly right")
    print(f"actor attribution   P {a.precision:.3f}  R {a.recall:.3f}  F1 {a.f1:.3f}   (goal F1 >= 0.95)")
    print("stance, per issue and label:")
    for (issue, label), s in sorted(report.labels.items()):
        print(
            f"  {issue:24} {label:13} P {s.precision:.3f}  R {s.recall:.3f}  F1 {s.f1:.3f}  "
            f"({s.tp + s.fn} expected)"
        )
    print(f"stance macro-F1     {report.macro_f1:.3f}   (goal >= 0.85)")
    if report.kind_total:
        print(
            f"own statement vs claim about the actor: {report.kind_agree}/{report.kind_total} agree "
            f"({report.kind_agree / report.kind_total:.3f})"
        )


if __name__ == "__main__":
    main()
