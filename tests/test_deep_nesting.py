"""Deep but legal nesting (issue #18 point 11): content nested 250 levels or more was cut by
libxml2's HTML parser (it stops at depth 256 and drops the rest of the page), so the page was
dropped as "missing published". Pages are now read whole to the depth libxml2 allows with
huge_tree (2048), by every layer of the reader (no Python walk recurses per level), and a page
deeper than that is refused with that reason.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from crawler.pages import reader
from crawler.pages import site as pages
from crawler.pages.html import PageTooDeep, clean_html, extract_jsonld, parse_html
from crawler.pages.profiles import profile_of, source_for, with_bundled_profile
from crawler.pipelines.normalize import plain_text
from crawler.spiders.jdefense import JdefenseSpider

SITE = Path(__file__).resolve().parents[1] / "defnews" / "demo_site"
TEMPLATE = (SITE / "docs" / "mod" / "001933.html").read_text(encoding="utf-8")
URL = "https://j-defense.ikaros.jp/docs/mod/001933.html"
TITLE = "中谷防衛大臣、NATO国防相会合及び各国国防大臣との会談等に出席(10月17日)"
DATELINE = "2024-10-22 18:15"
LEAD = "防衛省は令和6(2024)年10月18日(金)01時35分(現地時間)"
LAST = "(以上)"
PROFILE = profile_of(with_bundled_profile(source_for("jdefense", None)))


def wrapped(depth: int) -> str:
    """The whole article (header, date line, body) inside ``depth`` <div>s."""
    return TEMPLATE.replace('<main id="main">', "<div>" * depth + '<main id="main">', 1) \
        .replace("</main>", "</main>" + "</div>" * depth, 1)


def body_nested(depth: int) -> str:
    """The body's paragraphs inside ``depth`` <div>s within the entry body."""
    return TEMPLATE.replace('<div class="entry-body">', '<div class="entry-body">' + "<div>" * depth, 1) \
        .replace(f"<p>{LAST}</p>", f"<p>{LAST}</p>" + "</div>" * depth, 1)


def lead_in_spans(depth: int) -> str:
    """The lead paragraph's text inside ``depth`` nested inline <span>s."""
    return TEMPLATE.replace('<p class="lead">', '<p class="lead">' + "<span>" * depth, 1) \
        .replace("公表した。</p>", "公表した。" + "</span>" * depth + "</p>", 1)


def date_nested(depth: int) -> str:
    """Only the date line nested ``depth`` levels down."""
    line = f'<p class="date">{DATELINE}</p>'
    return TEMPLATE.replace(line, "<div>" * depth + line + "</div>" * depth, 1)


SHAPES = {"wrapped": wrapped, "body": body_nested, "spans": lead_in_spans, "date": date_nested}
READERS = {
    "generic": lambda html: reader.read_article(html, URL),
    "site": lambda html: pages.parse_article(html, URL, PROFILE),
}


@pytest.mark.parametrize("depth", [300, 1000, 2000])
@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("read", sorted(READERS))
def test_deep_but_legal_nesting_is_read_whole(read, shape, depth):
    item = READERS[read](SHAPES[shape](depth))
    assert item["title"] == TITLE
    assert item["published_raw"] == DATELINE  # (it was None past depth 256: "missing published")
    text = plain_text(item["content_html"])
    assert LEAD in text and LAST in text  # the body from its first paragraph to its last


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("read", sorted(READERS))
def test_nesting_deeper_than_libxml2_builds_is_refused_with_that_reason(read, shape):
    with pytest.raises(PageTooDeep) as info:
        READERS[read](SHAPES[shape](5000))
    assert "nested deeper than 2048 levels: cannot be read whole" in str(info.value)
    assert URL in str(info.value)


def test_listing_and_document_parses_refuse_too_deep_pages_too():
    assert "(以上)" in "".join(parse_html(wrapped(2000)).itertext())
    with pytest.raises(PageTooDeep):
        parse_html(wrapped(5000))
    with pytest.raises(PageTooDeep):
        pages.parse_listing(wrapped(5000), URL, PROFILE)


def test_the_trafilatura_layer_reads_a_deep_page_whole():
    """trafilatura parses a page with its own parser (cut at level 256): a deep page is given
    a tree read as deep as the reader read it."""
    page = reader.Page(html=body_nested(1000), url=URL, profile=reader.GENERIC, generic=True)
    reader.parse(page)
    assert page.deep
    out = reader._trafilatura(page)
    assert out is not None
    _html, text = out
    assert LEAD.split("(")[0] in text and "中谷防衛大臣は、ルッテNATO事務総長との会談を行いました" in text


def test_an_ordinary_page_is_not_read_as_deep():
    page = reader.Page(html=TEMPLATE, url=URL, profile=reader.GENERIC, generic=True)
    reader.parse(page)
    assert not page.deep


@pytest.mark.parametrize("depth", [300, 2000])
def test_sanitizing_and_text_extraction_keep_deep_content(depth):
    fragment = "<div>" * depth + "<p>奥の本文</p>" + "</div>" * depth + "<p>後の段落</p>"
    cleaned = clean_html(fragment, "https://example.org/")
    assert "奥の本文" in cleaned and "後の段落" in cleaned
    assert plain_text(fragment) == "奥の本文 後の段落"


def test_json_ld_nested_deeper_than_the_python_stack_is_skipped_not_fatal():
    nested = "[" * 5000 + '{"@type": "NewsArticle", "headline": "x"}' + "]" * 5000
    html = TEMPLATE.replace("</head>", f'<script type="application/ld+json">{nested}</script></head>', 1)
    tree = parse_html(html)
    assert extract_jsonld(tree) in ([], [{"@type": "NewsArticle", "headline": "x"}])
    assert pages.parse_article(html, URL, PROFILE)["published_raw"] == DATELINE


MIRROR = "http://127.0.0.1:8999/"


def crawl_page(html: str):
    crawler = get_crawler(JdefenseSpider, {})
    spider = JdefenseSpider.from_crawler(crawler, base_url=MIRROR)
    crawler.stats.open_spider()
    response = HtmlResponse(MIRROR + "docs/mod/001933.html", body=html.encode("utf-8"),
                            headers={"Content-Type": "text/html; charset=utf-8"})
    return spider, list(spider.parse_article(response))


def test_the_site_spider_stores_a_deep_page_and_counts_a_too_deep_one(caplog):
    _, out = crawl_page(wrapped(2000))
    (item,) = [o for o in out if isinstance(o, ArticleItem)]
    assert (item.title, item.published_raw) == (TITLE, DATELINE)
    with caplog.at_level(logging.ERROR, logger="defnews.failed"):
        spider, out = crawl_page(wrapped(5000))
    assert not [o for o in out if isinstance(o, ArticleItem)]
    stats = spider.crawler.stats
    assert stats.get_value("defnews/failed") == 1
    assert stats.get_value("defnews/failed/page_too_deep") == 1
    assert f"Failed {URL}: page too deep (nested deeper than 2048 levels" in caplog.text
    assert not stats.get_value("defnews/dropped")  # not "missing published"
