"""The whole cycle, end to end: loopback feeds and pages, a real warehouse, real Prefect."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.loopback import SITE, Loopback, Response


@pytest.fixture
def run_cycle(prefect_harness, clean_env, site: Loopback, story_dir: Path, warehouse_path: Path):
    from flows.ingest import ingest

    clean_env.setenv("STORYWATCH_ALERT_URLS", f"json://127.0.0.1:{site.base.rsplit(':', 1)[1]}/hook")

    def run(poll_all: bool = False):
        return ingest(story=str(story_dir), warehouse=str(warehouse_path), poll_all=poll_all)

    return run


def rows(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_cycle_stores_coverage_detects_the_us_change_and_alerts_once(run_cycle, site, warehouse_path):
    summary = run_cycle()

    # Every source is accounted for: the broken and the missing feed are named with reasons.
    assert summary.feeds_polled == 4
    assert summary.feeds_failed == 2
    problems = {(stage, source): message for stage, source, _, message in summary.problems}
    assert problems[("parse", "loopback-broken")].startswith("not a feed")
    assert problems[("poll", "loopback-missing")] == "HTTP 404 Not Found"
    assert problems[("fetch", "loopback-world")] == "HTTP 500 Internal Server Error"
    assert "no article text" in problems[("extract", "loopback-europe")]

    articles = dict(rows(warehouse_path, "SELECT regexp_extract(url, '[^/:]+$'), text_source FROM articles"))
    assert articles == {
        "uk-troops-ukraine": "seed",
        "us-backs-force.html": "page",  # linked twice, with tracking parameters: stored once
        "starmer-repeats.html": "page",
        "kremlin-warns.html": "page",
        "server-error.html": "feed",  # the page failed: the feed's text stands in
        "empty.html": "feed",  # the page had no text: the feed's text stands in
    }
    # Unrelated items are not stored as coverage, and are remembered so they are not refetched.
    outcomes = dict(rows(warehouse_path, "SELECT regexp_extract(url, '[^/:]+$'), outcome FROM feed_items"))
    assert outcomes["grain-exports.html"] == "dropped"
    assert outcomes["football.html"] == "irrelevant"
    assert site.hits("/articles/football.html") == 0

    stances = {
        (actor, issue): stance
        for actor, issue, stance in rows(
            warehouse_path, "SELECT actor_id, issue_id, stance FROM current_stances"
        )
    }
    assert stances[("us", "us-security-guarantee")] == "support"
    assert stances[("starmer", "troops-in-ukraine")] == "support"
    assert stances[("russia", "russia-accepts-troops")] == "rejects"
    assert stances[("germany", "troops-in-ukraine")] == "noncommittal"

    changes = rows(warehouse_path, "SELECT actor_id, issue_id, from_stance, to_stance FROM stance_changes")
    assert changes == [("us", "us-security-guarantee", "noncommittal", "support")]
    assert summary.changes_detected == 1

    assert len(site.webhooks) == 1
    message = site.webhooks[0]
    assert "United States" in message["title"]
    assert "The United States has committed to back a European reassurance force" in message["message"]
    assert f"{site.base}/articles/us-backs-force.html" in message["message"]
    assert rows(warehouse_path, "SELECT status, attempts FROM alerts") == [("sent", 1)]

    run = rows(
        warehouse_path,
        "SELECT status, feeds_failed, articles_added, changes_detected, alerts_sent FROM runs",
    )
    assert run == [("completed", 2, 5, 1, 1)]


def test_second_cycle_stores_nothing_new_and_sends_nothing(run_cycle, site, warehouse_path):
    run_cycle()
    tables = ("articles", "stance_observations", "mentions", "alerts", "stance_changes")
    counts = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in tables)
    before = rows(warehouse_path, counts)
    page_hits = site.hits("/articles/us-backs-force.html")
    # The world feed now answers in full (no ETag), with every old item and one new one.
    world = (SITE / "feeds" / "world.rss").read_bytes().replace(b"{base}", site.base.encode())
    new_item = b"<item><title>Storm closes ports</title><link>/articles/storm.html</link></item>"
    site.routes["/feeds/world.rss"] = Response(200, world.replace(b"</channel>", new_item + b"</channel>"))

    summary = run_cycle(poll_all=True)  # the feeds are not due yet: ask anyway

    assert rows(warehouse_path, counts) == before
    assert summary.feeds_not_modified == 1  # the Atom feed: conditional GET with the stored ETag
    assert (summary.items_seen, summary.items_new) == (6, 1)  # old items are recognised by URL
    assert summary.articles_added == summary.changes_detected == summary.alerts_sent == 0
    assert len(site.webhooks) == 1
    assert site.hits("/articles/us-backs-force.html") == page_hits
    assert rows(warehouse_path, "SELECT outcome FROM feed_items WHERE url LIKE '%storm.html'") == [
        ("irrelevant",)
    ]


def test_pages_that_exceed_the_extraction_limit_fall_back_to_feed_text(run_cycle, clean_env, warehouse_path):
    # A limit no extraction can meet stands in for a pathological page.
    clean_env.setenv("STORYWATCH_EXTRACT_TIMEOUT", "0.001")
    summary = run_cycle()

    sources = rows(warehouse_path, "SELECT DISTINCT text_source FROM articles WHERE NOT is_seed")
    assert sources == [("feed",)]
    stopped = [m for stage, _, _, m in summary.problems if stage == "extract"]
    timed_out = [m for m in stopped if "extraction took longer than 0.001 s; stopped" in m]
    # The empty page may still answer in time; every other page was stopped.
    assert len(timed_out) >= len(stopped) - 1 and timed_out
    assert summary.articles_added > 0  # the cycle went on, with the feeds' own text


def test_a_page_that_failed_for_a_passing_reason_gets_its_text_in_a_later_cycle(
    run_cycle, site, warehouse_path
):
    run_cycle()
    # The server error was transient: the article keeps the feed's text and its page waits.
    assert rows(warehouse_path, "SELECT status, attempts FROM page_retries") == [("waiting", 1)]
    site.routes["/articles/server-error.html"] = Response(
        200,
        b"<html><head><title>Paris talks</title></head><body><article><h1>Paris talks</h1>"
        + b"<p>Keir Starmer said Britain was ready to deploy troops to Ukraine after a ceasefire, and "
        + b"officials in London described the planning for a multinational force in some detail.</p>" * 3
        + b"</article></body></html>",
        {"Content-Type": "text/html; charset=utf-8"},
    )
    con = duckdb.connect(str(warehouse_path))
    con.execute("UPDATE page_retries SET next_try_at = now() - INTERVAL 1 MINUTE")  # it is due
    con.close()

    summary = run_cycle()

    assert summary.articles_upgraded == 1
    [(source, text)] = rows(
        warehouse_path, "SELECT text_source, text FROM articles WHERE url LIKE '%server-error%'"
    )
    assert source == "page" and "multinational force" in text
    assert rows(warehouse_path, "SELECT status FROM page_retries") == [("upgraded",)]
    # Its stances now come from the page's text, and it is still stored once.
    evidence = rows(
        warehouse_path,
        "SELECT o.evidence FROM stance_observations o JOIN articles a USING (article_id) "
        "WHERE a.url LIKE '%server-error%' AND o.actor_id = 'starmer'",
    )
    assert evidence and all("ready to deploy troops" in e for (e,) in evidence)
    assert rows(warehouse_path, "SELECT count(*) FROM articles WHERE url LIKE '%server-error%'") == [(1,)]


def test_a_failed_run_is_alerted_once_with_its_error_and_link(run_cycle, site, story_dir, warehouse_path):
    from extractors.story import StoryError

    (story_dir / "issues.yaml").write_text("issues: [", encoding="utf-8")  # the run cannot start
    for _ in range(2):
        with pytest.raises(StoryError):
            run_cycle()

    # Each run is its own failure: two runs, two alerts, each sent once and recorded as sent.
    assert [hook["title"] for hook in site.webhooks] == ["storywatch run failed: story"] * 2
    assert all("issues.yaml" in hook["message"] for hook in site.webhooks)
    assert all("/runs/flow-run/" in hook["message"] for hook in site.webhooks)
    sent = rows(warehouse_path, "SELECT kind, status, attempts FROM alerts ORDER BY created_at")
    assert sent == [("flow_failed", "sent", 1)] * 2

    # The same run reported again (a hook that runs twice) is the same alert: not sent again.
    from prefect import get_client

    from flows.ingest import alert_failed_run, ingest

    [(alert_id, *_)] = rows(warehouse_path, "SELECT alert_id FROM alerts ORDER BY created_at LIMIT 1")
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(alert_id.removeprefix("flow_failed:"))
    alert_failed_run(ingest, run, run.state)
    assert len(site.webhooks) == 2
    assert rows(warehouse_path, "SELECT count(*) FROM alerts") == [(2,)]
