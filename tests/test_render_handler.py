"""crawler/render_handler.py: browser pages reused, at most DEFNEWS_RENDER_PAGE_USES times each,
closed after a failure; no request left waiting on a browser that died or does not answer
(scrapy-playwright's own download stood in for: no browser here; tests/test_e2e_render.py kills
a real one)."""

from __future__ import annotations

import asyncio
import importlib.util
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

if importlib.util.find_spec("scrapy_playwright") is None:
    pytest.skip("scrapy-playwright is not installed (pip install -e '.[render]')",
                allow_module_level=True)

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler  # noqa: E402

from crawler.render import PageTooSlow  # noqa: E402
from crawler.render_handler import ReusedPagesHandler  # noqa: E402


class FakePage:
    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False

    def is_closed(self) -> bool:
        return self.closed

    async def close(self) -> None:
        self.closed = True


class Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + count


def handler(uses: int = 3, pages: int = 2) -> ReusedPagesHandler:
    h = ReusedPagesHandler.__new__(ReusedPagesHandler)  # no browser, no reactor
    h._idle, h._uses, h._max_uses, h._gate, h._started = [], {}, uses, None, None
    h._open_limit, h._render_limit, h._lost = 30.0, 90.0, None
    h.launches = 0

    async def launch() -> None:
        h.launches += 1  # type: ignore[attr-defined]
        await asyncio.sleep(0.01)

    h._launch = launch  # type: ignore[method-assign]
    h.stats = Stats()
    h.config = SimpleNamespace(max_pages_per_context=pages)
    return h


@pytest.fixture
def downloads(monkeypatch):
    """scrapy-playwright's download: a new page when the request brings none, as it does."""
    made: list[FakePage] = []
    seen: list[FakePage] = []

    async def download(self, request, spider=None):
        page = request.meta.get("playwright_page")
        if page is None or page.is_closed():
            page = FakePage(len(made))
            made.append(page)
        if request.meta.get("playwright_include_page"):
            request.meta["playwright_page"] = page
        seen.append(page)
        await asyncio.sleep(0)
        if request.meta.get("fail"):
            raise RuntimeError("the page crashed")
        return HtmlResponse(request.url, body=b"<html></html>", request=request)

    monkeypatch.setattr(ScrapyPlaywrightDownloadHandler, "_download_request", download)
    return SimpleNamespace(made=made, seen=seen)


def fetch(h: ReusedPagesHandler, *requests: Request) -> list[object]:
    async def run() -> list[object]:
        out: list[object] = []
        for r in requests:
            try:
                out.append(await h._download_request(r))
            except RuntimeError as exc:
                out.append(exc)
        return out

    return asyncio.run(run())


def test_one_page_renders_one_request_after_another_then_a_new_one(downloads):
    h = handler(uses=3)
    responses = fetch(h, *(Request(f"http://127.0.0.1/{n}", meta={"playwright": True})
                          for n in range(7)))
    assert [p.number for p in downloads.seen] == [0, 0, 0, 1, 1, 1, 2]
    assert downloads.made[0].closed and downloads.made[1].closed and not downloads.made[2].closed
    assert h.stats.values["defnews/render/pages_reused"] == 4
    # The page never reaches the spider: response.meta is the request's.
    assert all("playwright_page" not in r.meta and "playwright_include_page" not in r.meta
               for r in responses)


def test_a_page_whose_request_failed_is_closed_not_reused(downloads):
    h = handler(uses=10)
    out = fetch(h, Request("http://127.0.0.1/a", meta={"playwright": True}),
                Request("http://127.0.0.1/b", meta={"playwright": True, "fail": True}),
                Request("http://127.0.0.1/c", meta={"playwright": True}))
    assert isinstance(out[1], RuntimeError)
    assert [p.number for p in downloads.seen] == [0, 0, 1]
    assert downloads.made[0].closed and "playwright_page" not in out[2].meta


def test_a_closed_page_is_dropped_and_one_that_asks_for_its_page_gets_its_own(downloads):
    h = handler(uses=10)
    fetch(h, Request("http://127.0.0.1/a", meta={"playwright": True}))
    downloads.made[0].closed = True  # the browser restarted
    kept = Request("http://127.0.0.1/b", meta={"playwright": True, "playwright_include_page": True})
    fetch(h, kept, Request("http://127.0.0.1/c", meta={"playwright": True}))
    assert [p.number for p in downloads.seen] == [0, 1, 2]
    assert kept.meta["playwright_page"] is downloads.made[1]  # its own, left open for it
    assert not downloads.made[1].closed and h._idle == [downloads.made[2]]


def test_no_more_requests_in_pages_at_once_than_pages(downloads):
    h = handler(uses=100, pages=2)

    async def run() -> None:
        await asyncio.gather(*(h._download_request(
            Request(f"http://127.0.0.1/{n}", meta={"playwright": True})) for n in range(6)))

    asyncio.run(run())
    assert len(downloads.made) == 2  # two at a time: each finds a free page or makes one


def test_playwright_is_started_by_the_first_rendered_page_once_not_by_the_engine(downloads):
    h = handler(uses=100, pages=4)

    async def run() -> None:
        await h._maybe_launch_in_thread()  # the engine_started signal's handler
        assert h.launches == 0
        await asyncio.gather(*(h._download_request(
            Request(f"http://127.0.0.1/{n}", meta={"playwright": True})) for n in range(6)))

    asyncio.run(run())
    assert h.launches == 1 and len(downloads.seen) == 6
    assert h._engine_started().called  # (Scrapy's older API: a fired Deferred, nothing run)


class Forever:
    """A Playwright call that never returns (BrowserContext.new_page() in flight when
    chromium-headless-shell dies does that), and the page it would have opened after all."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.late: list[FakePage] = []

    async def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 1:
            await self.release.wait()
            self.late.append(FakePage(-1))
            return self.late[-1]
        return FakePage(self.calls)


def dead_browser(h: ReusedPagesHandler) -> None:
    """What scrapy-playwright's disconnection callback reads."""
    h.context_wrappers = {}
    h.browser = object()
    h.config.restart_disconnected_browser = True


def test_a_page_being_opened_when_the_browser_dies_is_given_up_and_opened_again(monkeypatch):
    """scrapy-playwright's own loop (a TargetClosedError: open the page again) gets the
    request through: without the browser's end ending the wait, the request waits for ever."""
    opening = Forever()
    monkeypatch.setattr(ScrapyPlaywrightDownloadHandler, "_create_page", opening)

    async def with_retry(self, request, spider):  # scrapy-playwright's, past the page
        page = await self._create_page(request=request, spider=spider)
        return HtmlResponse(request.url, body=b"<html></html>", request=request,
                            flags=[str(page.number)])

    monkeypatch.setattr(ScrapyPlaywrightDownloadHandler, "_download_request_with_retry",
                        with_retry)
    h = handler()
    dead_browser(h)
    h.config.target_closed_max_retries = 3
    h._crawler = SimpleNamespace(spider=None)

    async def run():
        rendering = asyncio.ensure_future(h._download_request(
            Request("http://127.0.0.1/a", meta={"playwright": True})))
        while opening.calls == 0:
            await asyncio.sleep(0)
        await h._browser_disconnected_callback()
        response = await asyncio.wait_for(rendering, 5)
        opening.release.set()  # the first page opens after all: it is closed
        for _ in range(5):
            await asyncio.sleep(0)
        return response

    response = asyncio.run(run())
    assert response.flags == ["2"] and opening.calls == 2
    assert opening.late and opening.late[0].closed
    assert h.stats.values["defnews/render/page_open_given_up"] == 1
    assert not hasattr(h, "browser")  # scrapy-playwright's callback ran: launched again next


def test_a_page_the_live_browser_never_opens_fails_that_request_only(monkeypatch):
    monkeypatch.setattr(ScrapyPlaywrightDownloadHandler, "_create_page", Forever())
    h = handler()
    h._open_limit = 0.05

    async def run():
        return await asyncio.wait_for(h._create_page(Request("http://127.0.0.1/a"), None), 5)

    with pytest.raises(PageTooSlow, match="no browser page opened within"):
        asyncio.run(run())


def test_a_rendering_that_never_ends_is_given_up_and_frees_its_page(monkeypatch):
    made: list[FakePage] = []

    async def download(self, request, spider=None):
        page = FakePage(len(made))
        made.append(page)
        request.meta["playwright_page"] = page
        if request.url.endswith("/stuck"):
            await asyncio.Event().wait()  # a call into the browser that never returns
        return HtmlResponse(request.url, body=b"<html></html>", request=request)

    monkeypatch.setattr(ScrapyPlaywrightDownloadHandler, "_download_request", download)
    h = handler(pages=1)  # one page: the stuck rendering holds the only one
    h._render_limit = 0.1

    async def run():
        stuck = h._download_request(Request("http://127.0.0.1/stuck", meta={"playwright": True}))
        with pytest.raises(PageTooSlow, match="the browser gave no page within"):
            await asyncio.wait_for(stuck, 5)
        return await asyncio.wait_for(h._download_request(
            Request("http://127.0.0.1/next", meta={"playwright": True})), 5)

    assert asyncio.run(run()).url == "http://127.0.0.1/next"
    assert made[0].closed  # the stuck rendering's page, not reused
    assert h.stats.values["defnews/render/given_up"] == 1


def test_a_second_crawl_in_the_process_gets_a_running_threaded_loop(monkeypatch):
    """scrapy-playwright's threaded loop stops (its thread joined) once every handler of a crawl
    has closed; a later crawl in the same process queued its renderings to that stopped loop
    and waited for ever. The handler of the next crawl replaces it."""
    from scrapy.settings import Settings
    from scrapy_playwright._loop import _ThreadedLoopAdapter as adapter

    def run_there(value: str) -> str:
        return asyncio.run_coroutine_threadsafe(asyncio.sleep(0, value), adapter._loop).result(5)

    adapter.start(1)  # a first crawl's handler...
    assert run_there("first") == "first"
    adapter.stop(1)  # ...closed: the loop stops, its thread is joined
    assert not adapter._thread.is_alive()
    # The next crawl's handler (scrapy-playwright's own __init__, which starts the adapter,
    # without a browser or a reactor behind it).
    monkeypatch.setattr(ScrapyPlaywrightDownloadHandler, "__init__",
                        lambda self, crawler: adapter.start(id(self)))
    settings = Settings({"_PLAYWRIGHT_THREADED_LOOP": True})
    second = ReusedPagesHandler(SimpleNamespace(settings=settings))
    assert adapter._thread.is_alive()
    assert run_there("second") == "second"
    adapter.stop(id(second))
    assert not adapter._thread.is_alive()
