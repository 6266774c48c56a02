"""Versioned schema migrations, each applied once, in order, inside a transaction.

Add a migration by appending to ``MIGRATIONS``; never edit one that has shipped. The
tables and columns are documented for SQL users in docs/warehouse.md, and a test fails
when that document and the schema disagree.
"""

from __future__ import annotations

import duckdb

from warehouse.transaction import transaction

# Articles whose simhashes differ in at most this many of 64 bits are near-duplicates
# (lightly edited reposts and syndicated copies differ in a few bits, unrelated texts in
# about 30).
NEAR_DUPLICATE_BITS = 4
# Positions below this confidence never set an actor's current stance.
MIN_POSITION_CONFIDENCE = 0.5

_V1_TABLES = """
CREATE TABLE stories (
    story_id     VARCHAR PRIMARY KEY,
    title        VARCHAR NOT NULL,
    description  VARCHAR,
    schedule     VARCHAR,
    fingerprint  VARCHAR,
    loaded_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE actors (
    story_id     VARCHAR NOT NULL,
    actor_id     VARCHAR NOT NULL,
    name         VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,
    affiliation  VARCHAR,
    aliases      VARCHAR[],
    roles        VARCHAR[],
    PRIMARY KEY (story_id, actor_id)
);
CREATE TABLE issues (
    story_id     VARCHAR NOT NULL,
    issue_id     VARCHAR NOT NULL,
    question     VARCHAR NOT NULL,
    labels       VARCHAR[],
    PRIMARY KEY (story_id, issue_id)
);
CREATE TABLE feeds (
    story_id              VARCHAR NOT NULL,
    feed_id               VARCHAR NOT NULL,
    name                  VARCHAR,
    url                   VARCHAR NOT NULL,
    kind                  VARCHAR,
    etag                  VARCHAR,
    last_modified         VARCHAR,
    last_polled_at        TIMESTAMPTZ,
    last_success_at       TIMESTAMPTZ,
    last_status           INTEGER,
    last_error            VARCHAR,
    consecutive_failures  INTEGER NOT NULL DEFAULT 0,
    items_seen            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (story_id, feed_id)
);
CREATE TABLE runs (
    run_id              VARCHAR PRIMARY KEY,
    story_id            VARCHAR NOT NULL,
    started_at          TIMESTAMPTZ NOT NULL,
    finished_at         TIMESTAMPTZ,
    status              VARCHAR NOT NULL,
    feeds_polled        INTEGER,
    feeds_failed        INTEGER,
    feeds_not_modified  INTEGER,
    items_seen          INTEGER,
    items_new           INTEGER,
    articles_added      INTEGER,
    actors_tagged       INTEGER,
    observations_added  INTEGER,
    changes_detected    INTEGER,
    alerts_sent         INTEGER,
    alerts_failed       INTEGER
);
CREATE TABLE run_problems (
    run_id   VARCHAR NOT NULL,
    stage    VARCHAR NOT NULL,
    source   VARCHAR NOT NULL,
    url      VARCHAR,
    message  VARCHAR NOT NULL,
    noted_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE feed_items (
    story_id       VARCHAR NOT NULL,
    url            VARCHAR NOT NULL,
    feed_id        VARCHAR NOT NULL,
    guid           VARCHAR,
    title          VARCHAR,
    published_at   TIMESTAMPTZ,
    first_seen_at  TIMESTAMPTZ NOT NULL,
    outcome        VARCHAR NOT NULL,
    note           VARCHAR,
    run_id         VARCHAR
);
CREATE TABLE articles (
    article_id        VARCHAR NOT NULL,
    story_id          VARCHAR NOT NULL,
    url               VARCHAR NOT NULL,
    source_url        VARCHAR,
    feed_id           VARCHAR,
    outlet            VARCHAR,
    title             VARCHAR,
    author            VARCHAR,
    published_at      TIMESTAMPTZ,
    fetched_at        TIMESTAMPTZ NOT NULL,
    language          VARCHAR,
    text              VARCHAR NOT NULL,
    text_source       VARCHAR NOT NULL,
    content_hash      VARCHAR NOT NULL,
    relevance         DOUBLE,
    relevance_reason  VARCHAR,
    is_seed           BOOLEAN NOT NULL,
    run_id            VARCHAR
);
CREATE TABLE mentions (
    story_id        VARCHAR NOT NULL,
    article_id      VARCHAR NOT NULL,
    actor_id        VARCHAR NOT NULL,
    sentence_index  INTEGER NOT NULL,
    start_char      INTEGER NOT NULL,
    end_char        INTEGER NOT NULL,
    surface         VARCHAR NOT NULL
);
CREATE TABLE stance_observations (
    observation_id  VARCHAR NOT NULL,
    story_id        VARCHAR NOT NULL,
    article_id      VARCHAR NOT NULL,
    actor_id        VARCHAR NOT NULL,
    issue_id        VARCHAR NOT NULL,
    stance          VARCHAR NOT NULL,
    confidence      DOUBLE NOT NULL,
    evidence        VARCHAR NOT NULL,
    sentence_index  INTEGER NOT NULL,
    start_char      INTEGER NOT NULL,
    end_char        INTEGER NOT NULL,
    cue             VARCHAR,
    rules_version   VARCHAR NOT NULL,
    published_at    TIMESTAMPTZ,
    observed_at     TIMESTAMPTZ NOT NULL
);
CREATE TABLE stance_changes (
    change_id            VARCHAR PRIMARY KEY,
    story_id             VARCHAR NOT NULL,
    actor_id             VARCHAR NOT NULL,
    issue_id             VARCHAR NOT NULL,
    from_stance          VARCHAR NOT NULL,
    to_stance            VARCHAR NOT NULL,
    from_observation_id  VARCHAR NOT NULL,
    to_observation_id    VARCHAR NOT NULL,
    detected_at          TIMESTAMPTZ NOT NULL,
    run_id               VARCHAR
);
CREATE TABLE alerts (
    alert_id     VARCHAR PRIMARY KEY,
    story_id     VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,
    change_id    VARCHAR,
    title        VARCHAR NOT NULL,
    body         VARCHAR NOT NULL,
    url          VARCHAR,
    status       VARCHAR NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    delivered_to VARCHAR[] NOT NULL DEFAULT [],
    last_error   VARCHAR,
    created_at   TIMESTAMPTZ NOT NULL,
    sent_at      TIMESTAMPTZ
);
"""

_V1_VIEWS = f"""
CREATE VIEW article_positions AS
WITH per_label AS (
    SELECT story_id, article_id, actor_id, issue_id, stance,
           sum(confidence) AS weight,
           max(confidence) AS confidence,
           count(*) AS sentences,
           first(observation_id ORDER BY confidence DESC, sentence_index) AS observation_id,
           first(evidence ORDER BY confidence DESC, sentence_index) AS evidence,
           min(published_at) AS published_at,
           min(observed_at) AS observed_at,
           -- Where the position stands in time: its publication, never later than when
           -- it was stored (a date in the future must not freeze the timeline), and the
           -- storing time for undated articles.
           least(coalesce(min(published_at), min(observed_at)), min(observed_at)) AS as_of
    FROM stance_observations
    GROUP BY ALL
)
SELECT * FROM per_label
QUALIFY row_number() OVER (
    PARTITION BY story_id, article_id, actor_id, issue_id
    ORDER BY weight DESC, confidence DESC, stance
) = 1;

CREATE VIEW current_stances AS
SELECT p.story_id, p.actor_id, a.name AS actor, p.issue_id, p.stance, p.confidence,
       p.evidence, p.observation_id, p.article_id, art.url, art.outlet, art.title, p.as_of
FROM article_positions p
JOIN articles art USING (story_id, article_id)
LEFT JOIN actors a USING (story_id, actor_id)
WHERE p.confidence >= {MIN_POSITION_CONFIDENCE}
-- The same order as the timeline that stance changes are read from (warehouse/store.py).
QUALIFY row_number() OVER (
    PARTITION BY p.story_id, p.actor_id, p.issue_id
    ORDER BY p.as_of DESC, p.observed_at DESC, p.observation_id DESC
) = 1;

CREATE VIEW recent_changes AS
SELECT c.story_id, c.detected_at, c.actor_id, a.name AS actor, c.issue_id,
       c.from_stance, c.to_stance, o.evidence, art.url, art.outlet, art.title,
       o.published_at, c.change_id
FROM stance_changes c
JOIN stance_observations o ON o.observation_id = c.to_observation_id
JOIN articles art ON art.article_id = o.article_id
LEFT JOIN actors a ON a.story_id = c.story_id AND a.actor_id = c.actor_id
ORDER BY c.detected_at DESC;
"""

_V2_FETCHING = """
CREATE TABLE fetch_attempts (
    run_id    VARCHAR,
    url       VARCHAR NOT NULL,
    kind      VARCHAR NOT NULL,
    attempt   INTEGER NOT NULL,
    status    INTEGER,
    bytes     BIGINT NOT NULL,
    seconds   DOUBLE NOT NULL,
    error     VARCHAR,
    tried_at  TIMESTAMPTZ NOT NULL
);
CREATE TABLE robots_files (
    host        VARCHAR PRIMARY KEY,
    fetched_at  TIMESTAMPTZ NOT NULL,
    status      INTEGER,
    body        VARCHAR NOT NULL
);
ALTER TABLE feeds ADD COLUMN poll_interval_seconds DOUBLE;
ALTER TABLE feeds ADD COLUMN next_poll_at TIMESTAMPTZ;
ALTER TABLE feeds ADD COLUMN last_full_fetch_at TIMESTAMPTZ;
ALTER TABLE feeds ADD COLUMN down_since TIMESTAMPTZ;
ALTER TABLE feeds ADD COLUMN down_alerted BOOLEAN DEFAULT false;
ALTER TABLE runs ADD COLUMN feeds_not_due INTEGER;
ALTER TABLE articles ADD COLUMN simhash UBIGINT;
ALTER TABLE articles ADD COLUMN cluster_id VARCHAR;
UPDATE articles SET cluster_id = article_id;
"""

# Positions come from the actors' own words only; changes say how many sources back them.
_V3_VIEWS = (
    _V1_VIEWS.replace(
        "ORDER BY p.as_of DESC, p.observed_at DESC, p.observation_id DESC",
        "ORDER BY p.as_of DESC, p.observed_at DESC, p.article_id DESC, p.observation_id DESC",
    )
    .replace(
        "    FROM stance_observations\n    GROUP BY ALL",
        "    FROM stance_observations\n    WHERE attribution = 'own'\n    GROUP BY ALL",
    )
    .replace(
        "       o.published_at, c.change_id\n",
        "       o.published_at, c.change_id, c.sources, c.dissent, c.disputed\n",
    )
    .replace(
        "LEFT JOIN actors a ON a.story_id = c.story_id AND a.actor_id = c.actor_id\n",
        "LEFT JOIN actors a ON a.story_id = c.story_id AND a.actor_id = c.actor_id\n"
        "WHERE c.withdrawn_at IS NULL\n",
    )
)
_V3_STANCES = (
    """
ALTER TABLE stance_observations ADD COLUMN attribution VARCHAR DEFAULT 'own';
ALTER TABLE stance_observations ADD COLUMN claimed_by VARCHAR;
ALTER TABLE stance_observations ADD COLUMN part VARCHAR DEFAULT 'body';
ALTER TABLE stance_observations ADD COLUMN qualifiers VARCHAR[] DEFAULT [];
ALTER TABLE mentions ADD COLUMN how VARCHAR DEFAULT 'name';
ALTER TABLE mentions ADD COLUMN part VARCHAR DEFAULT 'body';
ALTER TABLE actors ADD COLUMN metonyms VARCHAR[];
ALTER TABLE stance_changes ADD COLUMN confirmed_observation_id VARCHAR;
ALTER TABLE stance_changes ADD COLUMN sources INTEGER DEFAULT 1;
ALTER TABLE stance_changes ADD COLUMN dissent INTEGER DEFAULT 0;
ALTER TABLE stance_changes ADD COLUMN disputed BOOLEAN DEFAULT false;
ALTER TABLE stance_changes ADD COLUMN withdrawn_at TIMESTAMPTZ;
ALTER TABLE stance_changes ADD COLUMN started_at TIMESTAMPTZ;
ALTER TABLE runs ADD COLUMN articles_upgraded INTEGER;
UPDATE stance_changes SET confirmed_observation_id = to_observation_id;
CREATE TABLE page_retries (
    story_id     VARCHAR NOT NULL,
    article_id   VARCHAR NOT NULL,
    url          VARCHAR NOT NULL,
    attempts     INTEGER NOT NULL,
    last_error   VARCHAR,
    next_try_at  TIMESTAMPTZ,
    status       VARCHAR NOT NULL,
    PRIMARY KEY (story_id, article_id)
);
CREATE TABLE actor_candidates (
    story_id        VARCHAR NOT NULL,
    name            VARCHAR NOT NULL,
    status          VARCHAR NOT NULL DEFAULT 'candidate',
    mentions        INTEGER NOT NULL,
    articles        INTEGER NOT NULL,
    first_seen_at   TIMESTAMPTZ NOT NULL,
    last_seen_at    TIMESTAMPTZ NOT NULL,
    example         VARCHAR NOT NULL,
    example_url     VARCHAR,
    PRIMARY KEY (story_id, name)
);
DROP VIEW recent_changes;
DROP VIEW current_stances;
DROP VIEW article_positions;
"""
    + _V3_VIEWS
    + """
CREATE VIEW claims AS
SELECT o.story_id, o.actor_id, a.name AS actor, o.issue_id, o.stance, o.claimed_by, o.confidence,
       o.evidence, art.url, art.outlet, art.title, o.published_at, o.observation_id
FROM stance_observations o
JOIN articles art USING (story_id, article_id)
LEFT JOIN actors a USING (story_id, actor_id)
WHERE o.attribution = 'claim';
"""
)

_V4_OFFICIALS = """
ALTER TABLE actors ADD COLUMN officials VARCHAR[];
"""

# The stance the change history stands at (the last change's, or the first position's), its
# latest evidence, and a newer report that says otherwise but has not made a change (yet):
# not corroborated by enough sources, or disputed.
_V5_CURRENT = f"""
DROP VIEW current_stances;
CREATE VIEW current_stances AS
WITH timeline AS (
    SELECT p.*, row_number() OVER (
        PARTITION BY p.story_id, p.actor_id, p.issue_id
        ORDER BY p.as_of, p.observed_at, p.article_id, p.observation_id
    ) AS n, count(*) OVER (PARTITION BY p.story_id, p.actor_id, p.issue_id) AS positions
    FROM article_positions p
    WHERE p.confidence >= {MIN_POSITION_CONFIDENCE}
),
last_change AS (
    SELECT c.story_id, c.actor_id, c.issue_id, c.to_stance
    FROM stance_changes c
    LEFT JOIN timeline t ON t.story_id = c.story_id AND t.observation_id = c.to_observation_id
    WHERE c.withdrawn_at IS NULL
    QUALIFY row_number() OVER (
        PARTITION BY c.story_id, c.actor_id, c.issue_id
        ORDER BY t.n DESC NULLS LAST, c.started_at DESC, c.detected_at DESC
    ) = 1
),
-- A state reported for the first time starts from where its people last stood (store._baseline).
baseline AS (
    SELECT f.story_id, f.actor_id, f.issue_id, p.stance, p.observation_id, p.confidence, p.evidence,
           p.article_id, p.as_of
    FROM timeline f
    JOIN actors people ON people.story_id = f.story_id AND people.affiliation = f.actor_id
                      AND people.kind = 'person'
    JOIN timeline p ON p.story_id = f.story_id AND p.actor_id = people.actor_id
                   AND p.issue_id = f.issue_id AND p.as_of < f.as_of
    WHERE f.n = 1
    QUALIFY row_number() OVER (
        PARTITION BY f.story_id, f.actor_id, f.issue_id
        ORDER BY p.as_of DESC, p.article_id DESC, p.observation_id DESC
    ) = 1
),
held AS (
    SELECT t.story_id, t.actor_id, t.issue_id, coalesce(c.to_stance, b.stance, t.stance) AS stance
    FROM timeline t
    LEFT JOIN last_change c USING (story_id, actor_id, issue_id)
    LEFT JOIN baseline b USING (story_id, actor_id, issue_id)
    WHERE t.n = 1
),
evidence AS (
    SELECT story_id, actor_id, issue_id, stance, confidence, evidence, observation_id, article_id, as_of
    FROM (
        SELECT t.story_id, t.actor_id, t.issue_id, t.stance, t.confidence, t.evidence, t.observation_id,
               t.article_id, t.as_of, 1 AS own, t.n
        FROM timeline t JOIN held h USING (story_id, actor_id, issue_id, stance)
        UNION ALL
        SELECT b.story_id, b.actor_id, b.issue_id, b.stance, b.confidence, b.evidence, b.observation_id,
               b.article_id, b.as_of, 0 AS own, 0 AS n
        FROM baseline b JOIN held h USING (story_id, actor_id, issue_id, stance)
    )
    QUALIFY row_number() OVER (PARTITION BY story_id, actor_id, issue_id ORDER BY own DESC, n DESC) = 1
),
newest AS (
    SELECT * FROM timeline WHERE n = positions
)
SELECT e.story_id, e.actor_id, a.name AS actor, e.issue_id, e.stance, e.confidence,
       e.evidence, e.observation_id, e.article_id, art.url, art.outlet, art.title, e.as_of,
       CASE WHEN w.stance <> e.stance THEN w.stance END AS pending_stance,
       CASE WHEN w.stance <> e.stance THEN w.evidence END AS pending_evidence,
       CASE WHEN w.stance <> e.stance THEN w.observation_id END AS pending_observation_id
FROM evidence e
JOIN newest w USING (story_id, actor_id, issue_id)
JOIN articles art ON art.story_id = e.story_id AND art.article_id = e.article_id
LEFT JOIN actors a ON a.story_id = e.story_id AND a.actor_id = e.actor_id;
"""

_V6_ALERT_BACKOFF = """
ALTER TABLE alerts ADD COLUMN next_attempt_at TIMESTAMPTZ;
"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "tables, positions, current stances and changes", _V1_TABLES + _V1_VIEWS),
    (2, "fetch attempts, robots.txt cache, feed schedules and health, near-duplicate clusters", _V2_FETCHING),
    (
        3,
        "claims apart from own statements, qualifiers, corroborated and disputed changes, actor candidates",
        _V3_STANCES,
    ),
    (4, "officials who speak for an actor", _V4_OFFICIALS),
    (5, "current stances follow the change history; newer reports that differ are pending", _V5_CURRENT),
    (6, "a failed alert waits before its next attempt, longer each time", _V6_ALERT_BACKOFF),
]


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the migrations this warehouse has not seen yet; return their versions."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in MIGRATIONS:
        if version in done:
            continue
        with transaction(con):
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
        applied.append(version)
    return applied


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest migration applied to this warehouse (0 for an empty file)."""
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0
