"""Parsing feed documents: RSS 2.0, Atom and RDF, and the broken documents real feeds serve."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from extractors.feeds import parse_feed
from extractors.records import FeedItem
from tests.conftest import SHARED

FEED_URL = "https://news.example.com/feeds/world.rss"

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
<channel>
  <title>Example World</title>
  <link>https://news.example.com/</link>
  <description>World news</description>
  <item>
    <title>UK ready to send troops &amp; planes</title>
    <link>https://news.example.com/world/uk-troops.html?utm_source=rss&amp;utm_medium=feed</link>
    <guid isPermaLink="false">example-uk-troops-1</guid>
    <pubDate>Tue, 04 Mar 2025 10:15:00 +0100</pubDate>
    <author>desk@example.com (Jane Reporter)</author>
    <description>&lt;p&gt;Britain is &lt;b&gt;ready&lt;/b&gt; to send troops.&lt;/p&gt;
      &lt;p&gt;Paris agrees.&lt;/p&gt;</description>
  </item>
  <item>
    <title>UK ready to send troops (updated)</title>
    <link>https://news.example.com/world/uk-troops.html?fbclid=XYZ#comments</link>
    <pubDate>Tue, 04 Mar 2025 11:00:00 GMT</pubDate>
    <description>The same article, linked again.</description>
  </item>
  <item>
    <title>Kremlin warns</title>
    <link>/world/kremlin-warns.html</link>
    <pubDate>Wed, 05 Mar 2025 08:00:00 GMT</pubDate>
    <description><![CDATA[<p>Moscow said foreign troops would be targets.</p>]]></description>
  </item>
</channel>
</rss>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Europe Desk</title>
  <id>urn:example:europe</id>
  <updated>2025-03-05T08:00:00Z</updated>
  <entry>
    <title type="html">Kremlin &lt;em&gt;warns&lt;/em&gt; London</title>
    <link rel="alternate" href="https://eu.example.org/kremlin-warns?utm_campaign=daily"/>
    <id>tag:eu.example.org,2025:kremlin-warns</id>
    <published>2025-03-05T07:30:00-05:00</published>
    <updated>2025-03-05T09:45:00-05:00</updated>
    <author><name>Ivan Writer</name></author>
    <summary>Short teaser.</summary>
    <content type="html">&lt;p&gt;The Kremlin said foreign troops would be targets.&lt;/p&gt;
      &lt;p&gt;London did not reply.&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Updated only</title>
    <link href="https://eu.example.org/updated-only"/>
    <id>tag:eu.example.org,2025:updated-only</id>
    <updated>2025-03-05T07:45:00Z</updated>
    <summary>No published date, only an updated one.</summary>
  </entry>
</feed>
"""

RDF = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://dw.example.com/rdf">
    <title>Example RDF news</title>
    <link>https://dw.example.com/</link>
    <description>News in RSS 1.0</description>
    <items><rdf:Seq><rdf:li rdf:resource="https://dw.example.com/germany-weighs-force"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://dw.example.com/germany-weighs-force">
    <title>Germany weighs a reassurance force</title>
    <link>https://dw.example.com/germany-weighs-force</link>
    <description>Berlin is considering it.</description>
    <dc:date>2025-03-06T12:00:00+01:00</dc:date>
    <dc:creator>Desk Staff</dc:creator>
  </item>
</rdf:RDF>
"""


def by_title(items: tuple[FeedItem, ...]) -> dict[str, FeedItem]:
    return {item.title: item for item in items}


def test_rss_items_have_canonical_urls_utc_dates_and_plain_text() -> None:
    parsed = parse_feed(RSS, "example-world", FEED_URL)

    assert parsed.error is None and parsed.warning is None
    assert parsed.title == "Example World"
    first = parsed.items[0]
    assert first.feed_id == "example-world"
    assert first.guid == "example-uk-troops-1"
    assert first.url == "https://news.example.com/world/uk-troops.html"
    assert first.title == "UK ready to send troops & planes"
    assert first.summary == "Britain is ready to send troops.\nParis agrees."
    assert first.published == datetime(2025, 3, 4, 9, 15, tzinfo=UTC)
    assert first.author == "desk@example.com (Jane Reporter)"


def test_rss_duplicate_links_collapse_to_the_first_item() -> None:
    parsed = parse_feed(RSS, "example-world", FEED_URL)

    urls = [item.url for item in parsed.items]
    assert urls == [
        "https://news.example.com/world/uk-troops.html",
        "https://news.example.com/world/kremlin-warns.html",  # relative link, joined to the feed's URL
    ]
    assert "UK ready to send troops (updated)" not in by_title(parsed.items)


def test_rss_cdata_summary_is_turned_into_text() -> None:
    item = by_title(parse_feed(RSS, "example-world", FEED_URL).items)["Kremlin warns"]

    assert item.summary == "Moscow said foreign troops would be targets."


def test_atom_entries_prefer_full_content_and_convert_dates_to_utc() -> None:
    parsed = parse_feed(ATOM, "europe-desk")

    assert parsed.error is None
    assert parsed.title == "Europe Desk"
    items = by_title(parsed.items)
    kremlin = items["Kremlin warns London"]  # HTML in the title becomes text
    assert kremlin.url == "https://eu.example.org/kremlin-warns"
    assert kremlin.guid == "tag:eu.example.org,2025:kremlin-warns"
    # The longer content wins over the teaser summary.
    assert kremlin.summary == "The Kremlin said foreign troops would be targets.\nLondon did not reply."
    assert kremlin.published == datetime(2025, 3, 5, 12, 30, tzinfo=UTC)  # published, not updated
    assert kremlin.author == "Ivan Writer"
    # Without a published date, the updated date stands in.
    assert items["Updated only"].published == datetime(2025, 3, 5, 7, 45, tzinfo=UTC)


def test_rdf_items_are_parsed() -> None:
    parsed = parse_feed(RDF, "dw")

    assert parsed.error is None
    assert parsed.title == "Example RDF news"
    [item] = parsed.items
    assert item.url == "https://dw.example.com/germany-weighs-force"
    assert item.title == "Germany weighs a reassurance force"
    assert item.summary == "Berlin is considering it."
    assert item.published == datetime(2025, 3, 6, 11, 0, tzinfo=UTC)
    assert item.author == "Desk Staff"


def test_item_dates_are_utc_datetimes() -> None:
    for document in (RSS, ATOM, RDF):
        for item in parse_feed(document, "any", FEED_URL).items:
            assert item.published is not None
            assert item.published.utcoffset() is not None
            assert item.published.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("data", [b"", b"  \n\t "])
def test_empty_document_is_an_error(data: bytes) -> None:
    parsed = parse_feed(data, "empty", FEED_URL)

    assert parsed.items == ()
    assert parsed.error == "empty document"


def test_html_page_is_not_a_feed() -> None:
    page = b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Welcome</p></body></html>"

    parsed = parse_feed(page, "homepage", FEED_URL)

    assert parsed.items == ()
    assert parsed.error is not None and parsed.error.startswith("not a feed")


def test_garbage_is_not_a_feed() -> None:
    parsed = parse_feed(b"\x00\x01 this is not XML {", "garbage", FEED_URL)

    assert parsed.items == ()
    assert parsed.error is not None and parsed.error.startswith("not a feed")


def test_truncated_feed_keeps_its_entries_and_warns() -> None:
    truncated = RSS[: RSS.index(b"<item>", RSS.index(b"</item>"))]  # cut after the first item

    parsed = parse_feed(truncated, "cut", FEED_URL)

    assert parsed.error is None
    assert [item.url for item in parsed.items] == ["https://news.example.com/world/uk-troops.html"]
    assert parsed.warning is not None and parsed.warning.startswith("feed is not well-formed")


def test_item_without_a_link_does_not_become_the_feed_url() -> None:
    feed = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
    <item><title>Linked</title><link>https://news.example.com/a.html</link></item>
    <item><title>Unlinked</title><description>No link at all.</description></item>
    </channel></rss>"""

    parsed = parse_feed(feed, "example-world", FEED_URL)

    assert [item.url for item in parsed.items] == ["https://news.example.com/a.html"]
    assert parsed.warning == "skipped 1 entries without a usable link"


# Ill-formed documents from feedparser's own test suite, when the shared corpus is present

ILLFORMED = SHARED / "corpus" / "feedparser-tests" / "tests" / "illformed"
ILLFORMED_DOCUMENTS = sorted(ILLFORMED.rglob("*.xml")) if ILLFORMED.is_dir() else []


@pytest.mark.parametrize(
    "path",
    [pytest.param(path, id=str(path.relative_to(ILLFORMED))) for path in ILLFORMED_DOCUMENTS]
    or [pytest.param(None, marks=pytest.mark.skip(reason=f"{ILLFORMED} not present"), id="absent")],
)
def test_illformed_document_gives_items_or_an_error(path: Path) -> None:
    data = path.read_bytes()

    parsed = parse_feed(data, "illformed", "https://example.com/feed.xml")  # must not raise

    if parsed.error is not None:
        assert parsed.items == ()
        assert parsed.error.startswith(("not a feed", "empty document"))
    elif not parsed.items and parsed.warning is None:
        # No items and nothing to say is right only for a channel without entries.
        assert b"<item" not in data and b"<entry" not in data
    elif not parsed.items:
        # Entries that lead nowhere are skipped, and the warning says so.
        assert "without a usable link" in parsed.warning
    for item in parsed.items:
        assert item.url.startswith(("http://", "https://"))


def test_a_feedparser_crash_is_a_named_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # bench/fuzz.py found 41 in 100,000 mutated feeds on which feedparser's lenient parser
    # raises (AttributeError, KeyError, TypeError from its geo and licence handlers).
    import extractors.feeds

    def trip(*args, **kwargs):
        raise KeyError("where")

    monkeypatch.setattr(extractors.feeds.feedparser, "parse", trip)
    parsed = parse_feed(b"<rss><channel><item><title>x</title></item></channel></rss>", "f", FEED_URL)
    assert parsed.items == ()
    assert parsed.error == "not a feed: the parser failed (KeyError: 'where')"
