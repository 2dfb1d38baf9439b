"""scrapy-playwright's download handler with its browser pages kept open and reused.

scrapy-playwright opens a new browser page for every request and closes it after: a new
target, its CDP sessions and routes, a new renderer process for the tab. For a crawl that
renders a hundred listing pages that was most of the browser's work: on the 103 listing
pages of bench/bench_render.py's scripted copy, 350 ms of CPU per page (Chromium, Playwright's
driver, Python) against 215 ms with the pages reused (the navigation to the next address in a
page that rendered the last one).

At most ``PLAYWRIGHT_MAX_PAGES_PER_CONTEXT`` pages (DEFNEWS_RENDER_MAX_PAGES) are open, each
rendering one request at a time, and each for ``DEFNEWS_RENDER_PAGE_USES`` requests, then closed
and a new one opened: a page reused without end grows (its renderer process keeps what the pages
it showed left behind). At the peak of the benchmark's auto crawl, the crawl's processes held
1,000-1,060 MiB with each page reused for all its ~26 renderings, 800 MiB reused for 5, 670 MiB
with a new page every time; the CPU saved is the same for 5 as for 26. A page whose request
failed (a timeout, a script that never yields, a crash) is closed rather than reused, and a
closed page (the browser restarted) is dropped from the pool. A request that asks for its page
(``playwright_include_page``) gets its own, as with scrapy-playwright. Imported only when
rendering is on (the ``render`` extra).

Playwright (its Node.js driver and the browser) is started by the first request for a
rendered page, not when the engine starts: scrapy-playwright starts it on every crawl with
rendering on (``auto``, the default), and most crawls render no page at all; the start cost
such a crawl about 1 s of CPU and 1.5 s of wall time for nothing. The pages rendered at once
wait for the one start.

No request waits on the browser without end. Playwright's ``BrowserContext.new_page()`` in
flight when the browser dies never returns with Debian's chromium-headless-shell (Playwright
1.65: 12 of 15 tries of four pages opened at once, the browser killed 0-80 ms later; none of 10
with chromium): the request hung, and the crawl with it (its engine waits for every request).
So a page being opened is given up the moment the browser it was asked of disconnects
(``TargetClosedError``: scrapy-playwright's own loop launches the browser again and opens the
page there) or after DEFNEWS_RENDER_PAGE_TIMEOUT s (:class:`~crawler.render.PageTooSlow`); a
page that opens after all is closed. And a whole rendering (navigation, the wait for the
content, the page's HTML) is given up after the time its own limits add up to, and 30 s more:
whatever else in the browser or its driver never answers fails that one request (retried once,
then logged and counted as not rendered, crawler/render.py), never the crawl.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Any

from playwright._impl._errors import TargetClosedError  # (as scrapy-playwright's handler)
from scrapy import Request, Spider
from scrapy.http import Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from crawler.render import PageTooSlow, content_limit

# What a rendering may take beyond the sum of its own limits before it is given up.
MARGIN = 30.0


def _fresh_threaded_loop() -> None:
    """scrapy-playwright's threaded loop (crawler/render.py turns it on) for this handler: a
    loop stopped by an earlier crawl of this process is replaced.

    Its ``_ThreadedLoopAdapter`` is started once per process: when every handler it served has
    closed, it stops its loop and joins its thread, and a later crawl in the same process (a
    CrawlerRunner run twice, a scheduler in one process, a test) queued its renderings to a loop
    that no longer ran: each rendered request waited for ever, and so did the crawl."""
    from scrapy_playwright._loop import _ThreadedLoopAdapter as adapter

    thread = getattr(adapter, "_thread", None)
    if thread is None or thread.is_alive():
        return
    loop = getattr(adapter, "_loop", None)
    if loop is not None and not loop.is_running() and not loop.is_closed():
        pending = asyncio.all_tasks(loop)  # (its queue's reader, waiting for ever)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
    del adapter._thread, adapter._loop
    adapter._coro_queue = asyncio.Queue()  # (bound to the old loop once used)
    adapter._stop_events = {}


class ReusedPagesHandler(ScrapyPlaywrightDownloadHandler):  # type: ignore[misc]
    def __init__(self, crawler: Any) -> None:
        if crawler.settings.getbool("_PLAYWRIGHT_THREADED_LOOP"):
            _fresh_threaded_loop()
        super().__init__(crawler)
        self._idle: list[Any] = []  # open pages, free for the next request
        self._uses: dict[Any, int] = {}  # page -> requests it rendered
        self._max_uses = max(1, crawler.settings.getint("DEFNEWS_RENDER_PAGE_USES", 5))
        self._gate: asyncio.Semaphore | None = None  # made in the handler's event loop
        self._started: asyncio.Future[None] | None = None  # Playwright's start, once begun
        settings = crawler.settings
        page_timeout = settings.getfloat("DEFNEWS_RENDER_PAGE_TIMEOUT", 30.0)
        self._open_limit = page_timeout  # s to open a page
        # The navigation, the wait for the content, the HTML: no rendering may take longer
        # than its own limits and MARGIN.
        wait = settings.getfloat("DEFNEWS_RENDER_WAIT", 10.0)
        self._render_limit = page_timeout + content_limit(page_timeout, wait) + MARGIN
        self._lost: asyncio.Future[None] | None = None  # done when the browser disconnects

    # Connected to the engine_started signal by scrapy-playwright (one or the other, by
    # Scrapy's API): nothing is started there (see the module docstring).
    async def _maybe_launch_in_thread(self) -> None:
        return None

    def _engine_started(self) -> Any:
        from twisted.internet.defer import succeed

        return succeed(None)

    async def _start_once(self) -> None:
        if self._started is None:
            self._started = asyncio.ensure_future(self._launch())
        await asyncio.shield(self._started)

    # -- the browser's disconnection, and pages being opened when it comes ----------------
    def _browser_lost(self) -> asyncio.Future[None]:
        """Done when the browser in use now disconnects (a new one for the next browser)."""
        if self._lost is None or self._lost.done():
            self._lost = asyncio.get_running_loop().create_future()
        return self._lost

    async def _browser_disconnected_callback(self) -> None:
        lost = self._browser_lost()
        lost.set_result(None)
        await super()._browser_disconnected_callback()

    async def _create_page(self, request: Request, spider: Spider) -> Any:
        lost = self._browser_lost()
        opening = asyncio.ensure_future(super()._create_page(request, spider))
        try:
            done, _ = await asyncio.wait({opening, lost}, timeout=self._open_limit,
                                         return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled (the rendering's own limit): the page is not wanted
            opening.add_done_callback(self._close_late)
            raise
        if opening in done:
            return opening.result()
        opening.add_done_callback(self._close_late)
        self.stats.inc_value("defnews/render/page_open_given_up")
        if lost.done():
            raise TargetClosedError("the browser closed while a page was being opened in it")
        raise PageTooSlow(f"no browser page opened within {self._open_limit:.0f} s")

    @staticmethod
    def _close_late(opening: asyncio.Future[Any]) -> None:
        """A page given up that opened after all is closed (its slot in the context freed)."""
        if opening.cancelled() or opening.exception() is not None:
            return  # (the exception retrieved: nothing to say of a page nobody waits for)
        page = opening.result()
        if not page.is_closed():
            task = asyncio.ensure_future(page.close())
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _download_request(self, request: Request, spider: Spider | None = None) -> Response:
        try:
            return await asyncio.wait_for(self._render(request, spider), self._render_limit)
        except TimeoutError:
            self.stats.inc_value("defnews/render/given_up")
            raise PageTooSlow(f"the browser gave no page within {self._render_limit:.0f} s") \
                from None

    async def _render(self, request: Request, spider: Spider | None) -> Response:
        await self._start_once()
        if request.meta.get("playwright_include_page") or request.meta.get("playwright_page"):
            return await super()._download_request(request, spider)
        if self._gate is None:
            # No more requests in a page at once than pages may be open: a request always
            # finds a free page or room for a new one (scrapy-playwright's own limit waits for
            # a page to close, and a reused page does not).
            self._gate = asyncio.Semaphore(self.config.max_pages_per_context)
        async with self._gate:
            page = None
            while self._idle and page is None:
                candidate = self._idle.pop()
                if not candidate.is_closed():
                    page = candidate
                else:
                    self._uses.pop(candidate, None)
            meta = request.meta
            meta["playwright_include_page"] = True  # the handler leaves the page open
            if page is not None:
                meta["playwright_page"] = page
                self.stats.inc_value("defnews/render/pages_reused")
            try:
                response = await super()._download_request(request, spider)
            except BaseException:
                page = meta.pop("playwright_page", None)
                meta.pop("playwright_include_page", None)
                if page is not None:
                    await self._release_page(page)
                raise
            page = meta.pop("playwright_page", None)  # (response.meta is this dict)
            meta.pop("playwright_include_page", None)
            if page is not None and not page.is_closed():
                uses = self._uses[page] = self._uses.get(page, 0) + 1
                if uses < self._max_uses:
                    self._idle.append(page)
                else:
                    await self._release_page(page)
            return response

    async def _release_page(self, page: Any) -> None:
        """A page the pool lets go (failed, or used up): closed, within 5 s, and counted."""
        self._uses.pop(page, None)
        if page.is_closed():
            return
        with suppress(Exception):
            await asyncio.wait_for(page.close(), 5)
        self.stats.inc_value("playwright/page_count/closed")
