"""Turn small HTML fragments (feed summaries and titles) into plain text."""

from __future__ import annotations

import html
import re

import lxml.html
from lxml.etree import ParserError

_BLOCKS = re.compile(r"(?i)</?(?:p|div|br|li|ul|ol|h[1-6]|blockquote|tr)\b[^>]*>")
# Elements whose content is code or styling, never text a reader sees.
_HIDDEN = re.compile(r"(?is)<(script|style|noscript|template)\b[^>]*>.*?</\1\s*>")
_SPACES = re.compile(r"[ \t\r\f\v]+")


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, one paragraph per line."""
    if not fragment or "<" not in fragment:
        return _tidy(html.unescape(fragment or ""))
    marked = _BLOCKS.sub("\n", _HIDDEN.sub(" ", fragment))
    try:
        text = lxml.html.fragment_fromstring(marked, create_parent="div").text_content()
    except (ParserError, ValueError):
        text = re.sub(r"<[^>]*>", " ", marked)
    return _tidy(html.unescape(text))


def _tidy(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\xa0", " ").split("\n"))
    return "\n".join(line for line in lines if line)
