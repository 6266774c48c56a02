"""HTTP for feeds, pages and robots.txt: safe, polite, bounded, and on the record.

- Safe: http and https only; every connection (every redirect hop) refuses non-public
  addresses unless allowed (flows/netguard.py); a size cap that counts decompressed bytes;
  one deadline for a whole request, so a server that drips bytes is cut off.
- Polite: one request at a time per host, a minimum delay between them (longer if the
  host's robots.txt asks), robots.txt honoured for pages, Retry-After honoured.
- Bounded retries, with backoff, only for failures that may pass (timeouts, 429, 5xx).
- Every attempt is recorded, so that a user can see with SQL why an article is missing.

Each fetch returns a record and never raises: one broken source cannot stop a cycle.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
import zlib
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from extractors.records import FetchAttempt
from extractors.robots import MAX_ROBOTS_BYTES, RobotsFile, agent_token
from flows.netguard import BlockedAddress, GuardedBackend, guarded_transport, parse_networks
from flows.settings import HttpSettings

T = TypeVar("T")
TRANSIENT_STATUSES = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Fetch:
    """The outcome of a GET (after any retries)."""

    url: str
    status: int | None = None  # None when no response arrived
    body: bytes | None = None
    etag: str | None = None
    last_modified: str | None = None
    final_url: str | None = None
    content_type: str | None = None
    retry_after: float | None = None  # seconds the server asked us to wait
    cache_seconds: float | None = None  # how long the server says the answer stays fresh
    error: str | None = None
    transient: bool = False  # the failure may pass: try again later
    location: str | None = None  # where a redirect points
    deferred: bool = False  # not asked at all: the site asked everyone to wait (Retry-After)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass
class Fetcher:
    """One cycle's HTTP client, with its per-host state and its record of attempts."""

    settings: HttpSettings
    robots: dict[str, RobotsFile] = field(default_factory=dict)
    attempts: list[FetchAttempt] = field(default_factory=list)

    def __post_init__(self) -> None:
        limits = httpx.Limits(max_connections=self.settings.concurrency)
        self._backend = GuardedBackend(parse_networks(self.settings.allow_private))
        self._client = httpx.AsyncClient(
            transport=guarded_transport(limits, self._backend),
            timeout=httpx.Timeout(self.settings.timeout),
            follow_redirects=False,  # followed hop by hop in get()
            max_redirects=self.settings.max_redirects,
            headers={"User-Agent": self.settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            trust_env=False,
        )
        self._hosts: dict[str, asyncio.Lock] = {}
        self._last_start: dict[str, float] = {}
        self._not_before: dict[str, float] = {}
        self._robots_errors: dict[str, str] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._agent = agent_token(self.settings.user_agent)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()
        self._backend.close()

    async def get(
        self, url: str, kind: str = "page", *, etag: str | None = None, last_modified: str | None = None
    ) -> Fetch:
        """GET ``url`` politely, retrying what may pass; pages also ask robots.txt first.

        Redirects are followed here, hop by hop, so that every hop waits its turn at its
        own host and, for pages, asks that host's robots.txt.
        """
        try:
            return await self._follow(url, kind, etag, last_modified)
        except Exception as exc:  # a slip here must cost one request, not the whole batch
            error = f"could not fetch {url!r}: {type(exc).__name__}: {exc}"
            self._record(url, kind, 0, None, 0, 0.0, error)
            return Fetch(url, error=error)

    async def _follow(self, url: str, kind: str, etag: str | None, last_modified: str | None) -> Fetch:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _ in range(self.settings.max_redirects + 1):
            result = await self._hop(current, kind, headers)
            if result.location is None:
                return replace(result, url=url)
            current = result.location
            headers = {}  # validators belong to the first address only
        self._record(url, kind, 0, None, 0, 0.0, f"more than {self.settings.max_redirects} redirects")
        return Fetch(url, error=f"more than {self.settings.max_redirects} redirects")

    async def _hop(self, url: str, kind: str, headers: dict) -> Fetch:
        refusal = unfetchable(url)
        if refusal:
            self._record(url, kind, 0, None, 0, 0.0, refusal)
            return Fetch(url, error=refusal)
        if kind == "page":
            robots = await self._robots_for(url)
            if isinstance(robots, Fetch):  # robots.txt itself has to wait: so does the page
                self._record(url, kind, 0, None, 0, 0.0, robots.error)
                return replace(robots, url=url)
            if not robots.allows(url, self._agent):
                why = robots.status or self._robots_errors.get(origin(url)) or "no answer"
                reason = "disallowed by robots.txt" if robots.status and robots.status < 500 else (
                    f"robots.txt unavailable ({why}): not fetching for now"
                )  # fmt: skip
                self._record(url, kind, 0, None, 0, 0.0, reason)
                return Fetch(url, error=reason)
        result = Fetch(url, error="not attempted")
        for attempt in range(1, self.settings.retries + 2):
            result = await self._polite(url, kind, attempt, headers)
            if not result.transient or attempt > self.settings.retries:
                break
            wait = result.retry_after if result.retry_after is not None else self._backoff(attempt)
            if wait > self.settings.retry_max_wait:
                break  # the server asks for longer than a cycle should wait: next cycle
            await asyncio.sleep(wait)
        return result

    def _backoff(self, attempt: int) -> float:
        base = self.settings.retry_backoff * 2 ** (attempt - 1)
        return base * (0.5 + random.random())  # jitter, so that retries do not line up

    async def _polite(self, url: str, kind: str, attempt: int, headers: dict) -> Fetch:
        # One queue per host name: http and https, and every port, of a site share it.
        host = (urlsplit(url).hostname or "").lower()
        async with self._hosts.setdefault(host, asyncio.Lock()):
            delay = self.settings.min_host_delay
            robots = self.robots.get(origin(url))
            asked = robots.crawl_delay(self._agent) if robots else None
            if asked:
                delay = max(delay, min(asked, self.settings.max_crawl_delay))
            start = max(self._last_start.get(host, -1e9) + delay, self._not_before.get(host, 0.0))
            wait = start - time.monotonic()
            if wait > self.settings.retry_max_wait:
                # The site asked everyone to wait (Retry-After) longer than a cycle waits.
                error = f"the site asked to wait {wait:.0f} s (Retry-After): left for the next cycle"
                self._record(url, kind, 0, None, 0, 0.0, error)
                return Fetch(url, error=error, transient=True, retry_after=wait, deferred=True)
            if wait > 0:
                await asyncio.sleep(wait)
            self._last_start[host] = time.monotonic()
            result = await self._once(url, kind, attempt, headers)
            if result.status in (429, 503) and result.retry_after:
                # A site that says "slow down" means it for every page, not only this one.
                self._not_before[host] = time.monotonic() + result.retry_after
            return result

    async def _once(self, url: str, kind: str, attempt: int, headers: dict) -> Fetch:
        started = time.monotonic()
        try:
            # One deadline for the whole exchange: a server that drips bytes is cut off.
            result = await asyncio.wait_for(self._exchange(url, kind, headers), self.settings.timeout)
        except TimeoutError:
            result = Fetch(url, error=f"timed out after {self.settings.timeout:g} s", transient=True)
        except httpx.TooManyRedirects:
            result = Fetch(url, error=f"more than {self.settings.max_redirects} redirects")
        except httpx.ConnectError as exc:
            blocked = isinstance(exc.__context__, BlockedAddress) or "refused to connect" in str(exc)
            result = Fetch(url, error=f"ConnectError: {exc or 'connection failed'}", transient=not blocked)
        except httpx.HTTPError as exc:
            result = Fetch(url, error=f"{type(exc).__name__}: {exc or 'request failed'}", transient=True)
        except (httpx.InvalidURL, ValueError) as exc:
            result = Fetch(url, error=f"invalid URL: {exc}")
        size = len(result.body) if result.body else 0
        self._record(url, kind, attempt, result.status, size, time.monotonic() - started, result.error)
        return result

    async def _exchange(self, url: str, kind: str, headers: dict) -> Fetch:
        # RFC 9309: a robots.txt is read up to its limit and the rest ignored, never refused.
        robots = kind == "robots"
        cap = MAX_ROBOTS_BYTES if robots else self.settings.max_bytes
        async with self._client.stream("GET", url, headers=headers) as response:
            meta = {
                "status": response.status_code,
                "etag": response.headers.get("etag"),
                "last_modified": response.headers.get("last-modified"),
                "final_url": str(response.url),
                "content_type": response.headers.get("content-type"),
                "cache_seconds": cache_lifetime(response.headers),
            }
            if response.status_code in (301, 302, 303, 307, 308) and response.headers.get("location"):
                target = urljoin(str(response.url), response.headers["location"])
                return Fetch(url, **meta, location=target)
            if response.status_code == 304:
                return Fetch(url, **meta)
            if response.status_code >= 400:
                return Fetch(
                    url, **meta, error=f"HTTP {response.status_code} {response.reason_phrase}",
                    transient=response.status_code in TRANSIENT_STATUSES,
                    retry_after=retry_after(response.headers.get("retry-after")),
                )  # fmt: skip
            declared = response.headers.get("content-length", "").strip()
            if not robots and _is_number(declared) and int(declared) > cap:
                return Fetch(url, **meta, error=f"body of {declared} bytes exceeds {cap}")
            # An empty Content-Encoding names no coding at all.
            coding = response.headers.get("content-encoding", "").strip().lower() or "identity"
            if coding not in ("identity", "gzip", "x-gzip", "deflate"):
                return Fetch(url, **meta, error=f"unsupported content encoding {coding!r}")
            body = _CappedBody(cap, compressed=coding != "identity", truncate=robots)
            # Raw bytes, decompressed here with a limit on the output: a small compressed
            # chunk can expand to gigabytes, which httpx's own decoding would build in full.
            async for chunk in response.aiter_raw():
                if not body.add(chunk):
                    break
            if body.finish():
                return Fetch(url, **meta, error=body.error)
            data = body.value()
            if body.truncated:
                data = data[: data.rfind(b"\n") + 1]  # a rule cut in half could mean something else
            return Fetch(url, **meta, body=data)

    async def _robots_for(self, url: str) -> RobotsFile | Fetch:
        """The robots.txt for ``url``'s origin, or the Fetch saying why it cannot be asked now."""
        host = origin(url)
        async with self._robots_locks.setdefault(host, asyncio.Lock()):
            cached = self.robots.get(host)
            now = datetime.now(UTC)
            if cached is None or not cached.fresh(now):
                result = await self._ask_robots(host)
                if result.deferred:
                    return result  # not an answer: nothing to keep, asked again next cycle
                self.robots[host] = self._robots_file(host, now, result)
            return self.robots[host]

    def _robots_file(self, host: str, now: datetime, result: Fetch) -> RobotsFile:
        """What ``result`` says about the site's robots.txt, RFC 9309's way."""
        # A 429 means "not now", as a 5xx does (Google reads it so): nothing is allowed yet.
        answered = result.status != 429 and (result.error is None or (result.status or 0) >= 400)
        if not answered:
            self._robots_errors[host] = result.error or "no answer"
        body = (result.body or b"").decode("utf-8", "replace")
        return RobotsFile(host, now, result.status if answered else None, body)

    async def _ask_robots(self, host: str) -> Fetch:
        result = await self._polite(f"{host}/robots.txt", "robots", 1, {})
        for _ in range(5):  # RFC 9309: follow at least five redirects
            if result.location is None:
                break
            result = await self._polite(result.location, "robots", 1, {})
        if result.location is not None:
            return Fetch(result.url, status=404)  # too many redirects: as if absent
        return result

    def _record(self, url: str, kind: str, attempt: int, status: int | None, size: int, seconds: float,
                error: str | None) -> None:  # fmt: skip
        self.attempts.append(
            FetchAttempt(url, kind, attempt, status, size, round(seconds, 3), error, datetime.now(UTC))
        )


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, without credentials: the scope of a robots.txt."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2].lower()}"


def unfetchable(url: str) -> str | None:
    """Why ``url`` cannot be fetched at all (malformed, or not http/https), or None."""
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port  # a bad port is only found when read
    except ValueError as exc:
        return f"invalid URL {url!r}: {exc}"
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs are fetched"
    if not host:
        return f"invalid URL {url!r}: no host"
    return None


_GZIP_MAGIC = b"\x1f\x8b"


class _CappedBody:
    """A response body, decompressed as it arrives, that refuses to grow past ``cap``.

    Compressed bodies also have their raw bytes counted, and nothing after the end of the
    compressed data is read (other gzip members excepted, which are part of the body).
    With ``truncate``, a body over the cap is cut to it instead of refused.
    """

    def __init__(self, cap: int, compressed: bool, truncate: bool = False) -> None:
        self._cap = cap
        # Incompressible data grows a little when compressed: allow for that, no more.
        self._raw_cap = cap + cap // 100 + 1024
        self._truncate = truncate
        # wbits 47 reads gzip or zlib; a raw deflate stream is retried below.
        self._inflate = zlib.decompressobj(47) if compressed else None
        self._head: bytes | None = b""  # input before any output: replayed if it is raw deflate
        self._start = b""  # the first raw bytes: whether the body is gzip
        self._after = b""  # bytes after the end of a gzip member: another member, or garbage
        self._chunks: list[bytes] = []
        self._size = 0
        self._raw = 0
        self.truncated = False
        self.error: str | None = None

    def add(self, chunk: bytes) -> bool:
        """Take a raw chunk; False when no more is wanted (over the cap, invalid, or ended)."""
        if self._inflate is None:
            return self._keep(chunk)
        self._raw += len(chunk)
        if self._raw > self._raw_cap:  # e.g. endless empty gzip members
            return self._over()
        if len(self._start) < 2:
            self._start = (self._start + chunk[:2])[:2]
        pending: bytes | None = chunk
        while pending:
            if self._inflate.eof:
                pending = self._next_member(pending)
                if pending is None:
                    return False
                if not pending:
                    return True
            pending = self._inflate_some(pending)
        return pending is not None

    def _next_member(self, data: bytes) -> bytes | None:
        """After the end of the compressed data: the next gzip member's bytes, b"" for
        "wait for more", or None when the rest is not part of the body."""
        self._after += data
        if self._start != _GZIP_MAGIC or not _GZIP_MAGIC.startswith(self._after[:2]):
            return None  # trailing garbage: ignored, as gzip(1) and browsers do
        if len(self._after) < 2:
            return b""
        data, self._after = self._after, b""
        self._inflate, self._head = zlib.decompressobj(31), None  # members may follow members
        return data

    def _inflate_some(self, data: bytes) -> bytes | None:
        """Decompress ``data``; what follows the end of the stream, or None to stop."""
        if self._head is not None:
            self._head += data
        try:
            out = self._inflate.decompress(data, self._cap + 1 - self._size)
        except zlib.error as exc:
            if self._head is None:
                self.error = f"body is not valid compressed data: {exc}"
                return None
            # No output yet: perhaps raw deflate, as some servers send. Replay all of it.
            head, self._head = self._head, None
            self._inflate = zlib.decompressobj(-15)
            return self._inflate_some(head)
        if out:
            self._head = None
        # The output limit is one byte over the cap: reaching it ends the body.
        if not self._keep(out):
            return None
        return self._inflate.unused_data if self._inflate.eof else b""

    def _keep(self, data: bytes) -> bool:
        room = self._cap - self._size
        self._size += len(data)
        self._chunks.append(data[: max(room, 0)] if self._truncate else data)
        if self._size > self._cap:
            return self._over()
        return True

    def _over(self) -> bool:
        if self._truncate:
            self.truncated = True
        else:
            self.error = f"body exceeds {self._cap} bytes"
        return False

    def finish(self) -> str | None:
        """At the end of the response: why the body is not usable, or None."""
        cut_short = self._inflate is not None and self._raw > 0 and not self._inflate.eof
        if self.error is None and cut_short and not self.truncated:
            self.error = "compressed body is cut short: the stream does not end"
        return self.error

    def value(self) -> bytes:
        return b"".join(self._chunks)


def cache_lifetime(headers: httpx.Headers) -> float | None:
    """Seconds the answer stays fresh, from Cache-Control max-age, else Expires."""
    for directive in headers.get("cache-control", "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "max-age" and _is_number(value.strip()):
            return float(value.strip())
    expires = headers.get("expires")
    if expires:
        return retry_after(expires)  # the same date arithmetic
    return None


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if _is_number(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _is_number(text: str) -> bool:
    # str.isdigit() also accepts digits such as "²", which int() and float() refuse.
    return text.isascii() and text.isdigit()


@dataclass(frozen=True)
class Request:
    """A GET to make: what, of which kind, and the validators for a conditional GET."""

    url: str
    kind: str = "page"
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    """What a batch of requests gave: results in request order, attempts, robots answers."""

    results: list[Fetch]
    attempts: list[FetchAttempt]
    robots: list[RobotsFile]


def fetch_all(settings: HttpSettings, requests: list[Request], robots: list[RobotsFile] = ()) -> Fetched:
    """Make ``requests`` concurrently (politely per host) and return everything learnt."""
    known = {r.host: r for r in robots}

    async def run() -> Fetched:
        async with Fetcher(settings, robots=dict(known)) as fetcher:
            jobs = [fetcher.get(r.url, r.kind, etag=r.etag, last_modified=r.last_modified) for r in requests]
            results = await gather_limited(jobs, settings.concurrency)
            fresh = [r for host, r in fetcher.robots.items() if known.get(host) is not r]
            return Fetched(results, fetcher.attempts, fresh)

    return asyncio.run(run())


async def gather_limited(jobs: Iterable[Awaitable[T]], limit: int) -> list[T]:
    """Await ``jobs`` with at most ``limit`` running at once, keeping their order."""
    semaphore = asyncio.Semaphore(limit)

    async def run(job: Awaitable[T]) -> T:
        async with semaphore:
            return await job

    return await asyncio.gather(*(run(job) for job in jobs))
