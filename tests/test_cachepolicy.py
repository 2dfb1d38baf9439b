"""Feeds are asked again on every run: the HTTP cache saves bytes, never a request."""

from __future__ import annotations

import email.utils
import os
import time
from pathlib import Path

import pytest
from fixture_server import FixtureServer
from scrapy.http import Request, Response
from scrapy.settings import Settings
from support import defnews

from crawler.cachepolicy import RevalidatePolicy
from crawler.store import open_store

DAY = 86400.0

SOURCES = """
[categories]
"国際" = "world"

[[source]]
key = "static"
name = "Static Host"
kind = "feed"
urls = ["{url}feed.xml"]
language = "en"
categories = ["国際"]
"""


def rss(*items: int) -> str:
    entries = "".join(
        f"<item><title>Entry {n}</title><link>https://static.example/{n}</link>"
        f"<guid>https://static.example/{n}</guid>"
        f"<pubDate>Mon, 0{n} Mar 2026 10:00:00 GMT</pubDate></item>" for n in items)
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Static</title><link>https://static.example/</link>{entries}</channel></rss>")


def http_date(at: float) -> bytes:
    return email.utils.formatdate(at, usegmt=True).encode()


@pytest.mark.parametrize("headers", [
    {b"Last-Modified": http_date(time.time() - 100 * DAY)},
    {b"Cache-Control": b"max-age=86400", b"ETag": b'"v1"'},
    {b"Expires": http_date(time.time() + 30 * DAY), b"Last-Modified": http_date(time.time() - DAY)},
], ids=["old-last-modified", "max-age", "expires"])
def test_a_cached_feed_is_never_fresh_and_is_revalidated(headers):
    policy = RevalidatePolicy(Settings())
    cached = Response("http://h/feed.xml", status=200, body=b"<rss/>",
                      headers={b"Date": http_date(time.time()), **headers})
    request = Request("http://h/feed.xml")
    assert policy.should_cache_response(cached, request)
    assert not policy.is_cached_response_fresh(cached, request)
    if b"Last-Modified" in headers:
        assert request.headers[b"If-Modified-Since"] == headers[b"Last-Modified"]
    if b"ETag" in headers:
        assert request.headers[b"If-None-Match"] == headers[b"ETag"]


@pytest.mark.parametrize(("status", "valid"), [(304, True), (500, False), (503, False), (200, False)],
                         ids=["304", "500", "503", "200"])
def test_only_a_304_stands_for_the_cached_copy(status, valid):
    policy = RevalidatePolicy(Settings())
    cached = Response("http://h/f", status=200, headers={b"Last-Modified": http_date(0)})
    assert policy.is_cached_response_valid(cached, Response("http://h/f", status=status),
                                           Request("http://h/f")) is valid


def test_a_feed_with_an_old_last_modified_shows_its_new_entry_on_the_next_run(tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    feed = site / "feed.xml"
    feed.write_text(rss(1), encoding="utf-8")
    old = time.time() - 100 * DAY
    os.utime(feed, (old, old))  # last modified 100 days ago, no Cache-Control: "fresh" 10 days
    store = tmp_path / "store.sqlite3"
    with FixtureServer(site) as server:
        sources = tmp_path / "sources.toml"
        sources.write_text(SOURCES.format(url=server.url), encoding="utf-8")

        def crawl() -> str:
            run = defnews("crawl", "--sources", str(sources), "--store", str(store),
                          "--no-throttle", cwd=tmp_path)
            assert run.returncode == 0, run.stdout + run.stderr[-3000:]
            return run.stdout

        crawl()
        assert (tmp_path / "httpcache").is_dir()  # the feed is in the HTTP cache
        feed.write_text(rss(1, 2), encoding="utf-8")
        os.utime(feed, (old + DAY, old + DAY))  # still an old Last-Modified
        crawl()
        assert server.counts["/feed.xml"] == 2
        with open_store(store) as s:
            urls = {a.url for a in s.articles()}
        assert "https://static.example/2" in urls
        crawl()  # unchanged: asked again, answered 304, read from the cache
        assert server.counts["/feed.xml"] == 3
        assert [status for path, status, _ in server.log if path == "/feed.xml"] == [200, 200, 304]
