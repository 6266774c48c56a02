"""The ingest cycle as a Prefect flow: poll, select, fetch, extract and tag, store, alert.

Tasks work on whole batches (a cycle has a handful of task runs, not one per article),
take only plain values (never a connection or a client), and open the warehouse only
for short reads and one write per batch.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from prefect import Flow, flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import FlowRun, State
from prefect.settings import PREFECT_UI_URL

from extractors.coverage import Coverage, process_item
from extractors.feeds import parse_feed
from extractors.records import (
    Alert,
    Delivery,
    Feed,
    FeedItem,
    FeedPoll,
    FeedState,
    FetchAttempt,
    ParsedFeed,
    StanceChange,
    Story,
)
from extractors.relevance import judge
from extractors.robots import RobotsFile
from extractors.schedule import PollResult, full_fetch_due, is_due, next_interval, schedule_interval
from extractors.story import load_story
from flows.alerts import deliver, deliver_digest
from flows.http import Fetch, Fetched, Request, fetch_all
from flows.settings import HttpSettings, Settings, load_settings
from flows.stories import prepare_story, story_for_cycle
from flows.workers import run_limited
from warehouse import queries, store

Problem = tuple[str, str, str | None, str]  # stage, source, url, message
FALLBACK_TIME_LIMIT = 10.0  # seconds at least, to tag an item's feed text after its page failed


@dataclass
class CycleSummary:
    """What one cycle did, for the console, the runs table and the flow's result."""

    story_id: str
    run_id: str
    feeds_polled: int = 0
    feeds_failed: int = 0
    feeds_not_modified: int = 0
    feeds_not_due: int = 0
    items_seen: int = 0
    items_new: int = 0
    articles_added: int = 0
    articles_upgraded: int = 0  # feed-text articles whose page came on a later try
    actors_tagged: int = 0
    observations_added: int = 0
    changes_detected: int = 0
    alerts_sent: int = 0
    alerts_failed: int = 0
    problems: list[Problem] = field(default_factory=list)
    changes: list[StanceChange] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if isinstance(v, int)}


@task(cache_policy=NO_CACHE)
def poll_feeds(requests: list[Request], http: HttpSettings) -> Fetched:
    """Fetch the feeds that are due, conditionally, politely, a few at a time."""
    fetched = fetch_all(http, requests)
    failed = sum(1 for f in fetched.results if f.error)
    unchanged = sum(1 for f in fetched.results if f.not_modified)
    get_run_logger().info(
        "Polled %d feeds: %d unreachable, %d not modified", len(requests), failed, unchanged
    )
    return fetched


@task(cache_policy=NO_CACHE)
def parse_feeds(feeds: list[Feed], fetches: list[Fetch], settings: Settings) -> list[ParsedFeed]:
    """Parse the bytes of every feed that answered with a body, in worker processes with a
    hard time limit: a hostile feed cannot hang the cycle."""
    jobs = [
        (f.body, feed.id, f.final_url or feed.url, f.content_type)
        for feed, f in zip(feeds, fetches, strict=True)
        if f.body is not None and f.error is None
    ]
    outcomes = run_limited(
        parse_feed, jobs, processes=settings.extract_workers, time_limit=settings.extract_timeout
    )
    parsed = [
        outcome.value or ParsedFeed(job[1], (), error=f"not a feed: parsing {outcome.error.splitlines()[0]}")
        for job, outcome in zip(jobs, outcomes, strict=True)
    ]
    broken = sum(1 for p in parsed if p.error)
    items = sum(len(p.items) for p in parsed)
    get_run_logger().info("Parsed %d feeds: %d items, %d not usable as feeds", len(parsed), items, broken)
    return parsed


@task(cache_policy=NO_CACHE)
def select_new(settings: Settings, story_id: str, items: list[FeedItem]) -> list[FeedItem]:
    """Drop the items this story has already seen (by canonical URL)."""
    with settings.open_warehouse() as con:
        fresh = store.unseen(con, story_id, (i.url for i in items))
    chosen, taken = [], set()
    for item in items:
        if item.url in fresh and item.url not in taken:
            taken.add(item.url)
            chosen.append(item)
    return chosen


@task(cache_policy=NO_CACHE)
def fetch_pages(urls: list[str], http: HttpSettings, robots: list[RobotsFile]) -> Fetched:
    """Fetch the article pages of new, relevant items, as their robots.txt allows."""
    fetched = fetch_all(http, [Request(u) for u in urls], robots)
    failed = sum(1 for p in fetched.results if p.error)
    get_run_logger().info("Fetched %d pages: %d failed", len(urls), failed)
    return fetched


@task(cache_policy=NO_CACHE)
def extract_and_tag(
    items: list[FeedItem], pages: list[Fetch], outlets: dict, story: Story, settings: Settings
) -> list[Coverage]:
    """Extract each page's text (feed text as fallback), judge relevance, tag actors and stances.

    Runs in worker processes with a hard time limit per page: a page that hangs or crashes
    the extractor is stopped, and its item falls back to the feed's text.
    """
    jobs = [
        (item, page.body if page.error is None else None, outlets.get(item.feed_id), story,
         page.content_type, page.error, page.final_url)
        for item, page in zip(items, pages, strict=True)
    ]  # fmt: skip
    outcomes = run_limited(
        process_item, jobs, processes=settings.extract_workers, time_limit=settings.extract_timeout
    )
    # A page that failed in its worker falls back to the feed's text, tagged in workers too:
    # the feed's text is as untrusted as the page was. Its limit has a floor, because what is
    # slow here is the page, and the feed text is short and needs no HTML parse.
    failed = [n for n, outcome in enumerate(outcomes) if outcome.value is None]
    fallbacks = [
        (items[n], None, outlets.get(items[n].feed_id), story, None,
         f"extraction {outcomes[n].error.splitlines()[0]}", None)
        for n in failed
    ]  # fmt: skip
    redone = run_limited(
        process_item, fallbacks, processes=settings.extract_workers,
        time_limit=max(settings.extract_timeout, FALLBACK_TIME_LIMIT),
    )  # fmt: skip
    results = [outcome.value for outcome in outcomes]
    for n, job, outcome in zip(failed, fallbacks, redone, strict=True):
        results[n] = outcome.value or Coverage(
            items[n], None, None, f"{job[5]}; feed text {outcome.error.splitlines()[0]}"
        )
    kept = sum(1 for c in results if c.article)
    get_run_logger().info("Extracted and tagged %d items: %d kept as coverage", len(results), kept)
    return results


@task(cache_policy=NO_CACHE)
def store_coverage(
    settings: Settings, story_id: str, run_id: str, seen: list[tuple[FeedItem, str, str | None]],
    coverage: list[Coverage], polls: list[FeedPoll], problems: list[Problem],
    attempts: list[FetchAttempt], robots: list[RobotsFile], retries: list[tuple[str, str, str]],
) -> store.AppendResult:  # fmt: skip
    """Append the cycle's articles, feed states, problems and fetch records in one short write."""
    batch = [(c.article, c.tagging) for c in coverage if c.article and c.tagging]
    down_after = timedelta(hours=settings.source_down_after)
    with settings.open_warehouse() as con:
        result = store.record_cycle(
            con, story_id, run_id, batch, seen, polls, problems, attempts, robots, down_after,
            settings.change_rules, retries,
        )  # fmt: skip
    get_run_logger().info(
        "Stored %d articles, %d observations; %d stance changes",
        result.articles,
        result.observations,
        len(result.changes),
    )
    return result


@task(cache_policy=NO_CACHE)
def upgrade_pages(
    settings: Settings, story_id: str, retries: list[tuple], pages: list[Fetch], coverage: list[Coverage]
) -> int:
    """Give feed-text articles the text of their page when it came this time; else wait longer."""
    upgraded = 0
    at = store.now()
    with settings.open_warehouse() as con:
        for (aid, *_), page, c in zip(retries, pages, coverage, strict=True):
            if c.article is not None and c.article.text_source == "page":
                store.upgrade_article(con, story_id, aid, c.article, c.tagging, settings.change_rules)
                upgraded += 1
            elif page.error and page.transient:
                store.retry_failed(con, story_id, aid, page.error, at)
            else:  # the page answered for good, but not with an article's text: keep the feed's
                store.retry_failed(
                    con, story_id, aid, page.error or c.note or "no article text", at, final=True
                )
    get_run_logger().info(
        "Tried %d pages again: %d articles now have their page's text", len(retries), upgraded
    )
    return upgraded


@task(cache_policy=NO_CACHE)
def send_alerts(settings: Settings, story_id: str) -> list[Delivery]:
    """Deliver pending alerts from the outbox and record each outcome."""
    return deliver_pending(settings, story_id, get_run_logger())


def deliver_pending(
    settings: Settings,
    story_id: str,
    log: logging.Logger | logging.LoggerAdapter,
    by_hand: bool = False,
) -> list[Delivery]:
    """Deliver the story's pending alerts from the outbox (``by_hand``: every undelivered one,
    waiting or given up on, now), recording each outcome at once."""
    with settings.open_warehouse() as con:
        if by_hand:
            pending = queries.undelivered_alerts(con, story_id)
        else:
            pending = queries.pending_alerts(con, story_id, settings.max_alert_attempts)
    deliveries = []
    wait = timedelta(seconds=settings.alert_retry_wait)

    def record(delivery: Delivery) -> None:
        # Recorded at once, alert by alert: what was delivered is never sent again.
        with settings.open_warehouse() as con:
            store.mark_alert(con, delivery, retry_wait=wait)
        deliveries.append(delivery)

    for alert in [a for a in pending if a.kind not in settings.alert_kinds]:
        log.info("ALERT (%s alerts are off: logged only) %s", alert.kind, alert.title)
        record(Delivery(alert.alert_id, "logged"))
    sending = [a for a in pending if a.kind in settings.alert_kinds]
    if settings.alert_digest and len(sending) > 1:
        for delivery in deliver_digest(sending, settings.alert_urls, settings.max_alert_attempts, log):
            record(delivery)
    else:
        for alert in sending:
            record(deliver(alert, settings.alert_urls, settings.max_alert_attempts, log))
    return deliveries


def alert_failed_run(flow: Flow, flow_run: FlowRun, state: State) -> None:
    """A Prefect state hook: alert that a run of the ingest flow failed or crashed, with
    Prefect's message and a link to the run (once per run: the run's id is the alert's key)."""
    log = logging.getLogger("storywatch.alerts")
    parameters = flow_run.parameters or {}
    settings = load_settings()
    if parameters.get("warehouse"):
        settings = replace(settings, warehouse=Path(parameters["warehouse"]))
    name = parameters.get("story") or settings.story
    try:
        story_id = load_story(settings.story_dir(name)).id
    except Exception:  # the story itself may be what failed
        story_id = Path(str(name)).name
    ui = PREFECT_UI_URL.value()
    link = f"{ui}/runs/flow-run/{flow_run.id}" if ui else None
    title = f"storywatch run {state.name.lower()}: {story_id}"
    body = f"Flow run {flow_run.name} of {flow.name} ended {state.name}: {state.message or 'no message'}"
    alert = Alert(f"flow_failed:{flow_run.id}", "flow_failed", title, body, link)
    try:
        with settings.open_warehouse() as con:
            store.queue_alert(con, story_id, alert, store.now())
    except Exception as exc:  # the warehouse may be what failed
        # Without the outbox: send it once, directly (if such alerts are on).
        log.warning("could not record the failed run's alert (%s); sending it directly", exc)
        urls = settings.alert_urls if alert.kind in settings.alert_kinds else ()
        deliver(alert, urls, 1, log)
        return
    deliver_pending(settings, story_id, log)


@flow(
    name="storywatch-ingest",
    log_prints=False,
    on_failure=[alert_failed_run],
    on_crashed=[alert_failed_run],
)
def ingest(story: str | None = None, warehouse: str | None = None, poll_all: bool = False) -> CycleSummary:
    """One cycle of a story: poll its feeds, store new coverage, detect changes, alert.

    Only feeds that are due are polled, unless ``poll_all``.
    """
    settings = load_settings()
    if warehouse:
        settings = replace(settings, warehouse=Path(warehouse))
    loaded, _ = prepare_story(settings, story)
    loaded = story_for_cycle(settings, loaded)
    summary = CycleSummary(story_id=loaded.id, run_id=uuid.uuid4().hex[:12])
    with settings.open_warehouse() as con:
        store.start_run(con, summary.run_id, loaded.id, store.now())
        states = store.feed_states(con, loaded.id)
        robots = store.robots_files(con)
        retries = queries.due_page_retries(con, loaded.id, store.now())
    try:
        _cycle(loaded, settings, states, robots, summary, poll_all, retries)
    except Exception:
        # Record the failure if the warehouse lets us, but report the original error.
        with contextlib.suppress(Exception), settings.open_warehouse() as con:
            store.finish_run(con, summary.run_id, "failed", summary.counts())
        raise
    with settings.open_warehouse() as con:
        store.finish_run(con, summary.run_id, "completed", summary.counts())
    return summary


def _cycle(
    story: Story,
    settings: Settings,
    states: dict[str, FeedState],
    robots: list[RobotsFile],
    summary: CycleSummary,
    poll_all: bool,
    retries: list[tuple] = (),
) -> None:
    now = store.now()
    base = schedule_interval(story.schedule)
    due = [
        f for f in story.feeds
        if poll_all or is_due((states.get(f.id) or FeedState()).next_poll_at, now, base)
    ]  # fmt: skip
    summary.feeds_not_due = len(story.feeds) - len(due)
    requests = []
    for feed in due:
        state = states.get(feed.id) or FeedState()
        full = full_fetch_due(state.last_full_fetch_at, now)  # now and then, ignore validators
        validators = (None, None) if full else (state.etag, state.last_modified)
        requests.append(Request(feed.url, "feed", *validators))
    polled = poll_feeds(requests, settings.http)
    fetches = polled.results
    parsed = {p.feed_id: p for p in parse_feeds(due, fetches, settings)}
    polls, items = [], []
    for feed, request, f in zip(due, requests, fetches, strict=True):
        result = parsed.get(feed.id)
        error = f.error or (result.error if result else None)
        if error:
            stage = "poll" if f.error else "parse"
            summary.problems.append((stage, feed.id, feed.url, error))
        elif result and result.warning:
            summary.problems.append(("parse", feed.id, feed.url, f"warning: {result.warning}"))
        good = result.items if result and not result.error else ()
        items.extend(good)
        state = states.get(feed.id) or FeedState()
        failures = 0 if not error else state.consecutive_failures + 1
        outcome = PollResult(
            ok=error is None, published=tuple(i.published for i in good if i.published),
            ttl_minutes=result.ttl_minutes if result else None, cache_seconds=f.cache_seconds,
            retry_after=f.retry_after, failures=failures,
        )  # fmt: skip
        previous = timedelta(seconds=state.poll_interval_seconds) if state.poll_interval_seconds else None
        interval = next_interval(outcome, base, previous)
        polls.append(FeedPoll(
            feed.id, f.status, error, f.etag, f.last_modified, len(good), full=request.etag is None and
            request.last_modified is None and f.status == 200, next_poll_at=now + interval,
            interval_seconds=interval.total_seconds() if error is None else None,
        ))  # fmt: skip
    summary.feeds_polled = len(due)
    summary.feeds_failed = sum(1 for p in polls if p.error)
    summary.feeds_not_modified = sum(1 for f in fetches if f.not_modified)
    summary.items_seen = len(items)

    new = select_new(settings, story.id, items)
    summary.items_new = len(new)
    # Fetch only what the feed already shows to be about the story, or close to it.
    wanted = [i for i in new if judge(f"{i.title}\n{i.summary}", story.relevance, lenient=True).relevant]
    skipped = [(i, "irrelevant", "feed text does not match the story") for i in new if i not in wanted]
    # Pages that failed for a reason that may pass are tried again alongside the new ones.
    again = [
        FeedItem(feed_id or "", url, url, title or "", "", published)
        for _, url, title, published, feed_id, _ in retries
    ]
    fetched = fetch_pages([i.url for i in wanted + again], settings.http, robots)
    pages, retried = fetched.results[: len(wanted)], fetched.results[len(wanted) :]
    for item, page in zip(wanted, pages, strict=True):
        if page.error:
            summary.problems.append(("fetch", item.feed_id, item.url, page.error))
    outlets = {f.id: f.name for f in story.feeds} | {r[4]: r[5] for r in retries if r[4]}
    everything = extract_and_tag(wanted + again, pages + retried, outlets, story, settings)
    coverage, upgrades = everything[: len(wanted)], everything[len(wanted) :]
    if retries:
        summary.articles_upgraded = upgrade_pages(settings, story.id, retries, retried, upgrades)
    seen = skipped + [(c.item, "stored" if c.article else "dropped", c.note) for c in coverage]
    for c, page in zip(coverage, pages, strict=True):
        # A failed fetch is reported as such already; these say why a fetched page was not used.
        if page.error is None and c.note and not c.note.startswith("not relevant"):
            summary.problems.append(("extract", c.item.feed_id, c.item.url, c.note))
    later = [
        (c.article.url, c.item.url, page.error)
        for c, page in zip(coverage, pages, strict=True)
        if c.article and c.article.text_source == "feed" and page.error and page.transient
    ]
    result = store_coverage(
        settings, story.id, summary.run_id, seen, coverage, polls, summary.problems,
        polled.attempts + fetched.attempts, fetched.robots, later,
    )  # fmt: skip
    summary.articles_added = result.articles
    summary.actors_tagged = len(result.actors)
    summary.observations_added = result.observations
    summary.changes_detected = len(result.changes)
    summary.changes = result.changes
    deliveries = send_alerts(settings, story.id)
    summary.alerts_sent = sum(1 for d in deliveries if d.status in ("sent", "logged"))
    summary.alerts_failed = sum(1 for d in deliveries if d.status in ("pending", "failed"))
