"""Each feed is polled at its own pace, backs off while failing, and never gives up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from extractors.records import FeedPoll
from extractors.schedule import (
    MAX_BACKOFF,
    MAX_INTERVAL,
    MIN_INTERVAL,
    PollResult,
    full_fetch_due,
    is_due,
    next_interval,
    schedule_interval,
)
from extractors.story import load_story
from tests.conftest import SEED_STORY
from warehouse import store
from warehouse.connection import open_warehouse

BASE = timedelta(minutes=15)
NOW = datetime(2026, 1, 7, 12, tzinfo=UTC)


def every(minutes: int, count: int = 10) -> tuple[datetime, ...]:
    return tuple(NOW - timedelta(minutes=minutes * n) for n in range(count))


def test_a_feed_is_polled_about_twice_as_often_as_it_publishes():
    assert next_interval(PollResult(ok=True, published=every(60)), BASE) == timedelta(minutes=30)
    assert next_interval(PollResult(ok=True, published=every(2)), BASE) == MIN_INTERVAL
    assert next_interval(PollResult(ok=True, published=every(60 * 24 * 7)), BASE) == MAX_INTERVAL


def test_without_dates_the_last_pace_or_the_storys_is_kept():
    assert next_interval(PollResult(ok=True), BASE) == BASE
    assert next_interval(PollResult(ok=True), BASE, previous=timedelta(hours=2)) == timedelta(hours=2)


def test_the_feeds_ttl_and_the_servers_cache_headers_are_floors():
    busy = every(10)
    assert next_interval(PollResult(ok=True, published=busy, ttl_minutes=60), BASE) == timedelta(hours=1)
    assert next_interval(PollResult(ok=True, published=busy, cache_seconds=1800), BASE) == timedelta(
        minutes=30
    )


def test_failures_back_off_with_jitter_up_to_a_cap_and_go_on_for_ever():
    waits = [next_interval(PollResult(ok=False, failures=n), BASE) for n in (1, 2, 3, 10, 100)]
    assert BASE * 0.8 <= waits[0] <= BASE * 1.2
    assert BASE * 1.6 <= waits[1] <= BASE * 2.4
    assert BASE * 3.2 <= waits[2] <= BASE * 4.8
    assert all(MAX_BACKOFF * 0.8 <= wait <= MAX_BACKOFF * 1.2 for wait in waits[3:])


def test_retry_after_is_honoured_after_a_failure():
    assert next_interval(PollResult(ok=False, failures=1, retry_after=7200), BASE) >= timedelta(hours=2)


def test_a_full_fetch_replaces_a_conditional_one_once_a_day():
    assert full_fetch_due(None, NOW)
    assert not full_fetch_due(NOW - timedelta(hours=23), NOW)
    assert full_fetch_due(NOW - timedelta(hours=24), NOW)


def test_the_storys_cron_schedule_gives_its_pace():
    assert schedule_interval("*/15 * * * *") == timedelta(minutes=15)
    assert schedule_interval("0 */6 * * *") == timedelta(hours=6)
    with pytest.raises(ValueError, match="not a cron schedule"):
        schedule_interval("every quarter hour")


def test_a_feed_down_for_too_long_alerts_once_and_its_recovery_alerts_once(tmp_path: Path):
    story = load_story(SEED_STORY)
    feed = story.feeds[0].id
    failed = FeedPoll(feed, None, "ConnectError: no route", next_poll_at=NOW)
    with open_warehouse(tmp_path / "w.duckdb") as con:
        store.load_story(con, story)
        store.save_feed_polls(con, story.id, [failed], down_after=timedelta(hours=1))
        assert _kinds(con) == []  # down, but not for long yet
        con.execute("UPDATE feeds SET down_since = down_since - INTERVAL 2 HOUR")
        for _ in range(3):
            store.save_feed_polls(con, story.id, [failed], down_after=timedelta(hours=1))
        assert _kinds(con) == ["source_down"]
        for _ in range(2):
            store.save_feed_polls(con, story.id, [FeedPoll(feed, 200, None)], down_after=timedelta(hours=1))
        assert _kinds(con) == ["source_down", "source_recovered"]
        body = con.execute("SELECT body FROM alerts WHERE kind = 'source_down'").fetchone()[0]
    assert "2 polls in a row" in body and "ConnectError: no route" in body


def _kinds(con) -> list[str]:
    return [r[0] for r in con.execute("SELECT kind FROM alerts ORDER BY created_at, kind").fetchall()]


def test_untrusted_numbers_from_servers_are_capped():
    huge = 10.0**20
    assert next_interval(PollResult(ok=True, cache_seconds=huge), BASE) == MAX_INTERVAL
    assert next_interval(PollResult(ok=True, retry_after=365 * 86400), BASE) == MAX_INTERVAL
    assert next_interval(PollResult(ok=False, failures=1, retry_after=huge), BASE) <= MAX_BACKOFF
    assert next_interval(PollResult(ok=True, ttl_minutes=10**9), BASE) == MAX_INTERVAL


def test_a_feed_due_a_moment_after_the_cycle_starts_is_polled_in_it():
    assert is_due(None, NOW, BASE)
    assert is_due(NOW + timedelta(seconds=2), NOW, BASE)
    assert not is_due(NOW + BASE, NOW, BASE)
