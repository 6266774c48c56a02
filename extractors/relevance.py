"""Decide whether an item is coverage of the story, and say why."""

from __future__ import annotations

from dataclasses import dataclass

from extractors.phrases import find_terms
from extractors.records import Relevance


@dataclass(frozen=True)
class Verdict:
    """Whether text belongs to the story, a score (terms found) and the reason."""

    relevant: bool
    score: float
    reason: str


def judge(text: str, rules: Relevance, lenient: bool = False) -> Verdict:
    """Apply the story's relevance terms to ``text`` (title, summary and body together).

    ``lenient`` lets one ``require_all`` group go unmatched: a feed's short summary may
    leave out what the article itself says, so it decides whether to fetch the page.
    """
    strong = find_terms(rules.any_of, text)
    groups = [find_terms(group, text) for group in rules.require_all]
    found = sorted({t for g in groups for t in g} | set(strong))
    if strong:
        return Verdict(True, float(len(found)), f"names {', '.join(strong)}")
    missing = [g for g, hits in zip(rules.require_all, groups, strict=True) if not hits]
    if rules.require_all and len(missing) <= (1 if lenient and len(rules.require_all) > 1 else 0):
        return Verdict(True, float(len(found)), f"matches {', '.join(found)}")
    absent = "; ".join("/".join(g[:3]) + ("/..." if len(g) > 3 else "") for g in missing)
    return Verdict(False, float(len(found)), f"nothing about {absent}")
