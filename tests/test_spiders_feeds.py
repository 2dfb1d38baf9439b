"""The feeds spider: unit tests on hand-built responses, and an end-to-end crawl of the
fixture feeds served over 127.0.0.1 with real Scrapy (in a subprocess: one reactor per run).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from support import FEED_CONTENT_TYPES as CONTENT_TYPES
from twisted.python.failure import Failure

from crawler.items import ArticleItem
from crawler.spiders.feeds import FeedsSpider
from crawler.urls import id_for_url

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
FEEDS = FIXTURES / "feeds"


EXPECTED_COUNTS = {
    "fleetwatch": 3,
    "defensewire": 3,
    "tobu-dfb": 3,
    "nansei": 2,
    "hokkai": 2,
    "pacdigest": 2,
    "techbrief": 2,
}

# A source whose feed is gone (404), added to the fixture list for the crawl below.
GONE_SOURCE = """
[[source]]
key = "gone"
name = "Gone"
kind = "feed"
urls = ["{base_url}/feeds/gone.xml"]
language = "en"
"""


def write_sources(directory: Path, base_url: str, extra: str = "") -> Path:
    text = (FEEDS / "sources.toml").read_text(encoding="utf-8") + extra
    path = directory / "sources.toml"
    path.write_text(text.replace("{base_url}", base_url), encoding="utf-8")
    return path


# --- unit: requests, callback, errback -----------------------------------------------------


@pytest.fixture
def spider(tmp_path):
    crawler = get_crawler(FeedsSpider)
    path = write_sources(tmp_path, "http://127.0.0.1:8123")
    return FeedsSpider.from_crawler(crawler, sources=str(path))


def start_requests(spider: FeedsSpider) -> list[Request]:
    async def collect():
        return [request async for request in spider.start()]

    return asyncio.run(collect())


def stats(spider: FeedsSpider) -> dict:
    return {k: v for k, v in spider.crawler.stats.get_stats().items() if k.startswith("defnews/")}


def response_for(spider: FeedsSpider, key: str, name: str, content_type: str | None = None):
    url = spider.config.get(key).url
    request = Request(url, cb_kwargs={"source_key": key})
    headers = {"Content-Type": content_type or CONTENT_TYPES[name]}
    return Response(url, body=(FEEDS / name).read_bytes(), headers=headers, request=request)


def test_one_request_per_feed_url_with_source_key(spider):
    requests = start_requests(spider)
    assert [(r.url.rsplit("/", 1)[1], r.cb_kwargs["source_key"]) for r in requests] == [
        ("naval.xml", "fleetwatch"),
        ("wire.atom", "defensewire"),
        ("mod-press.rdf", "tobu-dfb"),
        ("sjis.xml", "nansei"),
        ("eucjp.xml", "hokkai"),
        ("malformed.xml", "pacdigest"),
        ("json-feed.json", "techbrief"),
        ("error.html", "maintenance"),
    ]
    assert all(r.callback == spider.parse and r.errback == spider.failed for r in requests)
    assert b"application/atom+xml" in requests[0].headers[b"Accept"]
    # Per source too (#17 point 5: each feed source its own health record).
    assert stats(spider) == {"defnews/feeds/requests": 8} | {
        f"defnews/feeds/requested/{r.cb_kwargs['source_key']}": 1 for r in requests}


def test_default_sources_are_the_packaged_list():
    spider = FeedsSpider.from_crawler(get_crawler(FeedsSpider))
    requests = start_requests(spider)
    assert "https://www.navalnews.com/feed/" in [r.url for r in requests]
    assert "https://j-defense.ikaros.jp/" not in [r.url for r in requests]  # a site, not a feed


def test_the_sources_setting_is_read_without_a_sources_argument(tmp_path):
    # Scrapyd: `-d setting=DEFNEWS_SOURCES=FILE` (it crawled the packaged live list instead).
    path = write_sources(tmp_path, "http://127.0.0.1:8123")
    crawler = get_crawler(FeedsSpider, {"DEFNEWS_SOURCES": str(path)})
    urls = [r.url for r in start_requests(FeedsSpider.from_crawler(crawler))]
    assert urls and all(u.startswith("http://127.0.0.1:8123/") for u in urls)
    # A `sources` argument still wins over the setting.
    (tmp_path / "other").mkdir()
    other = write_sources(tmp_path / "other", "http://127.0.0.1:8124")
    spider = FeedsSpider.from_crawler(crawler, sources=str(other))
    assert all(r.url.startswith("http://127.0.0.1:8124/") for r in start_requests(spider))


def test_only_selects_sources(tmp_path):
    path = write_sources(tmp_path, "http://127.0.0.1:8123")
    spider = FeedsSpider.from_crawler(
        get_crawler(FeedsSpider), sources=str(path), only="hokkai, nansei"
    )
    assert [r.cb_kwargs["source_key"] for r in start_requests(spider)] == ["hokkai", "nansei"]


@pytest.mark.parametrize(
    ("only", "message"),
    [("nope", "no source nope in"), ("jdefense", "jdefense not a feed source")],
)
def test_only_rejects_unknown_and_site_sources(only, message):
    with pytest.raises(ValueError, match=message):
        FeedsSpider.from_crawler(get_crawler(FeedsSpider), only=only)


def test_disabled_sources_are_skipped_unless_asked_for(tmp_path):
    path = write_sources(tmp_path, "http://127.0.0.1:8123", GONE_SOURCE + "enabled = false\n")
    crawler = get_crawler(FeedsSpider)
    assert "gone" not in [
        s.key for s in FeedsSpider.from_crawler(crawler, sources=str(path)).feed_sources
    ]
    only = FeedsSpider.from_crawler(get_crawler(FeedsSpider), sources=str(path), only="gone")
    assert [s.key for s in only.feed_sources] == ["gone"]


def test_callback_yields_items_and_counts(spider):
    items = list(spider.parse(response_for(spider, "nansei", "sjis.xml"), source_key="nansei"))
    assert all(isinstance(item, ArticleItem) for item in items)
    assert [item.title for item in items] == [
        "与那国駐屯地に電子戦部隊を新編へ\u3000①部隊の概要",
        "宮古島沖で中国海軍艦艇3隻を確認\u3000統合幕僚監部",
    ]
    assert {item.source for item in items} == {"nansei"}
    assert items[0].categories == ["陸上", "日本の防衛"]
    assert stats(spider) == {
        "defnews/feeds/entries": 2,
        "defnews/feeds/entries/nansei": 2,
        "defnews/feeds/source/nansei/read": 2,
    }


def test_html_page_is_logged_and_counted(spider, caplog):
    response = response_for(spider, "maintenance", "error.html")
    with caplog.at_level("ERROR"):
        assert list(spider.parse(response, source_key="maintenance")) == []
    found = stats(spider)
    # The error with its URL, per source (#17 point 5), for the source's health record.
    message = found.pop("defnews/feeds/error_message/maintenance")
    assert message.startswith("http://127.0.0.1:8123/feeds/error.html: not a usable feed: "
                              "an HTML page, not a feed"), message
    assert found == {"defnews/feeds/errors": 1, "defnews/feeds/errors/maintenance": 1}
    [record] = caplog.records
    assert record.levelname == "ERROR"
    assert record.getMessage().startswith(
        "Feed source maintenance: http://127.0.0.1:8123/feeds/error.html is not a usable feed: "
        "an HTML page, not a feed"
    )


def test_entries_past_the_limit_are_dropped_logged_and_counted(tmp_path, caplog):
    crawler = get_crawler(FeedsSpider, {"DEFNEWS_FEED_MAX_ENTRIES": 2})
    spider = FeedsSpider.from_crawler(
        crawler, sources=str(write_sources(tmp_path, "http://127.0.0.1:8123"))
    )
    items = list(spider.parse(response_for(spider, "fleetwatch", "naval.xml"), "fleetwatch"))
    assert len(items) == 2  # naval.xml has 3 entries: the first two, in document order
    assert stats(spider)["defnews/feeds/source/fleetwatch/read"] == 3
    assert stats(spider)["defnews/feeds/source/fleetwatch/dropped"] == 1
    assert stats(spider)["defnews/feeds/source/fleetwatch/dropped/over DEFNEWS_FEED_MAX_ENTRIES"] == 1
    assert "naval.xml has 3 entries; the 1 past DEFNEWS_FEED_MAX_ENTRIES=2 are dropped" in caplog.text


def test_entry_without_identity_is_dropped_with_its_reason(spider, caplog):
    body = (
        b'<rss version="2.0"><channel><title>t</title>'
        b"<item><title>no link</title><guid isPermaLink='false'>x-1</guid></item>"
        b"<item><title>script</title><link>javascript:alert(1)</link></item>"
        b"<item><title>kept</title><link>https://a.example/kept#c1</link></item>"
        b"</channel></rss>"
    )
    url = spider.config.get("fleetwatch").url
    response = Response(url, body=body, headers={"Content-Type": "application/rss+xml"},
                        request=Request(url, cb_kwargs={"source_key": "fleetwatch"}))
    items = list(spider.parse(response, "fleetwatch"))
    assert [i.url for i in items] == ["https://a.example/kept#c1"]
    got = stats(spider)
    assert got["defnews/feeds/source/fleetwatch/dropped/no link"] == 1
    assert got["defnews/feeds/source/fleetwatch/dropped/no http link"] == 1
    assert got["defnews/feeds/entries_skipped"] == 2
    assert "'x-1' has no link" in caplog.text and "javascript:alert(1)" in caplog.text


def test_an_entry_that_breaks_the_code_costs_only_that_entry(spider, caplog, monkeypatch):
    import crawler.spiders.feeds as feeds_module

    real = feeds_module.entry_to_item

    def flaky(entry, source):
        if "nagasaki" in (entry.get("url") or ""):
            raise RuntimeError("a bug")
        return real(entry, source)

    monkeypatch.setattr(feeds_module, "entry_to_item", flaky)
    items = list(spider.parse(response_for(spider, "fleetwatch", "naval.xml"), "fleetwatch"))
    assert len(items) == 2  # the two other entries of naval.xml
    got = stats(spider)
    # Lost to an error, not a decision: failed (read = kept + merged + dropped + failed).
    assert got["defnews/feeds/source/fleetwatch/failed"] == 1
    assert got["defnews/failed/feed_entry_could_not_be_read"] == 1
    assert not [k for k in got if k.startswith("defnews/feeds/source/fleetwatch/dropped")]
    assert "could not be read" in caplog.text and "RuntimeError: a bug" in caplog.text


def test_pipeline_outcomes_are_counted_per_source(spider, tmp_path):
    """Kept, merged (dedupe and store duplicates) and dropped (validate) per source, from the
    pipelines' own DropItem messages."""
    from scrapy.exceptions import DropItem
    from scrapy.utils.misc import build_from_crawler

    from crawler.pipelines.dedupe import DedupePipeline
    from crawler.pipelines.validate import ValidatePipeline

    crawler = get_crawler(FeedsSpider, {"DEFNEWS_SOURCES": str(tmp_path / "sources.toml")})
    spider = FeedsSpider.from_crawler(crawler, sources=str(tmp_path / "sources.toml"))
    dedupe = build_from_crawler(DedupePipeline, crawler)
    validate = build_from_crawler(ValidatePipeline, crawler)
    first = ArticleItem(url="http://www.a.example/1/#x", title="t", source="fleetwatch", id="i1")
    again = ArticleItem(url="https://a.example/1", title="t", source="defensewire", id="i1")
    undated = ArticleItem(url="https://a.example/2", title="t", source="fleetwatch", id="i2")
    dedupe.process_item(first)
    spider._item_scraped(first)
    for pipe, item in ((dedupe, again), (validate, undated)):
        with pytest.raises(DropItem) as dropped:
            pipe.process_item(item)
        spider._item_dropped(item, dropped.value)
    store_dup = DropItem("https://a.example/3: same story already stored from another source")
    spider._item_dropped(ArticleItem(url="https://a.example/3", title="t", source="hokkai"), store_dup)
    # A URL that says "duplicate" is not a duplicate.
    named = ArticleItem(url="https://a.example/duplicate-of-an-article", title="t", source="hokkai")
    spider._item_dropped(named, DropItem(f"{named.url}: missing published"))
    got = stats(spider)
    assert got["defnews/feeds/source/fleetwatch/kept"] == 1
    assert got["defnews/feeds/source/defensewire/merged"] == 1
    assert got["defnews/feeds/source/hokkai/merged"] == 1
    assert got["defnews/feeds/source/fleetwatch/dropped/missing published"] == 1
    assert got["defnews/feeds/source/hokkai/dropped/missing published"] == 1


def test_malformed_feed_is_read_and_warned_about(spider, caplog):
    response = response_for(spider, "pacdigest", "malformed.xml")
    with caplog.at_level("WARNING"):
        items = list(spider.parse(response, source_key="pacdigest"))
    assert len(items) == 2
    assert stats(spider)["defnews/feeds/recovered"] == 1
    assert "malformed.xml read with problems, entries recovered: SAXParseException" in caplog.text


def test_errback_logs_url_and_reason_and_counts(spider, caplog):
    request = Request(
        "http://127.0.0.1:8123/feeds/gone.xml", cb_kwargs={"source_key": "fleetwatch"}
    )
    response = Response(request.url, status=404, request=request)
    failure = Failure(HttpError(response, "Ignoring non-200 response"))
    failure.request = request
    with caplog.at_level("ERROR"):
        spider.failed(failure)
    assert stats(spider) == {
        "defnews/feeds/errors": 1, "defnews/feeds/errors/fleetwatch": 1,
        # The error with its URL, per source (#17 point 5).
        "defnews/feeds/error_message/fleetwatch":
            "http://127.0.0.1:8123/feeds/gone.xml: fetching failed: HTTP 404"}
    assert caplog.records[0].getMessage() == (
        "Feed source fleetwatch: fetching http://127.0.0.1:8123/feeds/gone.xml failed: "
        "HTTP 404 (HttpError)"
    )


# --- end to end: a real HTTP server, a real crawl ------------------------------------------


class FixtureHandler(SimpleHTTPRequestHandler):
    """Serves tests/fixtures/ with the Content-Types real outlets send; records paths."""

    paths: list[str] = []
    lock = threading.Lock()

    def guess_type(self, path):
        return CONTENT_TYPES.get(Path(str(path)).name) or super().guess_type(path)

    def do_GET(self):
        with self.lock:
            self.paths.append(self.path)
        super().do_GET()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def fixture_server():
    FixtureHandler.paths = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(FixtureHandler, directory=str(FIXTURES)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


CRAWL_SCRIPT = """
import json, sys
from scrapy.crawler import CrawlerProcess
from crawler.spiders.feeds import FeedsSpider

sources, out, stats_path, only, cache = sys.argv[1:6]
process = CrawlerProcess(settings={
    "HTTPCACHE_DIR": cache,  # not .scrapy/httpcache in the checkout (the working directory)
    "ROBOTSTXT_OBEY": True,
    "USER_AGENT": "defnews-tests (+https://example.org/defnews)",
    "FEEDS": {out: {"format": "jsonlines", "encoding": "utf-8"}},
    "LOG_LEVEL": "INFO",
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,
    "RETRY_ENABLED": False,
    "DOWNLOAD_TIMEOUT": 20,
})
crawler = process.create_crawler(FeedsSpider)
process.crawl(crawler, sources=sources, only=only or None)
process.start()
with open(stats_path, "w", encoding="utf-8") as f:
    json.dump(crawler.stats.get_stats(), f, default=str)
"""


class Crawl:
    def __init__(self, items: list[dict], stats: dict, log: str, base_url: str):
        self.items, self.stats, self.log, self.base_url = items, stats, log, base_url

    def by_source(self, key: str) -> list[dict]:
        return [item for item in self.items if item["source"] == key]


def run_crawl(tmp: Path, base_url: str, *, extra: str = "", only: str = "") -> Crawl:
    sources = write_sources(tmp, base_url, extra)
    script = tmp / "crawl.py"
    script.write_text(CRAWL_SCRIPT, encoding="utf-8")
    out, stats_path = tmp / "items.jsonl", tmp / "stats.json"
    env = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}
    leftover = ROOT / ".scrapy" / "httpcache"
    existed = leftover.exists()
    done = subprocess.run(
        [sys.executable, str(script), str(sources), str(out), str(stats_path), only,
         str(tmp / "httpcache")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # The feeds' HTTP cache went to the test's folder, none was left in the checkout.
    assert (tmp / "httpcache").is_dir()
    assert leftover.exists() == existed
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    stats = json.loads(stats_path.read_text(encoding="utf-8"))
    return Crawl(items, stats, done.stderr, base_url)


@pytest.fixture(scope="module")
def crawl(fixture_server, tmp_path_factory):
    return run_crawl(tmp_path_factory.mktemp("crawl"), fixture_server, extra=GONE_SOURCE)


def test_crawl_counts_per_source(crawl):
    assert Counter(item["source"] for item in crawl.items) == EXPECTED_COUNTS
    assert crawl.stats["defnews/feeds/entries"] == sum(EXPECTED_COUNTS.values())
    for key, count in EXPECTED_COUNTS.items():
        assert crawl.stats[f"defnews/feeds/entries/{key}"] == count


def test_crawl_obeys_robots_txt(crawl):
    assert "/robots.txt" in FixtureHandler.paths
    assert crawl.stats["robotstxt/request_count"] == 1


def test_crawl_html_page_is_an_error_for_its_source(crawl):
    assert crawl.by_source("maintenance") == []
    assert crawl.stats["defnews/feeds/errors/maintenance"] == 1
    assert (
        f"ERROR: Feed source maintenance: {crawl.base_url}/feeds/error.html is not a usable feed: "
        "an HTML page, not a feed (Content-Type text/html; charset=UTF-8"
    ) in crawl.log


def test_crawl_missing_feed_is_an_error_for_its_source(crawl):
    assert crawl.stats["defnews/feeds/errors/gone"] == 1
    assert (
        f"ERROR: Feed source gone: fetching {crawl.base_url}/feeds/gone.xml failed: HTTP 404"
        in crawl.log
    )
    assert crawl.stats["defnews/feeds/errors"] == 2  # the HTML page and the 404, nothing else


def test_crawl_malformed_feed_is_recovered(crawl):
    assert crawl.stats["defnews/feeds/recovered"] == 1
    assert "WARNING: Feed source pacdigest:" in crawl.log
    assert [i["title"] for i in crawl.by_source("pacdigest")] == [
        "Mitsubishi Heavy & Kawasaki Heavy split submarine order",
        "Coast guard & navy drill off Guam",
    ]


def test_crawl_japanese_encodings_are_exact(crawl):
    assert [i["title"] for i in crawl.by_source("nansei")] == [
        "与那国駐屯地に電子戦部隊を新編へ\u3000①部隊の概要",
        "宮古島沖で中国海軍艦艇3隻を確認\u3000統合幕僚監部",
    ]
    assert [i["title"] for i in crawl.by_source("hokkai")] == [
        "千歳基地でF-15J近代化改修機の配備始まる",
        "冬季戦技教育隊が雪中行軍訓練を公開",
    ]


def test_crawl_items_follow_the_contract(crawl):
    for item in crawl.items:
        assert item["type"] == "article"
        assert item["url"].startswith(("http://", "https://"))
        assert item["title"]
        assert item["id"] == id_for_url(item["url"])
        assert item["published"] is None  # dates are the normalize pipeline's job
        assert item["language"] in ("ja", "en")
        assert item["published_source"] in ("feed", None)


def test_crawl_same_story_from_two_sources_has_one_id(crawl):
    [fleetwatch] = [i for i in crawl.by_source("fleetwatch") if "frigate-nagasaki" in i["url"]]
    [wire] = [i for i in crawl.by_source("defensewire") if "frigate-nagasaki" in i["url"]]
    assert fleetwatch["id"] == wire["id"]
    assert fleetwatch["guid"] == "http://www.fleetwatch.example/?p=48211"
    assert wire["guid"] == "tag:defensewire.example,2026:wire/1187"
    assert "海上" in fleetwatch["categories"] and "海上" in wire["categories"]


def test_crawl_maps_categories(crawl):
    assert {i["title"]: i["categories"] for i in crawl.by_source("tobu-dfb")} == {
        "令和8年度 装備品等の調達に関する説明会の開催について": ["防衛産業", "日本の防衛"],
        "陸上自衛隊と米陸軍との共同訓練の実施について": ["陸上", "日本の防衛"],
        "ホームページのメンテナンスのお知らせ": ["お知らせ", "日本の防衛"],  # unmapped, kept
    }


def test_crawl_only_one_source(fixture_server, tmp_path):
    result = run_crawl(tmp_path, fixture_server, only="nansei")
    assert Counter(item["source"] for item in result.items) == {"nansei": 2}
    assert "defnews/feeds/errors" not in result.stats
