"""Property tests: hostile input ends as data or a named failure, never as a crash.

bench/fuzz.py runs the same stages over 100,000 mutated real documents; these few
hundred generated ones run with every test run.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors.encoding import decode_page
from extractors.feeds import parse_feed
from extractors.pages import ExtractionError, extract_page
from extractors.sentences import split_sentences
from extractors.stance import tag_article
from extractors.story import load_story
from extractors.urls import canonical_url, unwrap_redirect
from tests.conftest import SEED_STORY

STORY = load_story(SEED_STORY)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TAGS = st.sampled_from(
    ["<rss>", "<channel>", "<item>", "</item>", "<title>", "</title>", "<link>", "<entry>",
     "<feed xmlns='http://www.w3.org/2005/Atom'>", "<![CDATA[", "]]>", "<div>", "<p>", "</p>",
     "<article>", "&amp;", "&#x0;", "<?xml version='1.0'?>"]
)  # fmt: skip
MARKUP = st.lists(st.one_of(TAGS, st.text(max_size=40)), max_size=60).map("".join)
WORDS = st.sampled_from(
    ["Trump", "the Kremlin", "Starmer's", "US", "said", "troops", "not", "guarantee", "“", "”", ".",
     "!", "\n", "U.S.", "Mr.", "ruled out", "backstop"]
)  # fmt: skip
NEWS = st.lists(st.one_of(WORDS, st.text(max_size=12)), max_size=80).map(" ".join)


@FAST
@given(
    st.one_of(st.binary(max_size=3000), MARKUP.map(str.encode)),
    st.sampled_from([None, "text/xml", "x/y; charset=bogus"]),
)
def test_parse_feed_always_returns_items_or_a_named_error(data: bytes, content_type: str | None):
    parsed = parse_feed(data, "fuzz", "https://example.com/feed.xml", content_type)
    assert (parsed.error is None) or (parsed.items == () and parsed.error)
    for item in parsed.items:
        assert item.url.startswith(("http://", "https://"))


@FAST
@given(st.one_of(st.binary(max_size=3000), MARKUP.map(str.encode), MARKUP))
def test_extract_page_gives_text_or_a_named_failure(page: bytes | str):
    try:
        extracted = extract_page(page, "https://example.com/a")
    except ExtractionError as exc:
        assert str(exc)
    else:
        assert extracted.text.strip()


@FAST
@given(
    st.binary(max_size=2000), st.sampled_from([None, "text/html; charset=utf-8", "text/html; charset=koi8-r"])
)
def test_decoding_never_fails(data: bytes, content_type: str | None):
    assert isinstance(decode_page(data, content_type), str)


@FAST
@given(NEWS)
def test_tagging_keeps_offsets_that_point_into_the_text(text: str):
    for sentence in split_sentences(text):
        assert text[sentence.start : sentence.end] == sentence.text
    tagging = tag_article(text, STORY)
    for mention in tagging.mentions:
        assert text[mention.start : mention.end] == mention.surface
    for observation in tagging.observations:
        assert text[observation.start : observation.end] == observation.evidence


@FAST
@given(st.text(max_size=200))
def test_url_helpers_never_raise(value: str):
    result = canonical_url(value, base="https://example.com/feed")
    assert result is None or result.startswith(("http://", "https://"))
    assert isinstance(unwrap_redirect("https://news.google.com/rss/articles/" + value), str)
