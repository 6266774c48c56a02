"""Replay the shared corpus's real feed coverage as one stream of feed items, in arrival order.

Sections 1-6 of ../shared/corpus/SOURCES.md hold news items captured by other people's
scrapers, each in its own format: rumca JSON snapshots and markdown previews, LateNews and
ptnews Hugo posts, thebadely Jekyll reposts and White House briefing-room pages.
:func:`load_corpus` reads them all at run time into :class:`ReplayItem` records (a
:class:`FeedItem` plus the outlet, any full text, and when a poller would have seen it),
so a replay script can push them through storywatch's pipeline in order.

    .venv/bin/python bench/corpus_feed.py [--corpus ../shared/corpus]

Prints the number of items, the count per corpus folder, how many carry full text, the
date range, what was skipped and why, and a sample of the stream.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractors.html import html_to_text  # noqa: E402
from extractors.records import FeedItem  # noqa: E402
from extractors.urls import canonical_url  # noqa: E402

# "<path>: <reason>" for each file or entry the last load_corpus call left out.
SKIPPED: list[str] = []


@dataclass(frozen=True)
class ReplayItem:
    """One feed item of the replay, with what the corpus knows beyond the feed entry."""

    item: FeedItem
    outlet: str
    full_text: str | None  # the article's text where the corpus has it
    source: str  # the corpus folder it came from
    arrived: datetime  # when a poller would have seen it (UTC)


# (feed_id, outlet) by the feed URL's host and path, for every feed the corpus holds.
_FEEDS = {
    "bbci.co.uk/news/rss.xml": ("bbc-news", "BBC News"),
    "bbci.co.uk/news/world/rss.xml": ("bbc-world", "BBC News"),
    "bbci.co.uk/news/world/europe/rss.xml": ("bbc-europe", "BBC News"),
    "bbci.co.uk/news/world/us_and_canada/rss.xml": ("bbc-us-canada", "BBC News"),
    "theguardian.com/world/rss": ("guardian-world", "The Guardian"),
    "theguardian.com/international/rss": ("guardian-international", "The Guardian"),
    "theguardian.com/uk/rss": ("guardian-uk", "The Guardian"),
    "theguardian.com/europe/rss": ("guardian-europe", "The Guardian"),
    "politico.eu/feed": ("politico-eu", "POLITICO Europe"),
    "politico.com/rss/politicopicks.xml": ("politico-picks", "POLITICO"),
    "aljazeera.com/xml/rss/all.xml": ("aljazeera", "Al Jazeera"),
    "nytimes.com/services/xml/rss/nyt/world.xml": ("nyt-world", "The New York Times"),
    "nytimes.com/services/xml/rss/nyt/homepage.xml": ("nyt-home", "The New York Times"),
    "skynews.com/feeds/rss/world.xml": ("sky-world", "Sky News"),
    "npr.org/1001/rss.xml": ("npr-news", "NPR"),
    "themoscowtimes.com/rss/news": ("moscow-times", "The Moscow Times"),
    "lemonde.fr/en/rss/une.xml": ("lemonde-en", "Le Monde"),
    "telegraph.co.uk/rss.xml": ("telegraph", "The Telegraph"),
    "foxnews.com/google-publisher/latest.xml": ("fox-latest", "Fox News"),
    "foxnews.com/foxnews/latest": ("fox-latest", "Fox News"),
    "foxnews.com/foxnews/world": ("fox-world", "Fox News"),
    "washingtonpost.com/rss/world": ("wapo-world", "The Washington Post"),
    "nbcnews.com/nbcnews/public/world": ("nbc-world", "NBC News"),
    "cbsnews.com/latest/rss/main": ("cbs-latest", "CBS News"),
    "abcnews.com/abcnews/topstories": ("abc-top", "ABC News"),
    "ft.com/world": ("ft-world", "Financial Times"),
    "bloomberg.com/politics/feeds/site.xml": ("bloomberg-politics", "Bloomberg"),
    "thehill.com/news/feed": ("the-hill", "The Hill"),
    "timesofisrael.com/feed": ("times-of-israel", "The Times of Israel"),
    "cbc.ca/webfeed/rss/rss-topstories": ("cbc-top", "CBC News"),
    "wired.com/feed/tag/ai/latest/rss": ("wired-ai", "WIRED"),
}
_HOST_PREFIXES = ("www.", "feeds.", "rss.", "moxie.")
# LateNews committed one feed per workflow version; SOURCES.md names the feed of each commit.
_LATENEWS_FEEDS = {
    "4718c2b": "https://www.theguardian.com/uk/rss",
    "e96c991": "https://www.theguardian.com/europe/rss",
    "9cfb3a1": "https://news.google.com/rss?hl=en-US&gl=US&ceid=US:en",
    "cc9c5e6": "https://news.google.com/rss?hl=en-US&gl=US&ceid=US:en",
    "2a97a41": "https://www.wired.com/feed/tag/ai/latest/rss",
}
_NO_AUTHOR = {"", "unknown", "none"}

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*(?:\\n|\r?\n)(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z", re.S)
_PLAIN_KEY = re.compile(r"^([A-Za-z_]\w*):[ \t]*(.*)$")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_MD_BOLD = re.compile(r"(\*\*|__)([^*_\s][^*_]*?)\1")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")
_MD_BLOCK = re.compile(r"^\s*(?:#{1,6}\s+|>\s?|[*+-]\s+|\d+\.\s+)")
_TRAILER = re.compile(r"(?:(?:^|\s+)Continue reading\W*|\s*View Full Coverage on Google News)\s*$", re.I)
_MARKUP = re.compile(r"[<>\[*_\\&#\n]|^\s*(?:[+-]|\d+\.)\s")
_HTML = re.compile(r"<[A-Za-z/!]")
_SPACES = re.compile(r"[ \t\r\f\v\xa0]+")
_RUMCA_MD_FEED = re.compile(r"^# Source:.*?URL:\s*(\S+?),", re.M)
_RUMCA_MD_LINK = re.compile(r"^ - \[[^\]]*\]\((\S+)\)\s*$")
_RUMCA_MD_DATE = re.compile(r"^ - date published:\s*(.+)$")


def load_corpus(corpus: Path) -> list[ReplayItem]:
    """All items from sections 1-6, deduplicated by URL (keep the earliest arrival), sorted by
    (arrived, published, url). Files that cannot be read are listed in :data:`SKIPPED`."""
    return dedupe(read_corpus(corpus))


def read_corpus(corpus: Path) -> list[ReplayItem]:
    """Every item of sections 1-6 in replay order, duplicates included."""
    SKIPPED.clear()
    items: list[ReplayItem] = []
    for folder, pattern, parse in _SOURCES:
        base = corpus / folder
        if not base.is_dir():
            SKIPPED.append(f"{folder}: folder not found")
            continue
        try:
            context = _context(base)
        except Exception as exc:  # without the manifest, arrival falls back to publication
            SKIPPED.append(f"{folder}/MANIFEST-derived.tsv: {type(exc).__name__}: {exc}")
            context = {}
        for path in sorted(base.glob(pattern)):
            try:
                items.extend(parse(path, context))
            except Exception as exc:  # one unreadable file must not stop the replay
                SKIPPED.append(f"{path.relative_to(corpus)}: {type(exc).__name__}: {exc}")
    return sorted(items, key=_order)


def dedupe(items: Iterable[ReplayItem]) -> list[ReplayItem]:
    """The first item of each canonical URL, in the order given."""
    seen: set[str] = set()
    kept = []
    for entry in items:
        key = canonical_url(entry.item.url) or entry.item.url
        if key not in seen:
            seen.add(key)
            kept.append(entry)
    return kept


def feed_identity(feed_url: str) -> tuple[str, str]:
    """The stable feed id and the outlet's name for a feed URL (a slug of the URL if unknown)."""
    parts = urlsplit(feed_url.strip().lower())
    host = parts.netloc
    for prefix in _HOST_PREFIXES:
        host = host.removeprefix(prefix)
    # Every Google News feed in the corpus is US top stories, under three URL spellings.
    if host == "news.google.com":
        return "google-news-us", "Google News"
    key = f"{host}{parts.path.rstrip('/')}"
    if key in _FEEDS:
        return _FEEDS[key]
    return re.sub(r"[^a-z0-9]+", "-", key.removesuffix(".xml")).strip("-") or "unknown", host or "unknown"


def _order(entry: ReplayItem) -> tuple[datetime, datetime, str]:
    return entry.arrived, entry.item.published or entry.arrived, entry.item.url


def _context(base: Path) -> dict[str, tuple[str, datetime]]:
    # The derived manifests give each post's commit (first commit for ptnews) and its time.
    manifest = base / "MANIFEST-derived.tsv"
    if not manifest.is_file():
        return {}
    rows = csv.DictReader(manifest.read_text(encoding="utf-8").splitlines(), delimiter="\t")
    context = {}
    for row in rows:
        when = _when(row.get("commit_time") or row.get("first_commit_time"))
        feed = row.get("source_feed") or _LATENEWS_FEEDS.get((row.get("commit") or "")[:7], "")
        if when is None or not row.get("file"):
            SKIPPED.append(f"{base.name}/MANIFEST-derived.tsv: no file or commit time in {row}")
            continue
        context[row["file"]] = (feed, when)
    return context


def _rumca_json(path: Path, _: dict) -> list[ReplayItem]:
    day = _day_of(path)
    items = []
    for entry in json.loads(path.read_text(encoding="utf-8")):
        link = (entry.get("link") or "").strip()
        if not link:
            SKIPPED.append(f"{_short(path)}: entry without a link ({entry.get('title')!r})")
            continue
        published = _when(entry.get("date_published"))
        # date_created is when the archiver's poll first saw the entry.
        arrived = _when(entry.get("date_created")) or _within(day, published)
        summary = _to_text(entry.get("description"))
        items.append(
            _replay(entry.get("source_url") or "", link, entry.get("title"), summary, published,
                    entry.get("author"), arrived, "rumca-rss-2026-01")
        )  # fmt: skip
    return items


def _rumca_markdown(path: Path, _: dict) -> list[ReplayItem]:
    text = path.read_text(encoding="utf-8")
    feed = _RUMCA_MD_FEED.search(text)
    if not feed:
        raise ValueError("no '# Source: ..., URL: ...' header")
    day = _day_of(path)
    items = []
    for block in re.split(r"^## ", text, flags=re.M)[1:]:
        title, *lines = block.split("\n")
        link = next((m.group(1) for m in map(_RUMCA_MD_LINK.match, lines) if m), None)
        dated = next((m.group(1) for m in map(_RUMCA_MD_DATE.match, lines) if m), None)
        if not link:
            SKIPPED.append(f"{_short(path)}: block without a link ({title!r})")
            continue
        body = "\n".join(line for line in lines if not line.startswith(" - "))
        published = _when(dated)
        items.append(
            _replay(feed.group(1), link, title, _to_text(body), published, None,
                    _within(day, published), "rumca-rss-2025")
        )  # fmt: skip
    return items


def _latenews(path: Path, context: dict) -> list[ReplayItem]:
    meta, body = _front_matter(path)
    feed, committed = context.get(path.name, ("", None))
    links = _MD_LINK.findall(body)
    # Guardian posts end in "Continue reading" to the article; Google News posts open with
    # the cluster's lead link; Wired posts carry no link at all.
    link = next((url for text, url in reversed(links) if _TRAILER.fullmatch(text)), None)
    link = link or (links[0][1] if links and "news.google.com" in feed else None)
    link = link or f"https://x0185x.github.io/LateNews/articles/{path.stem}/"
    published = _when(meta.get("date"))
    summary = _to_text(body) or _to_text(meta.get("description"))
    # The feed was committed in batches; a poller would have seen an item when it was published.
    arrived = min(t for t in (committed, published) if t) if committed or published else None
    return [_replay(feed, link, meta.get("title"), summary, published, meta.get("author"),
                    arrived, "latenews-feeds-2025-03")]  # fmt: skip


def _ptnews(path: Path, context: dict) -> list[ReplayItem]:
    meta, body = _front_matter(path)
    feed, committed = context.get(path.name, (meta.get("source") or "", None))
    published = _when(meta.get("date"))
    summary = _to_text(body) or _to_text(meta.get("description"))
    # The same feeds also appear in rumca, read by another scraper with other habits
    # (date-only times, fuller bodies), so the aggregator's copy keeps its own feed id.
    source = "ptnews-feeds-2025-12_2026-01"
    item = _replay(meta.get("source") or feed, meta.get("link") or "", meta.get("title"), summary,
                   published, None, committed or published, source, feed_prefix="ptnews-")  # fmt: skip
    return [item]


def _thebadely(path: Path, _: dict) -> list[ReplayItem]:
    meta, body = _front_matter(path)
    published = _when(meta.get("date"))
    url = f"https://thebadely.github.io/{path.stem}"
    item = FeedItem(feed_id="thebadely", guid=url, url=url, title=str(meta.get("title") or "").strip(),
                    summary=_to_text(meta.get("excerpt")), published=published,
                    author=_author(meta.get("author")))  # fmt: skip
    return [ReplayItem(item, "thebadely (BBC repost)", _to_text(body) or None, "thebadely-bbc-reposts",
                       published or _file_date(path))]  # fmt: skip


def _white_house(path: Path, _: dict) -> list[ReplayItem]:
    meta, body = _front_matter(path)
    url = str(meta.get("source_url") or "").strip()
    if not url:
        raise ValueError("no source_url in the front matter")
    published = _when(meta.get("published_time")) or _when(meta.get("date"))
    text = _to_text(body)
    # The briefing room's own feed gives titles and links only, so the item has no summary.
    item = FeedItem(feed_id="whitehouse", guid=url, url=url, title=_to_text(meta.get("title")), summary="",
                    published=published)  # fmt: skip
    return [ReplayItem(item, "White House", text or None, "wh-briefings", published or _file_date(path))]


def _replay(
    feed_url: str, link: str, title: object, summary: str, published: datetime | None,
    author: object, arrived: datetime | None, source: str, feed_prefix: str = "",
) -> ReplayItem:  # fmt: skip
    feed_id, outlet = feed_identity(feed_url)
    title_text = _to_text(title).replace("\n", " ")
    if feed_id == "google-news-us":
        # Google News titles end in " - <publisher>", the outlet that wrote the story.
        head, _, tail = title_text.rpartition(" - ")
        outlet = tail.strip() if head and 0 < len(tail) <= 60 else outlet
    link = link.strip()
    if not link:
        raise ValueError(f"item without a link: {title_text!r}")
    item = FeedItem(feed_id=feed_prefix + feed_id, guid=link, url=link, title=title_text, summary=summary,
                    published=published, author=_author(author))  # fmt: skip
    return ReplayItem(item, outlet, None, source, arrived or published or datetime.min.replace(tzinfo=UTC))


def _front_matter(path: Path) -> tuple[dict, str]:
    # Some ptnews posts were cut on a byte, mid-character; the lost character is not text.
    text = path.read_bytes().decode("utf-8", errors="replace").replace("\ufffd", "")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise ValueError("no front matter")
    try:
        meta = yaml.load(match.group(1), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        meta = None
    if not isinstance(meta, dict):
        meta = {m.group(1): m.group(2).strip().strip("'\"") for m in map(_PLAIN_KEY.match,
                match.group(1).splitlines()) if m}  # fmt: skip
    if not meta.get("title"):
        raise ValueError("no title in the front matter")
    return meta, match.group(2)


def _to_text(value: object) -> str:
    """Plain text of a feed's HTML or a scraper's markdown, one paragraph per line."""
    text = str(value or "").replace("\ufffd", "")
    if not _MARKUP.search(text):
        lines = [_SPACES.sub(" ", text).strip()]
    elif _HTML.search(text):
        lines = html_to_text(text).split("\n")
    else:
        lines = _markdown_paragraphs(text)
    # Feeds append their trailers ("Continue reading...", Google's coverage link) last.
    while lines:
        lines[-1] = _TRAILER.sub("", lines[-1])
        if lines[-1]:
            break
        lines.pop()
    return "\n".join(line for line in lines if line)


def _markdown_paragraphs(text: str) -> list[str]:
    text = _MD_LINK.sub(r"\1", _MD_IMAGE.sub("", text))
    text = _MD_ESCAPE.sub(r"\1", _MD_BOLD.sub(r"\2", text))
    paragraphs: list[list[str]] = [[]]
    hard_break = False
    for line in text.replace("\r", "").split("\n"):
        block = _MD_BLOCK.match(line)
        # Scrapers wrap paragraphs at 72-80 columns: a blank line, a list item, a heading
        # or a markdown hard break (two trailing spaces) starts a new paragraph.
        if not line.strip() or block or hard_break:
            paragraphs.append([])
        hard_break = line.endswith("  ") and bool(line.strip())
        if line.strip():
            paragraphs[-1].append(line[block.end() :] if block else line)
    joined = (_SPACES.sub(" ", html.unescape(" ".join(words))).strip() for words in paragraphs)
    return [p for p in joined if p]


def _when(value: object) -> datetime | None:
    """A UTC datetime from an ISO, RFC 2822 or date-only value; naive times are taken as UTC."""
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        raw = value.strip()
        try:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            try:
                when = parsedate_to_datetime(raw)
            except (TypeError, ValueError, IndexError):
                return None
    else:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _author(value: object) -> str | None:
    text = str(value or "").strip()
    return None if text.lower() in _NO_AUTHOR else text


def _short(path: Path) -> str:
    return "/".join(path.parts[-2:])


def _day_of(path: Path) -> datetime:
    return datetime.strptime(path.parent.name, "%Y-%m-%d").replace(tzinfo=UTC)


def _file_date(path: Path) -> datetime:
    when = _when(path.name[:10])
    if when is None:
        raise ValueError("no date in the file or its name")
    return when


def _within(day: datetime, published: datetime | None) -> datetime:
    # A daily snapshot holds what was first seen that day: an item published that day was
    # seen when it appeared; an older one at the day's first poll.
    if published is None:
        return day
    return min(max(published, day), day + timedelta(days=1) - timedelta(microseconds=1))


_SOURCES: tuple[tuple[str, str, Callable[[Path, dict], Iterable[ReplayItem]]], ...] = (
    ("rumca-rss-2026-01", "2026/*/*/*_entries.json", _rumca_json),
    ("rumca-rss-2025", "2025/*/*/*_entries.md", _rumca_markdown),
    ("latenews-feeds-2025-03", "content/**/*.md", _latenews),
    ("ptnews-feeds-2025-12_2026-01", "content/**/*.md", _ptnews),
    ("thebadely-bbc-reposts", "_posts/*.md", _thebadely),
    ("wh-briefings", "*/**/*.md", _white_house),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"{args.corpus} not found: pass --corpus")
    started = time.perf_counter()
    everything = read_corpus(args.corpus)
    items = dedupe(everything)
    seconds = time.perf_counter() - started

    print(f"items: {len(items)}  ({len(everything) - len(items)} duplicate URLs dropped; {seconds:.2f} s)")
    read, kept = Counter(i.source for i in everything), Counter(i.source for i in items)
    for source in sorted(read):
        print(f"  {source:30} {kept[source]:6}  ({read[source] - kept[source]} repeats of earlier arrivals)")
    print(f"with full text: {sum(1 for i in items if i.full_text)}")
    if not items:
        sys.exit(f"no items: {SKIPPED[:5]}")
    print(f"arrived: {items[0].arrived:%Y-%m-%d %H:%M} .. {items[-1].arrived:%Y-%m-%d %H:%M} UTC")
    dated = sorted(i.item.published for i in items if i.item.published)
    if dated:
        print(f"published: {dated[0]:%Y-%m-%d} .. {dated[-1]:%Y-%m-%d} ({len(items) - len(dated)} undated)")
    print(f"skipped: {len(SKIPPED)}")
    for reason in SKIPPED[:5]:
        print(f"  {reason}")
    print("sample:")
    for entry in items[:: max(1, len(items) // 10)][:10]:
        print(f"  {entry.arrived:%Y-%m-%d %H:%M}  {entry.outlet[:24]:24}  {entry.item.title[:80]}")


if __name__ == "__main__":
    main()
