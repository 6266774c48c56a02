"""Derive stance changes from an actor's positions on an issue, in time order.

A position is what one article says the actor holds (its strongest own statement). The
rules:
- the first position sets the actor's stance; restating it changes nothing;
- a position that contradicts the current stance is a change once enough independent
  sources report the new stance within the dispute window (copies of one wire story,
  one near-duplicate cluster, count once);
- sources that keep reporting the old stance within the window make the change
  *disputed*: it is recorded once, says so, and the old reports inside the window do not
  count as a change back (outlets disagreeing is not a flip-flop);
- the detection is a pure function of the whole timeline, so recomputing it (after a
  retag, or when a late article arrives) gives the same changes with the same keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Position:
    """An article's position for one actor and issue, as the warehouse derives it."""

    observation_id: str
    article_id: str
    cluster_id: str  # near-duplicate copies share it: one source
    stance: str
    as_of: datetime


@dataclass(frozen=True)
class Change:
    """A confirmed change of stance: where it started, where it was confirmed, how sure."""

    from_stance: str
    to_stance: str
    before: Position  # the last position of the old stance before the change
    first: Position  # the first report of the new stance
    confirmed: Position  # the report that brought the sources to the minimum
    sources: int  # independent sources reporting the new stance within the window
    dissent: int  # independent sources reporting the old stance within the window


def detect_changes(
    positions: Sequence[Position], min_sources: int = 1, window: timedelta = timedelta(hours=24)
) -> list[Change]:
    """The changes in one actor's timeline on one issue (``positions`` in time order)."""
    changes: list[Change] = []
    current: Position | None = None
    for n, position in enumerate(positions):
        if current is None or position.stance == current.stance:
            current = position
            continue
        last = changes[-1] if changes else None
        if last and position.stance == last.from_stance and position.as_of < last.first.as_of + window:
            continue  # the old stance, still reported while the change is disputed
        change = _confirm(positions, n, current, min_sources, window)
        if change is not None:  # else not (yet) corroborated: the stance stands
            changes.append(change)
            current = change.confirmed
    return changes


def _confirm(
    positions: Sequence[Position], n: int, current: Position, min_sources: int, window: timedelta
) -> Change | None:
    """The change that the position at ``n`` starts, if enough sources report it in time."""
    first = positions[n]
    supporting: set[str] = set()
    dissenting: set[str] = set()
    confirmed = None
    for later in positions[n:]:
        # The window is [first, first + window): a report at its end starts afresh, as the
        # quiet period in detect_changes ends there too.
        if later is not first and later.as_of >= first.as_of + window:
            break
        if later.stance == first.stance:
            supporting.add(later.cluster_id)
            if confirmed is None and len(supporting) >= min_sources:
                confirmed = later
        elif later.stance == current.stance:
            dissenting.add(later.cluster_id)
    if confirmed is None:
        return None
    return Change(
        current.stance, first.stance, current, first, confirmed, len(supporting), len(dissenting - supporting)
    )


@dataclass(frozen=True)
class ChangeRules:
    """How much agreement a change needs: settings, not story data."""

    min_sources: int = 1
    window: timedelta = timedelta(hours=24)
