"""Appends to the warehouse: stories, feed state, coverage, stance changes, runs, alerts.

Every append is idempotent: rows carry keys derived from their content (the canonical
URL, the sentence an observation came from), and a batch is de-duplicated against what is
stored before it is inserted, so running a cycle twice stores nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb

from extractors.changes import Change, ChangeRules, Position, detect_changes
from extractors.coverage import SAME_TEXT, resemblance
from extractors.records import (
    Alert,
    Article,
    Delivery,
    FeedItem,
    FeedPoll,
    FeedState,
    FetchAttempt,
    StanceChange,
    Story,
    Tagging,
)
from extractors.robots import RobotsFile
from warehouse.connection import insert_rows
from warehouse.migrations import MIN_POSITION_CONFIDENCE, NEAR_DUPLICATE_BITS
from warehouse.transaction import transaction

ALERT_STATUSES = ("pending", "sent", "logged", "failed")
DEFAULT_RULES = ChangeRules()


def key(*parts: object) -> str:
    """A short stable identifier made from ``parts``."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:20]


def article_id(story_id: str, url: str) -> str:
    """The identifier of an article within a story: derived from its canonical URL."""
    return key(story_id, url)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AppendResult:
    """What one append stored."""

    articles: int = 0
    mentions: int = 0
    observations: int = 0
    actors: set[str] = field(default_factory=set)
    changes: list[StanceChange] = field(default_factory=list)


def load_story(con: duckdb.DuckDBPyConnection, story: Story) -> None:
    """Record the story's definition (actors, issues, feeds), keeping each feed's poll state."""
    with transaction(con):
        con.execute(
            "INSERT INTO stories VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (story_id) DO UPDATE SET "
            "title = excluded.title, description = excluded.description, "
            "schedule = excluded.schedule, fingerprint = excluded.fingerprint, "
            "loaded_at = excluded.loaded_at",
            [story.id, story.title, story.description, story.schedule, story.fingerprint, now()],
        )
        con.execute("DELETE FROM actors WHERE story_id = ?", [story.id])
        insert_rows(
            con,
            "actors",
            (
                "story_id",
                "actor_id",
                "name",
                "kind",
                "affiliation",
                "aliases",
                "roles",
                "metonyms",
                "officials",
            ),
            [
                (
                    story.id,
                    a.id,
                    a.name,
                    a.kind,
                    a.affiliation,
                    list(a.aliases),
                    [r.title for r in a.roles],
                    list(a.metonyms),
                    [o.title for o in a.officials],
                )
                for a in story.actors
            ],
        )
        con.execute("DELETE FROM issues WHERE story_id = ?", [story.id])
        insert_rows(
            con,
            "issues",
            ("story_id", "issue_id", "question", "labels"),
            [(story.id, i.id, i.question, list(i.labels)) for i in story.issues],
        )
        feed_ids = [f.id for f in story.feeds]
        con.execute(
            "DELETE FROM feeds WHERE story_id = ? AND NOT list_contains(?, feed_id)", [story.id, feed_ids]
        )
        for feed in story.feeds:
            con.execute(
                "INSERT INTO feeds (story_id, feed_id, name, url, kind) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (story_id, feed_id) DO UPDATE SET name = excluded.name, "
                "url = excluded.url, kind = excluded.kind",
                [story.id, feed.id, feed.name, feed.url, feed.kind],
            )


def unseen(con: duckdb.DuckDBPyConnection, story_id: str, urls: Iterable[str]) -> set[str]:
    """The URLs among ``urls`` that the story has neither stored nor seen in a feed before."""
    wanted = sorted(set(urls))
    if not wanted:
        return set()
    rows = con.execute(
        "SELECT u FROM unnest(?) AS t(u) WHERE u NOT IN "
        "(SELECT url FROM articles WHERE story_id = ? UNION ALL "
        " SELECT url FROM feed_items WHERE story_id = ?)",
        [wanted, story_id, story_id],
    ).fetchall()
    return {r[0] for r in rows}


def append_coverage(
    con: duckdb.DuckDBPyConnection,
    story_id: str,
    batch: Sequence[tuple[Article, Tagging]],
    seen: Sequence[tuple[FeedItem, str, str | None]] = (),
    run_id: str | None = None,
    fetched_at: datetime | None = None,
    rules: ChangeRules = DEFAULT_RULES,
) -> AppendResult:
    """Store articles with their mentions and observations, then record stance changes.

    ``seen`` lists every feed item the batch came from, with its outcome (stored,
    irrelevant, skipped) and a note, so that no item is fetched twice. One transaction:
    either the whole batch and the changes it causes are stored, or none of it.
    """
    with transaction(con):
        return _append(con, story_id, batch, seen, run_id, fetched_at or now(), rules)


def record_cycle(
    con: duckdb.DuckDBPyConnection,
    story_id: str,
    run_id: str,
    batch: Sequence[tuple[Article, Tagging]],
    seen: Sequence[tuple[FeedItem, str, str | None]],
    polls: Sequence[FeedPoll],
    problems: Sequence[tuple[str, str, str | None, str]],
    attempts: Sequence[FetchAttempt] = (),
    robots: Sequence[RobotsFile] = (),
    down_after: timedelta = timedelta(hours=6),
    rules: ChangeRules = DEFAULT_RULES,
    retries: Sequence[tuple[str, str, str]] = (),
) -> AppendResult:
    """Store what a cycle found in one transaction: feed states, problems, every fetch
    attempt, robots.txt answers and the coverage.

    ``retries`` are (article URL, page URL, error) of articles stored with their feed's text
    because the page failed for a reason that may pass: their pages are tried again later.

    Together or not at all: a feed's new ETag must never be stored without the items it
    answered with, or the next poll's 304 would hide them for good.
    """
    with transaction(con):
        save_feed_polls(con, story_id, polls, down_after)
        add_problems(con, run_id, problems)
        insert_rows(
            con,
            "fetch_attempts",
            ("run_id", "url", "kind", "attempt", "status", "bytes", "seconds", "error", "tried_at"),
            [
                (run_id, a.url, a.kind, a.attempt, a.status, a.bytes, a.seconds, a.error, a.tried_at)
                for a in attempts
            ],
        )
        for r in robots:
            con.execute(
                "INSERT INTO robots_files VALUES (?, ?, ?, ?) ON CONFLICT (host) DO UPDATE SET "
                "fetched_at = excluded.fetched_at, status = excluded.status, body = excluded.body",
                [r.host, r.fetched_at, r.status, r.body],
            )
        result = _append(con, story_id, batch, seen, run_id, now(), rules)
        schedule_page_retries(con, story_id, retries, now())
        return result


def robots_files(con: duckdb.DuckDBPyConnection) -> list[RobotsFile]:
    """Every robots.txt answer kept (the caller decides which are still fresh)."""
    rows = con.execute("SELECT host, fetched_at, status, body FROM robots_files").fetchall()
    return [RobotsFile(*row) for row in rows]


def _append(
    con: duckdb.DuckDBPyConnection,
    story_id: str,
    batch: Sequence[tuple[Article, Tagging]],
    seen: Sequence[tuple[FeedItem, str, str | None]],
    run_id: str | None,
    fetched_at: datetime,
    rules: ChangeRules,
) -> AppendResult:
    result = AppendResult()
    fresh = unseen(con, story_id, [a.url for a, _ in batch] + [i.url for i, _, _ in seen])
    items = {}
    for item, outcome, note in seen:
        if item.url in fresh and item.url not in items:
            items[item.url] = (story_id, item.url, item.feed_id, item.guid, item.title,
                               item.published, fetched_at, outcome, note, run_id)  # fmt: skip
    insert_rows(con, "feed_items", _ITEM_COLUMNS, list(items.values()))
    kept: dict[str, tuple[Article, Tagging]] = {}
    for article, tagging in batch:
        if article.url in fresh and article.url not in kept:
            kept[article.url] = (article, tagging)
    articles, mentions, observations = [], [], []
    clusters: list[tuple[Article, str]] = []  # this batch's articles and their clusters
    for article, tagging in kept.values():
        aid = article_id(story_id, article.url)
        cluster = _cluster(con, story_id, article, clusters) or aid
        clusters.append((article, cluster))
        articles.append(_article_row(story_id, aid, article, fetched_at, run_id, cluster))
        mentions.extend(mention_rows(story_id, aid, tagging))
        result.actors.update(m.actor_id for m in tagging.mentions)
        observations.extend(observation_rows(story_id, aid, article.published, fetched_at, tagging))
    _add_candidates(
        con, story_id, [(article_id(story_id, a.url), a.url, t) for a, t in kept.values()], fetched_at
    )
    result.articles = insert_rows(con, "articles", _ARTICLE_COLUMNS, articles)
    result.mentions = insert_rows(con, "mentions", MENTION_COLUMNS, mentions)
    result.observations = insert_rows(con, "stance_observations", OBSERVATION_COLUMNS, observations)
    new_ids = {row[0] for row in articles}
    pairs = {(o[3], o[4]) for o in observations}
    result.changes = _record_changes(con, story_id, new_ids, pairs, run_id, fetched_at, rules)
    return result


def _add_candidates(
    con: duckdb.DuckDBPyConnection, story_id: str, tagged: list[tuple[str, str, Tagging]], at: datetime
) -> None:
    """Count the unknown names these articles quote into ``actor_candidates``."""
    counts: dict[str, list] = {}  # name -> [mentions, articles, example, example url]
    for _, url, tagging in tagged:
        for name in {c.name for c in tagging.candidates}:
            seen = [c for c in tagging.candidates if c.name == name]
            entry = counts.setdefault(name, [0, 0, seen[0].evidence, url])
            entry[0] += len(seen)
            entry[1] += 1
    for name, (mentions, articles, example, url) in counts.items():
        con.execute(
            "INSERT INTO actor_candidates VALUES (?, ?, 'candidate', ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (story_id, name) DO UPDATE SET mentions = actor_candidates.mentions + "
            "excluded.mentions, articles = actor_candidates.articles + excluded.articles, "
            "last_seen_at = excluded.last_seen_at",
            [story_id, name, mentions, articles, at, at, example, url],
        )


def promote_candidate(con: duckdb.DuckDBPyConnection, story_id: str, name: str) -> None:
    """Mark a candidate as added to the story's registry."""
    con.execute(
        "UPDATE actor_candidates SET status = 'promoted' WHERE story_id = ? AND name = ?", [story_id, name]
    )


def mention_rows(story_id: str, aid: str, tagging: Tagging) -> list[tuple]:
    """The mentions table's rows for one article's tagging."""
    return [
        (story_id, aid, m.actor_id, m.sentence_index, m.start, m.end, m.surface, m.how, m.part)
        for m in tagging.mentions
    ]


def observation_rows(
    story_id: str, aid: str, published: datetime | None, observed_at: datetime, tagging: Tagging
) -> list[tuple]:
    """The stance_observations table's rows for one article's tagging."""
    return [
        (
            key(aid, o.actor_id, o.issue_id, o.part, o.sentence_index, o.attribution, o.rules_version),
            story_id, aid, o.actor_id, o.issue_id, o.stance, o.confidence,
            o.evidence, o.sentence_index, o.start, o.end, o.cue, o.rules_version,
            published, observed_at, o.attribution, o.claimed_by, o.part, list(o.qualifiers),
        )
        for o in tagging.observations
    ]  # fmt: skip


_ITEM_COLUMNS = (
    "story_id", "url", "feed_id", "guid", "title", "published_at", "first_seen_at", "outcome",
    "note", "run_id",
)  # fmt: skip
_ARTICLE_COLUMNS = (
    "article_id", "story_id", "url", "source_url", "feed_id", "outlet", "title", "author",
    "published_at", "fetched_at", "language", "text", "text_source", "content_hash",
    "relevance", "relevance_reason", "is_seed", "run_id", "simhash", "cluster_id",
)  # fmt: skip
MENTION_COLUMNS = (
    "story_id", "article_id", "actor_id", "sentence_index", "start_char", "end_char", "surface", "how",
    "part",
)  # fmt: skip
OBSERVATION_COLUMNS = (
    "observation_id", "story_id", "article_id", "actor_id", "issue_id", "stance", "confidence",
    "evidence", "sentence_index", "start_char", "end_char", "cue", "rules_version",
    "published_at", "observed_at", "attribution", "claimed_by", "part", "qualifiers",
)  # fmt: skip


def _article_row(
    story_id: str, aid: str, a: Article, fetched_at: datetime, run_id: str | None, cluster: str
) -> tuple:
    return (
        aid, story_id, a.url, a.source_url, a.feed_id, a.outlet, a.title, a.author, a.published,
        fetched_at, a.language, a.text, a.text_source, a.content_hash, a.relevance,
        a.relevance_reason, a.is_seed, run_id, a.simhash, cluster,
    )  # fmt: skip


def _cluster(
    con: duckdb.DuckDBPyConnection, story_id: str, article: Article, batch: list[tuple[Article, str]]
) -> str | None:
    """The cluster of an earlier copy of ``article``: the same text, or nearly.

    Near means a simhash within a few bits *and* most of the wording shared: a simhash
    alone also brings together different reports that share a background paragraph.
    """
    for earlier, cluster in batch:
        if earlier.content_hash == article.content_hash or (
            _near(earlier.simhash, article.simhash) and resemblance(earlier.text, article.text) >= SAME_TEXT
        ):
            return cluster
    rows = con.execute(
        "SELECT cluster_id, content_hash = ?, text FROM articles WHERE story_id = ? AND (content_hash = ? OR "
        "(? IS NOT NULL AND simhash IS NOT NULL AND bit_count(xor(simhash, ?::UBIGINT)) <= ?)) "
        "ORDER BY fetched_at, article_id LIMIT 20",
        [article.content_hash, story_id, article.content_hash, article.simhash, article.simhash,
         NEAR_DUPLICATE_BITS],
    ).fetchall()  # fmt: skip
    for cluster, same, text in rows:
        if same or resemblance(text, article.text) >= SAME_TEXT:
            return cluster
    return None


def _near(a: int | None, b: int | None) -> bool:
    return a is not None and b is not None and (a ^ b).bit_count() <= NEAR_DUPLICATE_BITS


def _record_changes(
    con: duckdb.DuckDBPyConnection,
    story_id: str,
    new_articles: set[str],
    pairs: set[tuple[str, str]] | None,
    run_id: str | None,
    detected_at: datetime,
    rules: ChangeRules,
    announce: bool = True,
) -> list[StanceChange]:
    """Recompute the changes of each touched (actor, issue) timeline (all of them when
    ``pairs`` is None) and store what differs from before.

    A change found for the first time is queued as an alert when it is news: confirmed by
    an article of this run, and starting no earlier than what was stored before. One that
    is no longer found (a retag, a dispute) is marked withdrawn, never deleted.
    """
    if pairs is not None and (not pairs or not new_articles):
        return []
    # A state's people (its leader, its ministers) speak for it until it is reported itself.
    voices: dict[str, list[str]] = {}
    speaks_for: dict[str, str] = {}
    for person, state in con.execute(
        "SELECT actor_id, affiliation FROM actors WHERE story_id = ? AND kind = 'person' "
        "AND affiliation IS NOT NULL ORDER BY actor_id",
        [story_id],
    ).fetchall():
        voices.setdefault(state, []).append(person)
        speaks_for[person] = state
    if pairs is not None:  # a person's late words may move where their state started from
        pairs = pairs | {(speaks_for[a], i) for a, i in pairs if a in speaks_for}
    # Joined by a control character, which no actor or issue id contains.
    wanted = None if pairs is None else [f"{a}\x1f{i}" for a, i in pairs]
    heard = None if pairs is None else wanted + [f"{v}\x1f{i}" for a, i in pairs for v in voices.get(a, [])]
    rows = con.execute(
        f"""
        SELECT p.actor_id, p.issue_id, p.observation_id, p.article_id, art.cluster_id, p.stance, p.as_of
        FROM article_positions p JOIN articles art USING (story_id, article_id)
        WHERE p.story_id = ? AND p.confidence >= {MIN_POSITION_CONFIDENCE}
          AND (?::VARCHAR[] IS NULL OR list_contains(?, p.actor_id || chr(31) || p.issue_id))
        ORDER BY p.actor_id, p.issue_id, p.as_of, p.observed_at, p.article_id, p.observation_id
        """,
        [story_id, heard, heard],
    ).fetchall()
    read: dict[tuple[str, str], list[Position]] = {}
    for actor, issue, oid, aid, cluster, stance, as_of in rows:
        read.setdefault((actor, issue), []).append(Position(oid, aid, cluster or aid, stance, as_of))
    # The people's timelines were read for the baselines; their own changes only when asked for.
    timelines = {pair: list(t) for pair, t in read.items() if pairs is None or pair in pairs}
    baselines: dict[tuple[str, str], str] = {}  # (state, issue) -> the observation it started from
    for (actor, issue), timeline in timelines.items():
        spoken = [p for v in voices.get(actor, []) for p in read.get((v, issue), [])]
        baseline = _baseline(timeline[0], spoken)
        if baseline is not None:
            timeline.insert(0, baseline)
            baselines[(actor, issue)] = baseline.observation_id
    existing = {
        row[0]: (*row[1:7], tuple(row[7:]))
        for row in con.execute(
            "SELECT change_id, actor_id, issue_id, from_stance, to_stance, started_at, "
            "withdrawn_at IS NOT NULL, sources, dissent, from_observation_id, to_observation_id, "
            "confirmed_observation_id, started_at "
            "FROM stance_changes WHERE story_id = ? AND (?::VARCHAR[] IS NULL OR "
            "list_contains(?, actor_id || chr(31) || issue_id))",
            [story_id, wanted, wanted],
        ).fetchall()
    }
    found: dict[str, tuple[str, str, Change]] = {}
    news: set[str] = set()
    kinds: dict[tuple, list[str]] = {}
    for cid, row in existing.items():
        kinds.setdefault(tuple(row[:4]), []).append(cid)
    for (actor, issue), timeline in timelines.items():
        stored_before = [p for p in timeline if p.article_id not in new_articles]
        for change in detect_changes(timeline, rules.min_sources, rules.window):
            cid = _same_change(existing, kinds, found, actor, issue, change, rules) or key(
                story_id, actor, issue, change.from_stance, change.to_stance, change.first.article_id
            )
            found[cid] = (actor, issue, change)
            # History, not news, when coverage stored earlier already told a later story.
            overtaken = any(
                p.stance != change.to_stance and p.as_of >= change.first.as_of + rules.window
                for p in stored_before
            )
            if change.confirmed.article_id in new_articles and not overtaken:
                news.add(cid)
    # A state's change that only repeats its leader's, from the same words in the same article,
    # is announced once: as the leader's.
    for cid in list(news):
        actor, issue, change = found[cid]
        if change.before.observation_id != baselines.get((actor, issue)):
            continue
        if any(
            (a, i) == (person, issue)
            and (c.from_stance, c.to_stance) == (change.from_stance, change.to_stance)
            and c.confirmed.article_id == change.confirmed.article_id
            for person in voices.get(actor, [])
            for a, i, c in found.values()
        ):
            news.discard(cid)
    inserts, recorded = [], []
    for cid, (actor, issue, c) in found.items():
        disputed = c.dissent > 0
        state = (c.sources, c.dissent, c.before.observation_id, c.first.observation_id,
                 c.confirmed.observation_id, c.first.as_of)  # fmt: skip
        if cid in existing:
            if existing[cid][5] or existing[cid][6] != state:
                con.execute(
                    "UPDATE stance_changes SET sources = ?, dissent = ?, disputed = ?, withdrawn_at = NULL, "
                    "from_observation_id = ?, to_observation_id = ?, confirmed_observation_id = ?, "
                    "started_at = ? WHERE change_id = ?",
                    [c.sources, c.dissent, disputed, *state[2:], cid],
                )
            continue
        inserts.append((cid, story_id, actor, issue, c.from_stance, c.to_stance, c.before.observation_id,
                        c.first.observation_id, detected_at, run_id, c.confirmed.observation_id, c.sources,
                        c.dissent, disputed, c.first.as_of))  # fmt: skip
        recorded.append(cid)
    gone = [cid for cid, row in existing.items() if cid not in found and not row[5]]
    if gone:
        con.execute(
            "UPDATE stance_changes SET withdrawn_at = ? WHERE list_contains(?, change_id)",
            [detected_at, gone],
        )
    insert_rows(
        con,
        "stance_changes",
        ("change_id", "story_id", "actor_id", "issue_id", "from_stance", "to_stance",
         "from_observation_id", "to_observation_id", "detected_at", "run_id", "confirmed_observation_id",
         "sources", "dissent", "disputed", "started_at"),
        inserts,
    )  # fmt: skip
    changes = _describe(con, [cid for cid in recorded if cid in news]) if announce else []
    _queue_change_alerts(con, story_id, changes, detected_at)
    return changes


def _baseline(first: Position, spoken: list[Position]) -> Position | None:
    """Where a state stood before it was first reported itself: the last position its people
    took before that ("Trump stopped short of a guarantee" before "the US backs ..."), if any."""
    before = [p for p in spoken if p.as_of < first.as_of]
    return max(before, key=lambda p: (p.as_of, p.article_id, p.observation_id)) if before else None


def _same_change(
    existing: dict[str, tuple],
    kinds: dict[tuple, list[str]],
    found: dict,
    actor: str,
    issue: str,
    change: Change,
    rules: ChangeRules,
) -> str | None:
    """The id of a recorded change that this one is (a late report may move its start):
    the same actor, issue, and stances (``kinds`` groups ``existing`` by them, so that a retag
    stays linear), starting within the dispute window."""
    near = max(rules.window, timedelta(hours=1))
    for cid in kinds.get((actor, issue, change.from_stance, change.to_stance), ()):
        started = existing[cid][4]
        if cid not in found and (started is None or abs(started - change.first.as_of) < near):
            return cid
    return None


def _describe(con: duckdb.DuckDBPyConnection, change_ids: list[str]) -> list[StanceChange]:
    """Stored changes with the evidence of their first report, for alerts and summaries."""
    if not change_ids:
        return []
    rows = con.execute(
        "SELECT c.change_id, c.actor_id, c.issue_id, c.from_stance, c.to_stance, c.from_observation_id, "
        "c.to_observation_id, o.evidence, art.url, art.outlet, art.title, coalesce(a.name, c.actor_id), "
        "c.sources, c.dissent, c.disputed "
        "FROM stance_changes c JOIN stance_observations o ON o.observation_id = c.to_observation_id "
        "JOIN articles art ON art.article_id = o.article_id "
        "LEFT JOIN actors a ON a.story_id = c.story_id AND a.actor_id = c.actor_id "
        "WHERE list_contains(?, c.change_id)",
        [change_ids],
    ).fetchall()
    order = {cid: n for n, cid in enumerate(change_ids)}  # the timelines' order, not the table's
    return sorted((StanceChange(*row) for row in rows), key=lambda c: order[c.change_id])


def _queue_change_alerts(
    con: duckdb.DuckDBPyConnection, story_id: str, changes: list[StanceChange], at: datetime
) -> None:
    questions = dict(
        con.execute("SELECT issue_id, question FROM issues WHERE story_id = ?", [story_id]).fetchall()
    )
    rows = []
    for c in changes:
        actor = c.actor_name
        title = f"{actor} changed stance on {c.issue_id}: {c.from_stance} -> {c.to_stance}"
        if c.disputed:
            title += " (disputed)"
        sources = f"Reported by {c.sources} independent source{'s' if c.sources != 1 else ''}"
        if c.disputed:
            sources += f"; disputed: {c.dissent} still report {c.from_stance}"
        body = (
            f"{questions.get(c.issue_id, c.issue_id)}\n"
            f"{actor}: {c.from_stance} -> {c.to_stance}\n"
            f'Evidence: "{c.evidence}"\n'
            f"Source: {c.outlet or 'unknown outlet'} - {c.title or ''}\n{c.url}\n{sources}"
        )
        rows.append(
            (
                f"change:{c.change_id}",
                story_id,
                "stance_change",
                c.change_id,
                title,
                body,
                c.url,
                "pending",
                0,
                at,
            )
        )
    insert_rows(
        con,
        "alerts",
        (
            "alert_id",
            "story_id",
            "kind",
            "change_id",
            "title",
            "body",
            "url",
            "status",
            "attempts",
            "created_at",
        ),
        rows,
    )


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, story_id: str, started_at: datetime) -> None:
    """Record that a cycle began (so a crashed cycle stays visible as 'running')."""
    con.execute(
        "INSERT INTO runs (run_id, story_id, started_at, status) VALUES (?, ?, ?, 'running') "
        "ON CONFLICT (run_id) DO NOTHING",
        [run_id, story_id, started_at],
    )


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, counts: dict[str, int]) -> None:
    """Record what a cycle did."""
    allowed = {
        "feeds_polled", "feeds_failed", "feeds_not_modified", "feeds_not_due", "items_seen", "items_new",
        "articles_added", "actors_tagged", "observations_added", "changes_detected",
        "alerts_sent", "alerts_failed", "articles_upgraded",
    }  # fmt: skip
    unknown = set(counts) - allowed
    if unknown:
        raise ValueError(f"unknown run counters: {sorted(unknown)}")
    assignments = ", ".join(f"{name} = ?" for name in counts)
    con.execute(
        f"UPDATE runs SET status = ?, finished_at = ?{', ' if counts else ''}{assignments} WHERE run_id = ?",
        [status, now(), *counts.values(), run_id],
    )


def add_problems(
    con: duckdb.DuckDBPyConnection, run_id: str, problems: Sequence[tuple[str, str, str | None, str]]
) -> None:
    """Record what went wrong in a cycle: (stage, source, url, message) per problem."""
    at = now()
    insert_rows(
        con,
        "run_problems",
        ("run_id", "stage", "source", "url", "message", "noted_at"),
        [(run_id, stage, source, url, message, at) for stage, source, url, message in problems],
    )


def save_feed_polls(
    con: duckdb.DuckDBPyConnection,
    story_id: str,
    polls: Sequence[FeedPoll],
    down_after: timedelta = timedelta(hours=6),
) -> None:
    """Update each polled feed's state (validators, schedule, health) and queue a "source
    down" alert for a feed failing for longer than ``down_after``, once, and a "recovered"
    alert when it answers again."""
    at = now()
    for p in polls:
        ok = p.error is None
        recovered = ok and con.execute(
            "SELECT down_alerted FROM feeds WHERE story_id = ? AND feed_id = ?", [story_id, p.feed_id]
        ).fetchone() == (True,)
        if recovered:
            _queue_source_alert(con, story_id, p.feed_id, "source_recovered", at)
        con.execute(
            """
            UPDATE feeds SET
                etag = CASE WHEN ? THEN coalesce(?, etag) ELSE etag END,
                last_modified = CASE WHEN ? THEN coalesce(?, last_modified) ELSE last_modified END,
                last_polled_at = ?,
                last_success_at = CASE WHEN ? THEN ? ELSE last_success_at END,
                last_full_fetch_at = CASE WHEN ? AND ? THEN ? ELSE last_full_fetch_at END,
                last_status = ?,
                last_error = ?,
                consecutive_failures = CASE WHEN ? THEN 0 ELSE consecutive_failures + 1 END,
                items_seen = items_seen + ?,
                next_poll_at = ?,
                poll_interval_seconds = coalesce(?, poll_interval_seconds),
                down_since = CASE WHEN ? THEN NULL ELSE coalesce(down_since, ?) END,
                down_alerted = CASE WHEN ? THEN false ELSE down_alerted END
            WHERE story_id = ? AND feed_id = ?
            """,
            [ok, p.etag, ok, p.last_modified, at, ok, at, ok, p.full, at, p.status, p.error, ok,
             p.items, p.next_poll_at, p.interval_seconds, ok, at, ok, story_id, p.feed_id],
        )  # fmt: skip
    down = con.execute(
        "SELECT feed_id FROM feeds WHERE story_id = ? AND down_since <= ? AND NOT down_alerted",
        [story_id, at - down_after],
    ).fetchall()
    for (feed_id,) in down:
        _queue_source_alert(con, story_id, feed_id, "source_down", at)
        con.execute(
            "UPDATE feeds SET down_alerted = true WHERE story_id = ? AND feed_id = ?", [story_id, feed_id]
        )


def queue_alert(con: duckdb.DuckDBPyConnection, story_id: str, alert: Alert, at: datetime) -> None:
    """Put ``alert`` in the story's outbox, once: an alert already there (by its id) stays as it is."""
    con.execute(
        "INSERT INTO alerts (alert_id, story_id, kind, title, body, url, status, attempts, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?) ON CONFLICT (alert_id) DO NOTHING",
        [alert.alert_id, story_id, alert.kind, alert.title, alert.body, alert.url, at],
    )


def _queue_source_alert(
    con: duckdb.DuckDBPyConnection, story_id: str, feed_id: str, kind: str, at: datetime
) -> None:
    name, url, since, failures, error = con.execute(
        "SELECT coalesce(name, feed_id), url, down_since, consecutive_failures, last_error FROM feeds "
        "WHERE story_id = ? AND feed_id = ?",
        [story_id, feed_id],
    ).fetchone()
    if kind == "source_down":
        title = f"Source down: {name}"
        body = (
            f"{name} has failed since {since:%Y-%m-%d %H:%M} UTC ({failures} polls in a row).\n"
            f"Last error: {error}\n{url}"
        )
    else:
        title = f"Source recovered: {name}"
        body = f"{name} answers again, after failing since {since:%Y-%m-%d %H:%M} UTC.\n{url}"
    con.execute(
        "INSERT INTO alerts (alert_id, story_id, kind, title, body, url, status, attempts, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?) ON CONFLICT (alert_id) DO NOTHING",
        [f"{kind}:{key(story_id, feed_id, since)}", story_id, kind, title, body, url, at],
    )


def feed_states(con: duckdb.DuckDBPyConnection, story_id: str) -> dict[str, FeedState]:
    """What is remembered of each of the story's feeds: validators and schedule."""
    rows = con.execute(
        "SELECT feed_id, etag, last_modified, next_poll_at, poll_interval_seconds, last_full_fetch_at, "
        "consecutive_failures FROM feeds WHERE story_id = ?",
        [story_id],
    ).fetchall()
    return {r[0]: FeedState(*r[1:]) for r in rows}


def mark_alert(
    con: duckdb.DuckDBPyConnection,
    delivery: Delivery,
    retry_wait: timedelta = timedelta(minutes=5),
    longest_wait: timedelta = timedelta(hours=6),
) -> None:
    """Record one delivery attempt of an alert, and the channels that now have it. An alert
    still pending waits ``retry_wait`` before its next attempt, twice as long after each
    failure (at most ``longest_wait``)."""
    if delivery.status not in ALERT_STATUSES:
        raise ValueError(f"unknown alert status {delivery.status!r}")
    con.execute(
        "UPDATE alerts SET status = ?, attempts = attempts + 1, last_error = ?, "
        "delivered_to = list_distinct(list_concat(delivered_to, ?)), "
        "sent_at = CASE WHEN ? IN ('sent', 'logged') THEN now() ELSE sent_at END, "
        # The attempts on the right are those before this one: 1, 2, 4 ... times the wait.
        "next_attempt_at = CASE WHEN ? = 'pending' THEN now() + "
        "to_seconds(least(? * pow(2, attempts), ?)) END WHERE alert_id = ?",
        [
            delivery.status,
            delivery.error,
            list(delivery.delivered),
            delivery.status,
            delivery.status,
            retry_wait.total_seconds(),
            longest_wait.total_seconds(),
            delivery.alert_id,
        ],
    )


@dataclass
class RetagResult:
    """What a retag replaced and found."""

    articles: int = 0
    mentions: int = 0
    observations: int = 0
    changes: int = 0  # changes the new tagging finds
    new_changes: list[StanceChange] = field(default_factory=list)  # found now, never recorded before
    withdrawn: int = 0  # recorded before, no longer found


def replace_tagging(
    con: duckdb.DuckDBPyConnection,
    story_id: str,
    taggings: dict[str, Tagging],
    rules: ChangeRules = DEFAULT_RULES,
) -> RetagResult:
    """Replace every mention and observation of the story's articles with ``taggings``
    (article id -> tagging), then recompute its stance changes, in one transaction.

    Alerts are not queued: a change the old rules already announced keeps its key, and one
    found only now is history, reported to the caller rather than sent.
    """
    at = now()
    result = RetagResult(articles=len(taggings))
    with transaction(con):
        # Observations keep the time their article was stored: it orders undated articles.
        times = {
            aid: (published, fetched)
            for aid, published, fetched in con.execute(
                "SELECT article_id, published_at, fetched_at FROM articles WHERE story_id = ?", [story_id]
            ).fetchall()
        }
        before = {
            row[0]
            for row in con.execute(
                "SELECT change_id FROM stance_changes WHERE story_id = ? AND withdrawn_at IS NULL", [story_id]
            ).fetchall()
        }
        known = {
            row[0]
            for row in con.execute(
                "SELECT change_id FROM stance_changes WHERE story_id = ?", [story_id]
            ).fetchall()
        }
        # Only the articles retagged: one stored meanwhile by a cycle keeps its tagging.
        ids = sorted(taggings)
        con.execute(
            "DELETE FROM mentions WHERE story_id = ? AND list_contains(?, article_id)", [story_id, ids]
        )
        con.execute(
            "DELETE FROM stance_observations WHERE story_id = ? AND list_contains(?, article_id)",
            [story_id, ids],
        )
        con.execute("DELETE FROM actor_candidates WHERE story_id = ? AND status = 'candidate'", [story_id])
        urls = dict(
            con.execute("SELECT article_id, url FROM articles WHERE story_id = ?", [story_id]).fetchall()
        )
        _add_candidates(con, story_id, [(aid, urls.get(aid), t) for aid, t in taggings.items()], at)
        mentions, observations = [], []
        for aid, tagging in taggings.items():
            mentions.extend(mention_rows(story_id, aid, tagging))
            published, fetched = times.get(aid, (None, at))
            observations.extend(observation_rows(story_id, aid, published, fetched, tagging))
        result.mentions = insert_rows(con, "mentions", MENTION_COLUMNS, mentions)
        result.observations = insert_rows(con, "stance_observations", OBSERVATION_COLUMNS, observations)
        _record_changes(con, story_id, set(), None, None, at, rules, announce=False)
        after = {
            row[0]
            for row in con.execute(
                "SELECT change_id FROM stance_changes WHERE story_id = ? AND withdrawn_at IS NULL", [story_id]
            ).fetchall()
        }
    result.changes = len(after)
    result.new_changes = _describe(con, sorted(after - known))
    result.withdrawn = len(before - after)
    return result


# A page that failed for a reason that may pass is tried again this long after each failure.
PAGE_RETRY_DELAYS = (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4))


def schedule_page_retries(
    con: duckdb.DuckDBPyConnection, story_id: str, retries: Sequence[tuple[str, str, str]], at: datetime
) -> None:
    """Remember the pages of feed-text articles to try again (new ones only)."""
    for article_url, page_url, error in retries:
        con.execute(
            "INSERT INTO page_retries VALUES (?, ?, ?, 1, ?, ?, 'waiting') ON CONFLICT DO NOTHING",
            [story_id, article_id(story_id, article_url), page_url, error, at + PAGE_RETRY_DELAYS[0]],
        )


def retry_failed(
    con: duckdb.DuckDBPyConnection, story_id: str, aid: str, error: str, at: datetime, final: bool = False
) -> None:
    """The page failed again: wait longer, or give up after the last delay (or at once, ``final``)."""
    row = con.execute(
        "SELECT attempts FROM page_retries WHERE story_id = ? AND article_id = ?", [story_id, aid]
    ).fetchone()
    attempts = (row[0] if row else 0) + 1
    done = final or attempts > len(PAGE_RETRY_DELAYS)
    con.execute(
        "UPDATE page_retries SET attempts = ?, last_error = ?, next_try_at = ?, status = ? "
        "WHERE story_id = ? AND article_id = ?",
        [attempts, error, None if done else at + PAGE_RETRY_DELAYS[attempts - 1],
         "gave_up" if done else "waiting", story_id, aid],
    )  # fmt: skip


def upgrade_article(
    con: duckdb.DuckDBPyConnection,
    story_id: str,
    aid: str,
    article: Article,
    tagging: Tagging,
    rules: ChangeRules = DEFAULT_RULES,
) -> AppendResult:
    """Replace a feed-text article's text with its page's, retag it and recompute the
    changes it touches, in one transaction. Its address and identity stay the same."""
    at = now()
    result = AppendResult()
    with transaction(con):
        row = con.execute(
            "SELECT published_at, fetched_at FROM articles WHERE story_id = ? AND article_id = ?",
            [story_id, aid],
        ).fetchone()
        if row is None:
            return result
        before = {
            (a, i)
            for a, i in con.execute(
                "SELECT actor_id, issue_id FROM stance_observations WHERE story_id = ? AND article_id = ?",
                [story_id, aid],
            ).fetchall()
        }
        con.execute(
            "UPDATE articles SET text = ?, text_source = 'page', content_hash = ?, simhash = ?, "
            "language = coalesce(?, language), author = coalesce(author, ?), relevance = ?, "
            "relevance_reason = ? WHERE story_id = ? AND article_id = ?",
            [article.text, article.content_hash, article.simhash, article.language, article.author,
             article.relevance, article.relevance_reason, story_id, aid],
        )  # fmt: skip
        con.execute("DELETE FROM mentions WHERE story_id = ? AND article_id = ?", [story_id, aid])
        con.execute("DELETE FROM stance_observations WHERE story_id = ? AND article_id = ?", [story_id, aid])
        result.mentions = insert_rows(con, "mentions", MENTION_COLUMNS, mention_rows(story_id, aid, tagging))
        observations = observation_rows(story_id, aid, row[0], row[1], tagging)  # when first stored
        result.observations = insert_rows(con, "stance_observations", OBSERVATION_COLUMNS, observations)
        result.actors.update(m.actor_id for m in tagging.mentions)
        con.execute(
            "UPDATE page_retries SET status = 'upgraded', next_try_at = NULL "
            "WHERE story_id = ? AND article_id = ?",
            [story_id, aid],
        )
        pairs = before | {(o[3], o[4]) for o in observations}
        result.changes = _record_changes(con, story_id, {aid}, pairs, None, at, rules)
    return result
