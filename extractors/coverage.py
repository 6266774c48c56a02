"""Turn a fetched feed item into coverage: the article, its relevance and its tagging.

This is the CPU-bound stage of a cycle, kept pure so that it can run in worker processes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from trafilatura.deduplication import Simhash

from extractors.encoding import decode_page
from extractors.pages import ExtractionError, extract_page
from extractors.records import Article, FeedItem, Story, Tagging
from extractors.relevance import judge
from extractors.stance import tag_article
from extractors.urls import canonical_url

# Shorter texts (feed summaries) share too few words for a simhash to mean anything.
MIN_SIMHASH_CHARS = 400
# Two texts with at least this share of word triples in common are copies of one report.
SAME_TEXT = 0.5


@dataclass(frozen=True)
class Coverage:
    """What one item became: a kept article with its tagging, or the reason it was not kept."""

    item: FeedItem
    article: Article | None
    tagging: Tagging | None
    note: str | None = None  # why the page text was not used, or why the item was dropped


def article_url(linked: str, final: str | None, canonical: str | None) -> str:
    """The address an article is known by: the page's canonical link when it is on the
    same host as the page, else where the link finally led, else the link itself; a front
    page or a subscription page is never an article's address.

    A canonical link to another site is not followed: syndicated copies are grouped as
    near-duplicates instead, and a page cannot take over another site's address.
    """
    landed = canonical_url(final) if final else None
    if landed and _is_front_page(landed):
        landed = None  # a redirect to a front or subscription page is not the article
    if canonical and landed and not _is_front_page(canonical) and _host(canonical) == _host(landed):
        return canonical
    return landed or linked


def _host(url: str) -> str:
    # The whole host name: alice.substack.com and evil.substack.com are different sites.
    return (urlsplit(url).hostname or "").lower()


def _is_front_page(url: str) -> bool:
    path = urlsplit(url).path.strip("/").lower()
    return path in ("", "index.html", "subscribe", "login", "signin", "register", "consent")


def simhash(text: str) -> int | None:
    """A 64-bit Charikar simhash of the text (trafilatura's), for texts long enough to tell."""
    return Simhash(text).hash if len(text) >= MIN_SIMHASH_CHARS else None


def resemblance(a: str, b: str) -> float:
    """Share of word triples two texts have in common (Jaccard): 1.0 for the same wording."""
    first, second = _shingles(a), _shingles(b)
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[n : n + 3]) for n in range(max(0, len(words) - 2))}


def content_hash(text: str) -> str:
    """Hash of the text with case and white space folded: equal for identical copies."""
    folded = re.sub(r"\s+", " ", text).strip().lower()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def process_item(
    item: FeedItem,
    html: bytes | None,
    outlet: str | None,
    story: Story,
    content_type: str | None = None,
    failure: str | None = None,
    final_url: str | None = None,
) -> Coverage:
    """Extract, judge and tag one item; fall back to the feed's text when the page fails.

    ``failure`` says why there is no page (it becomes the note on the feed's text);
    ``final_url`` is where the item's link led after redirects.
    """
    note = None
    page = None
    if html is not None:
        try:
            page = extract_page(decode_page(html, content_type), item.url)
        except ExtractionError as exc:
            note = f"page: {exc}; used the feed's text"
    else:
        note = f"page {failure or 'not fetched'}; used the feed's text"
    text = page.text if page else item.summary
    if not text.strip():
        return Coverage(item, None, None, (note or "") + " and the feed has no text")
    verdict = judge(f"{item.title}\n{text}", story.relevance)
    if not verdict.relevant:
        return Coverage(item, None, None, f"not relevant: {verdict.reason}")
    published: datetime | None = item.published or (page.published if page else None)
    article = Article(
        url=article_url(item.url, final_url, page.canonical_url if page else None),
        source_url=item.url,
        feed_id=item.feed_id,
        outlet=outlet,
        title=item.title or (page.title if page and page.title else ""),
        text=text,
        text_source="page" if page else "feed",
        published=published,
        author=(page.author if page else None) or item.author,
        language=page.language if page else None,
        content_hash=content_hash(text),
        relevance=verdict.score,
        relevance_reason=verdict.reason,
        simhash=simhash(text),
    )
    tagging = tag_article(text, story, published, article.text_source, title=article.title)
    return Coverage(item, article, tagging, note)


def seed_coverage(story: Story) -> tuple[Article, Tagging]:
    """The story's original article and its tagging: the warehouse's baseline."""
    seed = story.seed
    verdict = judge(f"{seed.title}\n{seed.text}", story.relevance)
    article = Article(
        url=seed.url,
        source_url=seed.url,
        feed_id=None,
        outlet=seed.outlet,
        title=seed.title,
        text=seed.text,
        text_source="seed",
        published=seed.published,
        author=seed.author,
        language="en",
        content_hash=content_hash(seed.text),
        relevance=verdict.score,
        relevance_reason=verdict.reason,
        is_seed=True,
        simhash=simhash(seed.text),
    )
    return article, tag_article(seed.text, story, seed.published, "seed", title=seed.title)
