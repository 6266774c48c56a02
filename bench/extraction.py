"""Extraction quality and speed on the shared corpus, and tagging speed beside it.

Prints, for the scrapinghub article-extraction benchmark (181 pages with ground truth):
token precision, recall and F1 of extractors.pages.extract_page against the ground-truth
body (the benchmark's own metric), pages per second, and how many pages gave no text.
Then it tags every extracted text with the default story and prints articles per second,
to show that tagging costs far less than extraction.

    .venv/bin/python bench/extraction.py [--corpus ../shared/corpus]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractors.pages import ExtractionError, extract_page  # noqa: E402
from extractors.stance import tag_article  # noqa: E402
from extractors.story import load_story  # noqa: E402

_TOKENS = re.compile(r"\w+")


def scores(predicted: str, truth: str) -> tuple[float, float, float]:
    """Token-bag precision, recall and F1, as the benchmark defines them."""
    p, t = Counter(_TOKENS.findall(predicted.lower())), Counter(_TOKENS.findall(truth.lower()))
    common = sum((p & t).values())
    if not common:
        return 0.0, 0.0, 0.0
    precision, recall = common / sum(p.values()), common / sum(t.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = parser.parse_args()
    bench = args.corpus / "scrapinghub-aeb"
    if not bench.is_dir():
        sys.exit(f"{bench} not found: pass --corpus")
    truth = json.loads((bench / "ground-truth.json").read_text(encoding="utf-8"))
    pages = [(key, gzip.decompress((bench / "html" / f"{key}.html.gz").read_bytes())) for key in truth]

    results, texts, failures = [], [], 0
    started = time.perf_counter()
    for key, html in pages:
        try:
            text = extract_page(html, truth[key]["url"]).text
        except ExtractionError:
            failures += 1
            text = ""
        texts.append(text)
        results.append(scores(text, truth[key]["articleBody"]))
    extract_seconds = time.perf_counter() - started

    story = load_story(ROOT / "seeds" / "uk-troops-ukraine")
    tagged = [t for t in texts if t]
    started = time.perf_counter()
    for text in tagged:
        tag_article(text, story)
    tag_seconds = time.perf_counter() - started

    precision, recall, f1 = (statistics.mean(r[i] for r in results) for i in range(3))
    print(f"pages: {len(pages)}  ({sum(len(h) for _, h in pages) / 1e6:.1f} MB of HTML)")
    print(f"extraction: precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}")
    print(f"pages with no article text (feed text would be used): {failures}")
    print(f"extraction speed: {len(pages) / extract_seconds:.1f} pages/s on one core")
    ratio = (extract_seconds / len(pages)) / (tag_seconds / len(tagged))
    print(f"tagging speed: {len(tagged) / tag_seconds:.1f} articles/s on one core ({ratio:.0f}x cheaper)")


if __name__ == "__main__":
    main()
