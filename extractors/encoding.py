"""Turn page and feed bytes into text, whatever charset the server declared, or failed to."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

# How much more garbled than detection's best guess a preferred charset may look and still
# win (or it wins by reading more like a language).
TOLERANCE = 0.1
# What an undeclared, non-UTF-8 news page is likely to be in. Multi-byte East Asian
# encodings are considered only when declared: on short Latin text, detection would
# otherwise prefer them.
_UNDECLARED = ("cp1252", "iso8859-15", "cp1250", "iso8859-2", "cp1251", "koi8-r", "cp1253", "cp1254",
               "cp1255", "cp1256", "cp1257")  # fmt: skip
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""")
_XML_ENCODING_TEXT = re.compile(r"""(<\?xml[^>]*?)encoding\s*=\s*["'][A-Za-z0-9_.:-]+["']""")
_MARKUP = re.compile(rb"<[^<>]{0,2000}>")
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def decode_page(body: bytes, content_type: str | None = None) -> str:
    """Decode an HTML page: its charset as the server and its <meta> declare, or detected."""
    return decode_document(body, [_header_charset(content_type), _found(_META_CHARSET.search(body[:4096]))])


def decode_feed(body: bytes, content_type: str | None = None) -> bytes:
    """A feed document re-encoded as UTF-8, with its XML declaration saying so.

    feedparser copes with a wrong declaration only by trying a few Western charsets, so a
    Cyrillic feed sent without one, or with the wrong one, would come out garbled.
    """
    declared = [_header_charset(content_type), _found(_XML_ENCODING.search(body[:1024]))]
    text = decode_document(body, declared).lstrip("\ufeff")
    return _XML_ENCODING_TEXT.sub(r'\1encoding="utf-8"', text, count=1).encode("utf-8")


def decode_document(body: bytes, declared: list[str | None]) -> str:
    """Decode ``body``, given the charsets declared for it (most authoritative first).

    A byte-order mark decides; otherwise valid UTF-8 wins (other encodings almost never
    happen to be valid UTF-8, so a page that declares Latin-1 but is UTF-8 comes out
    right). Otherwise the declared charsets, then windows-1252, are each taken if
    detection (charset_normalizer, which also weighs how much the text reads like a
    language) finds it plausible and about as clean as its best guess; else its best guess
    wins. So a declaration that lies (koi8-r bytes sent as windows-1251) loses.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    names = [n for n in map(_canonical, declared) if n]
    # Detection reads the text, not the markup: ASCII tags would dilute how garbled a
    # wrong reading of the words looks.
    sample = _MARKUP.sub(b" ", body[:200_000])
    matches = list(from_bytes(sample, cp_isolation=list(dict.fromkeys([*names, *_UNDECLARED]))))
    if not matches:
        return body.decode(_browser_name(names[0] if names else "cp1252"), errors="replace")
    best = matches[0]
    for name in (*names, "cp1252"):
        for match in matches:
            plausible = match.chaos <= best.chaos + TOLERANCE or match.coherence >= best.coherence
            if plausible and name in {_canonical(n) for n in match.could_be_from_charset}:
                return body.decode(_browser_name(name), errors="replace")
    return body.decode(best.encoding, errors="replace")


def _header_charset(content_type: str | None) -> str | None:
    return _found(_HEADER_CHARSET.search(content_type or ""))


def _found(match: re.Match | None) -> str | None:
    if match is None:
        return None
    name = match.group(1)
    return name.decode("ascii", "ignore") if isinstance(name, bytes) else name


def _canonical(name: str | None) -> str | None:
    try:
        return codecs.lookup(name).name if name else None
    except LookupError:
        return None


def _browser_name(encoding: str) -> str:
    # Browsers read ISO-8859-1 as windows-1252 (curly quotes, the euro sign); so do we.
    return "cp1252" if _canonical(encoding) in ("latin-1", "iso8859-1") else encoding
