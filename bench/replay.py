"""Replay the real coverage in ../shared/corpus through storywatch's pipeline, in order.

Every feed item of the corpus (Feb 2025 to Jan 2026, this story's coverage mixed with
unrelated news) goes through the same stages as a live cycle: the lenient relevance check
on the feed's text, extraction (of the full text, where the corpus has it, as a page) or
the feed's own text, relevance, tagging, and the warehouse's append with near-duplicate
clustering and change detection, one day's arrivals per cycle. Nothing is fetched.

Prints what was kept, each actor's stance timeline per issue (one line per article
position), the stance changes with their evidence, sources and disputes, and the speed.

    .venv/bin/python bench/replay.py [--corpus ../shared/corpus] [--warehouse replay.duckdb]
"""

from __future__ import annotations

import argparse
import html
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from itertools import groupby
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus_feed import ReplayItem, load_corpus  # noqa: E402
from extractors.changes import ChangeRules  # noqa: E402
from extractors.coverage import Coverage, process_item, seed_coverage  # noqa: E402
from extractors.relevance import judge, profile_words  # noqa: E402
from extractors.story import load_story  # noqa: E402
from warehouse import store  # noqa: E402
from warehouse.connection import open_warehouse  # noqa: E402


def as_page(entry: ReplayItem) -> bytes:
    """The corpus's full text as a minimal article page, for the real extractor."""
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in (entry.full_text or "").split("\n") if p.strip())
    title = html.escape(entry.item.title)
    body = f"<article><h1>{title}</h1>{paragraphs}</article>"
    return f"<html><head><title>{title}</title></head><body>{body}</body></html>".encode()


def replay(corpus: Path, warehouse: Path, story_dir: Path, rules: ChangeRules) -> dict[str, float]:
    """Push the corpus through the pipeline into ``warehouse``; return counts and timings."""
    story = load_story(story_dir)
    entries = load_corpus(corpus)
    counts: Counter = Counter(items=len(entries))
    started = time.perf_counter()
    with open_warehouse(warehouse) as con:
        store.load_story(con, story)
        store.append_coverage(con, story.id, [seed_coverage(story)])
        for day, batch in groupby(entries, key=lambda e: e.arrived.date()):
            batch = list(batch)
            # As a cycle does: relevance knows the words of the coverage kept so far.
            titles = [row[0] for row in con.execute(
                "SELECT CASE WHEN is_seed THEN title || ' ' || text ELSE title END FROM articles "
                "ORDER BY is_seed DESC, fetched_at DESC, article_id LIMIT 500").fetchall()]  # fmt: skip
            story = replace(story, relevance=replace(story.relevance, profile=profile_words(titles)))
            kept: list[Coverage] = []
            seen = []
            for entry in batch:
                item = entry.item
                if not judge(f"{item.title}\n{item.summary}", story.relevance, lenient=True).relevant:
                    seen.append((item, "irrelevant", "feed text does not match the story"))
                    continue
                counts["fetched"] += 1
                html_page = as_page(entry) if entry.full_text else None
                coverage = process_item(item, html_page, entry.outlet, story,
                                        failure=None if html_page else "not in the corpus")  # fmt: skip
                seen.append((item, "stored" if coverage.article else "dropped", coverage.note))
                if coverage.article:
                    kept.append(coverage)
            arrived = max(e.arrived for e in batch)
            result = store.append_coverage(
                con, story.id, [(c.article, c.tagging) for c in kept], seen, f"replay-{day}", arrived, rules
            )
            counts["stored"] += result.articles
            counts["observations"] += result.observations
            counts["changes"] += len(result.changes)
        counts["clusters"] = con.execute(
            "SELECT count(DISTINCT cluster_id) FROM articles WHERE NOT is_seed"
        ).fetchone()[0]
    counts["seconds"] = time.perf_counter() - started
    return counts


def relevance_on_labels(warehouse: Path, labels: Path) -> str:
    """Precision and recall of what the replay kept, on hand-labelled corpus items."""
    if not labels.exists():
        return f"{labels}: no labels"
    truth = {
        e["url"]: bool(e["relevant"]) for e in yaml.safe_load(labels.read_text(encoding="utf-8"))["items"]
    }
    with open_warehouse(warehouse, read_only=True) as con:
        kept = {u for (u,) in con.execute("SELECT url FROM feed_items WHERE outcome = 'stored'").fetchall()}
    tp = sum(1 for u, r in truth.items() if r and u in kept)
    fp = sum(1 for u, r in truth.items() if not r and u in kept)
    fn = sum(1 for u, r in truth.items() if r and u not in kept)
    precision, recall = tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0
    return (
        f"relevance on {len(truth)} hand-labelled corpus items ({sum(truth.values())} relevant): "
        f"precision {precision:.3f}, recall {recall:.3f} ({tp} kept rightly, {fp} wrongly, {fn} missed)"
    )


def report(warehouse: Path) -> None:
    """Print the stance timelines and the changes, as an analyst would read them."""
    with open_warehouse(warehouse, read_only=True) as con:
        rows = con.execute(
            """
            SELECT p.actor_id, p.issue_id, p.as_of, p.stance, p.confidence, art.outlet, p.evidence
            FROM article_positions p JOIN articles art USING (story_id, article_id)
            WHERE p.confidence >= 0.5
            ORDER BY p.actor_id, p.issue_id, p.as_of
            """
        ).fetchall()
        changes = con.execute(
            """
            SELECT actor, issue_id, from_stance, to_stance, published_at, outlet, sources, dissent,
                   disputed, evidence, url
            FROM recent_changes ORDER BY published_at
            """
        ).fetchall()
    print("\nStance timelines (one line per article position, confidence >= 0.5):")
    for (actor, issue), timeline in groupby(rows, key=lambda r: (r[0], r[1])):
        print(f"\n  {actor} on {issue}:")
        for _, _, as_of, stance, confidence, outlet, evidence in timeline:
            print(
                f"    {as_of:%Y-%m-%d} {stance:13} {confidence:.2f} {(outlet or '')[:18]:18} {evidence[:110]}"
            )
    print(f"\nStance changes ({len(changes)}):")
    for actor, issue, old, new, published, outlet, sources, dissent, disputed, evidence, url in changes:
        when = f"{published:%Y-%m-%d}" if published else "undated"
        flag = f", DISPUTED by {dissent}" if disputed else ""
        print(f"  {when} {actor} on {issue}: {old} -> {new} ({sources} source(s){flag}; {outlet})")
        print(f'      "{evidence[:200]}"\n      {url}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--story", type=Path, default=ROOT / "seeds" / "uk-troops-ukraine")
    parser.add_argument(
        "--warehouse", type=Path, help="keep the replay's warehouse here (default: temporary)"
    )
    parser.add_argument("--min-sources", type=int, default=1)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"{args.corpus}: corpus not found")
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = args.warehouse or Path(tmp) / "replay.duckdb"
        counts = replay(args.corpus, warehouse, args.story, ChangeRules(min_sources=args.min_sources))
        print(
            f"{counts['items']} feed items replayed in {counts['seconds']:.1f} s "
            f"({counts['items'] / counts['seconds']:.0f} items/s): {counts['fetched']} passed the feed-text "
            f"check, {counts['stored']} stored as coverage in {counts['clusters']} clusters, "
            f"{counts['observations']} stance observations, {counts['changes']} changes announced"
        )
        print(relevance_on_labels(warehouse, ROOT / "tests" / "eval" / "corpus-relevance.yaml"))
        report(warehouse)


if __name__ == "__main__":
    main()
