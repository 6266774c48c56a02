"""Canonical article URLs, so that the same article is recognised however it is linked."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs, urljoin, urlsplit

import courlan

# Redirectors that carry the target in a query parameter.
_QUERY_REDIRECTORS = {
    "www.google.com": ("url", "q"), "google.com": ("url", "q"), "l.facebook.com": ("u",),
    "lm.facebook.com": ("u",), "out.reddit.com": ("url",), "www.youtube.com": ("q",),
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
    keys = _QUERY_REDIRECTORS.get(host)
    if keys and parts.path in ("/url", "/l.php", "/redirect"):
        query = parse_qs(parts.query)
        for key in keys:
            target = (query.get(key) or [""])[0]
            if target.startswith(("http://", "https://")):
                return target
    return url


def _google_news_target(identifier: str) -> str | None:
    try:
        data = base64.urlsafe_b64decode(identifier + "=" * (-len(identifier) % 4))
    except (binascii.Error, ValueError):
        return None
    # A length-delimited protobuf field (tag 0x22): a varint length, then the URL.
    tag = data.find(b"\x22")
    if tag < 0:
        return None
    length, shift, at = 0, 0, tag + 1
    while at < len(data) and shift < 35:
        byte = data[at]
        length |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            break
        shift += 7
    start = at
    target = data[start : start + length]
    try:
        text = target.decode("ascii")
    except UnicodeDecodeError:
        return None
    return text if text.startswith(("http://", "https://")) and len(target) == length else None
