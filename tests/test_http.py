"""Fetching over real HTTP on 127.0.0.1: safe, polite, bounded; failures come back as data."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import socket
import threading
import time
import zlib
from dataclasses import replace

import httpx
import pytest

from extractors.robots import MAX_ROBOTS_BYTES
from flows.http import Fetch, Fetcher, Request, cache_lifetime, fetch_all, gather_limited, retry_after
from flows.settings import HttpSettings
from tests.loopback import Loopback, Response, closed_port

# The test site lives on 127.0.0.1: allowed explicitly, as a user would for an intranet feed.
SETTINGS = HttpSettings(timeout=5, min_host_delay=0, retry_backoff=0.01, allow_private=("127.0.0.1",))


def get(
    url: str, settings: HttpSettings = SETTINGS, kind: str = "page", **validators
) -> tuple[Fetch, Fetcher]:
    async def run():
        async with Fetcher(settings) as fetcher:
            return await fetcher.get(url, kind, **validators), fetcher

    return asyncio.run(run())


def test_a_feed_comes_back_with_its_validators_and_a_conditional_get_gives_304(site: Loopback):
    first, _ = get(site.url("/feeds/world.rss"), kind="feed")
    assert first.status == 200 and first.error is None
    assert b"<rss" in first.body and first.etag and first.content_type == "application/xml"

    again, _ = get(site.url("/feeds/world.rss"), kind="feed", etag=first.etag)
    assert again.not_modified and again.body is None and again.error is None
    assert site.requests[-1][2]["if-none-match"] == first.etag


def test_requests_name_storywatch_in_the_user_agent(site: Loopback):
    get(site.url("/feeds/world.rss"), kind="feed")
    assert site.requests[-1][2]["user-agent"].startswith("storywatch/")


def test_http_errors_are_reported_with_their_status_and_not_retried_when_final(site: Loopback):
    result, fetcher = get(site.url("/feeds/nothing-here.xml"), kind="feed")
    assert (result.status, result.error, result.body) == (404, "HTTP 404 Not Found", None)
    assert [a.attempt for a in fetcher.attempts] == [1]


def test_every_attempt_is_recorded_with_status_size_and_error(site: Loopback):
    site.routes["/flaky"] = [Response(503, b"busy"), Response(200, b"<p>fine</p>")]
    result, fetcher = get(site.url("/flaky"))
    assert result.status == 200 and result.body == b"<p>fine</p>"
    pages = [(a.kind, a.attempt, a.status, a.bytes, a.error) for a in fetcher.attempts if a.kind == "page"]
    assert pages == [("page", 1, 503, 0, "HTTP 503 Service Unavailable"), ("page", 2, 200, 11, None)]
    assert fetcher.attempts[0].kind == "robots"  # robots.txt was asked first


def test_429_is_retried_after_the_delay_the_server_asks_for(site: Loopback):
    site.routes["/limited"] = [Response(429, b"", {"Retry-After": "1"}), Response(200, b"ok")]
    result, _ = get(site.url("/limited"))
    assert result.status == 200
    starts = [t for path, t in site.started if path == "/limited"]
    assert len(starts) == 2 and starts[1] - starts[0] >= 0.9  # it waited the second asked for


def test_a_retry_after_longer_than_a_cycle_waits_is_left_for_the_next_cycle(site: Loopback):
    site.routes["/later"] = [Response(503, b"", {"Retry-After": "3600"}), Response(200, b"ok")]
    result, _ = get(site.url("/later"))
    assert result.status == 503 and result.transient and result.retry_after == 3600
    assert site.hits("/later") == 1


def test_a_closed_port_is_a_transient_error_not_an_exception(site: Loopback):
    result, fetcher = get(f"http://127.0.0.1:{closed_port()}/feed.xml", kind="feed")
    assert result.status is None and result.error.startswith("ConnectError") and result.transient
    assert len(fetcher.attempts) == SETTINGS.retries + 1


def test_a_body_over_the_size_cap_is_refused(site: Loopback):
    site.routes["/big"] = Response(200, b"x" * 5000)
    result, _ = get(site.url("/big"), replace(SETTINGS, max_bytes=1000))
    assert result.body is None and "exceeds 1000" in result.error


def test_the_size_cap_counts_decompressed_bytes(site: Loopback):
    bomb = gzip.compress(b"\0" * 2_000_000)
    site.routes["/bomb"] = Response(200, bomb, {"Content-Encoding": "gzip"})
    result, _ = get(site.url("/bomb"), replace(SETTINGS, max_bytes=100_000))
    assert len(bomb) < 100_000
    assert result.body is None and "exceeds 100000 bytes" in result.error


def test_a_server_that_stalls_is_cut_off_at_the_deadline(site: Loopback):
    site.routes["/slow"] = Response(200, b"<rss/>", delay=3)
    result, _ = get(site.url("/slow"), replace(SETTINGS, timeout=0.5, retries=0))
    assert result.body is None and result.error == "timed out after 0.5 s"


def test_a_server_that_drips_one_byte_at_a_time_is_cut_off_at_the_deadline(site: Loopback):
    # Each byte arrives well within a read timeout; only a deadline for the whole request helps.
    site.routes["/drip"] = Response(200, b"<rss>" + b" " * 200 + b"</rss>", drip=0.05)
    result, _ = get(site.url("/drip"), replace(SETTINGS, timeout=1, retries=0))
    assert result.body is None and result.error == "timed out after 1 s"


def test_redirect_loops_stop_at_the_limit(site: Loopback):
    site.routes["/loop"] = Response(302, b"", {"Location": "/loop"})
    result, _ = get(site.url("/loop"), replace(SETTINGS, max_redirects=3))
    assert result.error == "more than 3 redirects"


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/",
        "http://127.0.0.2:{port}/",
        "http://[::1]:{port}/",
    ],
)
def test_a_redirect_to_a_private_address_is_refused_before_connecting(site: Loopback, target: str):
    site.routes["/moved"] = Response(302, b"", {"Location": target.format(port=site.base.rsplit(":", 1)[1])})
    result, fetcher = get(site.url("/moved"))
    assert (
        result.body is None
        and "refused to connect" in result.error
        and "not a public address" in result.error
    )
    # Only the first hop went on the wire; the refusal is on record too (attempt 0).
    assert not result.transient and [a.attempt for a in fetcher.attempts if a.kind == "page"] == [1, 0]


def test_private_addresses_are_refused_unless_allowed(site: Loopback):
    refused, _ = get(site.url("/feeds/world.rss"), replace(SETTINGS, allow_private=()), kind="feed")
    assert "refused to connect to 127.0.0.1" in refused.error
    assert site.hits("/feeds/world.rss") == 0


def test_only_http_and_https_are_fetched(site: Loopback):
    for url in ("file:///etc/passwd", "ftp://127.0.0.1/feed.xml"):
        assert get(url)[0].error == "only http and https URLs are fetched"


def test_robots_txt_disallow_is_honoured_for_pages(site: Loopback):
    site.routes["/robots.txt"] = Response(200, b"User-agent: storywatch\nDisallow: /articles/\n")
    blocked, _ = get(site.url("/articles/us-backs-force.html"))
    allowed, _ = get(site.url("/feeds/world.rss"))
    assert blocked.error == "disallowed by robots.txt" and site.hits("/articles/us-backs-force.html") == 0
    assert allowed.status == 200


@pytest.mark.parametrize(
    ("answer", "allowed"), [(Response(404, b"none"), True), (Response(503, b"down"), False)]
)
def test_robots_txt_errors_follow_rfc_9309(site: Loopback, answer: Response, allowed: bool):
    site.routes["/robots.txt"] = answer
    result, _ = get(site.url("/articles/starmer-repeats.html"), replace(SETTINGS, retries=0))
    assert (result.status == 200) is allowed
    if not allowed:
        assert result.error == "robots.txt unavailable (503): not fetching for now"


def test_robots_txt_is_asked_once_per_host_and_kept(site: Loopback):
    urls = [
        site.url(f"/articles/{name}.html") for name in ("us-backs-force", "starmer-repeats", "kremlin-warns")
    ]
    first = fetch_all(SETTINGS, [Request(u) for u in urls])
    assert site.hits("/robots.txt") == 1 and len(first.robots) == 1
    second = fetch_all(SETTINGS, [Request(u) for u in urls], first.robots)  # the kept answer is used
    assert site.hits("/robots.txt") == 1 and second.robots == []
    assert all(r.status == 200 for r in second.results)


def test_one_request_at_a_time_per_host_with_the_minimum_delay(site: Loopback):
    urls = [site.url(f"/feeds/world.rss?n={n}") for n in range(4)]
    fetch_all(replace(SETTINGS, min_host_delay=0.2), [Request(u, "feed") for u in urls])
    spans = site.answered({"/feeds/world.rss"}, 4)
    assert len(spans) == 4
    for (start, end), (next_start, _) in itertools.pairwise(spans):
        assert next_start >= end  # never two at once
        # The client spaces request starts by 0.2 s; connection set-up shifts what the
        # server sees by a little, never by half of it (without the delay: about 0.001 s).
        assert next_start - start >= 0.1


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after("120") == 120
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past: no wait
    assert retry_after("soon") is None and retry_after(None) is None


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


def test_a_doubly_compressed_bomb_is_refused_without_inflating_it(site: Loopback):
    # httpx would undo both codings in full before any size check could see the result.
    bomb = gzip.compress(gzip.compress(b"\0" * 50_000_000))
    site.routes["/double"] = Response(200, bomb, {"Content-Encoding": "gzip, gzip"})
    result, _ = get(site.url("/double"))
    assert result.body is None and result.error == "unsupported content encoding 'gzip, gzip'"


def test_deflate_and_gzip_bodies_come_out_whole(site: Loopback):
    import zlib

    text = b"<rss>" + b"news " * 1000 + b"</rss>"
    site.routes["/gz"] = Response(200, gzip.compress(text), {"Content-Encoding": "gzip"})
    site.routes["/zlib"] = Response(200, zlib.compress(text), {"Content-Encoding": "deflate"})
    raw = zlib.compressobj(wbits=-15)
    site.routes["/raw"] = Response(200, raw.compress(text) + raw.flush(), {"Content-Encoding": "deflate"})
    for path in ("/gz", "/zlib", "/raw"):
        assert get(site.url(path))[0].body == text, path


def test_a_long_robots_txt_is_read_up_to_500_kib_not_ignored(site: Loopback):
    site.routes["/robots.txt"] = Response(200, b"User-agent: *\nDisallow: /\n" + b"# padding\n" * 60_000)
    result, _ = get(site.url("/articles/starmer-repeats.html"))
    assert result.error == "disallowed by robots.txt"


def test_a_retry_after_holds_back_every_page_of_the_site(site: Loopback):
    site.routes["/a"] = [Response(429, b"", {"Retry-After": "1"}), Response(200, b"a")]
    fetch_all(SETTINGS, [Request(site.url(p)) for p in ("/a", "/b")])
    start_a = max(t for path, t in site.started if path == "/a")
    first_429 = min(t for path, t in site.started if path == "/a")
    start_b = min(t for path, t in site.started if path == "/b")
    assert start_b - first_429 >= 0.9 and start_a - first_429 >= 0.9


def test_robots_txt_requests_queue_with_the_sites_other_requests(site: Loopback):
    urls = [site.url("/feeds/world.rss"), site.url("/articles/kremlin-warns.html")]
    fetch_all(replace(SETTINGS, min_host_delay=0.1), [Request(urls[0], "feed"), Request(urls[1])])
    # Only this test's requests: one still in flight from an earlier test must not count.
    mine = {"/feeds/world.rss", "/robots.txt", "/articles/kremlin-warns.html"}
    spans = site.answered(mine, 3)
    assert len(spans) == 3  # feed, robots.txt, page
    assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(spans))


def test_a_redirect_to_a_disallowed_page_asks_the_robots_txt_of_its_host(site: Loopback):
    # Another host name for the same server: a second site as far as politeness goes.
    other = site.base.replace("127.0.0.1", "localhost")
    site.routes["/go"] = Response(302, b"", {"Location": f"{other}/articles/kremlin-warns.html"})
    allowed = replace(SETTINGS, allow_private=("127.0.0.1", "::1"))
    site.routes["/robots.txt"] = Response(200, b"User-agent: *\nDisallow: /articles/\n")
    result, fetcher = get(site.url("/go"), allowed)
    assert result.error == "disallowed by robots.txt"
    assert site.hits("/articles/kremlin-warns.html") == 0
    assert [a.kind for a in fetcher.attempts].count("robots") >= 1


def test_a_redirect_is_followed_and_the_final_address_kept(site: Loopback):
    site.routes["/short"] = Response(301, b"", {"Location": "/articles/starmer-repeats.html"})
    result, fetcher = get(site.url("/short"))
    assert result.status == 200 and result.url == site.url("/short")
    assert result.final_url == site.url("/articles/starmer-repeats.html")
    assert [a.status for a in fetcher.attempts if a.kind == "page"] == [301, 200]


def test_bytes_after_the_end_of_a_gzip_body_are_not_read(site: Loopback):
    # Endless bytes after the compressed data would be kept uncounted, past any cap.
    body = gzip.compress(b"<rss/>") + b"x" * 1000
    site.routes["/trail"] = Response(200, body, {"Content-Encoding": "gzip"}, drip=0.01)
    result, _ = get(site.url("/trail"), replace(SETTINGS, timeout=3, retries=0))
    assert result.error is None and result.body == b"<rss/>"


def test_every_gzip_member_is_part_of_the_body_and_of_the_cap(site: Loopback):
    two = gzip.compress(b"<rss>first ") + gzip.compress(b"second</rss>")
    site.routes["/members"] = Response(200, two, {"Content-Encoding": "gzip"})
    assert get(site.url("/members"))[0].body == b"<rss>first second</rss>"

    many = gzip.compress(b"x" * 600) * 2
    site.routes["/members"] = Response(200, many, {"Content-Encoding": "gzip"})
    result, _ = get(site.url("/members"), replace(SETTINGS, max_bytes=1000))
    assert result.body is None and result.error == "body exceeds 1000 bytes"


def test_endless_empty_gzip_members_are_refused_at_the_cap(site: Loopback):
    members = gzip.compress(b"") * 5000  # 100 kB that decompress to nothing
    site.routes["/empty"] = Response(200, members, {"Content-Encoding": "gzip"}, declare_length=False)
    result, _ = get(site.url("/empty"), replace(SETTINGS, max_bytes=10_000))
    assert result.body is None and result.error == "body exceeds 10000 bytes"


def test_a_compressed_body_cut_short_is_an_error_not_a_shorter_page(site: Loopback):
    whole = gzip.compress(b"<rss>" + bytes(range(256)) * 40 + b"</rss>")
    site.routes["/cut"] = Response(200, whole[:-20], {"Content-Encoding": "gzip"})
    result, _ = get(site.url("/cut"))
    assert result.body is None and result.error == "compressed body is cut short: the stream does not end"


def test_a_raw_deflate_body_arriving_in_small_pieces_comes_out_whole(site: Loopback):
    text = b"<rss>" + b"news " * 20 + b"</rss>"
    raw = zlib.compressobj(wbits=-15)
    site.routes["/raw"] = Response(200, raw.compress(text) + raw.flush(), {"Content-Encoding": "deflate"},
                                   drip=0.01)  # fmt: skip
    assert get(site.url("/raw"))[0].body == text


def test_an_empty_content_encoding_means_none(site: Loopback):
    site.routes["/plain"] = Response(200, b"<rss/>", {"Content-Encoding": ""})
    result, _ = get(site.url("/plain"))
    assert result.error is None and result.body == b"<rss/>"


def test_numbers_in_other_scripts_are_not_numbers_in_headers(site: Loopback):
    # "²".isdigit() is True, but float("²") raises: a good answer must not become an error.
    site.routes["/odd"] = Response(200, b"<rss/>", {"Cache-Control": "max-age=²", "Expires": "soon"})
    result, _ = get(site.url("/odd"))
    assert result.error is None and result.body == b"<rss/>" and result.cache_seconds is None
    assert retry_after("²") is None and retry_after("١٢") is None
    assert cache_lifetime(httpx.Headers({"Cache-Control": "max-age=120"})) == 120


def test_a_malformed_url_fails_alone_and_on_record(site: Loopback):
    bad = ["http://[::1/x", "http://127.0.0.1:99999/feed.xml", "http:///feed.xml"]
    fetched = fetch_all(SETTINGS, [Request(u) for u in bad] + [Request(site.url("/feeds/world.rss"), "feed")])
    for url, result in zip(bad, fetched.results[:3], strict=True):
        assert result.url == url and result.body is None and result.error.startswith(f"invalid URL {url!r}")
    assert fetched.results[-1].status == 200
    assert [a.url for a in fetched.attempts if a.error and a.attempt == 0] == bad


def test_a_refused_scheme_is_on_record_also_as_a_redirect_hop(site: Loopback):
    result, fetcher = get("ftp://127.0.0.1/feed.xml", kind="feed")
    assert [(a.url, a.attempt, a.error) for a in fetcher.attempts] == [
        ("ftp://127.0.0.1/feed.xml", 0, "only http and https URLs are fetched")
    ]
    site.routes["/to-ftp"] = Response(302, b"", {"Location": "ftp://127.0.0.1/feed.xml"})
    result, fetcher = get(site.url("/to-ftp"), kind="feed")
    assert result.error == "only http and https URLs are fetched"
    assert [(a.url, a.attempt) for a in fetcher.attempts] == [
        (site.url("/to-ftp"), 1),
        ("ftp://127.0.0.1/feed.xml", 0),
    ]


def test_a_robots_txt_over_the_page_size_cap_is_read_up_to_its_own_limit(site: Loopback):
    rules = b"User-agent: *\nDisallow: /articles/\n"
    site.routes["/robots.txt"] = Response(200, rules + b"# padding\n" * 70_000)  # 700 kB
    blocked, fetcher = get(site.url("/articles/starmer-repeats.html"), replace(SETTINGS, max_bytes=10_000))
    assert blocked.error == "disallowed by robots.txt"
    [robots] = fetcher.robots.values()
    assert robots.status == 200 and len(robots.body) <= MAX_ROBOTS_BYTES and robots.body.endswith("\n")


def test_a_robots_txt_answered_with_429_means_not_now(site: Loopback):
    site.routes["/robots.txt"] = Response(429, b"slow down")
    result, fetcher = get(site.url("/articles/starmer-repeats.html"), replace(SETTINGS, retries=0))
    assert result.error == "robots.txt unavailable (HTTP 429 Too Many Requests): not fetching for now"
    assert site.hits("/articles/starmer-repeats.html") == 0
    assert [r.status for r in fetcher.robots.values()] == [None]  # asked again within the hour


def test_a_retry_after_on_a_host_defers_another_sites_robots_txt_without_keeping_it(site: Loopback):
    # Another port of the same host name: another robots.txt, but the same queue and the same hold.
    other = Loopback().start()
    try:
        site.routes["/busy"] = Response(503, b"", {"Retry-After": "3600"})

        async def run():
            async with Fetcher(replace(SETTINGS, retries=0)) as fetcher:
                await fetcher.get(site.url("/busy"))
                return await fetcher.get(other.url("/articles/kremlin-warns.html")), fetcher

        page, fetcher = asyncio.run(run())
        assert page.error.startswith("the site asked to wait") and page.transient and page.body is None
        assert other.hits("/robots.txt") == 0 and other.hits("/articles/kremlin-warns.html") == 0
        assert list(fetcher.robots) == [site.base]  # nothing kept for the other site
    finally:
        other.stop()


def test_credentials_in_a_url_stay_out_of_the_robots_txt_request(site: Loopback):
    url = site.url("/articles/starmer-repeats.html").replace("http://", "http://user:secret@")
    result, fetcher = get(url)
    assert result.status == 200 and list(fetcher.robots) == [site.base]
    [robots] = [a for a in fetcher.attempts if a.kind == "robots"]
    assert robots.url == site.url("/robots.txt")
    [(_, _, headers)] = [r for r in site.requests if r[1] == "/robots.txt"]
    assert "authorization" not in headers


def test_a_slow_dns_lookup_does_not_hold_a_batch_past_its_deadline(site: Loopback, monkeypatch):
    release = threading.Event()
    resolve = socket.getaddrinfo

    def slow(host, *args, **kwargs):
        if host in ("127.0.0.1", b"127.0.0.1"):
            return resolve(host, *args, **kwargs)  # a numeric address: no query leaves the machine
        release.wait(30)  # any name: a resolver that takes its time, and never asks the network
        raise socket.gaierror(socket.EAI_AGAIN, "no answer in time")

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    requests = [Request("http://slow.test/feed.xml", "feed"), Request(site.url("/feeds/world.rss"), "feed")]
    started = time.monotonic()
    try:
        fetched = fetch_all(replace(SETTINGS, timeout=0.5, retries=0), requests)
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert elapsed < 5
    assert fetched.results[0].error == "timed out after 0.5 s" and fetched.results[1].status == 200
