"""Sentences, HTML fragments, canonical URLs and article pages: the text everything else reads."""

from __future__ import annotations

from datetime import date

import pytest

from extractors.html import html_to_text
from extractors.pages import ExtractionError, extract_page
from extractors.sentences import split_sentences
from extractors.urls import canonical_url

# split_sentences


def texts(text: str) -> list[str]:
    return [sentence.text for sentence in split_sentences(text)]


def test_sentence_offsets_index_the_original_text() -> None:
    text = "  Starmer met Trump.  Britain is ready!\n\nIs America?  Nobody knows.  "

    sentences = split_sentences(text)

    assert [s.text for s in sentences] == [
        "Starmer met Trump.",
        "Britain is ready!",
        "Is America?",
        "Nobody knows.",
    ]
    assert [s.index for s in sentences] == [0, 1, 2, 3]
    for sentence in sentences:
        assert text[sentence.start : sentence.end] == sentence.text


def test_abbreviations_and_initials_do_not_end_a_sentence() -> None:
    text = (
        "The U.S. President met Mr. Lavrov on Jan. 5 in Riyadh. Donald J. Trump then left for the U.K. later."
    )

    assert texts(text) == [
        "The U.S. President met Mr. Lavrov on Jan. 5 in Riyadh.",
        "Donald J. Trump then left for the U.K. later.",
    ]


def test_closing_quotes_stay_with_their_sentence() -> None:
    text = 'He said: “We are ready.” Paris agreed. She asked, "Who pays?" Nobody answered.'

    sentences = split_sentences(text)

    assert [s.text for s in sentences] == [
        "He said: “We are ready.”",
        "Paris agreed.",
        'She asked, "Who pays?"',
        "Nobody answered.",
    ]
    for sentence in sentences:
        assert text[sentence.start : sentence.end] == sentence.text


def test_a_quote_opening_the_next_sentence_starts_it() -> None:
    assert texts("Talks ended. “No deal yet,” an aide said.") == [
        "Talks ended.",
        "“No deal yet,” an aide said.",
    ]


def test_line_breaks_end_a_sentence_and_lower_case_does_not_start_one() -> None:
    text = "Headline without a stop\nThe troops arrive in Kyiv. via Poland, officials said. Then talks."

    assert texts(text) == [
        "Headline without a stop",
        "The troops arrive in Kyiv. via Poland, officials said.",
        "Then talks.",
    ]


def test_empty_text_has_no_sentences() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n\n ") == []


# html_to_text


def test_html_fragment_becomes_one_paragraph_per_line() -> None:
    fragment = "<p>Britain is <b>ready</b> to send troops.</p><p>Paris &amp; Berlin<br/>agree.</p>"

    assert html_to_text(fragment) == "Britain is ready to send troops.\nParis & Berlin\nagree."


def test_html_lists_and_white_space_are_tidied() -> None:
    fragment = "<ul>\n  <li>One&nbsp;item</li>\n\n  <li>  Two   items </li></ul>"

    assert html_to_text(fragment) == "One item\nTwo items"


def test_plain_text_is_unescaped_and_kept() -> None:
    assert html_to_text("Tom &amp; Jerry say 5 < 6") == "Tom & Jerry say 5 < 6"
    assert html_to_text("") == ""


def test_script_and_style_are_not_text() -> None:
    fragment = "<p>Hello</p><style>p{color:red}</style><script>track()</script><p>Bye</p>"

    assert html_to_text(fragment) == "Hello\nBye"


# canonical_url


def test_tracking_parameters_and_fragment_are_dropped() -> None:
    url = (
        "https://News.Example.com/world/uk-troops?utm_source=rss&id=7&fbclid=AbC123&utm_medium=feed#comments"
    )

    assert canonical_url(url) == "https://news.example.com/world/uk-troops?id=7"


def test_same_article_linked_two_ways_has_one_url() -> None:
    assert canonical_url("https://news.example.com/a.html?utm_campaign=x") == canonical_url(
        "https://NEWS.example.com/a.html#top"
    )


def test_relative_url_is_joined_against_the_base() -> None:
    base = "https://news.example.com/feeds/world.rss"

    assert (
        canonical_url("/articles/a.html?utm_medium=rss", base) == "https://news.example.com/articles/a.html"
    )
    assert canonical_url("b.html", base) == "https://news.example.com/feeds/b.html"
    # An absolute URL ignores the base.
    assert canonical_url("https://other.example.org/c", base) == "https://other.example.org/c"


@pytest.mark.parametrize(
    "url",
    [
        "mailto:desk@example.com",
        "javascript:void(0)",
        "ftp://example.com/a",
        "urn:x:y",
        "",
        "   ",
        "http://[bad",
    ],
)
def test_what_cannot_be_an_article_address_is_none(url: str) -> None:
    assert canonical_url(url) is None


# extract_page

PARAGRAPHS = [
    "Keir Starmer said on Tuesday that Britain was ready to deploy troops to Ukraine if a "
    "ceasefire held, and officials described the plans to reporters in some detail.",
    "Ministers in London met their French counterparts to discuss how a reassurance force "
    "could be organised, who would command it and how long it might stay in the country.",
    "Critics warned that without American air cover any such deployment would be exposed, "
    "and asked the government to publish its assessment of the risks before a vote.",
]


def article_page(*, lang: str = "en-GB", head: str = "", headline: str = "UK ready to send troops") -> str:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{headline}</title>{head}</head>"
        f"<body><nav><a href='/'>Home</a></nav><article><h1>{headline}</h1>{body}</article>"
        f"<footer>© Example News</footer></body></html>"
    )


def test_page_gives_text_title_author_date_and_language() -> None:
    head = (
        '<meta name="author" content="Jane Reporter">'
        '<meta property="article:published_time" content="2025-03-04T09:30:00+00:00">'
    )

    page = extract_page(article_page(head=head).encode(), "https://news.example.com/uk-troops.html")

    assert page.title == "UK ready to send troops"
    assert page.author == "Jane Reporter"
    assert page.published is not None and page.published.tzinfo is not None
    assert page.published.date() == date(2025, 3, 4)
    assert page.language == "en"
    assert page.text.split("\n") == PARAGRAPHS  # no navigation, no footer


def test_headline_is_not_repeated_in_the_body() -> None:
    page = extract_page(article_page(headline="Starmer repeats troops offer"))

    assert page.title == "Starmer repeats troops offer"
    assert page.text.startswith("Keir Starmer said on Tuesday")
    assert "Starmer repeats troops offer" not in page.text


def test_the_language_is_read_from_the_text_not_from_the_template() -> None:
    # Page templates often declare one language for every edition.
    assert extract_page(article_page(lang="fr")).language == "en"


@pytest.mark.parametrize("html", ["", "   \n", b"", b"\n\t"])
def test_empty_page_is_an_extraction_error(html: str | bytes) -> None:
    with pytest.raises(ExtractionError, match=r"^empty page$"):
        extract_page(html)


def test_script_only_page_is_an_extraction_error() -> None:
    html = "<html><head><script>var a = 1;</script></head><body><script>render()</script></body></html>"

    with pytest.raises(ExtractionError, match=r"no article text on the page \(\d+ characters\)"):
        extract_page(html)


def test_teaser_page_is_an_extraction_error() -> None:
    """A paywall teaser is shorter than the feed's own text would be: refuse it."""
    html = "<html><body><article><p>Subscribe to read about the troops.</p></article></body></html>"

    with pytest.raises(ExtractionError, match="no article text on the page"):
        extract_page(html)


def test_a_page_with_too_many_elements_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    import extractors.pages

    monkeypatch.setattr(extractors.pages, "MAX_TREE_SIZE", 100)
    paragraphs = "".join(
        f"<p>Paragraph {n} says the Kremlin opposed troops in Ukraine.</p>" for n in range(200)
    )
    with pytest.raises(ExtractionError, match=r"page too large: about 20\d elements \(limit 100\)"):
        extract_page(f"<html><body><article>{paragraphs}</article></body></html>")
