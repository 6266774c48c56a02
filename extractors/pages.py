"""Extract an article's text and metadata from its HTML page with trafilatura."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

import py3langid
import trafilatura
from trafilatura.settings import use_config

from extractors.encoding import decode_page
from extractors.records import PageText
from extractors.urls import canonical_url

# Pages whose main text is shorter than this are teasers, paywalls or consent walls:
# the feed's own text is then the better source.
MIN_TEXT_CHARS = 200
# Trees larger than this are refused rather than parsed: such pages are not articles.
MAX_TREE_SIZE = 500_000
_LINK_TAG = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_REL_CANONICAL = re.compile(r"""\brel\s*=\s*["']?canonical\b""", re.IGNORECASE)
_HREF = re.compile(r"""\bhref\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_CONFIG = use_config()
_CONFIG.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_SIZE))


class ExtractionError(ValueError):
    """A page gave no usable article text."""


def extract_page(html: bytes | str, url: str | None = None) -> PageText:
    """Main text, title, author, date and language of an article page.

    Raises :class:`ExtractionError` naming the reason when the page has no article text.
    """
    if isinstance(html, bytes):
        html = decode_page(html)
    if not html or not html.strip():
        raise ExtractionError("empty page")
    # Counting tags is cheap; parsing a giant tree is not (and such a page is no article).
    elements = html.count("<") - html.count("</")
    if elements > MAX_TREE_SIZE:
        raise ExtractionError(f"page too large: about {elements} elements (limit {MAX_TREE_SIZE})")
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            deduplicate=False,
            config=_CONFIG,
        )
    except Exception as exc:  # trafilatura and lxml raise many kinds on hostile markup
        raise ExtractionError(f"extraction failed: {type(exc).__name__}: {exc}") from None
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    text = _without_headline(text, doc.title if doc is not None else None)
    if len(text) < MIN_TEXT_CHARS:
        raise ExtractionError(f"no article text on the page ({len(text)} characters)")
    return PageText(
        text=text,
        title=doc.title or None,
        author=doc.author or None,
        published=_date(doc.date),
        language=_language(text),
        canonical_url=_canonical_link(html, url),
    )


def _without_headline(text: str, title: str | None) -> str:
    """The body without a first line that repeats the title: the headline is kept apart."""
    first, _, rest = text.partition("\n")
    if title and " ".join(first.split()).casefold() == " ".join(title.split()).casefold():
        return rest.strip()
    return text


def _canonical_link(html: str, url: str | None) -> str | None:
    for tag in _LINK_TAG.findall(html[:200_000]):
        if _REL_CANONICAL.search(tag):
            href = _HREF.search(tag)
            return canonical_url(href.group(1), base=url) if href else None
    return None


def _language(text: str) -> str | None:
    """The language the text is written in (ISO 639-1), from its first few thousand characters."""
    language, _ = py3langid.classify(text[:3000])
    return language or None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        return parsed
    if parsed.time() == time(0):
        # htmldate gives a day; noon UTC keeps it on that day in most time zones.
        return datetime.combine(parsed.date(), time(12), tzinfo=UTC)
    return parsed.replace(tzinfo=UTC)
