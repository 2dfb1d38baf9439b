"""Generic titles (issue 19): the site's and the section's names cut in any script's
separators, and a heading whose parts run together written with its separator."""

from __future__ import annotations

import pytest

from crawler.pages import PageParseError, read_article

BODY = "".join(f"<p>Paragraph {i} of the article tells the reader something at length, with a "
               f"few clauses and numbers, and a full stop at its end.</p>" for i in range(8))


def page(title: str, og: str, h1: str | None, section: str = "", site: str = "Example") -> str:
    meta = f"<meta property='og:title' content=\"{og}\"><meta property='og:site_name' content='{site}'>"
    if section:
        meta += f"<meta property='article:section' content='{section}'>"
    heading = f"<h1>{h1}</h1>" if h1 is not None else ""
    return (f"<html><head><title>{title}</title>{meta}</head><body><article>{heading}"
            f"<div class='text'>{BODY}</div></article></body></html>")


@pytest.mark.parametrize(("raw", "site", "section"), [
    ("장동혁, 한동훈 제명했지만 부담 커졌다-정치ㅣ한국일보", "한국일보", "정치"),
    ("国务院召开常务会议部署经济工作 - 时政丨人民网", "人民网", "时政"),
    ("The minister resigns after the vote - Politics | Example Times", "Example Times", "Politics"),
    ("Der Minister tritt nach der Abstimmung zurück – Politik | Beispiel-Zeitung",
     "Beispiel-Zeitung", "Politik"),
])
def test_the_site_and_section_names_are_cut_in_any_separator(raw: str, site: str, section: str) -> None:
    item = read_article(page(raw, raw, None, section, site), "https://news.example/2025/01/02/a")
    want = raw.split(site)[0].rstrip(" |ㅣ丨-–")[: -len(section)].rstrip(" -–|ㅣ丨")
    assert item["title"] == want


def test_a_title_that_ends_in_a_word_like_a_section_keeps_it_when_no_site_name_is_cut() -> None:
    raw = "Why the vote matters for Politics"
    item = read_article(page(raw, raw, raw, "Politics"), "https://news.example/2025/01/02/a")
    assert item["title"] == raw


@pytest.mark.parametrize(("h1", "og"), [
    ("<span class='kicker'>Nationale Demo</span>Der 9. Juli naht: die Gewerkschaften demonstrieren",
     "Nationale Demo / Der 9. Juli naht: die Gewerkschaften demonstrieren"),
    ("<small>Election night</small><span>The count goes on into the morning</span>",
     "Election night: The count goes on into the morning"),
])
def test_a_heading_whose_parts_run_together_takes_the_metadata_separator(h1: str, og: str) -> None:
    item = read_article(page(og + " | Example", og, h1), "https://news.example/2025/01/02/a")
    assert item["title"] == og


def _app_named(title: str) -> str:
    """A page with no og:site_name whose ``application-name`` is its own title (msn.com's
    article pages)."""
    return (f"<html><head><title>{title}</title><meta name='application-name' content='{title}'>"
            f"</head><body><article><h1>{title}</h1><div class='text'>{BODY}</div></article>"
            "</body></html>")


def test_an_application_name_that_is_the_pages_own_title_is_no_site_name() -> None:
    title = "UK university student halls too full to be safe, experts warn"
    url = "https://www.example.com/en-gb/news/uknews/uk-university-student-halls/ar-BB19DUqK"
    item = read_article(_app_named(title), url)
    assert item["title"] == title
    assert item["site_name"] is None


def test_on_the_site_root_an_application_name_equal_to_the_title_still_names_the_site() -> None:
    with pytest.raises(PageParseError, match="home page"):
        read_article(_app_named("The Example Blog"), "https://blog.example.com/")


def _with_headline(html: str, headline: str) -> str:
    ld = f'<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "{headline}"}}</script>'
    return html.replace("</head>", ld + "</head>")


@pytest.mark.parametrize("kicker", ["Election night: ", "Election night - ", "Election night – "])
def test_og_title_drops_the_kicker_the_h1_sets_before_the_headline(kicker: str) -> None:
    headline = "The count goes on into the morning"
    html = _with_headline(page(kicker + headline + " | Example", headline, kicker + headline),
                          kicker + headline)
    assert read_article(html, "https://news.example/2025/01/02/a")["title"] == headline


def test_og_title_keeps_the_kicker_the_h1_leaves_out() -> None:
    headline, full = "The count goes on into the morning", "Election night: The count goes on into the morning"
    html = _with_headline(page(full + " | Example", full, headline), headline)
    assert read_article(html, "https://news.example/2025/01/02/a")["title"] == full


def test_an_og_title_that_is_not_the_headline_with_a_kicker_does_not_replace_it() -> None:
    # (a part before the headline with no colon or dash is no kicker; nor is a long sentence)
    for og in ("Breaking The count goes on into the morning",
               "A much longer sentence that tells the whole story of the night: "
               "The count goes on into the morning"):
        h1 = "The count goes on into the morning"
        html = _with_headline(page(h1 + " | Example", og, h1), h1)
        assert read_article(html, "https://news.example/2025/01/02/a")["title"] == h1


@pytest.mark.parametrize(("heading", "og"), [
    # the kicker in an element of its own, run into the headline the og:title gives alone
    ("<span class='kicker'>Opinion</span><span>Why the count goes on into the morning</span>",
     "Why the count goes on into the morning"),
    ("<span class='kicker'>Election night</span> <span>The count goes on into the morning</span>",
     "Election night: The count goes on into the morning"),
])
def test_a_heading_with_a_kicker_run_in_says_the_og_title(heading: str, og: str) -> None:
    # The h1 is the breadcrumb's SEO title; the article's own heading is the h2.
    seo = "Election results: the count goes on, and on | Example"
    html = (f"<html><head><title>{seo}</title><meta property='og:title' content='{og}'>"
            f"<meta property='og:site_name' content='Example'></head><body>"
            f"<nav><ol><li><h1>{seo}</h1></li></ol></nav><article><header><h2>{heading}</h2>"
            f"</header><div class='text'>{BODY}</div></article></body></html>")
    html = _with_headline(html, "Election results: the count goes on, and on")
    assert read_article(html, "https://news.example/2025/01/02/a")["title"] == og



def test_an_h1_that_is_the_og_title_with_words_added_gives_way_to_it() -> None:
    og = "The count goes on into the morning"
    h1 = og + " as the last districts report"
    html = _with_headline(page(h1 + " | Example", og, h1), h1)
    assert read_article(html, "https://news.example/2025/01/02/a")["title"] == og


def test_an_og_title_much_shorter_than_the_h1_is_no_headline_of_it() -> None:
    og = "The count goes on into the night"
    h1 = og + " as the last districts report, and the party leaders wait for their results"
    html = _with_headline(page(h1 + " | Example", og, h1), h1)
    assert read_article(html, "https://news.example/2025/01/02/a")["title"] == h1


def test_two_titles_with_kickers_of_their_own_share_the_headline() -> None:
    headline = "The count goes on into the morning"
    h1, og = "Election night - " + headline, "After the polls closed: " + headline
    html = _with_headline(page(h1 + " | Example", og, h1), h1)
    assert read_article(html, "https://news.example/2025/01/02/a")["title"] == headline


def test_the_same_kicker_with_another_separator_is_no_kicker_of_its_own() -> None:
    headline = "The count goes on into the morning"
    og = "Election night: " + headline
    html = _with_headline(page(og + " | Example", og, headline), "Election night - " + headline)
    assert read_article(html, "https://news.example/2025/01/02/a")["title"] == og
