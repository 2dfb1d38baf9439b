"""crawler/render.py as Scrapy builds it: the decision to render, the browser's request policy,
the retry after a browser failure, the add-on's settings (no browser started here)."""

from __future__ import annotations

import logging
import os
from types import SimpleNamespace

import pytest
from scrapy import Request, Spider, signals
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler import render

HOME = "http://127.0.0.1:8000/"
EMPTY_LIST = b"<html><body><main><ul></ul></main><script src='/js/fill.js'></script></body></html>"


class Site(Spider):
    name = "site"
    site_url = "https://example.jp/"


def middleware(tmp_path, **settings):
    base = {"DEFNEWS_STORE": str(tmp_path / "s.sqlite3")} | settings
    crawler = get_crawler(Site, base)
    crawler.spider = Site()
    crawler.spider.crawler = crawler
    crawler.stats.open_spider()
    return crawler, render.RenderMiddleware.from_crawler(crawler)


def listing_response(body: bytes = EMPTY_LIST, **meta) -> HtmlResponse:
    request = Request(HOME, meta={"defnews_page": "listing", **meta})
    return HtmlResponse(HOME, body=body, request=request)


@pytest.mark.parametrize(("body", "expected"), [
    (b"<p>x</p><script>fill()</script>", True),
    (b"<script src='/a.js'></script>", True),
    (b"<script type='module'>x</script>", True),
    (b"<script type=\"application/ld+json\">{}</script>", False),
    (b"<script type='application/json'>[]</script>", False),
    (b"<p>no script here: &lt;script&gt;</p><noscript>x</noscript>", False),
])
def test_has_scripts(body, expected):
    assert render.has_scripts(body) is expected


def test_policy_blocks_media_and_other_hosts_but_not_the_pages_own():
    policy = render.BrowserRequestPolicy(["cdn.example.net"])
    policy.hosts.add("127.0.0.1:8000")

    def req(url, kind="fetch"):
        return SimpleNamespace(url=url, resource_type=kind)

    assert policy(req("http://127.0.0.1:8000/data/list.json")) is False
    assert policy(req("http://127.0.0.1:8000/img/a.png", "image")) is True
    assert policy(req("http://127.0.0.1:8000/f.woff2", "font")) is True
    assert policy(req("http://127.0.0.1:9999/beacon")) is True  # another port: another host
    assert policy(req("https://tracker.example.com/t.js", "script")) is True
    assert policy(req("https://cdn.example.net/lib.js", "script")) is False
    assert policy(req("data:text/plain,x")) is False
    assert policy.offsite == {"127.0.0.1:9999": 1, "tracker.example.com": 1}


def test_policy_obeys_robots_txt_for_the_browsers_own_requests():
    from protego import Protego
    from scrapy.robotstxt import ProtegoRobotParser

    policy = render.BrowserRequestPolicy()
    policy.hosts.add("127.0.0.1:8000")
    rules = b"User-agent: *\nDisallow: /private/\n"
    parser = ProtegoRobotParser.__new__(ProtegoRobotParser)
    parser.rp = Protego.parse(rules.decode())
    policy.robots = SimpleNamespace(_parsers={"127.0.0.1:8000": parser})
    policy.user_agent = "defnews/0.1"
    assert policy(SimpleNamespace(url="http://127.0.0.1:8000/private/list.json", resource_type="fetch"))
    assert not policy(SimpleNamespace(url="http://127.0.0.1:8000/data/list.json", resource_type="fetch"))
    assert policy.forbidden == 1


def test_a_lacking_page_with_scripts_comes_back_marked_for_rendering(tmp_path):
    crawler, mw = middleware(tmp_path)
    if not mw.enabled:
        pytest.skip(f"rendering unavailable here: {mw.unavailable}")
    again = mw.again(listing_response(), "no article link")
    assert again is not None and again.dont_filter and again.meta["defnews_render"] == "no article link"
    assert mw.learned == {"listing": "no article link"}
    # Without scripts a browser would show the same page: not rendered.
    assert mw.again(listing_response(b"<main></main>"), "no article link") is None


def test_a_request_to_be_rendered_is_scheduled_in_the_browsers_slot(tmp_path):
    """Queued under the site's slot, the rendered requests (first by priority) filled the
    downloader waiting for a browser page and the served pages waited behind them: Scrapy's
    downloader-aware queue reads the slot when the request is scheduled, so it is set then."""
    from scrapy.core.downloader import Downloader

    crawler, mw = middleware(tmp_path)
    if not mw.enabled:
        pytest.skip(f"rendering unavailable here: {mw.unavailable}")
    again = mw.again(listing_response(), "no article link")
    served = Request("https://example.jp/docs/mod/001.html", meta={"defnews_page": "article"})
    feed = Request("https://example.jp/feed.xml")
    for request in (again, served, feed):
        crawler.signals.send_catch_log(signals.request_scheduled, request=request,
                                       spider=crawler.spider)
    slot_of = Downloader(crawler).get_slot_key
    assert slot_of(again) == render.BROWSER_SLOT
    assert slot_of(served) == slot_of(feed) == "example.jp"
    # A site that needed rendering before: its listings go to the browser's slot directly.
    mw.remembered["listing"] = "no article link"
    listing = Request("https://example.jp/docs/mod/", meta={"defnews_page": "listing"})
    crawler.signals.send_catch_log(signals.request_scheduled, request=listing, spider=crawler.spider)
    assert slot_of(listing) == render.BROWSER_SLOT


def test_a_page_rendered_and_still_lacking_is_not_rendered_again(tmp_path):
    crawler, mw = middleware(tmp_path)
    assert mw.again(listing_response(playwright=True), "no article link") is None
    assert mw.still_lacking == {HOME: "no article link"}


def test_with_rendering_off_a_lacking_page_is_noted_once_and_said_at_the_end(tmp_path, caplog):
    crawler, mw = middleware(tmp_path, DEFNEWS_RENDER="never")
    for _ in range(2):
        assert mw.again(listing_response(), "no article link") is None
    assert crawler.stats.get_value("defnews/render/needed_unrendered") == 1
    with caplog.at_level(logging.WARNING, logger="crawler.render"):
        mw.spider_closed(crawler.spider)
    [record] = [r for r in caplog.records if "needed rendering" in r.getMessage()]
    assert f"{HOME} (no article link)" in record.getMessage()
    assert "--render never" in record.getMessage()
    assert crawler.stats.get_value("defnews/render/needed_urls") == [HOME]


def test_a_browser_failure_is_retried_once_then_logged_with_url_and_reason(tmp_path, caplog):
    crawler, mw = middleware(tmp_path)
    request = Request(HOME, meta={"playwright": True, "defnews_page": "listing",
                                  "defnews_render": "no article link",
                                  "playwright_page_methods": []})
    retry = mw.process_exception(request, RuntimeError("Target page, context or browser has been closed"))
    assert retry is not None and retry.meta["defnews_render_retried"] and retry.dont_filter
    assert "playwright" not in retry.meta and retry.meta["defnews_render"] == "no article link"
    retry.meta["playwright"] = True
    with caplog.at_level(logging.ERROR, logger="crawler.render"):
        assert mw.process_exception(retry, RuntimeError("Browser closed")) is None
    assert any(HOME in r.getMessage() and "Browser closed" in r.getMessage() for r in caplog.records)
    assert crawler.stats.get_value("defnews/render/failed") == 1
    # Requests the browser did not handle are none of its business.
    assert mw.process_exception(Request(HOME), RuntimeError("x")) is None


def test_addon_installs_scrapy_playwright_with_the_limits():
    settings = Settings()
    settings.setmodule("crawler.settings")
    if render.unavailable(settings):
        pytest.skip(f"rendering unavailable here: {render.unavailable(settings)}")
    render.RenderAddon().update_settings(settings)
    assert settings.getdict("DOWNLOAD_HANDLERS")["http"] == "crawler.render_handler.ReusedPagesHandler"
    launch = settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS")
    # The lighter browser where installed (chromium-headless-shell), else Debian's chromium.
    installed = [b for b in render.BROWSERS if os.access(b, os.X_OK)]
    assert launch["executable_path"] == installed[0]
    assert {"--headless", "--no-sandbox", "--disable-quic"} <= set(launch["args"])
    assert settings.getint("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT") == 6
    # Playwright in its own thread and loop, not behind the parsing of the served pages.
    assert settings.getbool("_PLAYWRIGHT_THREADED_LOOP")
    assert settings.getfloat("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT") == 30_000
    assert isinstance(settings.get("PLAYWRIGHT_ABORT_REQUEST"), render.BrowserRequestPolicy)


def test_addon_leaves_the_handlers_alone_when_rendering_is_off():
    settings = Settings()
    settings.setmodule("crawler.settings")
    settings.set("DEFNEWS_RENDER", "never")
    render.RenderAddon().update_settings(settings)
    assert "PLAYWRIGHT_LAUNCH_OPTIONS" not in settings


def test_a_bad_mode_is_refused():
    settings = Settings({"DEFNEWS_RENDER": "sometimes"})
    with pytest.raises(ValueError, match="auto, never, always"):
        render.mode_of(settings)


def test_addon_gives_rendered_requests_a_slot_of_their_own_and_takes_the_block_list():
    settings = Settings()
    settings.setmodule("crawler.settings")
    if render.unavailable(settings):
        pytest.skip(f"rendering unavailable here: {render.unavailable(settings)}")
    settings.set("DOWNLOAD_DELAY", 0.5)
    settings.set("DEFNEWS_RENDER_MAX_PAGES", 3)
    settings.set("DEFNEWS_RENDER_BLOCK", ["image", "stylesheet"])
    settings.set("DEFNEWS_RENDER_BROWSER_ARGS", ["--lang=ja"])
    render.RenderAddon().update_settings(settings)
    # As many at once as browser pages, the site's own delay.
    assert settings.getdict("DOWNLOAD_SLOTS")[render.BROWSER_SLOT] == {"concurrency": 3, "delay": 0.5}
    assert settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS")["args"][-1] == "--lang=ja"
    policy = settings.get("PLAYWRIGHT_ABORT_REQUEST")
    assert policy(SimpleNamespace(url="http://127.0.0.1:1/a.css", resource_type="stylesheet")) is True
    assert policy(SimpleNamespace(url="http://127.0.0.1:1/f.woff2", resource_type="font")) is True  # offsite
    assert policy.resources == 1


def test_the_browser_is_the_setting_or_the_first_installed(tmp_path, monkeypatch):
    shell, full = tmp_path / "chromium-headless-shell", tmp_path / "chromium"
    monkeypatch.setattr(render, "BROWSERS", (str(shell), str(full)))
    settings = Settings({"DEFNEWS_RENDER_BROWSER": ""})
    if render.unavailable(settings) and "scrapy-playwright" in str(render.unavailable(settings)):
        pytest.skip(str(render.unavailable(settings)))
    # Neither installed: both named, and how to install them.
    assert render.browser_path(settings) == str(full)
    why = render.unavailable(settings)
    assert why and str(shell) in why and str(full) in why and "chromium-headless-shell" in why
    full.write_text("#!/bin/sh\n")
    full.chmod(0o755)
    assert render.browser_path(settings) == str(full) and render.unavailable(settings) is None
    shell.write_text("#!/bin/sh\n")
    shell.chmod(0o755)
    assert render.browser_path(settings) == str(shell)  # the lighter one first
    # A browser named in the setting is the one, installed or not.
    named = Settings({"DEFNEWS_RENDER_BROWSER": "/nonexistent/chromium"})
    assert render.browser_path(named) == "/nonexistent/chromium"
    assert "/nonexistent/chromium" in (render.unavailable(named) or "")


def test_beacons_are_not_sent():
    policy = render.BrowserRequestPolicy()
    policy.hosts.add("127.0.0.1:1")
    for kind in ("ping", "cspreport", "image", "font", "stylesheet", "media"):
        assert policy(SimpleNamespace(url="http://127.0.0.1:1/x", resource_type=kind)) is True
    for kind in ("document", "script", "fetch", "xhr"):
        assert policy(SimpleNamespace(url="http://127.0.0.1:1/x", resource_type=kind)) is False
    assert policy.resources == 6


def test_a_rendered_request_goes_to_the_browser_slot(tmp_path):
    crawler, mw = middleware(tmp_path)
    if not mw.enabled:
        pytest.skip(f"rendering unavailable here: {mw.unavailable}")
    again = mw.again(listing_response(download_latency=0.1), "no article link")
    assert again is not None and "download_latency" not in again.meta  # the served fetch's
    mw.process_request(again)
    assert again.meta["playwright"] and again.meta["download_slot"] == render.BROWSER_SLOT
    served = Request(HOME, meta={"defnews_page": "article"})
    mw.process_request(served)
    assert "download_slot" not in served.meta
