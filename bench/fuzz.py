"""Fuzz the feed-parsing and extraction stages with generated hostile inputs.

Real feeds and pages (from ../shared/corpus when present, and the project's fixtures) are
mutated: truncated, bit-flipped, spliced, re-encoded under a lying charset, nested
thousands deep, inflated to megabytes, or replaced by random bytes. Every input must end
as data (items, a parse error, or a named ExtractionError); anything else is a crash.
Inputs run in worker processes with a hard time limit, so a hang is caught, not suffered.

    .venv/bin/python bench/fuzz.py [--count 100000] [--seed 1] [--corpus ../shared/corpus]

Prints the number of inputs, how each ended, the crashes (if any) and the slowest input.
A chunk of inputs that overruns its limit is replayed one input at a time, and each input
that hangs is named (stage, seed, input); ``fuzz_chunk(stage, seed, 250, corpus, only=n)``
replays exactly that input.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import os
import random
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractors.feeds import parse_feed  # noqa: E402
from extractors.pages import ExtractionError, extract_page  # noqa: E402
from flows.workers import run_limited  # noqa: E402

CHUNK = 250  # inputs per worker job
# How often each mutation is drawn: the costly ones (megabytes, entity expansion) rarely.
MUTATIONS = {"truncate": 3, "flip": 3, "insert": 2, "splice": 2, "charset": 2, "random": 1, "nest": 0.5,
             "inflate": 0.1, "entities": 0.2}  # fmt: skip
CHARSETS = ["utf-8", "cp1252", "iso-8859-1", "koi8-r", "cp1251", "shift_jis", "utf-16", "big5", "nonsense-9"]


@functools.cache  # a worker loads the seeds once, however many jobs it runs
def load_seeds(corpus: Path) -> tuple[list[bytes], list[bytes]]:
    """Real feed and page documents to mutate."""
    fixtures = ROOT / "tests" / "fixtures" / "site"
    feeds = [p.read_bytes() for p in (fixtures / "feeds").iterdir()]
    pages = [p.read_bytes() for p in (fixtures / "articles").iterdir()]
    if corpus.is_dir():
        feeds += [p.read_bytes() for p in sorted((corpus / "feedparser-tests").rglob("*.xml"))]
        feeds += [p.read_bytes() for p in sorted((corpus / "wh-briefings").rglob("rss*.xml"))]
        for gz in sorted((corpus / "scrapinghub-aeb" / "html").glob("*.html.gz"))[:80]:
            pages.append(gzip.decompress(gz.read_bytes()))
        for gz in sorted((corpus / "fundus-test-data").rglob("*.html.gz"))[:80]:
            pages.append(gzip.decompress(gz.read_bytes()))
    return feeds, pages


def mutate(rng: random.Random, seeds: list[bytes], markup: tuple[bytes, bytes]) -> tuple[str, bytes]:
    """One hostile input, and the name of the mutation that made it."""
    doc = rng.choice(seeds)
    kind = rng.choices(list(MUTATIONS), weights=list(MUTATIONS.values()))[0]
    if kind == "truncate":
        return kind, doc[: rng.randrange(len(doc) + 1)]
    if kind == "flip":
        data = bytearray(doc)
        for _ in range(rng.randint(1, 50)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        return kind, bytes(data)
    if kind == "insert":
        at = rng.randrange(len(doc) + 1)
        return kind, doc[:at] + rng.randbytes(rng.randint(1, 200)) + doc[at:]
    if kind == "splice":
        other = rng.choice(seeds)
        return kind, doc[: rng.randrange(len(doc) + 1)] + other[rng.randrange(len(other) + 1) :]
    if kind == "charset":
        text = doc.decode("utf-8", "replace")
        actual, declared = rng.choice(CHARSETS[:-1]), rng.choice(CHARSETS)
        text = text.replace('encoding="utf-8"', f'encoding="{declared}"').replace(
            "charset=utf-8", f"charset={declared}"
        )
        return kind, text.encode(actual, "replace")
    if kind == "nest":
        depth = rng.choice([100, 1000, 5000, 20000])
        return kind, doc[:200] + markup[0] * depth + b"text" + markup[1] * rng.choice([0, depth])
    if kind == "inflate":
        return kind, doc * max(1, 1_500_000 // max(1, len(doc)))
    if kind == "entities":
        entity = b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">' + b"".join(
            f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">'.encode() for n in range(8)
        )
        return kind, b'<?xml version="1.0"?>' + entity + b"]><rss><channel><title>&i;</title></channel></rss>"
    return kind, rng.randbytes(rng.randint(0, 5000))


def fuzz_chunk(stage: str, seed: int, count: int, corpus: str, only: int | None = None) -> dict:
    """Run ``count`` inputs of one stage in this process; return how they ended.

    With ``only``, the same inputs are generated but only that one is run: this is how a
    chunk that hung is searched for the input that hangs.
    """
    feeds, pages = load_seeds(Path(corpus))
    rng = random.Random(seed)
    seeds, markup = (feeds, (b"<item>", b"</item>")) if stage == "feed" else (pages, (b"<div>", b"</div>"))
    ended: dict[str, int] = {}
    crashes, slowest = [], (0.0, "")
    for n in range(count):
        kind, data = mutate(rng, seeds, markup)
        content_type = rng.choice([None, "text/xml"])  # drawn for every input: replays stay in step
        if only is not None and n != only:
            continue
        started = time.perf_counter()
        try:
            if stage == "feed":
                parsed = parse_feed(data, "fuzz", "https://example.com/feed", content_type)
                outcome = "parse error" if parsed.error else "items" if parsed.items else "no items"
            else:
                extract_page(data, "https://example.com/a")
                outcome = "text"
        except ExtractionError:
            outcome = "named extraction failure"
        except Exception as exc:
            outcome = "CRASH"
            crashes.append(f"{stage} seed={seed} input={n} ({kind}): {type(exc).__name__}: {exc}\n"
                           f"{traceback.format_exc(limit=4)}")  # fmt: skip
        seconds = time.perf_counter() - started
        if seconds > slowest[0]:
            slowest = (seconds, f"{stage} seed={seed} input={n} ({kind}, {len(data)} bytes)")
        ended[outcome] = ended.get(outcome, 0) + 1
    return {"ended": ended, "crashes": crashes[:5], "slowest": slowest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--time-limit", type=float, default=300, help="seconds per chunk of inputs")
    parser.add_argument("--input-limit", type=float, default=60, help="seconds per input, when a chunk hung")
    args = parser.parse_args()
    jobs = []
    for n in range(0, args.count, CHUNK):
        stage = "page" if (n // CHUNK) % 4 == 3 else "feed"  # pages cost more: one chunk in four
        jobs.append((stage, args.seed * 1_000_003 + n, min(CHUNK, args.count - n), str(args.corpus)))
    started = time.perf_counter()
    outcomes = run_limited(fuzz_chunk, jobs, processes=os.cpu_count() or 1, time_limit=args.time_limit)
    elapsed = time.perf_counter() - started
    totals: dict[str, int] = {}
    crashes, hung, slowest = [], [], (0.0, "")
    # A chunk that hit its limit is replayed one input at a time, so each hang is named.
    results = []
    for job, outcome in zip(jobs, outcomes, strict=True):
        if not outcome.error:
            results.append((job[0], outcome.value))
            continue
        singles = [(*job, n) for n in range(job[2])]
        for single, alone in zip(singles, run_limited(fuzz_chunk, singles, processes=os.cpu_count() or 1,
                                                      time_limit=args.input_limit), strict=True):  # fmt: skip
            if alone.error:
                name = f"{single[0]} seed={single[1]} input={single[4]}"
                hung.append(f"{name}: {alone.error.splitlines()[0]}")
                ended = {"HANG" if alone.timed_out else "CRASH": 1}
                crashed = [] if alone.timed_out else [f"{name}: {alone.error}"]
                results.append(
                    (job[0], {"ended": ended, "crashes": crashed, "slowest": (alone.seconds, name)})
                )
            else:
                results.append((job[0], alone.value))
    elapsed = time.perf_counter() - started
    for stage, result in results:
        for name, count in result["ended"].items():
            totals[f"{stage}: {name}"] = totals.get(f"{stage}: {name}", 0) + count
        crashes += result["crashes"]
        slowest = max(slowest, result["slowest"])
    print(f"inputs: {sum(totals.values())} of {args.count} in {elapsed:.0f} s on {os.cpu_count()} processes")
    for name, count in sorted(totals.items()):
        print(f"  {name}: {count}")
    print(f"crashes (unhandled exceptions): {sum(v for k, v in totals.items() if k.endswith('CRASH'))}")
    for crash in crashes[:5]:
        print(crash)
    print(f"hangs (chunks over {args.time_limit:g} s, replayed input by input, {args.input_limit:g} s each): "
          f"{sum(v for k, v in totals.items() if k.endswith('HANG'))}")  # fmt: skip
    for line in hung:
        print(f"  {line}")
    print(f"slowest input: {slowest[0]:.2f} s ({slowest[1]})")


if __name__ == "__main__":
    main()
