"""The same story is stored once: canonical links, redirects, aggregator links, copies."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

from extractors.coverage import article_url, process_item, seed_coverage
from extractors.feeds import parse_feed
from extractors.records import FeedItem, Tagging
from extractors.story import load_story
from extractors.urls import unwrap_redirect
from flows.http import Request, fetch_all
from tests.conftest import SEED_STORY
from tests.loopback import SITE, Loopback, Response
from tests.test_http import SETTINGS
from warehouse import store
from warehouse.connection import open_warehouse

STORY = load_story(SEED_STORY)
PAGE = (SITE / "articles" / "us-backs-force.html").read_text()


def google_news_link(target: str) -> str:
    payload = b"\x08\x13\x22" + bytes([len(target)]) + target.encode() + b"\xd2\x01\x00"
    return (
        "https://news.google.com/rss/articles/"
        + base64.urlsafe_b64encode(payload).decode().rstrip("=")
        + "?oc=5"
    )


def test_aggregator_and_redirector_links_are_unwrapped():
    article = "https://news.example.com/articles/c0example"
    assert unwrap_redirect(google_news_link(article)) == article
    assert (
        unwrap_redirect("https://www.google.com/url?sa=t&url=https%3A%2F%2Fexample.org%2Fa")
        == "https://example.org/a"
    )
    undecodable = "https://news.google.com/rss/articles/AU_yqLnotdecodable?oc=5"
    assert unwrap_redirect(undecodable) == undecodable  # followed at fetch time instead


def test_a_feed_of_aggregator_links_yields_the_publishers_addresses():
    feed = f"""<rss version="2.0"><channel><title>News search</title>
      <item><title>Starmer pledges troops</title><link>{google_news_link("https://news.example.com/x?at_medium=RSS")}</link></item>
    </channel></rss>""".replace("&", "&amp;")
    [item] = parse_feed(feed.encode(), "search", "https://news.google.com/rss/search?q=x").items
    assert item.url == "https://news.example.com/x"


def test_the_canonical_link_counts_only_on_the_same_site():
    landed = "https://www.example.com/world/2026/01/07/story?utm_source=feed"
    assert article_url("https://feeds.example.com/r/1", landed, "https://www.example.com/world/story") == (
        "https://www.example.com/world/story"
    )
    assert article_url("https://feeds.example.com/r/1", landed, "https://other.example.org/story") == (
        "https://www.example.com/world/2026/01/07/story"
    )
    assert article_url("https://feeds.example.com/r/1", None, None) == "https://feeds.example.com/r/1"


def test_a_redirected_link_is_stored_under_the_page_it_led_to(site: Loopback):
    site.routes["/go/1001"] = Response(302, b"", {"Location": "/articles/us-backs-force.html?utm_medium=x"})
    [page] = fetch_all(SETTINGS, [Request(site.url("/go/1001"))]).results
    item = FeedItem(
        "f", "g", site.url("/go/1001"), "US commits to back a European force in Ukraine", "", None
    )
    coverage = process_item(item, page.body, "Outlet", STORY, page.content_type, final_url=page.final_url)
    assert coverage.article.url == site.url("/articles/us-backs-force.html")
    assert coverage.article.source_url == site.url("/go/1001")


def test_copies_and_near_copies_share_a_cluster_and_other_stories_do_not(tmp_path: Path):
    original = PAGE.replace("{base}", "http://127.0.0.1")
    item = FeedItem(
        "f", "g", "http://127.0.0.1/original.html", "US commits to back a European force", "", None
    )
    first = process_item(item, original.encode(), "Wire", STORY).article
    copy = replace(first, url="http://127.0.0.1/copy.html")  # the same text elsewhere
    reposted = original.replace("on Wednesday", "on Wednesday evening").replace("Several governments", "Some")
    edited = process_item(
        replace(item, url="http://127.0.0.1/edited.html"), reposted.encode(), "Repost", STORY
    )
    edited = edited.article
    other = seed_coverage(STORY)[0]
    with open_warehouse(tmp_path / "w.duckdb") as con:
        store.load_story(con, STORY)
        for article in (other, first, copy, edited):
            store.append_coverage(con, STORY.id, [(article, Tagging((), ()))])
        clusters = dict(con.execute("SELECT url, cluster_id FROM articles").fetchall())
    assert clusters[copy.url] == clusters[first.url] == clusters[edited.url]
    assert clusters[other.url] != clusters[first.url]
    assert edited.content_hash != first.content_hash  # clustered as a near-copy, not an exact one


def test_long_google_news_targets_and_q_parameters_are_unwrapped():
    long_target = "https://www.example.com/world/europe/" + "a-very-long-slug-" * 10 + "123"
    assert len(long_target) > 128  # its length needs two bytes in the identifier
    payload = b"\x08\x13\x22" + bytes([len(long_target) & 0x7F | 0x80, len(long_target) >> 7])
    link = (
        "https://news.google.com/rss/articles/"
        + base64.urlsafe_b64encode(payload + long_target.encode()).decode()
    )
    assert unwrap_redirect(link) == long_target
    assert (
        unwrap_redirect("https://www.google.com/url?q=https://example.org/b&sa=D") == "https://example.org/b"
    )


def test_a_canonical_link_on_another_host_of_the_same_domain_is_not_trusted():
    landed = "https://alice.substack.com/p/troops"
    assert article_url(landed, landed, "https://evil.substack.com/p/troops") == landed


def test_front_pages_and_paywalls_are_never_an_articles_address():
    linked = "https://www.example.com/world/story-1"
    assert article_url(linked, "https://www.example.com/subscribe?next=1", None) == linked
    assert article_url(linked, linked, "https://www.example.com/") == linked


def test_different_reports_sharing_a_background_paragraph_stay_apart(tmp_path: Path):
    background = " ".join(["Russia invaded Ukraine in 2022, and ceasefire talks have stalled since."] * 6)
    leads = [
        "Keir Starmer said on Monday that British troops were ready to deploy to a reassurance force.",
        "The Kremlin said on Tuesday that any Western troops on Ukrainian soil would be targets.",
        "Washington said on Wednesday that it would back European troops with air support.",
    ]
    articles = []
    for n, lead in enumerate(leads):
        text = f"{lead} {background}"
        item = FeedItem("f", str(n), f"http://127.0.0.1/r{n}.html", lead, text, None)
        articles.append(process_item(item, None, "Outlet", STORY).article)
    assert all(a.simhash is not None for a in articles)  # long enough to be compared
    with open_warehouse(tmp_path / "w.duckdb") as con:
        store.load_story(con, STORY)
        store.append_coverage(con, STORY.id, [(a, Tagging((), ())) for a in articles])
        clusters = {row[0] for row in con.execute("SELECT cluster_id FROM articles").fetchall()}
    assert len(clusters) == 3
