"""Hostile input, unit by unit (issue 18): one bad byte costs one item, never a page or a feed.

Each test names the numbered point of the issue it shows. The end-to-end runs (a hostile
server, full and read-only disks) are in ``test_e2e_hostile.py``; the seeded fuzzing pass is
``test_fuzz_hostile.py``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.failures import ContainErrorsMiddleware, reason_of
from crawler.items import ArticleItem
from crawler.pages import jdefense as pages
from crawler.pages.feed import entry_to_item, parse_feed
from crawler.pipelines.normalize import plain_text
from crawler.sources import Source
from crawler.spiders.jdefense import JdefenseSpider
from crawler.urls import BadURL, canonical_url, join_url, split_url, url_netloc, url_path

SITE = Path(__file__).resolve().parents[1] / "defnews" / "demo_site"
MIRROR = "http://127.0.0.1:8999/"
REAL = "https://j-defense.ikaros.jp/"
BAD_URLS = ["https://ww].ikaros.jp/", "http://[::1/x", "https://a.example:99999/",
            "https://a.example:port/", "http://[v1.zzz/", "https://]/docs/mod/000001.html"]


# -- 1. one malformed link loses one link, never the page -----------------------------------
@pytest.mark.parametrize("url", BAD_URLS)
def test_url_helpers_never_raise(url):
    assert split_url(url) is None
    assert join_url(REAL, url) is None
    assert url_netloc(url) == "" and url_path(url) == ""
    with pytest.raises(BadURL, match="bad URL"):
        canonical_url(url)
    assert pages.article_number(url) is None


def test_url_helpers_read_good_urls_as_urllib_does():
    assert url_netloc("http://127.0.0.1:8999/x") == "127.0.0.1:8999"
    assert url_path("https://j-defense.ikaros.jp/docs/mod/001933.html") == "/docs/mod/001933.html"
    assert join_url(REAL, "/docs/mod/1.html") == REAL + "docs/mod/1.html"


def _spider() -> JdefenseSpider:
    crawler = get_crawler(JdefenseSpider)
    s = JdefenseSpider.from_crawler(crawler, base_url=MIRROR)
    crawler.stats.open_spider()
    return s


def _page(path: str, html: str) -> HtmlResponse:
    return HtmlResponse(MIRROR + path, body=html.encode("utf-8"), encoding="utf-8")


def test_malformed_link_on_a_listing_costs_that_link_only():
    html = (SITE / "index.html").read_text(encoding="utf-8")
    good = pages.parse_listing(html, MIRROR)["article_urls"]
    traps = "".join(f'<li><a href="{u}">罠</a></li>' for u in
                    ["https://ww].ikaros.jp/", "https://ww].ikaros.jp/docs/mod/000001.html",
                     "//[::1/docs/mod/000002.html"])
    html = html.replace('<main id="main">', f'<main id="main"><ul>{traps}</ul>', 1)
    s = _spider()
    out = list(s.parse_listing(_page("", html), page=1))
    requested = {r.url for r in out if isinstance(r, Request)}
    assert set(good) <= requested and len(good) > 5


def test_malformed_canonical_falls_back_to_the_page_address():
    html = (SITE / "docs/mod/001933.html").read_text(encoding="utf-8").replace(
        '<link rel="canonical" href="/docs/mod/001933.html">',
        '<link rel="canonical" href="https://ww].ikaros.jp/docs/mod/001933.html">')
    s = _spider()
    (item,) = [o for o in s.parse_article(_page("docs/mod/001933.html", html))
               if isinstance(o, ArticleItem)]
    assert item.url == REAL + "docs/mod/001933.html"


def test_an_exception_in_a_callback_costs_that_page_counted_and_named(caplog):
    crawler = get_crawler(JdefenseSpider)
    crawler.stats.open_spider()
    middleware = ContainErrorsMiddleware.from_crawler(crawler)
    response = _page("docs/mod/000042.html", "<html></html>")
    with caplog.at_level(logging.ERROR):
        assert list(middleware.process_spider_exception(response, ValueError("Invalid IPv6 URL"))) == []
    stats = crawler.stats.get_stats()
    assert stats["defnews/failed"] == 1
    assert stats["defnews/failed/page_could_not_be_read"] == 1
    assert f"Failed {MIRROR}docs/mod/000042.html: page could not be read (ValueError: Invalid IPv6 URL)" in caplog.text


# -- 12. never an empty reason ----------------------------------------------------------------
def test_an_error_without_a_message_is_named_by_its_type():
    assert reason_of(TimeoutError()) == "TimeoutError"
    assert reason_of(ValueError("  ")) == "ValueError"
    assert reason_of(OSError(28, "No space left on device")) == "OSError: [Errno 28] No space left on device"


def test_one_line_formatter_never_logs_an_empty_reason():
    from defnews.cli import OneLineFormatter

    try:
        raise TimeoutError()
    except TimeoutError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "fetching %s failed",
                                   ("https://a.example/",), sys.exc_info())
    line = OneLineFormatter("%(message)s").format(record)
    assert line == "fetching https://a.example/ failed (TimeoutError)"


# -- 4. one bad character never kills a feed ------------------------------------------------
def _rss(*titles: str) -> bytes:
    items = "".join(f"<item><title>{t}</title><link>https://x.example/{n}</link></item>"
                    for n, t in enumerate(titles))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
            f"<link>https://x.example/</link>{items}</channel></rss>").encode()


@pytest.mark.parametrize("ref", ["&#xD800;", "&#xdfff;", "&#1114112;", "&#x110000;",
                                 "&#99999999999999999999;"])
def test_a_reference_to_no_character_costs_that_character(ref):
    feed = parse_feed(_rss(f"a {ref} b", "good one"), "https://x.example/feed.xml")
    assert [e["title"] for e in feed.entries] == ["a \ufffd b", "good one"]
    assert feed.replaced_chars == 1


SOURCE = Source(key="wire", name="Wire", kind="feed", urls=("https://x.example/feed.json",),
                language="en")


def test_json_feed_fields_of_the_wrong_type_are_ignored_with_a_warning():
    body = b"""{"version": "https://jsonfeed.org/version/1.1", "title": ["not", "text"],
      "author": "nobody", "items": [
        {"id": "1", "url": "https://x.example/1", "title": "Tags true", "tags": true,
         "date_published": 20240101, "authors": "Ann", "attachments": {"url": "x"},
         "content_html": {"html": 1}, "summary": 3, "image": false},
        {"id": 2, "url": "https://x.example/2", "title": "Good", "tags": ["a", 3, "b"]},
        "not an object"]}"""
    feed = parse_feed(body, "https://x.example/feed.json")
    assert [e["title"] for e in feed.entries] == ["Tags true", "Good"]
    assert feed.entries[0]["categories"] == [] and feed.entries[1]["categories"] == ["a", "b"]
    assert feed.entries[0]["published_raw"] is None and feed.entries[1]["guid"] == "2"
    warnings = "\n".join(feed.warnings)
    for field in ("'title' is list", "'tags' is bool", "'date_published' is int",
                  "'authors' is str", "'attachments' is dict", "'content_html' is dict",
                  "'summary' is int", "'image' is bool", "1 value(s) of 'tags' not str",
                  "1 item(s) not an object"):
        assert field in warnings, field
    assert [entry_to_item(e, SOURCE).title for e in feed.entries] == ["Tags true", "Good"]


def test_an_entry_the_reader_cannot_read_is_counted_the_others_kept(monkeypatch):
    import crawler.pages.feed as feed_module

    real = feed_module._xml_entry

    def broken(e, base):
        if "bug" in e.get("title", ""):
            raise RuntimeError("a bug")
        return real(e, base)

    monkeypatch.setattr(feed_module, "_xml_entry", broken)
    feed = parse_feed(_rss("one", "bug here", "three"), "https://x.example/feed.xml")
    assert [e["title"] for e in feed.entries] == ["one", "three"]
    assert feed.failed_entries == ["entry 2: RuntimeError: a bug"]
    assert feed.total_entries == 3


# -- 5. escaped control characters ----------------------------------------------------------
@pytest.mark.parametrize(("raw", "text"), [
    ("a &amp;#14; b", "a b"), ("x &#14; y", "x y"), ("&amp;#x1F;t", "t"), ("&amp;amp;#0;", ""),
    ("q&#xD800;", "q"), ("&#1114112;r", "r"), ("a\x0eb", "ab"), ("&#x41;&#66;", "AB"),
])
def test_escaped_control_characters_are_removed_not_fatal(raw, text):
    assert plain_text(raw) == text


def test_control_characters_never_reach_the_html():
    from crawler.pages.html import clean_html

    assert clean_html("<p>a&#14;b\x0ec</p>", "https://x.example/") == "<p>abc</p>"
