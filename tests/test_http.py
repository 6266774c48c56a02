"""Fetching over real HTTP on 127.0.0.1: every failure comes back as data, never raised."""

from __future__ import annotations

import asyncio
import gzip

from flows.http import fetch, gather_limited, make_client
from flows.settings import HttpSettings
from tests.loopback import Loopback, Response, closed_port


def get(url: str, settings: HttpSettings | None = None, **validators):
    settings = settings or HttpSettings(timeout=5)

    async def run():
        async with make_client(settings) as client:
            return await fetch(client, url, settings, **validators)

    return asyncio.run(run())


def test_a_feed_comes_back_with_its_validators_and_a_conditional_get_gives_304(site: Loopback):
    first = get(site.url("/feeds/world.rss"))
    assert first.status == 200 and first.error is None
    assert b"<rss" in first.body and first.etag

    again = get(site.url("/feeds/world.rss"), etag=first.etag)
    assert again.not_modified and again.body is None and again.error is None
    assert site.requests[-1][2]["if-none-match"] == first.etag


def test_requests_name_storywatch_in_the_user_agent(site: Loopback):
    get(site.url("/feeds/world.rss"))
    assert site.requests[-1][2]["user-agent"].startswith("storywatch/")


def test_http_errors_are_reported_with_their_status(site: Loopback):
    result = get(site.url("/feeds/nothing-here.xml"))
    assert (result.status, result.error, result.body) == (404, "HTTP 404 Not Found", None)


def test_a_closed_port_is_an_error_not_an_exception(site: Loopback):
    result = get(f"http://127.0.0.1:{closed_port()}/feed.xml")
    assert result.status is None and result.error.startswith("ConnectError")


def test_a_body_over_the_size_cap_is_refused(site: Loopback):
    site.routes["/big"] = Response(200, b"x" * 5000)
    result = get(site.url("/big"), HttpSettings(max_bytes=1000, timeout=5))
    assert result.body is None and "exceeds 1000" in result.error


def test_the_size_cap_counts_decompressed_bytes(site: Loopback):
    bomb = gzip.compress(b"\0" * 2_000_000)
    site.routes["/bomb"] = Response(200, bomb, {"Content-Encoding": "gzip"})
    result = get(site.url("/bomb"), HttpSettings(max_bytes=100_000, timeout=5))
    assert len(bomb) < 100_000
    assert result.body is None and "exceeds 100000 bytes" in result.error


def test_a_server_that_stalls_is_cut_off_at_the_deadline(site: Loopback):
    site.routes["/slow"] = Response(200, b"<rss/>", delay=3)
    result = get(site.url("/slow"), HttpSettings(timeout=0.5))
    assert result.body is None and result.error == "timed out after 0.5 s"


def test_redirect_loops_stop_at_the_limit(site: Loopback):
    site.routes["/loop"] = Response(302, b"", {"Location": "/loop"})
    result = get(site.url("/loop"), HttpSettings(max_redirects=3, timeout=5))
    assert result.error == "more than 3 redirects"


def test_gather_limited_keeps_order_and_never_exceeds_the_limit():
    running = 0
    peak = 0

    async def job(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return n

    results = asyncio.run(gather_limited([job(n) for n in range(10)], limit=3))
    assert results == list(range(10))
    assert peak == 3
