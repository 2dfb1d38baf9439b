"""Downloader middlewares built the way Scrapy builds them, fed hand-made requests and
responses (no network); ``tests/test_e2e_hostile.py`` crawls the same traps for real."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.middlewares import (
    DownloadSizeMiddleware,
    HttpCompressionMiddleware,
    RedirectMiddleware,
    SiteOffsiteMiddleware,
    host_allowed,
)

MiB = 1024 * 1024


class SiteSpider(Spider):
    name = "site"
    allowed_domains = ["127.0.0.1:8080", "j-defense.ikaros.jp"]


def crawler_for(settings: dict | None = None):
    crawler = get_crawler(SiteSpider, settings or {})
    crawler.spider = crawler._create_spider()
    crawler.stats.open_spider()
    return crawler


def stat(crawler, key: str) -> int:
    return crawler.stats.get_value(key, 0)


@pytest.mark.parametrize(
    ("host", "port", "allowed"),
    [
        ("127.0.0.1", 8080, True),
        ("127.0.0.1", 8081, False),
        ("j-defense.ikaros.jp", 443, True),
        ("www.j-defense.ikaros.jp", 443, True),
        ("J-DEFENSE.ikaros.jp", 80, True),
        ("evil-j-defense.ikaros.jp", 443, False),
        ("ikaros.jp", 443, False),
        ("evil.example", 443, False),
        ("", None, False),
    ],
    ids=["mirror-port", "other-port", "site", "subdomain", "case", "lookalike", "parent",
         "other-host", "no-host"],
)
def test_host_allowed(host, port, allowed):
    assert host_allowed(host, port, SiteSpider.allowed_domains) is allowed


@pytest.mark.parametrize(
    ("url", "meta", "reason"),
    [
        ("http://127.0.0.1:9999/docs/mod/000001.html", {}, "off-site_link"),
        ("https://evil.example/docs/mod/000001.html",
         {"redirect_urls": ["http://127.0.0.1:8080/docs/mod/000001.html"]}, "off-site_redirect"),
        ("file:///etc/passwd", {}, "off-site_link"),
    ],
    ids=["other-port", "redirect", "file"],
)
def test_offsite_requests_are_dropped_and_counted(url, meta, reason):
    crawler = crawler_for()
    mw = build_from_crawler(SiteOffsiteMiddleware, crawler)
    mw.spider_opened(crawler.spider)
    with pytest.raises(IgnoreRequest):
        mw.process_request(Request(url, meta=meta))
    assert stat(crawler, f"defnews/dropped/{reason}") == 1
    assert stat(crawler, "defnews/dropped") == 1


def test_onsite_and_dont_filter_requests_pass():
    crawler = crawler_for()
    mw = build_from_crawler(SiteOffsiteMiddleware, crawler)
    mw.spider_opened(crawler.spider)
    assert mw.process_request(Request("http://127.0.0.1:8080/docs/mod/000001.html")) is None
    assert mw.process_request(Request("https://j-defense.ikaros.jp/")) is None
    assert mw.process_request(Request("data:,", dont_filter=True)) is None
    assert stat(crawler, "defnews/dropped") == 0


def redirect_response(url: str, location: str) -> Response:
    return Response(url, status=302, headers={"Location": location})


def test_redirect_back_to_a_url_of_the_chain_is_a_loop():
    crawler = crawler_for()
    mw = build_from_crawler(RedirectMiddleware, crawler)
    a = "http://127.0.0.1:8080/docs/mod/000001.html"
    b = "http://127.0.0.1:8080/docs/mod/000002.html"
    to_b = mw.process_response(Request(a), redirect_response(a, b))
    assert isinstance(to_b, Request) and to_b.url == b
    with pytest.raises(IgnoreRequest, match="redirect loop"):
        mw.process_response(to_b, redirect_response(b, a))
    assert stat(crawler, "defnews/dropped/redirect_loop") == 1


def test_too_many_redirects_is_counted():
    crawler = crawler_for({"REDIRECT_MAX_TIMES": 2})
    mw = build_from_crawler(RedirectMiddleware, crawler)
    request = Request("http://127.0.0.1:8080/r?n=0")
    with pytest.raises(IgnoreRequest, match="max redirections"):
        for n in range(1, 5):
            request = mw.process_response(request, redirect_response(request.url, f"/r?n={n}"))
    assert stat(crawler, "defnews/dropped/redirect_loop") == 1


def bomb(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return b"".join([*(compressor.compress(bytes(MiB)) for _ in range(size // MiB)),
                     compressor.flush()])


def test_gzip_bomb_stops_at_the_max_size_with_bounded_memory():
    crawler = crawler_for({"DOWNLOAD_MAXSIZE": 1 * MiB})
    mw = build_from_crawler(HttpCompressionMiddleware, crawler)
    body = bomb(256 * MiB)
    response = HtmlResponse("http://127.0.0.1:8080/bomb.html", body=body,
                            headers={"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        with pytest.raises(IgnoreRequest):
            mw.process_response(Request(response.url), response)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MiB  # not 256 MiB
    assert stat(crawler, "defnews/dropped/too_large") == 1


def test_compressed_page_under_the_limit_is_read():
    crawler = crawler_for({"DOWNLOAD_MAXSIZE": 1 * MiB})
    mw = build_from_crawler(HttpCompressionMiddleware, crawler)
    html = b"<html><body>" + b"x" * 1000 + b"</body></html>"
    response = HtmlResponse("http://127.0.0.1:8080/a.html", body=gzip.compress(html),
                            headers={"Content-Encoding": "gzip"})
    assert mw.process_response(Request(response.url), response).body == html
    assert stat(crawler, "defnews/dropped") == 0


def test_download_cancelled_for_size_is_counted():
    crawler = crawler_for()
    mw = build_from_crawler(DownloadSizeMiddleware, crawler)
    request = Request("http://127.0.0.1:8080/huge.html")
    error = DownloadCancelledError(
        f"Expected to receive 31457280 bytes which is larger than download max size (16777216) "
        f"in request {request}.")
    with pytest.raises(IgnoreRequest, match="max size"):
        mw.process_exception(request, error)
    assert mw.process_exception(request, DownloadCancelledError("cancelled")) is None
    assert stat(crawler, "defnews/dropped/too_large") == 1


def test_settings_limit_size_after_decompression():
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    assert settings.getint("DOWNLOAD_MAXSIZE") <= 32 * MiB
    assert settings.getint("DOWNLOAD_WARNSIZE") < settings.getint("DOWNLOAD_MAXSIZE")
    mws = settings.getdict("DOWNLOADER_MIDDLEWARES")
    for name in ("offsite.OffsiteMiddleware", "robotstxt.RobotsTxtMiddleware",
                 "redirect.RedirectMiddleware", "httpcompression.HttpCompressionMiddleware"):
        assert mws[f"scrapy.downloadermiddlewares.{name}"] is None  # replaced by ours
