"""When to poll a feed next: as often as it publishes, as rarely as it asks, and with
growing patience, never ending, while it fails.

Pure policy: the flow gives it what a poll saw and stores what it decides.
"""

from __future__ import annotations

import itertools
import random
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cronsim import CronSim, CronSimError

MIN_INTERVAL = timedelta(minutes=5)
MAX_INTERVAL = timedelta(hours=24)
# Failures wait the story's interval, then twice as long each time, up to this; and then
# keep trying at this pace for as long as it takes.
MAX_BACKOFF = timedelta(hours=6)
# A conditional GET at least this often is replaced by a full one: some servers keep
# answering 304 to a stale ETag.
FULL_FETCH_EVERY = timedelta(hours=24)


@dataclass(frozen=True)
class PollResult:
    """What a poll of one feed saw."""

    ok: bool
    published: tuple[datetime, ...] = ()  # publication times of the items it listed
    ttl_minutes: int | None = None  # RSS <ttl>
    cache_seconds: float | None = None  # Cache-Control max-age or Expires
    retry_after: float | None = None  # seconds, from a 429 or 503
    failures: int = 0  # consecutive failures, this one included


def next_interval(result: PollResult, base: timedelta, previous: timedelta | None = None) -> timedelta:
    """How long to wait before polling again after ``result``.

    ``base`` is the story's own schedule; ``previous`` the interval used last time.
    """
    if not result.ok:
        backoff = min(MAX_BACKOFF, base * 2 ** min(max(0, result.failures - 1), 20))
        # Jitter, so that feeds that failed together do not retry together.
        wait = backoff * random.uniform(0.8, 1.2)
        if result.retry_after:
            wait = max(wait, _seconds(result.retry_after, MAX_BACKOFF))
        return wait
    interval = _publishing_interval(result.published) or previous or base
    floors = [MIN_INTERVAL]
    if result.ttl_minutes:
        floors.append(_seconds(result.ttl_minutes * 60, MAX_INTERVAL))
    if result.cache_seconds:
        floors.append(_seconds(result.cache_seconds, MAX_INTERVAL))
    if result.retry_after:
        floors.append(_seconds(result.retry_after, MAX_INTERVAL))
    return min(MAX_INTERVAL, max(interval, *floors))


def _seconds(value: float, cap: timedelta) -> timedelta:
    # Servers' numbers are untrusted: a Retry-After of a year must not stop polling.
    return timedelta(seconds=min(max(0.0, value), cap.total_seconds()))


def _publishing_interval(published: tuple[datetime, ...]) -> timedelta | None:
    """Half the typical gap between the feed's recent items: a new one is seen soon after it
    appears, without asking much more often than the feed changes."""
    times = sorted(published)[-20:]
    if len(times) < 3:
        return None
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times) if b > a]
    if not gaps:
        return None
    return timedelta(seconds=statistics.median(gaps) / 2)


def is_due(next_poll_at: datetime | None, now: datetime, base: timedelta) -> bool:
    """Whether a feed should be polled in the cycle starting ``now``.

    A little early counts: cycles start on the story's schedule, and a feed whose next
    poll falls a few seconds after this cycle's start would otherwise wait a whole period.
    """
    return next_poll_at is None or next_poll_at <= now + base / 4


def full_fetch_due(last_full: datetime | None, now: datetime) -> bool:
    """Whether this poll should ignore the stored validators and fetch the whole feed."""
    return last_full is None or now - last_full >= FULL_FETCH_EVERY


def schedule_interval(cron: str, now: datetime | None = None) -> timedelta:
    """The time between two runs of a cron schedule (the story's polling pace).

    Raises ValueError for an expression that is not a cron schedule.
    """
    start = (now or datetime.now(UTC)).replace(tzinfo=None)
    try:
        runs = CronSim(cron, start)
        first, second = next(runs), next(runs)
    except (CronSimError, StopIteration) as exc:
        raise ValueError(f"{cron!r} is not a cron schedule: {exc}") from None
    return second - first
