"""The warehouse on a real DuckDB file: migrations, idempotent appends, stance changes, locks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from extractors.changes import ChangeRules
from extractors.coverage import content_hash, seed_coverage
from extractors.records import Article, FeedItem, FeedPoll
from extractors.stance import tag_article
from extractors.story import load_story
from tests.conftest import SEED_STORY
from warehouse import queries, store
from warehouse.connection import WarehouseError, insert_rows, open_warehouse
from warehouse.migrations import MIGRATIONS, schema_version

STORY = load_story(SEED_STORY)


def article(name: str, text: str, published: str) -> tuple[Article, object]:
    when = datetime.fromisoformat(published).replace(tzinfo=UTC)
    a = Article(
        url=f"http://127.0.0.1/articles/{name}", source_url=f"http://127.0.0.1/articles/{name}",
        feed_id="test", outlet="Test Outlet", title=name, text=text, text_source="page",
        published=when, author=None, language="en", content_hash=content_hash(text),
        relevance=3.0, relevance_reason="test", is_seed=False,
    )  # fmt: skip
    return a, tag_article(text, STORY, when)


US_BACKS = "Washington has committed to back a European force in Ukraine with a security guarantee."
US_REFUSES = "Washington stopped short of offering a security guarantee to a European force in Ukraine."


US_UNDECIDED = (
    "The White House declined to say whether the United States would back a European force in "
    "Ukraine with a security guarantee."
)


@pytest.fixture
def seeded(warehouse_path: Path) -> Path:
    """The seed article, and a first report of where the United States stands."""
    with open_warehouse(warehouse_path) as con:
        store.load_story(con, STORY)
        store.append_coverage(con, STORY.id, [seed_coverage(STORY)])
        store.append_coverage(con, STORY.id, [article("baseline.html", US_UNDECIDED, "2025-03-03T10:00:00")])
    return warehouse_path


def count(path: Path, table: str) -> int:
    with open_warehouse(path, read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_migrations_apply_once_and_are_recorded(warehouse_path: Path):
    with open_warehouse(warehouse_path) as con:
        assert schema_version(con) == MIGRATIONS[-1][0]
    with open_warehouse(warehouse_path) as con:  # reopening applies nothing again
        rows = con.execute("SELECT version FROM schema_migrations").fetchall()
    assert rows == [(v,) for v, _, _ in MIGRATIONS]


def test_the_seed_article_sets_the_baseline(seeded: Path):
    with open_warehouse(seeded, read_only=True) as con:
        stances = {(r[0], r[1]): r[2] for r in queries.current_stances(con, STORY.id).rows}
        assert queries.has_article(con, STORY.id, STORY.seed.url)
    assert stances[("Donald Trump", "us-security-guarantee")] == "noncommittal"
    assert stances[("United States", "us-security-guarantee")] == "noncommittal"
    assert stances[("Keir Starmer", "troops-in-ukraine")] == "support"
    assert stances[("Russia", "russia-accepts-troops")] == "rejects"
    assert count(seeded, "stance_changes") == 0


def test_appending_the_same_batch_twice_stores_it_once(seeded: Path):
    batch = [article("a.html", US_BACKS, "2026-01-07T10:00:00")]
    item = FeedItem("test", "g1", batch[0][0].url, "a", "", None)
    for _ in range(2):
        with open_warehouse(seeded) as con:
            store.append_coverage(con, STORY.id, batch, seen=[(item, "stored", None)])
    assert count(seeded, "articles") == 3  # the seed, the baseline and a.html
    assert count(seeded, "feed_items") == 1  # a.html: the others came in no feed item
    assert count(seeded, "stance_changes") == 1
    assert count(seeded, "alerts") == 1


def test_a_new_position_is_one_change_with_its_evidence_and_one_pending_alert(seeded: Path):
    with open_warehouse(seeded) as con:
        result = store.append_coverage(con, STORY.id, [article("a.html", US_BACKS, "2026-01-07T10:00:00")])
        pending = queries.pending_alerts(con, STORY.id, max_attempts=5)
    [change] = result.changes
    assert (change.actor_id, change.issue_id) == ("us", "us-security-guarantee")
    assert (change.from_stance, change.to_stance) == ("noncommittal", "support")
    assert change.evidence == US_BACKS and change.url.endswith("/a.html")
    [alert] = pending
    assert alert.alert_id == f"change:{change.change_id}"
    assert US_BACKS in alert.body and change.url in alert.body


def test_restating_the_current_position_is_not_a_change(seeded: Path):
    with open_warehouse(seeded) as con:
        result = store.append_coverage(con, STORY.id, [article("b.html", US_REFUSES, "2026-01-07T10:00:00")])
    assert result.observations > 0 and result.changes == []


def test_an_article_older_than_the_current_position_is_history_not_news(seeded: Path):
    with open_warehouse(seeded) as con:
        store.append_coverage(con, STORY.id, [article("new.html", US_BACKS, "2026-01-07T10:00:00")])
        late = store.append_coverage(con, STORY.id, [article("old.html", US_REFUSES, "2025-06-01T10:00:00")])
        current = {
            r[0]: r[2] for r in queries.current_stances(con, STORY.id).rows if r[1] == "us-security-guarantee"
        }
    assert late.changes == []
    assert current["United States"] == "support"


def test_a_change_back_within_one_batch_is_recorded_in_order(seeded: Path):
    batch = [
        article("later.html", US_REFUSES, "2026-01-09T10:00:00"),
        article("first.html", US_BACKS, "2026-01-07T10:00:00"),
    ]
    with open_warehouse(seeded) as con:
        result = store.append_coverage(con, STORY.id, batch)
    assert [(c.from_stance, c.to_stance) for c in result.changes] == [
        ("noncommittal", "support"),
        ("support", "noncommittal"),
    ]


def test_reloading_a_story_keeps_feed_state_and_drops_removed_feeds(seeded: Path):
    first, second = STORY.feeds[0], STORY.feeds[1]
    with open_warehouse(seeded) as con:
        store.save_feed_polls(con, STORY.id, [FeedPoll(first.id, 200, None, etag='"v1"', items=3)])
        store.load_story(con, replace(STORY, feeds=(first,)))
        rows = con.execute("SELECT feed_id, etag, items_seen FROM feeds").fetchall()
    assert rows == [(first.id, '"v1"', 3)]
    assert second.id not in {r[0] for r in rows}


def test_failed_polls_count_up_and_a_success_resets_them(seeded: Path):
    feed = STORY.feeds[0].id
    poll = FeedPoll(feed, None, "ConnectError")
    with open_warehouse(seeded) as con:
        store.save_feed_polls(con, STORY.id, [poll, poll])
        failing = con.execute(
            "SELECT consecutive_failures, last_error FROM feeds WHERE feed_id = ?", [feed]
        ).fetchone()
        store.save_feed_polls(con, STORY.id, [replace(poll, status=304, error=None)])
        healed = con.execute(
            "SELECT consecutive_failures, last_error FROM feeds WHERE feed_id = ?", [feed]
        ).fetchone()
    assert failing == (2, "ConnectError")
    assert healed == (0, None)


def test_insert_rows_handles_batches_larger_than_one_statement(warehouse_path: Path):
    with open_warehouse(warehouse_path) as con:
        con.execute("CREATE TABLE t (n INTEGER, s VARCHAR)")
        rows = [(n, "ünï\u2019cødé " * (n % 7)) for n in range(1234)]
        insert_rows(con, "t", ("n", "s"), rows)
        stored = con.execute("SELECT n, s FROM t ORDER BY n").fetchall()
    assert stored == rows


def test_a_missing_warehouse_is_named_when_opened_read_only(tmp_path: Path):
    absent = tmp_path / "absent.duckdb"
    with pytest.raises(WarehouseError, match="no warehouse here yet; run `storywatch init`"):
        open_warehouse(absent, read_only=True).__enter__()
    assert not absent.exists()


def test_a_warehouse_locked_by_another_process_fails_clearly_after_waiting(warehouse_path: Path):
    with open_warehouse(warehouse_path):
        pass
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(warehouse_path)!r})
            print("locked", flush=True)
            time.sleep(30)
        """)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(WarehouseError, match="in use by another process"):
            open_warehouse(warehouse_path, read_only=True, wait_seconds=1).__enter__()
        assert time.monotonic() - started >= 1  # it waited and retried before giving up
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    with open_warehouse(warehouse_path, read_only=True, wait_seconds=5) as con:  # free again
        assert con.execute("SELECT 1").fetchone() == (1,)


def current(path: Path, actor: str, issue: str) -> str:
    with open_warehouse(path, read_only=True) as con:
        row = con.execute(
            "SELECT stance FROM current_stances WHERE actor_id = ? AND issue_id = ?", [actor, issue]
        ).fetchone()
    return row[0]


def test_changes_and_current_stances_agree_when_articles_share_a_time(seeded: Path):
    # Date-only pages all get noon; undated ones share their fetch time.
    batch = [
        article(f"tie-{n}.html", US_BACKS if n % 2 else US_REFUSES, "2026-01-07T12:00:00") for n in range(6)
    ]
    with open_warehouse(seeded) as con:
        # Without a dispute window every report counts in order, as current_stances reads them.
        result = store.append_coverage(con, STORY.id, batch, rules=ChangeRules(window=timedelta(0)))
    last = result.changes[-1].to_stance if result.changes else "noncommittal"
    assert last == current(seeded, "us", "us-security-guarantee")
    for before, after in zip(result.changes, result.changes[1:], strict=False):
        assert after.from_stance == before.to_stance  # a chain, never a jump


def test_a_future_date_does_not_freeze_the_timeline(seeded: Path):
    with open_warehouse(seeded) as con:
        store.append_coverage(con, STORY.id, [article("wrong-date.html", US_BACKS, "2099-01-01T00:00:00")])
        just_now = datetime.now(UTC).replace(tzinfo=None).isoformat()
        # No dispute window: the two reports are seconds apart, and this test is about dates.
        instant = ChangeRules(window=timedelta(0))
        later = store.append_coverage(
            con, STORY.id, [article("real.html", US_REFUSES, just_now)], rules=instant
        )
    # The article dated 2099 counts from when it was stored; a later real article still moves the stance.
    assert [(c.from_stance, c.to_stance) for c in later.changes] == [("support", "noncommittal")]
    assert current(seeded, "us", "us-security-guarantee") == "noncommittal"


def test_a_cycle_stores_feed_state_only_together_with_its_coverage(seeded: Path):
    feed = STORY.feeds[0].id
    poll = FeedPoll(feed, 200, None, etag='"new"', items=1)
    broken = article("a.html", US_BACKS, "2026-01-07T10:00:00")
    broken = (replace(broken[0], text=None), broken[1])  # violates NOT NULL: the append fails
    with open_warehouse(seeded) as con:
        with pytest.raises(Exception, match="NOT NULL"):
            store.record_cycle(con, STORY.id, "run-1", [broken], [], [poll], [("poll", feed, None, "x")])
        etag = con.execute("SELECT etag FROM feeds WHERE feed_id = ?", [feed]).fetchone()[0]
        problems = con.execute("SELECT count(*) FROM run_problems").fetchone()[0]
    assert etag is None and problems == 0  # the next poll fetches the feed again in full


def test_outlets_that_disagree_in_the_same_period_make_one_disputed_change(seeded: Path):
    # Three outlets report the US backing the force, two others that it still refuses, the same day.
    batch = [
        article(f"backs-{n}.html", f"{US_BACKS} (Outlet {n}.)", f"2026-01-07T1{n}:00:00") for n in range(3)
    ]
    batch += [
        article(f"refuses-{n}.html", f"{US_REFUSES} (Outlet {n}.)", f"2026-01-07T1{n}:30:00")
        for n in range(2)
    ]
    with open_warehouse(seeded) as con:
        result = store.append_coverage(con, STORY.id, batch)
    [change] = result.changes  # not a flip-flop: one change, and it says it is disputed
    assert (change.from_stance, change.to_stance) == ("noncommittal", "support")
    assert (change.sources, change.dissent, change.disputed) == (3, 2, True)
    assert "disputed: 2 still report noncommittal" in alert_body(seeded, change.change_id)


def test_a_change_waits_for_the_minimum_number_of_independent_sources(seeded: Path):
    two = ChangeRules(min_sources=2)
    first, copy = (
        article("first.html", US_BACKS, "2026-01-07T10:00:00"),
        article("copy.html", US_BACKS, "2026-01-07T11:00:00"),
    )
    copy = (replace(copy[0], text=first[0].text, content_hash=first[0].content_hash), copy[1])
    with open_warehouse(seeded) as con:
        alone = store.append_coverage(con, STORY.id, [first], rules=two)
        copied = store.append_coverage(con, STORY.id, [copy], rules=two)  # the same text: one source
        second = store.append_coverage(
            con,
            STORY.id,
            [article("second.html", f"{US_BACKS} (Another outlet.)", "2026-01-07T12:00:00")],
            rules=two,
        )
    assert alone.changes == copied.changes == []
    [change] = second.changes
    assert (change.to_stance, change.sources, change.disputed) == ("support", 2, False)
    assert "Reported by 2 independent sources" in alert_body(seeded, change.change_id)


def alert_body(path: Path, change_id: str) -> str:
    with open_warehouse(path, read_only=True) as con:
        return con.execute("SELECT body FROM alerts WHERE change_id = ?", [change_id]).fetchone()[0]


def test_a_late_report_that_moves_a_change_earlier_is_not_announced_again(seeded: Path):
    with open_warehouse(seeded) as con:
        store.append_coverage(con, STORY.id, [article("x.html", f"{US_REFUSES} (X.)", "2026-01-06T09:00:00")])
        first = store.append_coverage(
            con, STORY.id, [article("y.html", f"{US_BACKS} (Y.)", "2026-01-07T15:00:00")]
        )
        # An outlet's earlier report of the same turn arrives later.
        late = store.append_coverage(
            con, STORY.id, [article("z.html", f"{US_BACKS} (Z.)", "2026-01-07T05:00:00")]
        )
    assert [(c.from_stance, c.to_stance) for c in first.changes] == [("noncommittal", "support")]
    assert late.changes == []
    with open_warehouse(seeded, read_only=True) as con:
        alerts = con.execute("SELECT count(*) FROM alerts WHERE kind = 'stance_change'").fetchone()[0]
        [(sources, started)] = con.execute(
            "SELECT sources, started_at FROM stance_changes WHERE withdrawn_at IS NULL AND actor_id = 'us'"
        ).fetchall()
    assert alerts == 1 and sources == 2  # one change, now known from two sources and from 05:00
    assert started.astimezone(UTC).hour == 5


def test_a_retag_with_new_rules_keeps_changes_and_their_order(seeded: Path):
    undated = [
        (replace(a, published=None), t)
        for a, t in (article("early.html", US_REFUSES, "2026-01-06T09:00:00"),
                     article("later.html", f"{US_BACKS} (Later.)", "2026-01-06T09:00:00"))
    ]  # fmt: skip
    with open_warehouse(seeded) as con:
        store.append_coverage(con, STORY.id, [undated[0]], fetched_at=datetime(2026, 1, 6, tzinfo=UTC))
        store.append_coverage(con, STORY.id, [undated[1]], fetched_at=datetime(2026, 1, 9, tzinfo=UTC))
        before = con.execute("SELECT actor_id, from_stance, to_stance FROM recent_changes").fetchall()
        # The story files changed (a new fingerprint): every observation gets a new id.
        edited = replace(STORY, fingerprint="edited")
        taggings = {
            aid: tag_article(text, edited, None, "page", title=title)
            for aid, title, text, *_ in queries.article_texts(con, STORY.id)
        }
        result = store.replace_tagging(con, STORY.id, taggings)
        after = con.execute("SELECT actor_id, from_stance, to_stance FROM recent_changes").fetchall()
        stance = con.execute("SELECT stance FROM current_stances WHERE actor_id = 'us'").fetchone()[0]
    assert before == after and ("us", "noncommittal", "support") in after
    assert result.new_changes == [] and result.withdrawn == 0
    assert stance == "support"  # the article stored last is still the latest


def test_a_state_first_reported_starts_from_where_its_leader_stood(warehouse_path: Path):
    # The seed article has Trump stop short of a guarantee and says nothing of the US itself.
    with open_warehouse(warehouse_path) as con:
        store.load_story(con, STORY)
        store.append_coverage(con, STORY.id, [seed_coverage(STORY)])
        result = store.append_coverage(con, STORY.id, [article("a.html", US_BACKS, "2026-01-07T10:00:00")])
        [change] = result.changes
        before = con.execute(
            "SELECT o.actor_id FROM stance_changes c JOIN stance_observations o "
            "ON o.observation_id = c.from_observation_id WHERE c.change_id = ?",
            [change.change_id],
        ).fetchone()
    assert (change.actor_id, change.from_stance, change.to_stance) == ("us", "noncommittal", "support")
    assert before == ("trump",)  # the baseline is the President's own words


TRUMP_REFUSES = "Trump stopped short of offering a security guarantee to a European force in Ukraine."


def fresh(path: Path) -> None:
    """A warehouse with the story and nothing stored."""
    with open_warehouse(path) as con:
        store.load_story(con, STORY)


def test_a_leaders_late_words_give_the_same_history_as_a_full_recompute(warehouse_path: Path):
    fresh(warehouse_path)
    with open_warehouse(warehouse_path) as con:
        store.append_coverage(con, STORY.id, [article("us.html", US_BACKS, "2026-01-07T10:00:00")])
        # Trump's earlier words arrive a day late: the US started from them.
        late = store.append_coverage(
            con, STORY.id, [article("trump.html", TRUMP_REFUSES, "2026-01-05T10:00:00")]
        )
        stored = con.execute("SELECT actor_id, from_stance, to_stance FROM stance_changes").fetchall()
    assert late.changes == []  # history, not news: the US article was stored before
    assert stored == [("us", "noncommittal", "support")]


def test_one_article_that_moves_a_leader_and_the_state_alike_is_announced_once(warehouse_path: Path):
    fresh(warehouse_path)
    both = f"{TRUMP_BACKS} {US_BACKS}"
    with open_warehouse(warehouse_path) as con:
        store.append_coverage(con, STORY.id, [article("before.html", TRUMP_REFUSES, "2026-01-05T10:00:00")])
        result = store.append_coverage(con, STORY.id, [article("both.html", both, "2026-01-07T10:00:00")])
        alerts = con.execute("SELECT count(*) FROM alerts").fetchone()[0]
    assert [(c.actor_id, c.from_stance, c.to_stance) for c in result.changes] == [
        ("trump", "noncommittal", "support")
    ]
    assert alerts == 1


TRUMP_BACKS = "Trump has committed to back a European force in Ukraine with a security guarantee."


def test_a_report_not_yet_corroborated_is_pending_not_the_current_stance(seeded: Path):
    two = ChangeRules(min_sources=2)
    with open_warehouse(seeded) as con:
        store.append_coverage(
            con, STORY.id, [article("one.html", US_BACKS, "2026-01-07T10:00:00")], rules=two
        )
        row = con.execute(
            "SELECT stance, pending_stance, pending_evidence FROM current_stances WHERE actor_id = 'us' "
            "AND issue_id = 'us-security-guarantee'"
        ).fetchone()
    # One source says the US now backs a guarantee: news to watch, not yet the US's stance.
    assert row == ("noncommittal", "support", US_BACKS)


def test_a_state_not_yet_moved_from_its_leaders_stance_shows_that_stance(warehouse_path: Path):
    fresh(warehouse_path)
    two = ChangeRules(min_sources=2)
    with open_warehouse(warehouse_path) as con:
        store.append_coverage(
            con, STORY.id, [article("t.html", TRUMP_REFUSES, "2026-01-05T10:00:00")], rules=two
        )
        store.append_coverage(con, STORY.id, [article("us.html", US_BACKS, "2026-01-07T10:00:00")], rules=two)
        row = con.execute(
            "SELECT stance, evidence, pending_stance FROM current_stances WHERE actor_id = 'us'"
        ).fetchone()
    # One source for the US's support: the US still stands where its President left it.
    assert row == ("noncommittal", TRUMP_REFUSES, "support")
