"""The published day of a generic page: which of the page's dates is its publication day.

Small pages written here, each in several markups and languages: the metadata's instant, the
date line the reader sees, the URL's date, and how they are weighed against each other.
"""

from __future__ import annotations

import pytest

from crawler.pages import read_article

_BODY = (
    "The council met on Tuesday evening to discuss the new plans for the harbour district. "
    "Residents had asked for more time to read the proposals, and the mayor agreed to it. "
) * 4


def page(head: str = "", dateline: str = "", lang: str = "en", title: str = "The headline") -> str:
    return (
        f"<html lang='{lang}'><head><title>{title} - Example News</title>{head}</head><body>"
        "<nav><a href='/'>Home</a> <a href='/world/'>World</a></nav>"
        f"<article><h1>{title}</h1>{dateline}<div class='text'><p>{_BODY}</p>"
        f"<p>{_BODY}</p></div></article><footer>© Example News</footer></body></html>"
    )


def jsonld(published: str, modified: str | None = None) -> str:
    extra = f', "dateModified": "{modified}"' if modified else ""
    return (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "The headline",'
        f' "datePublished": "{published}"{extra}}}</script>'
    )


def og(published: str) -> str:
    return f"<meta property='article:published_time' content='{published}'>"


# -- a UTC instant and the local day the date line shows ---------------------------------------


@pytest.mark.parametrize(
    ("head", "dateline", "lang", "day"),
    [
        # late evening UTC: the next day east of UTC (Berlin, Rome, Vienna)
        (og("2021-11-04T23:00Z"), "<p class='date'>5. November 2021</p>", "de", "2021-11-05"),
        (jsonld("2023-11-01T23:01:00Z"), "<div class='meta'>02 Novembre 2023</div>", "it",
         "2023-11-02"),
        (jsonld("2019-10-18T22:04:00Z"), "<span>19. Oktober 2019 00:04 Uhr</span>", "de",
         "2019-10-19"),
        # early morning UTC: the day before west of UTC (the Americas)
        (jsonld("2023-11-09T02:11:03+00:00"), "<p class='byline'>November 8, 2023</p>", "en-US",
         "2023-11-08"),
        (og("2023-11-09T06:35:29+00:00"), "<time>Nov 8, 2023 10:35 PM</time>", "en-US",
         "2023-11-08"),
    ],
)
def test_a_utc_instant_is_the_day_the_date_line_shows(
    head: str, dateline: str, lang: str, day: str
) -> None:
    item = read_article(page(head, dateline, lang), "https://news.example/world/a-story")
    assert item["published_source"] != "dateline"  # the metadata still gives the instant
    assert item["published_day"] == day


@pytest.mark.parametrize(
    ("head", "dateline", "lang", "day"),
    [
        # 13:23Z is the same day almost everywhere: a date line a day later is an update
        (jsonld("2024-08-04T13:23:00Z"), "<p class='date'>Updated 5 Aug 2024</p>", "en-GB",
         "2024-08-04"),
        # the date line's time is another moment (21:18 is no zone's wall time of 14:03Z)
        (jsonld("2025-06-28T14:03:53+00:00"), "<p>Akt.: 29. Juni 2025 - 21.18 Uhr</p>", "de",
         "2025-06-28"),
        # a value with its own offset is the page's local time already
        (jsonld("2024-04-25T19:30:04+02:00"), "<p class='date'>26.04.2024</p>", "de",
         "2024-04-25"),
        (og("2024-12-03T23:17:00+09:00"), "<time>2024/12/04 00:05</time>", "ja", "2024-12-03"),
        # two days off is no time zone
        (og("2021-11-04T23:00Z"), "<p class='date'>6. November 2021</p>", "de", "2021-11-04"),
    ],
)
def test_a_date_line_that_is_not_the_instant_leaves_the_metadata_day(
    head: str, dateline: str, lang: str, day: str
) -> None:
    item = read_article(page(head, dateline, lang), "https://news.example/world/a-story")
    assert item["published_day"] == day


# -- a UTC instant and the day the URL is dated --------------------------------------------------


@pytest.mark.parametrize(
    ("head", "url", "day"),
    [
        # an evening in the Americas: the UTC value is the next day
        (jsonld("2020-02-25T02:25:54+00:00"), "https://news.example/2020/02/24/a-story/",
         "2020-02-24"),
        # past midnight in Europe: the UTC value is the day before
        (og("2018-12-31T23:11:59+00:00"), "https://blog.example/2019/01/01/ins-neue-jahr/",
         "2019-01-01"),
        (jsonld("2023-11-01T23:01:00Z"), "https://giornale.example/esteri/2023/11/02/diretta/",
         "2023-11-02"),
        # 10:04Z is the morning of the 9th in the Americas too: the URL names the day it was
        # first planned, the instant is the day
        (jsonld("2020-07-09T10:04:04Z"), "https://news.example/politics/2020/07/08/a-story/",
         "2020-07-09"),
        # a value with its own offset is its own day
        (og("2020-02-25T02:25:54+01:00"), "https://news.example/2020/02/24/a-story/",
         "2020-02-25"),
    ],
)
def test_a_utc_instant_and_the_urls_day(head: str, url: str, day: str) -> None:
    item = read_article(page(head), url)
    assert item["published_day"] == day


# -- a day without its time gives way to the date line, and a weaker layer does not overrule it --


def microdata_day(day: str) -> str:
    return f"<meta itemprop='datePublished' content='{day}'>"


@pytest.mark.parametrize(
    ("head", "dateline", "lang"),
    [
        (microdata_day("2022-01-27") + "<meta name='date' content='2022-01-21T15:38:44+01:00'>",
         "<p class='date'>27.01.2022</p>", "de"),
        (jsonld("2022-01-27") + "<meta name='dcterms.date' content='2022-01-21T15:38:44+01:00'>",
         "<p class='date'>January 27, 2022</p>", "en"),
        (jsonld("2022-01-27") + "<meta name='DC.date' content='2022-01-21T09:43+01:00'>",
         "<div class='meta'>27 janvier 2022</div>", "fr"),
    ],
)
def test_a_weaker_layer_does_not_overrule_a_day_and_its_date_line(
    head: str, dateline: str, lang: str
) -> None:
    item = read_article(page(head, dateline, lang), "https://news.example/world/a-story")
    assert item["published_source"] == "dateline"
    assert item["published_day"] == "2022-01-27"


def test_a_weaker_layer_that_agrees_with_the_date_line_gives_the_minute() -> None:
    head = microdata_day("2022-01-27") + "<meta name='date' content='2022-01-27T15:38:00+01:00'>"
    item = read_article(page(head, "<p class='date'>27.01.2022</p>", "de"),
                        "https://news.example/world/a-story")
    assert item["published"] == "2022-01-27T15:38+01:00"


def test_without_a_day_to_defer_the_metadata_still_wins_over_the_date_line() -> None:
    head = "<meta name='date' content='2022-01-21T15:38:44+01:00'>"
    item = read_article(page(head, "<p class='date'>27.01.2022</p>", "de"),
                        "https://news.example/world/a-story")
    assert item["published_source"] == "meta"
    assert item["published_day"] == "2022-01-21"


# -- a year alone is no day --------------------------------------------------------------------
def _footer_year(year_note: str) -> str:
    return page().replace("© Example News", f"© {year_note} Example News")


def test_a_copyright_year_alone_gives_no_published_day() -> None:
    """htmldate's last resort is the copyright year's 1 January: a day the page never shows."""
    item = read_article(_footer_year("2016"), "https://news.example/harbour-plans")
    assert item["published"] is None
    assert item["published_day"] is None


@pytest.mark.parametrize("shown", ["2016-01-01", "1 January 2016", "01.01.2016", "2016年1月1日"])
def test_a_first_of_january_the_page_shows_is_kept(shown: str) -> None:
    html = _footer_year("2016").replace("<div class='text'>", f"<p class='x'>{shown}</p><div class='text'>", 1)
    item = read_article(html, "https://news.example/harbour-plans")
    assert item["published_day"] == "2016-01-01"


def test_a_first_of_january_in_the_url_is_kept() -> None:
    item = read_article(_footer_year("2016"), "https://news.example/2016/01/01/harbour-plans")
    assert item["published_day"] == "2016-01-01"


# -- microdata -----------------------------------------------------------------------------------


def test_microdata_on_an_abbr_is_read_from_its_title() -> None:
    # (Blogger's template, the microformats' abbr pattern: the text shows the time only)
    published = ("<span class='byline'><abbr class='published' itemprop='datePublished' "
                 "title='2017-09-09T10:52:00+02:00'>10:52</abbr></span>")
    item = read_article(page(dateline=published + "<p>Comment of 14.08.2017</p>", lang="de"),
                        "https://blog.example/2017/09/a-post.html")
    assert item["published"] == "2017-09-09T10:52+02:00"
    assert item["published_source"] == "microdata"


# -- a date the text labels as the publication -------------------------------------------------


def _undated(footer: str, lang: str) -> str:
    """A page with no date metadata and no date line by its title: the date is in a footer
    below a long article."""
    more = "".join(f"<p>Paragraph {i}. {_BODY}</p>" for i in range(14))
    return page(lang=lang).replace("</div></article>", f"{more}</div></article>", 1).replace(
        "<footer>", f"<footer><p>{footer}</p>", 1
    )


@pytest.mark.parametrize(
    ("footer", "lang", "day"),
    [
        ("Letzte Änderung: 31.10.2023 - 14:49:39<br>Erschienen am: 01.11.2023", "de",
         "2023-11-01"),
        ("Kommentar vom 24.08.2019 14:02<br>Veröffentlicht am 16.08.2019", "de", "2019-08-16"),
        ("Dieser Beitrag wurde am Samstag, 3. Dezember 2011 um 10:04 Uhr veröffentlicht.",
         "de", "2011-12-03"),
        ("Last updated 2 June 2020 · Posted on May 3, 2020 by the editors", "en", "2020-05-03"),
        ("Mis à jour le 3 juillet 2019 — Publié le 29 juin 2019", "fr", "2019-06-29"),
    ],
)
def test_a_date_the_text_labels_as_published_is_the_published_day(
    footer: str, lang: str, day: str
) -> None:
    item = read_article(_undated(footer, lang), "https://news.example/world/a-story")
    assert item["published_day"] == day
    assert item["published_source"] == "labelled"


def test_the_word_published_without_a_date_after_it_labels_nothing() -> None:
    footer = "Deine E-Mail-Adresse wird nicht veröffentlicht. Stand: 24.08.2019"
    item = read_article(_undated(footer, "de"), "https://news.example/world/a-story")
    assert item["published_source"] != "labelled"


# -- a <time> whose text shows another day --------------------------------------------------------


@pytest.mark.parametrize(
    ("dateline", "lang", "day"),
    [
        # the text is a whole date days from the attribute: the attribute is another event
        ("<time datetime='2019-07-03T10:18:46Z'>Publié le 29 juin 2019</time>", "fr",
         "2019-06-29"),
        ("<time datetime='2021-03-14T20:10:50Z'>March 8, 2021</time>", "en", "2021-03-08"),
        # a day apart: the local day of the UTC instant, whose minute is kept
        ("<time datetime='2021-11-04T23:00:00Z'>5. November 2021</time>", "de", "2021-11-05"),
    ],
)
def test_a_time_whose_text_shows_another_day_is_that_day(
    dateline: str, lang: str, day: str
) -> None:
    item = read_article(page(dateline=f"<div class='time'>{dateline}</div>", lang=lang),
                        "https://news.example/world/a-story")
    assert item["published_source"] == "time"
    assert item["published_day"] == day


# -- a numeral read both ways ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta_value", "dateline", "day"),
    [
        # both readings are dates: the date line says which one the page means
        ("11/01/2023 12:43:42", "<p class='date'>Erstellt am: 01.11.2023</p>", "2023-11-01"),
        ("11/01/2023 12:43:42", "<p class='date'>11. Januar 2023</p>", "2023-01-11"),
        # one reading only (25 is no month): the date line does not change it
        ("25/01/2023 12:43:42", "<p class='date'>01.11.2023</p>", "2023-01-25"),
    ],
)
def test_a_numeral_of_two_readings_is_read_as_the_date_line_shows(
    meta_value: str, dateline: str, day: str
) -> None:
    head = f"<meta name='date' content='{meta_value}'>"
    item = read_article(page(head, dateline, "de"), "https://news.example/world/a-story")
    assert item["published_source"] == "meta"
    assert item["published_day"] == day


def test_a_yearless_date_line_takes_its_year_from_the_pages_other_date() -> None:
    # (NHK's date line "06月24日 11時30分"; the URL has no date to give the year)
    html = page(dateline="<p class='date'>06月24日 11時30分</p>", lang="ja").replace(
        "<footer>", "<footer><p>関連記事 2019-06-19</p>", 1
    )
    item = read_article(html, "https://news.example/news/k10011959621000.html")
    assert item["published_source"] == "dateline"
    assert item["published"] == "2019-06-24T11:30+09:00"


@pytest.mark.parametrize(
    ("opening", "day"),
    [
        ("Karlsruhe, (12.11.2021). Traditionell gedenken die Gemeinden", "2021-11-12"),
        ("Berlin, 28.10.2021 – Das Rote Kreuz warnt", "2021-10-28"),
        ("NEW YORK, March 3, 2020 — The company said", "2020-03-03"),
    ],
)
def test_the_place_and_day_the_first_paragraph_opens_with(opening: str, day: str) -> None:
    html = _undated("Kommentar vom 24.08.2022", "de").replace("<p>", f"<p>{opening}. ", 1)
    item = read_article(html, "https://news.example/world/a-story")
    assert item["published_source"] == "opening"
    assert item["published_day"] == day


def test_a_sentence_that_opens_with_a_day_is_no_dateline() -> None:
    html = _undated("", "de").replace("<p>", "<p>Am 12.11.2021 trafen sich alle. ", 1)
    item = read_article(html, "https://news.example/world/a-story")
    assert item["published_source"] != "opening"
