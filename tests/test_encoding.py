"""Pages in declared, undeclared and wrongly declared charsets come out as the right text."""

from __future__ import annotations

import pytest

from extractors.coverage import process_item
from extractors.encoding import decode_page
from extractors.feeds import parse_feed
from extractors.records import FeedItem
from extractors.story import load_story
from tests.conftest import SEED_STORY

FRENCH = "Le président a évoqué une « coalition » très forte – déjà 30 000 € promis à Kyiv."
RUSSIAN = "Министерство обороны России заявило, что иностранные войска станут законными целями."
GERMAN = "Die Bundesregierung prüft, ob deutsche Soldaten an einer Friedenstruppe teilnehmen; Größe unklar."
JAPANESE = "日本政府はウクライナへの部隊派遣について慎重な姿勢を示した。"


@pytest.mark.parametrize(
    ("text", "encoding", "content_type"),
    [
        pytest.param(FRENCH, "utf-8", "text/html; charset=utf-8", id="declared-right"),
        pytest.param(FRENCH, "utf-8", "text/html; charset=iso-8859-1", id="utf8-declared-latin1"),
        pytest.param(FRENCH, "cp1252", "text/html; charset=utf-8", id="cp1252-declared-utf8"),
        pytest.param(GERMAN, "cp1252", None, id="cp1252-undeclared"),
        pytest.param(GERMAN, "latin-1", "text/html; charset=ISO-8859-1", id="latin1-declared"),
        pytest.param(RUSSIAN, "cp1251", None, id="cp1251-undeclared"),
        pytest.param(RUSSIAN, "koi8-r", "text/html; charset=windows-1251", id="koi8r-declared-cp1251"),
        pytest.param(JAPANESE, "shift_jis", "text/html; charset=Shift_JIS", id="shift-jis-declared"),
        pytest.param("\ufeff" + GERMAN, "utf-8", "text/html; charset=cp1252", id="utf8-bom"),
    ],
)
def test_the_text_comes_out_right(text: str, encoding: str, content_type: str | None):
    assert decode_page(text.encode(encoding), content_type).lstrip("\ufeff") == text.lstrip("\ufeff")


def test_a_meta_charset_is_used_when_the_server_says_nothing():
    page = f'<html><head><meta charset="koi8-r"></head><body>{RUSSIAN}</body></html>'
    assert RUSSIAN in decode_page(page.encode("koi8-r"), "text/html")


def test_a_page_in_a_wrong_charset_is_extracted_and_tagged_correctly():
    story = load_story(SEED_STORY)
    sentence = "Moscow has opposed any deployment of foreign troops to Ukraine, the Kremlin’s spokesman said."
    filler = " ".join(["Diplomats met in Paris and London to discuss the plan – “a turning point”."] * 6)
    html = (
        f"<html><body><article><h1>Moscow’s “no”</h1><p>{sentence}</p><p>{filler}</p></article></body></html>"
    )
    item = FeedItem("f", "g", "http://127.0.0.1/a.html", "Moscow’s “no”", "", None)
    coverage = process_item(item, html.encode("cp1252"), "Outlet", story, "text/html; charset=utf-8")
    assert coverage.article.text_source == "page"
    assert sentence in coverage.article.text  # curly quotes and apostrophes intact
    assert ("russia", "rejects") in {(o.actor_id, o.stance) for o in coverage.tagging.observations}


def rss(title: str, declaration: str) -> str:
    return (
        f'<?xml version="1.0"{declaration}?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>{title}</title><link>https://news.example.com/a.html</link></item></channel></rss>"
    )


@pytest.mark.parametrize(
    ("text", "encoding", "declaration", "content_type"),
    [
        pytest.param(FRENCH, "cp1252", ' encoding="utf-8"', None, id="cp1252-declared-utf8"),
        pytest.param(FRENCH, "cp1252", "", "text/xml", id="cp1252-undeclared"),
        pytest.param(RUSSIAN, "koi8-r", "", "application/rss+xml", id="koi8r-undeclared"),
        pytest.param(RUSSIAN, "koi8-r", ' encoding="windows-1251"', None, id="koi8r-declared-cp1251"),
        pytest.param(RUSSIAN, "cp1251", ' encoding="windows-1251"', None, id="cp1251-declared"),
        pytest.param(RUSSIAN, "utf-16", ' encoding="utf-16"', None, id="utf16"),
    ],
)
def test_feeds_in_any_charset_give_the_right_titles(text, encoding, declaration, content_type):
    parsed = parse_feed(
        rss(text, declaration).encode(encoding), "f", "https://news.example.com/feed", content_type
    )
    assert parsed.error is None
    assert [item.title for item in parsed.items] == [text]
