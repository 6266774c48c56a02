"""HTTP for feeds and pages: one place builds the client, every fetch is bounded.

Each fetch returns a record, never raises: a failure is data (status and a message that
names the URL), so that one broken source cannot stop a cycle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import httpx

from flows.settings import HttpSettings

T = TypeVar("T")


@dataclass(frozen=True)
class Fetch:
    """The outcome of one GET."""

    url: str
    status: int | None = None  # None when no response arrived
    body: bytes | None = None
    etag: str | None = None
    last_modified: str | None = None
    final_url: str | None = None
    error: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def make_client(settings: HttpSettings) -> httpx.AsyncClient:
    """The HTTP client for a cycle: timeouts, redirect limit and a User-Agent that names us."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.timeout),
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        headers={"User-Agent": settings.user_agent},
        limits=httpx.Limits(max_connections=settings.concurrency),
    )


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    settings: HttpSettings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetch:
    """GET ``url`` (conditionally, when validators are given) within the size and time limits."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        # The whole exchange has one deadline: a server that drips bytes is cut off.
        return await asyncio.wait_for(_get(client, url, headers, settings), settings.timeout)
    except TimeoutError:
        return Fetch(url, error=f"timed out after {settings.timeout:g} s")
    except httpx.TooManyRedirects:
        return Fetch(url, error=f"more than {settings.max_redirects} redirects")
    except httpx.HTTPError as exc:
        return Fetch(url, error=f"{type(exc).__name__}: {exc or 'connection failed'}")
    except (httpx.InvalidURL, ValueError) as exc:
        return Fetch(url, error=f"invalid URL: {exc}")


async def _get(client: httpx.AsyncClient, url: str, headers: dict, settings: HttpSettings) -> Fetch:
    async with client.stream("GET", url, headers=headers) as response:
        meta = {
            "status": response.status_code,
            "etag": response.headers.get("etag"),
            "last_modified": response.headers.get("last-modified"),
            "final_url": str(response.url),
        }
        if response.status_code == 304:
            return Fetch(url, **meta)
        if response.status_code >= 400:
            return Fetch(url, **meta, error=f"HTTP {response.status_code} {response.reason_phrase}")
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_bytes:
            return Fetch(url, **meta, error=f"body of {declared} bytes exceeds {settings.max_bytes}")
        chunks, size = [], 0
        # aiter_bytes decompresses, so the cap counts what a gzip body expands to.
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > settings.max_bytes:
                return Fetch(url, **meta, error=f"body exceeds {settings.max_bytes} bytes")
            chunks.append(chunk)
        return Fetch(url, **meta, body=b"".join(chunks))


async def gather_limited(jobs: Iterable[Awaitable[T]], limit: int) -> list[T]:
    """Await ``jobs`` with at most ``limit`` running at once, keeping their order."""
    semaphore = asyncio.Semaphore(limit)

    async def run(job: Awaitable[T]) -> T:
        async with semaphore:
            return await job

    return await asyncio.gather(*(run(job) for job in jobs))
