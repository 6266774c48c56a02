"""Canonical article URLs, so that the same article is recognised however it is linked."""

from __future__ import annotations

from urllib.parse import urljoin

import courlan


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
