"""Parse feed documents (RSS, Atom, RDF) from bytes into :class:`FeedItem` records."""

from __future__ import annotations

import calendar
import hashlib
from datetime import UTC, datetime
from typing import Any

import feedparser

from extractors.encoding import decode_feed
from extractors.html import html_to_text
from extractors.records import FeedItem, ParsedFeed
from extractors.urls import canonical_url, unwrap_redirect


def parse_feed(
    data: bytes, feed_id: str, feed_url: str | None = None, content_type: str | None = None
) -> ParsedFeed:
    """Parse one feed document.

    Always pass bytes: feedparser treats a string as a URL or a file name and would fetch
    or open it. A document that yields no entries and is not well-formed is an error that
    names the parser's complaint; a document that is merely sloppy still gives its items.
    """
    if not data or not data.strip():
        return ParsedFeed(feed_id, (), error="empty document")
    # feedparser gets UTF-8, whatever the feed was sent in (declared, undeclared or wrong).
    headers = {"content-location": feed_url or "", "content-type": "application/xml; charset=utf-8"}
    try:
        parsed = feedparser.parse(decode_feed(data, content_type), response_headers=headers)
    except Exception as exc:  # feedparser's lenient parser trips on some broken markup
        return ParsedFeed(feed_id, (), error=f"not a feed: the parser failed ({type(exc).__name__}: {exc})")
    problem = str(parsed.get("bozo_exception", "")) if parsed.get("bozo") else None
    if not parsed.entries and (problem or not parsed.get("version")):
        return ParsedFeed(feed_id, (), error=f"not a feed: {problem or 'no RSS, Atom or RDF found'}")
    items = []
    seen = set()
    unlinked = 0
    for entry in parsed.entries:
        item = _item(entry, feed_id, feed_url)
        if item is None:
            unlinked += 1
        elif item.url not in seen:
            seen.add(item.url)
            items.append(item)
    warnings = [f"feed is not well-formed: {problem}"] if problem else []
    if unlinked:
        warnings.append(f"skipped {unlinked} entries without a usable link")
    return ParsedFeed(
        feed_id,
        tuple(items),
        title=parsed.feed.get("title"),
        warning="; ".join(warnings) or None,
        ttl_minutes=_ttl(parsed.feed.get("ttl")),
    )


def _ttl(value: object) -> int | None:
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes if 0 < minutes <= 7 * 24 * 60 else None


def _item(entry: Any, feed_id: str, feed_url: str | None) -> FeedItem | None:
    # An entry without a link has no article to fetch (joining "" to the feed's URL
    # would give the feed itself); a permalink guid can stand in for the link.
    link = entry.get("link") or (entry.get("id") if entry.get("guidislink") else None)
    url = canonical_url(unwrap_redirect(link), base=feed_url) if link else None
    if url is None or url == canonical_url(feed_url or ""):
        return None
    content = entry.get("content") or []
    body = max((c.get("value", "") for c in content), key=len, default="")
    summary = html_to_text(body if len(body) > len(entry.get("summary", "")) else entry.get("summary", ""))
    guid = entry.get("id") or url
    return FeedItem(
        feed_id=feed_id,
        guid=hashlib.sha256(guid.encode()).hexdigest()[:16] if len(guid) > 200 else guid,
        url=url,
        title=html_to_text(entry.get("title", "")).strip(),
        summary=summary,
        published=_when(entry.get("published_parsed") or entry.get("updated_parsed")),
        author=entry.get("author") or None,
    )


def _when(parsed: Any) -> datetime | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None
