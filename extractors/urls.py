"""Canonical article URLs, so that the same article is recognised however it is linked."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs, urljoin, urlsplit

import courlan

# Redirectors that carry the target in a query parameter.
_QUERY_REDIRECTORS = {
    "www.google.com": "url", "google.com": "url", "l.facebook.com": "u", "lm.facebook.com": "u",
    "out.reddit.com": "url", "www.youtube.com": "q",
}  # fmt: skip


def canonical_url(url: str, base: str | None = None) -> str | None:
    """Normalise ``url`` (lower-case host, no fragment, no tracking parameters).

    Returns None for what cannot be an article address (not http or https, malformed).
    """
    url = (url or "").strip()
    try:
        if base:
            url = urljoin(base, url)
        if not url.startswith(("http://", "https://")):
            return None
        # strict=True drops utm_*, fbclid, at_medium and similar tracking parameters.
        return courlan.normalize_url(url, strict=True)
    except (ValueError, TypeError):
        return None


def unwrap_redirect(url: str) -> str:
    """The article behind an aggregator's or redirector's link, when the link itself says.

    Google News feed links carry the article's address inside their identifier (in the
    older, still common format); redirectors such as google.com/url carry it in a query
    parameter. Anything else is returned as it is: HTTP redirects are followed at fetch
    time, and the page's final address is used then.
    """
    parts = urlsplit(url)
    host = parts.netloc.lower()
    if host == "news.google.com" and "/articles/" in parts.path:
        target = _google_news_target(parts.path.rsplit("/", 1)[-1])
        return target or url
    key = _QUERY_REDIRECTORS.get(host)
    if key and parts.path in ("/url", "/l.php", "/redirect"):
        target = (parse_qs(parts.query).get(key) or [""])[0]
        if target.startswith(("http://", "https://")):
            return target
    return url


def _google_news_target(identifier: str) -> str | None:
    try:
        data = base64.urlsafe_b64decode(identifier + "=" * (-len(identifier) % 4))
    except (binascii.Error, ValueError):
        return None
    start = data.find(b"http")
    if start < 2:
        return None
    # A length-delimited protobuf field: the byte before the URL holds its length.
    length = data[start - 1]
    target = data[start : start + length]
    try:
        text = target.decode("ascii")
    except UnicodeDecodeError:
        return None
    return text if text.startswith(("http://", "https://")) and len(target) == length else None
