"""Script-rendered pages: a real browser only for the pages whose HTML lacks what they should hold.

Some sites fill their listings or ranking sidebar from JSON once the page runs. Such a page's
served HTML has an empty container; a real Chromium shows every link. Rendering goes through
the Scrapy ecosystem's own tool, scrapy-playwright (a download handler), driving Debian's
Chromium (``playwright install`` is never needed): ``DEFNEWS_RENDER_BROWSER``, by default
``/usr/bin/chromium-headless-shell`` where installed (package ``chromium-headless-shell``:
Chromium's old headless mode, without the browser's UI layers, about a quarter less CPU per
page), else ``/usr/bin/chromium``.

Three parts, all here (spiders only say what a page is and, when a page they parsed lacks
what it should have, ask :func:`again`):

- :class:`RenderAddon` (``ADDONS``): when rendering is on (``DEFNEWS_RENDER`` ``auto`` or
  ``always``) and possible (the ``render`` extra installed, the browser there), installs the
  scrapy-playwright handler with its limits: pages open at once, per-page time, images /
  fonts / media and off-site hosts never fetched by the browser (:class:`BrowserRequestPolicy`).
- :func:`again`: a spider's callback found a page of kind ``listing`` / ``article`` lacking
  (no article link, a ranking container with no entry, no article body). If the page has
  scripts and rendering is on, the same request comes back marked to be rendered; else the
  page is noted as needing rendering: said once at the end of the crawl (log and summary),
  and counted (``defnews/render/needed_unrendered``: the source is unhealthy, exit 1).
- :class:`RenderMiddleware` (a downloader middleware keyed on ``request.meta``): turns marked
  requests (and, with ``always``, every site page; for a site that needed rendering before,
  its listing pages directly: remembered in the store) into scrapy-playwright requests that
  wait for what matters, counts and lists the pages rendered, and retries a page once when
  the browser crashed under it (scrapy-playwright relaunches a disconnected browser).

Everything else holds as for served pages: the rendered request goes through the same
scheduler, robots.txt, offsite and User-Agent (scrapy-playwright sends Scrapy's headers on the
browser's requests); rendered requests share a downloader slot of their own (as many at once
as browser pages, the site's download delay), so pages waiting for the browser do not hold up
the served ones.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import weakref
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

MODES = ("auto", "never", "always")
# The browsers tried when DEFNEWS_RENDER_BROWSER is empty, first the lighter (Debian packages
# chromium-headless-shell and chromium; bench/bench_render.py measures them).
BROWSERS = ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium")
# Chromium's flags: headless as root with no network beyond the crawled site (no sandbox
# namespaces for root, no GPU, no QUIC probe, no first-run, update, sync or background
# fetches of Google's services).
BROWSER_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
# What a browser rendering a page for its links and text never needs to fetch (Playwright's
# resource types; DEFNEWS_RENDER_BLOCK): pixels, sounds, styles, and beacons (``ping``:
# navigator.sendBeacon, <a ping>; ``cspreport``: CSP violation reports).
BLOCKED_RESOURCES = ("image", "media", "font", "stylesheet", "texttrack", "manifest", "ping",
                     "cspreport")
# The downloader slot of every rendered request (see RenderMiddleware.process_request).
BROWSER_SLOT = "defnews-browser"
# Conditional request headers are not sent by the browser: it has no cached copy a 304 would
# refer to, and a 304 navigation shows an empty page.
_CONDITIONAL = ("If-None-Match", "If-Modified-Since")
# An executable <script> (not JSON-LD or a JSON data island): the page may fill itself in.
_SCRIPT_RE = re.compile(
    rb"<script(?![^>]*\btype\s*=\s*[\"']?(?:application/(?:ld\+)?json|text/template))[\s>]", re.I)

# What a rendered page of each kind is awaited for: (container, item) CSS pairs (a container
# may be a list of selectors: the first present on the page is the container), or
# (container, link, path pattern) triples: a link whose path matches the pattern (the site's
# article addresses; a pager or menu link in the container is not the list being filled).
# The page is read once every container present holds an item (and the DOM has been still for
# DEFNEWS_RENDER_SETTLE seconds), or after DEFNEWS_RENDER_WAIT seconds. A spider may set its
# own (``render_awaits``).
DEFAULT_AWAITS: dict[str, tuple[tuple[Any, ...], ...]] = {
    "listing": (("main", "a[href]"),),
    "article": (("main, article, body", "p"),),
}
_WAIT_JS = """
async ({pairs, timeout, settle}) => {
  const compile = (p) => { try { return p ? new RegExp(p) : null; } catch (e) { return null; } };
  const tests = pairs.map(([c, i, p]) => [c, i, compile(p)]);
  const path = (a) => { try { return new URL(a.href).pathname; } catch (e) { return ""; } };
  const holds = (el, i, re) => re === null ? el.querySelector(i) !== null
    : Array.from(el.querySelectorAll(i)).some((a) => re.test(path(a)));
  // A list of containers: the first of them on the page is the one (as the page is read).
  const containers = (c) => Array.isArray(c)
    ? Array.from(c.map((s) => document.querySelectorAll(s)).find((l) => l.length > 0) || [])
    : Array.from(document.querySelectorAll(c));
  const ready = () => tests.every(([c, i, re]) => {
    const found = containers(c);
    return found.length === 0 || found.some((el) => holds(el, i, re));
  });
  const deadline = Date.now() + timeout;
  let changed = Date.now();
  const observer = new MutationObserver(() => { changed = Date.now(); });
  observer.observe(document.documentElement,
                   {childList: true, subtree: true, attributes: true, characterData: true});
  try {
    while (Date.now() < deadline) {
      if (ready() && Date.now() - changed >= settle) return true;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return ready();
  } finally {
    observer.disconnect();
  }
}
"""


class PageTooSlow(Exception):
    """A rendering past its limits: the page's scripts kept its main thread past
    DEFNEWS_RENDER_PAGE_TIMEOUT, or the browser gave no page in time (crawler/render_handler.py)."""


def content_limit(page_timeout: float, wait: float) -> float:
    """How long :func:`await_content` may take in all (its ``limit``): a page whose scripts
    hold its main thread fails then, not later."""
    return max(page_timeout, wait + 5)


async def await_content(page: Any, pairs: list[list[Any]], wait: float, settle: float,
                        limit: float) -> bool:
    """The page method run on every rendered page: True once every awaited container present
    holds an item and the DOM has been still for ``settle`` s, False after ``wait`` s. A page
    whose scripts never yield (an endless loop) fails after ``limit`` s instead of hanging."""
    import asyncio

    arg = {"pairs": pairs, "timeout": wait * 1000, "settle": settle * 1000}
    try:
        return bool(await asyncio.wait_for(page.evaluate(_WAIT_JS, arg), timeout=limit))
    except TimeoutError as exc:
        raise PageTooSlow(f"the page's scripts did not let it be read within {limit:.0f} s") from exc


def js_pattern(pattern: str) -> str:
    """A Python regular expression as JavaScript reads it: named groups and their
    back-references respelled (``(?P<n>`` as ``(?<n>``, ``(?P=n)`` as ``\\k<n>``). What
    JavaScript still cannot compile makes the page wait for any link instead (_WAIT_JS)."""
    return re.sub(r"\(\?P=(\w+)\)", r"\\k<\1>", pattern.replace("(?P<", "(?<"))


def has_scripts(body: bytes) -> bool:
    """Whether a page has an executable script (inline or ``src``)."""
    return _SCRIPT_RE.search(body) is not None


def browser_path(settings: BaseSettings) -> str:
    """The browser to launch: DEFNEWS_RENDER_BROWSER, or the first of BROWSERS installed
    (the last when none is: named by :func:`unavailable`)."""
    chosen = settings.get("DEFNEWS_RENDER_BROWSER")
    if chosen:
        return str(chosen)
    return next((b for b in BROWSERS if os.access(b, os.X_OK)), BROWSERS[-1])


def unavailable(settings: BaseSettings) -> str | None:
    """Why pages cannot be rendered here (None: they can)."""
    if importlib.util.find_spec("scrapy_playwright") is None:
        return "scrapy-playwright is not installed (pip install 'defnews[render]')"
    browser = browser_path(settings)
    if not os.access(browser, os.X_OK):
        if settings.get("DEFNEWS_RENDER_BROWSER"):
            return f"no browser at {browser} (set DEFNEWS_RENDER_BROWSER to an installed one)"
        return (f"no browser at {' or '.join(BROWSERS)} (apt-get install "
                "chromium-headless-shell, or chromium, or set DEFNEWS_RENDER_BROWSER)")
    return None


def mode_of(settings: BaseSettings) -> str:
    mode = str(settings.get("DEFNEWS_RENDER") or "auto").strip().lower()
    if mode not in MODES:
        raise ValueError(f"DEFNEWS_RENDER must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def _netloc(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


class BrowserRequestPolicy:
    """``PLAYWRIGHT_ABORT_REQUEST``: which of a rendered page's own requests are not made.

    Images, fonts and media never; another host than one of the pages being rendered (a
    script may not make the browser fetch elsewhere) unless ``DEFNEWS_RENDER_ALLOW_HOSTS``
    names it; a URL the host's robots.txt forbids (the rules Scrapy's robots.txt middleware
    read for the page itself). Counted by scrapy-playwright
    (``playwright/request_count/aborted``) and here.
    """

    def __init__(self, allowed: Iterable[str] = (), blocked: Iterable[str] = BLOCKED_RESOURCES) -> None:
        self.allowed = {h.lower() for h in allowed}
        self.blocked = frozenset(blocked)
        self.hosts: set[str] = set()  # hosts of the pages rendered (added by the middleware)
        self.offsite: dict[str, int] = {}
        self.resources = 0
        self.forbidden = 0
        self.robots: Any = None  # the crawl's RobotsTxtMiddleware (set by RenderMiddleware)
        self.user_agent = ""

    def _robots_forbid(self, url: str, host: str) -> bool:
        parsers = getattr(self.robots, "_parsers", None) or {}
        parser = parsers.get(host)
        if parser is None or not hasattr(parser, "allowed"):  # none, or still being fetched
            return False
        if parser.allowed(url, self.user_agent):
            return False
        self.forbidden += 1
        logger.debug("browser request forbidden by robots.txt not made: %s", url)
        return True

    def __call__(self, request: Any) -> bool:
        if request.resource_type in self.blocked:
            self.resources += 1
            return True
        host = _netloc(request.url)
        if not request.url.startswith(("http://", "https://")):
            return not request.url.startswith(("data:", "blob:", "about:"))
        if host in self.hosts or host in self.allowed or (urlsplit(request.url).hostname or "") in self.allowed:
            return self._robots_forbid(request.url, host)
        self.offsite[host] = self.offsite.get(host, 0) + 1
        logger.debug("browser request to another host not made: %s", request.url)
        return True


class RenderAddon:
    """Installs scrapy-playwright when rendering is on and possible (see the module text)."""

    def update_settings(self, settings: BaseSettings) -> None:
        mode = mode_of(settings)
        if mode == "never" or unavailable(settings) is not None:
            return
        handler = "crawler.render_handler.ReusedPagesHandler"  # scrapy-playwright's, pages reused
        handlers = dict(settings.getdict("DOWNLOAD_HANDLERS"))
        handlers.setdefault("http", handler)
        handlers.setdefault("https", handler)
        settings.set("DOWNLOAD_HANDLERS", handlers, priority="addon")
        settings.set("PLAYWRIGHT_BROWSER_TYPE", "chromium", priority="addon")
        settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", {
            "executable_path": browser_path(settings),
            "headless": True,
            "args": [*BROWSER_ARGS, *settings.getlist("DEFNEWS_RENDER_BROWSER_ARGS")],
            "timeout": settings.getfloat("DEFNEWS_RENDER_PAGE_TIMEOUT") * 1000,
        }, priority="addon")
        # One browser context; at most this many pages open at once (the others wait).
        settings.set("PLAYWRIGHT_MAX_CONTEXTS", 1, priority="addon")
        settings.set("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT",
                     settings.getint("DEFNEWS_RENDER_MAX_PAGES"), priority="addon")
        settings.set("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT",
                     settings.getfloat("DEFNEWS_RENDER_PAGE_TIMEOUT") * 1000, priority="addon")
        settings.set("PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER", True, priority="addon")
        slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
        slots.setdefault(BROWSER_SLOT, {"concurrency": settings.getint("DEFNEWS_RENDER_MAX_PAGES"),
                                        "delay": settings.getfloat("DOWNLOAD_DELAY")})
        settings.set("DOWNLOAD_SLOTS", slots, priority="addon")
        settings.set("PLAYWRIGHT_ABORT_REQUEST",
                     BrowserRequestPolicy(settings.getlist("DEFNEWS_RENDER_ALLOW_HOSTS"),
                                          settings.getlist("DEFNEWS_RENDER_BLOCK")),
                     priority="addon")
        # Playwright in an event loop of its own, in a thread (scrapy-playwright's, as on
        # Windows): in the crawl's loop, every message of the browser's (a request to let
        # through, the page loaded, its HTML) waited behind the parsing of the served pages,
        # and while the articles came in (250 a second) no rendering ended for seconds. Median
        # of 3 crawls of bench/bench_render.py's scripted copy (6 pages): 17.8 s -> 15.0 s.
        settings.set("_PLAYWRIGHT_THREADED_LOOP", True, priority="addon")


_renderers: weakref.WeakKeyDictionary[Crawler, RenderMiddleware] = weakref.WeakKeyDictionary()


def again(spider: Any, response: Response, reason: str) -> Request | None:
    """The request to render ``response``'s page, which lacks what it should hold
    (``reason``), or None: rendered already, no script to run, or rendering off/unavailable
    (then the page is noted as needing rendering, and said once at the end)."""
    renderer = _renderers.get(spider.crawler)
    if renderer is None:
        return None
    return renderer.again(response, reason)


class RenderMiddleware:
    """Decides which requests are rendered, and keeps the account of it (see the module text)."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.mode = mode_of(settings)
        self.unavailable = unavailable(settings) if self.mode != "never" else None
        self.enabled = self.mode != "never" and self.unavailable is None
        self.wait = settings.getfloat("DEFNEWS_RENDER_WAIT")
        self.settle = settings.getfloat("DEFNEWS_RENDER_SETTLE")
        self.page_timeout = settings.getfloat("DEFNEWS_RENDER_PAGE_TIMEOUT")
        self.remember_age = settings.getfloat("DEFNEWS_RENDER_REMEMBER")
        policy = settings.get("PLAYWRIGHT_ABORT_REQUEST")
        self.policy = policy if isinstance(policy, BrowserRequestPolicy) else None
        self.rendered: dict[str, str] = {}  # URL -> why
        self.needed: dict[str, str] = {}  # URL -> why (not rendered: off or unavailable)
        self.still_lacking: dict[str, str] = {}  # rendered, and still lacking
        self.remembered: dict[str, str] = {}  # page kind -> why, for this spider's site
        self.learned: dict[str, str] = {}  # page kind -> why, learned this crawl
        self.site: str | None = None
        _renderers[crawler] = self
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.request_scheduled, signal=signals.request_scheduled)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RenderMiddleware:
        return cls(crawler)

    # -- the store's memory of sites that needed rendering ------------------------------------
    def spider_opened(self, spider: Any) -> None:
        self.site = getattr(spider, "site_url", None)
        if self.policy is not None:  # the browser's own requests obey the same robots.txt
            from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware

            downloader = getattr(self.crawler.engine, "downloader", None)
            chain = getattr(getattr(downloader, "middleware", None), "middlewares", ())
            self.policy.robots = next((m for m in chain if isinstance(m, RobotsTxtMiddleware)), None)
            self.policy.user_agent = (self.crawler.settings.get("ROBOTSTXT_USER_AGENT")
                                      or self.crawler.settings.get("USER_AGENT") or "")
        location = self.crawler.settings.get("DEFNEWS_STORE")
        if not (self.enabled and self.site and location):
            return
        from crawler.store import open_store

        with open_store(str(location)) as store:
            needs = store.render_needs(self.site)
        now = datetime.now(UTC)
        for kind, (why, at) in needs.items():
            if self.remember_age <= 0 or now - at < timedelta(seconds=self.remember_age):
                self.remembered[kind] = why
        if self.remembered:
            logger.info("%s needed rendering before (%s): its %s pages are rendered directly",
                        self.site, "; ".join(f"{k}: {w}" for k, w in sorted(self.remembered.items())),
                        ", ".join(sorted(self.remembered)))

    def spider_closed(self, spider: Any, reason: str = "finished") -> None:
        stats = self.crawler.stats
        assert stats is not None
        if self.rendered:
            stats.set_value("defnews/render/rendered_urls", sorted(self.rendered))
        if self.policy is not None:
            if self.policy.offsite:
                stats.set_value("defnews/render/offsite_blocked", sum(self.policy.offsite.values()))
                logger.info("browser requests to other hosts not made: %s", ", ".join(
                    f"{h} ({n})" for h, n in sorted(self.policy.offsite.items())))
            if self.policy.resources:
                stats.set_value("defnews/render/resources_blocked", self.policy.resources)
            if self.policy.forbidden:
                stats.set_value("defnews/render/robots_forbidden", self.policy.forbidden)
        if self.needed:
            why = ("rendering is off (--render never)" if self.mode == "never"
                   else f"rendering is unavailable: {self.unavailable}")
            stats.set_value("defnews/render/needed_urls", sorted(self.needed))
            stats.set_value("defnews/render/why_not", why)
            logger.warning(
                "%d page(s) needed rendering (their content is filled by scripts) but %s; not "
                "read: %s", len(self.needed), why,
                "; ".join(f"{u} ({r})" for u, r in sorted(self.needed.items())))
        for url, why in sorted(self.still_lacking.items()):
            logger.warning("%s: rendered, and still %s", url, why)
        location = self.crawler.settings.get("DEFNEWS_STORE")
        if self.learned and self.site and location:
            from crawler.store import open_store

            with open_store(str(location)) as store:
                store.record_render_needs(self.site, self.learned.items(), at=datetime.now(UTC))

    # -- deciding --------------------------------------------------------------------------
    def again(self, response: Response, reason: str) -> Request | None:
        request = response.request
        stats = self.crawler.stats
        assert request is not None and stats is not None
        url = response.url
        kind = str(request.meta.get("defnews_page") or "page")
        if request.meta.get("playwright"):
            self.still_lacking[url] = reason
            stats.inc_value("defnews/render/still_lacking")
            return None
        if not has_scripts(response.body):
            return None  # nothing a browser would run: the page is what it is
        if not self.enabled:
            if url not in self.needed:
                self.needed[url] = reason
                stats.inc_value("defnews/render/needed_unrendered")
                stats.inc_value(f"defnews/render/needed_unrendered/{kind}")
            return None
        if kind != "article":
            self.learned.setdefault(kind, reason)
        logger.info("%s: %s in the served HTML: rendering it", url, reason)
        stats.inc_value("defnews/render/served_then_rendered")
        meta = dict(request.meta)
        meta["defnews_render"] = reason
        meta.pop("download_latency", None)  # the served fetch's, set by Scrapy's downloader
        return request.replace(meta=meta, dont_filter=True, priority=request.priority + 1)

    def _why(self, request: Request) -> str | None:
        why = request.meta.get("defnews_render")
        if why:
            return str(why)
        kind = request.meta.get("defnews_page")
        if not kind:
            return None  # not a site page (feeds, robots.txt, data:)
        if self.mode == "always":
            return "--render always"
        if kind != "article" and kind in self.remembered:
            return f"needed before: {self.remembered[kind]}"
        return None

    def request_scheduled(self, request: Request, spider: Any = None) -> None:
        """A request to be rendered is scheduled in the browser's downloader slot (the
        signal comes before the scheduler queues it). Scrapy's queue (DownloaderAwarePriorityQueue)
        hands out requests by how busy their slot is; queued under the site's slot, the
        rendered requests (first by priority) filled CONCURRENT_REQUESTS waiting for a browser
        page and the served listings and articles waited behind them: the articles of the first
        rendered listings came only once most listings were rendered."""
        if self.enabled and not request.meta.get("playwright") and self._why(request) is not None:
            request.meta["download_slot"] = BROWSER_SLOT

    # -- downloader middleware ---------------------------------------------------------------
    def process_request(self, request: Request) -> None:
        if not self.enabled or request.meta.get("playwright"):
            return None
        why = self._why(request)
        if why is None or not request.url.startswith(("http://", "https://")):
            return None
        from scrapy_playwright.page import PageMethod

        kind = str(request.meta.get("defnews_page") or "page")
        spider = self.crawler.spider
        awaits = dict(DEFAULT_AWAITS) | dict(getattr(spider, "render_awaits", None) or {})
        pairs = [list(p) for p in awaits.get(kind, ())]
        request.meta["playwright"] = True
        request.meta["defnews_render"] = why
        request.meta["playwright_page_goto_kwargs"] = {"wait_until": "load"}
        request.meta["playwright_page_methods"] = [PageMethod(
            await_content, pairs=pairs, wait=self.wait, settle=self.settle,
            limit=content_limit(self.page_timeout, self.wait))]
        for name in _CONDITIONAL:
            request.headers.pop(name, None)
        # A downloader slot of its own (BROWSER_SLOT: as many requests at once as browser
        # pages, the site's delay): a page waiting for the browser would otherwise hold one of
        # the site's slots, and the served pages (the articles) would wait behind it.
        request.meta["download_slot"] = BROWSER_SLOT
        if self.policy is not None:
            self.policy.hosts.add(_netloc(request.url))
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("playwright"):
            stats = self.crawler.stats
            assert stats is not None
            kind = str(request.meta.get("defnews_page") or "page")
            self.rendered[response.url] = str(request.meta.get("defnews_render"))
            stats.inc_value("defnews/render/pages")
            stats.inc_value(f"defnews/render/pages/{kind}")
            methods = request.meta.get("playwright_page_methods") or ()
            if methods and methods[0].result is False:
                stats.inc_value("defnews/render/wait_timeouts")
                logger.warning("%s: read after the %.0f s wait, the awaited content not there",
                               response.url, self.wait)
        return response

    def process_exception(self, request: Request, exception: BaseException) -> Request | None:
        if not request.meta.get("playwright"):
            return None
        stats = self.crawler.stats
        assert stats is not None
        if type(exception).__name__ == "TimeoutError" \
                and type(exception).__module__.startswith("playwright"):
            # The navigation itself timed out (the page's scripts held it before "load"): the
            # same failure as a page whose scripts never let it be read.
            first = str(exception).splitlines()[0] if str(exception) else "navigation timeout"
            exception = PageTooSlow(f"the page did not load within {self.page_timeout:.0f} s "
                                    f"({first})")
        reason = f"{type(exception).__name__}: {str(exception).splitlines()[0] if str(exception) else ''}"
        if not request.meta.get("defnews_render_retried"):
            # A browser that crashed is relaunched by scrapy-playwright on the next page.
            logger.warning("%s: the browser failed (%s); rendering it once more", request.url, reason)
            stats.inc_value("defnews/render/retried")
            meta = {k: v for k, v in request.meta.items()
                    if not k.startswith("playwright_page") or k == "playwright_page_goto_kwargs"}
            meta["defnews_render_retried"] = True
            meta.pop("playwright", None)  # set again, with fresh page methods, by process_request
            return request.replace(meta=meta, dont_filter=True)
        logger.error("%s: could not be rendered: %s", request.url, reason)
        stats.inc_value("defnews/render/failed")
        return None
