"""Split article text into sentences, keeping character offsets into the original text."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! or ?, possibly followed by closing quotes or brackets, then
# white space and something that can start a sentence. Line breaks always end one.
_BOUNDARY = re.compile(r"""[.!?]['"”’)\]]*\s+(?=["“‘'(\[]?[A-Z0-9])|\n+""")
# Tokens after which a full stop does not end a sentence ("U.S. President", "Mr. Lavrov").
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "gen", "sen", "rep", "gov", "lt", "col", "sgt", "capt",
    "prof", "rev", "jr", "sr", "vs", "etc", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.u", "d.c",
}  # fmt: skip


@dataclass(frozen=True)
class Sentence:
    """A sentence and where it stands in the text it came from."""

    index: int
    start: int
    end: int
    text: str


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into sentences; offsets index into ``text`` itself."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        # Only the last word matters: looking at the whole prefix is quadratic ("J. J. J. ...").
        if match.group().startswith(".") and _ends_with_abbreviation(
            text[max(start, match.start() - 24) : match.start()]
        ):
            continue
        end = match.start() + len(match.group().rstrip())
        spans.append((start, end))
        start = match.end()
    spans.append((start, len(text)))
    sentences = []
    for begin, end in spans:
        # Trim surrounding white space without losing the offsets.
        chunk = text[begin:end]
        stripped = chunk.strip()
        if not stripped:
            continue
        begin += len(chunk) - len(chunk.lstrip())
        sentences.append(Sentence(len(sentences), begin, begin + len(stripped), stripped))
    return sentences


def _ends_with_abbreviation(before: str) -> bool:
    words = before.split()
    if not words:
        return False
    last = words[-1].lower().strip("(\"“‘'")
    # A single capital initial ("Donald J. Trump") is not the end of a sentence either.
    return last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())
