"""Reads from the warehouse: the questions the CLI answers, and plain SQL for users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from extractors.records import Alert


@dataclass(frozen=True)
class Table:
    """A query result: column names and rows."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> Table:
    """Run one statement and return its result (the caller opens the file read-only)."""
    cursor = con.execute(sql, params or [])
    if cursor.description is None:
        return Table([], [])
    return Table([d[0] for d in cursor.description], cursor.fetchall())


def current_stances(con: duckdb.DuckDBPyConnection, story_id: str) -> Table:
    """Each actor's current stance per issue, with its evidence."""
    return run_sql(
        con,
        "SELECT actor, issue_id AS issue, stance, round(confidence, 2) AS confidence, "
        "strftime(as_of, '%Y-%m-%d') AS as_of, evidence, url, pending_stance AS pending FROM current_stances "
        "WHERE story_id = ? ORDER BY issue_id, actor",
        [story_id],
    )


def recent_changes(con: duckdb.DuckDBPyConnection, story_id: str, limit: int = 50) -> Table:
    """The latest stance changes, newest first, with evidence and link."""
    return run_sql(
        con,
        "SELECT strftime(detected_at, '%Y-%m-%d %H:%M') AS detected, actor, issue_id AS issue, "
        "from_stance, to_stance, sources, disputed, evidence, outlet, url FROM recent_changes "
        "WHERE story_id = ? ORDER BY detected_at DESC, change_id LIMIT ?",
        [story_id, limit],
    )


def feed_health(con: duckdb.DuckDBPyConnection, story_id: str) -> Table:
    """Each feed's health: last success, failures in a row, last error, next poll."""
    return run_sql(
        con,
        "SELECT feed_id AS feed, CASE WHEN down_since IS NOT NULL THEN 'failing' "
        "WHEN last_polled_at IS NULL THEN 'not polled yet' ELSE 'ok' END AS health, "
        "strftime(last_success_at, '%Y-%m-%d %H:%M') AS last_success, "
        "consecutive_failures AS failures, last_error, "
        "strftime(next_poll_at, '%Y-%m-%d %H:%M') AS next_poll, "
        "round(poll_interval_seconds / 60) AS every_minutes, items_seen, url "
        "FROM feeds WHERE story_id = ? ORDER BY consecutive_failures DESC, feed_id",
        [story_id],
    )


def list_alerts(con: duckdb.DuckDBPyConnection, story_id: str, limit: int = 50) -> Table:
    """The outbox, newest first, with delivery status."""
    return run_sql(
        con,
        "SELECT strftime(created_at, '%Y-%m-%d %H:%M') AS created, kind, status, attempts, "
        "strftime(next_attempt_at, '%Y-%m-%d %H:%M') AS next_attempt, title, last_error, url "
        "FROM alerts WHERE story_id = ? "
        "ORDER BY created_at DESC, alert_id LIMIT ?",
        [story_id, limit],
    )


def pending_alerts(con: duckdb.DuckDBPyConnection, story_id: str, max_attempts: int) -> list[Alert]:
    """Alerts not delivered yet that still have attempts left and whose wait after a failed
    attempt is over, oldest first."""
    rows = con.execute(
        "SELECT alert_id, kind, title, body, url, attempts, delivered_to FROM alerts "
        "WHERE story_id = ? AND status = 'pending' AND attempts < ? "
        "AND (next_attempt_at IS NULL OR next_attempt_at <= now()) ORDER BY created_at, alert_id",
        [story_id, max_attempts],
    ).fetchall()
    return [Alert(*row[:6], delivered_to=tuple(row[6])) for row in rows]


def undelivered_alerts(con: duckdb.DuckDBPyConnection, story_id: str) -> list[Alert]:
    """Every alert not delivered, waiting or given up on, oldest first (to resend by hand)."""
    rows = con.execute(
        "SELECT alert_id, kind, title, body, url, attempts, delivered_to FROM alerts "
        "WHERE story_id = ? AND status IN ('pending', 'failed') ORDER BY created_at, alert_id",
        [story_id],
    ).fetchall()
    return [Alert(*row[:6], delivered_to=tuple(row[6])) for row in rows]


def has_article(con: duckdb.DuckDBPyConnection, story_id: str, url: str) -> bool:
    """Whether the story already stores the article at ``url``."""
    row = con.execute(
        "SELECT count(*) FROM articles WHERE story_id = ? AND url = ?", [story_id, url]
    ).fetchone()
    return bool(row and row[0])


def article_texts(con: duckdb.DuckDBPyConnection, story_id: str) -> list[tuple]:
    """Every stored article of a story as (article id, title, text, text source, published at)."""
    return con.execute(
        "SELECT article_id, title, text, text_source, published_at FROM articles WHERE story_id = ? "
        "ORDER BY article_id",
        [story_id],
    ).fetchall()


def actor_candidates(con: duckdb.DuckDBPyConnection, story_id: str) -> Table:
    """Names the coverage quotes that the story's registry does not know, most cited first."""
    return run_sql(
        con,
        "SELECT name, articles, mentions, first_seen_at::DATE AS first_seen, example, example_url "
        "FROM actor_candidates WHERE story_id = ? AND status = 'candidate' "
        "ORDER BY articles DESC, mentions DESC, name",
        [story_id],
    )


def coverage_titles(con: duckdb.DuckDBPyConnection, story_id: str, limit: int = 500) -> list[str]:
    """Headlines of the story's latest coverage (the seed's text first): what it talks about."""
    rows = con.execute(
        "SELECT CASE WHEN is_seed THEN title || ' ' || text ELSE title END FROM articles "
        "WHERE story_id = ? ORDER BY is_seed DESC, fetched_at DESC, article_id LIMIT ?",
        [story_id, limit],
    ).fetchall()
    return [row[0] for row in rows if row[0]]


def due_page_retries(con: duckdb.DuckDBPyConnection, story_id: str, at: datetime) -> list[tuple]:
    """Feed-text articles whose page is due another try, as (article id, page URL, title,
    published at, feed id, outlet)."""
    return con.execute(
        "SELECT r.article_id, r.url, a.title, a.published_at, a.feed_id, a.outlet FROM page_retries r "
        "JOIN articles a USING (story_id, article_id) WHERE r.story_id = ? AND r.status = 'waiting' "
        "AND r.next_try_at <= ? AND a.text_source = 'feed' ORDER BY r.next_try_at LIMIT 200",
        [story_id, at],
    ).fetchall()
