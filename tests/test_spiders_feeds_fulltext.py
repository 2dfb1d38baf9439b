"""Feed sources with ``fulltext = true``: each new entry's page is read for its body
(issue 19, point 6). Hand-built Scrapy responses; the feeds spider's own callbacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from support import FEED_CONTENT_TYPES as CONTENT_TYPES
from twisted.python.failure import Failure

from crawler.items import ArticleItem
from crawler.sources import SourcesError, parse_sources
from crawler.spiders.feeds import FeedsSpider

FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"
BASE = "http://127.0.0.1:8123"

ARTICLE = """<html lang="en"><head><title>JMSDF launches sixth upgraded Mogami-class frigate
| Fleetwatch</title><meta property="og:type" content="article"></head><body>
<nav><a href="/">Home</a></nav><article><h1>JMSDF launches sixth upgraded Mogami-class
frigate at Nagasaki</h1><p class="byline">By Kenji Arai</p>
<p>The Japan Maritime Self-Defense Force launched the sixth of its upgraded Mogami-class
frigates at the Nagasaki shipyard on Monday, the builder said.</p>
<p>The ship, which carries a new long-range sonar and a larger missile magazine, is due to
enter service in 2028 after sea trials off Kyushu.</p>
<p>Officials said the class would grow to twelve ships under the current defence buildup
plan, with the last delivered before the end of the decade.</p>
<p>The launch ceremony was attended by the vice minister of defence and about 300 guests.</p>
</article><footer>© Fleetwatch</footer></body></html>"""


def write_sources(tmp_path: Path, fulltext: str = "fulltext = true\n") -> Path:
    text = (FEEDS / "sources.toml").read_text(encoding="utf-8").replace("{base_url}", BASE)
    text = text.replace('key = "fleetwatch"\n', 'key = "fleetwatch"\n' + fulltext, 1)
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def spider(tmp_path: Path) -> FeedsSpider:
    crawler = get_crawler(FeedsSpider)
    return FeedsSpider.from_crawler(crawler, sources=str(write_sources(tmp_path)))


def feed_response(spider: FeedsSpider) -> Response:
    url = spider.config.get("fleetwatch").url
    request = Request(url, cb_kwargs={"source_key": "fleetwatch"})
    headers = {"Content-Type": CONTENT_TYPES["naval.xml"]}
    return Response(url, body=(FEEDS / "naval.xml").read_bytes(), headers=headers, request=request)


def stats(spider: FeedsSpider) -> dict:
    return {k: v for k, v in spider.crawler.stats.get_stats().items() if "fulltext" in k}


def page_request(spider: FeedsSpider) -> Request:
    out = list(spider.parse(feed_response(spider), source_key="fleetwatch"))
    assert all(isinstance(r, Request) for r in out)  # no item before its page is read
    request = out[0]
    assert request.callback == spider.parse_page and request.errback == spider.page_failed
    return request


def test_sources_file_takes_fulltext_for_feeds_only(tmp_path: Path) -> None:
    config = parse_sources(write_sources(tmp_path).read_text(encoding="utf-8"))
    assert config.get("fleetwatch").fulltext is True
    assert config.get("defensewire").fulltext is False
    with pytest.raises(SourcesError, match="'fulltext' must be true or false"):
        parse_sources(write_sources(tmp_path, 'fulltext = "yes"\n').read_text(encoding="utf-8"))
    site = '[[source]]\nkey = "s"\nname = "S"\nkind = "site"\nurl = "https://s.example/"\nlanguage = "ja"\nfulltext = true\n'
    with pytest.raises(SourcesError, match="for feed sources only"):
        parse_sources(site)


def test_each_new_entry_is_a_request_for_its_page(spider: FeedsSpider) -> None:
    out = list(spider.parse(feed_response(spider), source_key="fleetwatch"))
    assert len(out) == 3 and all(isinstance(r, Request) for r in out)
    assert out[0].url.startswith("http://www.fleetwatch.example/2026/03/02/jmsdf-launches")
    assert all(isinstance(r.cb_kwargs["item"], ArticleItem) for r in out)
    assert stats(spider) == {"defnews/feeds/fulltext/requests": 3}


def test_an_entry_already_stored_is_not_fetched_again(spider: FeedsSpider) -> None:
    first = page_request(spider).cb_kwargs["item"]
    spider.known_urls.add(first.url)
    out = list(spider.parse(feed_response(spider), source_key="fleetwatch"))
    assert out[0] is not None and isinstance(out[0], ArticleItem) and out[0].url == first.url
    assert sum(isinstance(r, Request) for r in out) == 2


def test_the_body_comes_from_the_page_and_the_feed_keeps_title_date_link(
    spider: FeedsSpider,
) -> None:
    request = page_request(spider)
    item: ArticleItem = request.cb_kwargs["item"]
    title, url, published, summary = item.title, item.url, item.published_raw, item.summary
    response = HtmlResponse(request.url, body=ARTICLE.encode(), encoding="utf-8", request=request)
    [read] = list(spider.parse_page(response, **request.cb_kwargs))
    assert read is item
    assert (read.title, read.url, read.published_raw, read.summary) == (title, url, published, summary)
    assert "launched the sixth of its upgraded Mogami-class" in read.content_html
    assert "the vice minister of defence" in read.content_html
    assert "Home" not in read.content_html and "©" not in read.content_html
    assert read.provenance["body"].startswith("page/")
    assert stats(spider)["defnews/feeds/fulltext/read"] == 1


def test_a_page_that_cannot_be_read_keeps_the_summary_with_the_reason_logged(
    spider: FeedsSpider, caplog: pytest.LogCaptureFixture
) -> None:
    request = page_request(spider)
    item: ArticleItem = request.cb_kwargs["item"]
    before = item.content_html
    response = HtmlResponse(request.url, body=b"<html><body></body></html>", request=request)
    with caplog.at_level("WARNING"):
        [kept] = list(spider.parse_page(response, **request.cb_kwargs))
    assert kept is item and kept.content_html == before
    assert "page not read, the feed's summary kept" in caplog.text
    assert item.url in caplog.text and "not an article page" in caplog.text
    assert stats(spider)["defnews/feeds/source/fleetwatch/fulltext/failed"] == 1


def test_a_page_that_cannot_be_fetched_keeps_the_summary(
    spider: FeedsSpider, caplog: pytest.LogCaptureFixture
) -> None:
    request = page_request(spider)
    item = request.cb_kwargs["item"]
    response = Response(request.url, status=404, request=request)
    failure = Failure(HttpError(response))
    failure.request = request  # type: ignore[attr-defined]
    with caplog.at_level("WARNING"):
        [kept] = list(spider.page_failed(failure))
    assert kept is item
    assert "HTTP 404" in caplog.text


JA_ARTICLE = """<html lang="ja"><head><meta charset="utf-8"><title>護衛艦が進水</title></head><body>
<article><h1>護衛艦が進水</h1><p>海上自衛隊の新しい護衛艦が本日、造船所で進水した。関係者が式典に出席した。</p>
<p>同艦は来年の就役を予定しており、最新の装備を備える。防衛省が発表した。</p></article></body></html>"""


def test_a_page_that_lies_about_its_charset_is_read_right(spider: FeedsSpider) -> None:
    # Shift_JIS bytes served as UTF-8 (issue #18 point 8): read as cp932, not as U+FFFD.
    request = page_request(spider)
    response = HtmlResponse(request.url, body=JA_ARTICLE.encode("cp932"), request=request,
                            headers={"Content-Type": "text/html; charset=utf-8"})
    [read] = list(spider.parse_page(response, **request.cb_kwargs))
    assert "海上自衛隊の新しい護衛艦が本日" in read.content_html
    assert "\ufffd" not in read.content_html


def test_a_page_with_bytes_nothing_reads_keeps_the_feeds_summary(
    spider: FeedsSpider, caplog: pytest.LogCaptureFixture
) -> None:
    request = page_request(spider)
    item: ArticleItem = request.cb_kwargs["item"]
    before = item.content_html
    body = JA_ARTICLE.encode("cp932").replace("防衛省".encode("cp932"), b"\x81 ", 1)
    response = HtmlResponse(request.url, body=body, request=request,
                            headers={"Content-Type": "text/html; charset=utf-8"})
    with caplog.at_level("WARNING"):
        [kept] = list(spider.parse_page(response, **request.cb_kwargs))
    assert kept is item and kept.content_html == before
    assert "undecodable page: declared utf-8 (HTTP header)" in caplog.text
    assert stats(spider)["defnews/feeds/source/fleetwatch/fulltext/failed"] == 1
