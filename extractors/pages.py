"""Extract an article's text and metadata from its HTML page with trafilatura."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

import trafilatura
from trafilatura.settings import use_config

from extractors.records import PageText

# Pages whose main text is shorter than this are teasers, paywalls or consent walls:
# the feed's own text is then the better source.
MIN_TEXT_CHARS = 200
# Trees larger than this are refused rather than parsed: such pages are not articles.
MAX_TREE_SIZE = 500_000
_HTML_LANG = re.compile(rb"<html[^>]*?\slang=[\"']?([A-Za-z]{2,3})", re.IGNORECASE)
_CONFIG = use_config()
_CONFIG.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_SIZE))


class ExtractionError(ValueError):
    """A page gave no usable article text."""


def extract_page(html: bytes | str, url: str | None = None) -> PageText:
    """Main text, title, author, date and language of an article page.

    Raises :class:`ExtractionError` naming the reason when the page has no article text.
    """
    if not html or not html.strip():
        raise ExtractionError("empty page")
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
        language=doc.language or _declared_language(html),
    )


def _without_headline(text: str, title: str | None) -> str:
    """The body without a first line that repeats the title: the headline is kept apart."""
    first, _, rest = text.partition("\n")
    if title and " ".join(first.split()).casefold() == " ".join(title.split()).casefold():
        return rest.strip()
    return text


def _declared_language(html: bytes | str) -> str | None:
    """The language the page declares on its <html> element (trafilatura detects none
    without an optional dependency)."""
    head = html[:4096] if isinstance(html, bytes) else html[:4096].encode("utf-8", "replace")
    match = _HTML_LANG.search(head)
    return match.group(1).decode().lower() if match else None


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
