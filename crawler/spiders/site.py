"""The site spider: crawls every ``kind = "site"`` source; its profile says how.

One spider for every scraped site (``scrapy crawl site -a source=asagumo``; ``jdefense`` is the
same spider under its old name). What a site is comes from its ``[[source]]`` block in
``sources.toml`` (:mod:`crawler.pages.profiles`): the page reader's profile, and
``[source.discovery]``: the start pages (front page first, then section indexes), pagination,
次の記事 / 前の記事 links, the ranking sidebar, and as a last resort an id walk down a shared
article counter (``DEFNEWS_JDEFENSE_COUNTER_WALK``) or a probe of date folders (up to
``max_probes`` a crawl, sequence by sequence, a day's probing stopping at its first miss).

Discovery never depends on one page type (the real home page list may be filled by
JavaScript). Probes of either kind are remembered in the store: a page found is never probed
again, a miss is asked again after ``DEFNEWS_JDEFENSE_PROBE_RETRY_AGE`` (a week).

Incremental (with a store, ``DEFNEWS_STORE``): an article already stored is not fetched again
unless ``DEFNEWS_REFRESH`` is on or it was last fetched more than ``DEFNEWS_REVISIT_AGE``
seconds ago; a section index stops paginating at the first page holding only known articles;
section indexes are asked with If-None-Match / If-Modified-Since (validators kept in the
store), so an unchanged index costs a 304; the counter walk remembers what it probed. The home
page is always fetched whole: it carries the ranking sidebar of this crawl's snapshot.

``base_url`` is where pages are fetched (the live site, or a mirror such as the demo's
fixture server); ``site_url`` is the site's own origin. Items always carry ``site_url``
addresses, so a crawl of a mirror produces the same ids as a crawl of the site.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler import archive, counterwalk, coverage, render
from crawler.charset import Decoded, looks_like_mojibake
from crawler.drops import record, record_drop
from crawler.failures import record_failure
from crawler.items import ArticleItem, Image, RankingEntry, RankingItem, RankingObservation
from crawler.pages import site as pages
from crawler.pages.html import PageParseError, PageTooDeep
from crawler.pages.profile_rules import decode_page, page_text
from crawler.pages.profiles import (
    Discovery,
    discovery_of,
    profile_of,
    source_for,
    with_bundled_profile,
)
from crawler.sources import map_categories
from crawler.store import SQLStore, open_store
from crawler.urls import url_netloc, url_path

logger = logging.getLogger(__name__)

JST = ZoneInfo("Asia/Tokyo")  # the day folders' calendar (the sites dated so are Japanese)
DATE_PROBE = "date-folder"  # the probe tag of a date-folder request (cb_kwargs probe[0])
# A rendered listing whose next page was asked from the served pager already (parse_listing).
_NEXT_FOLLOWED = "defnews_next_followed"


def _origin(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _netloc(url: str) -> str:
    """host, or host:port when the URL names a port (a mirror on 127.0.0.1:PORT); "" for a
    URL that cannot be parsed (crawler.urls: never an exception out of a callback)."""
    return url_netloc(url)


class SiteSpider(scrapy.Spider):
    name = "site"
    source_key = ""
    # Scrapy starts CONCURRENT_ITEMS worker tasks (100 by default, sized for a feed's thousands
    # of entries) over the output of every response: a site page yields one article, its
    # sidebar and a few requests, so 100 tasks a page cost ~15% of a crawl's CPU. 16 still
    # let a page's requests go on while its article waits for the store's batch.
    custom_settings = {"CONCURRENT_ITEMS": 16}
    # From DEFNEWS_JDEFENSE_MAX_INDEX_PAGES / DEFNEWS_JDEFENSE_COUNTER_WALK in from_crawler.
    max_index_pages: int = 5
    counter_walk: int = 0

    def __init__(
        self,
        base_url: str | None = None,
        site_url: str | None = None,
        sections: str | tuple[str, ...] | None = None,
        source: str | None = None,
        sources: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        key = source or self.source_key
        if not key:
            raise ValueError("the site spider needs a source: scrapy crawl site -a source=KEY")
        self.source = with_bundled_profile(source_for(key, sources))
        if self.source.kind != "site":
            raise ValueError(f"source {key!r} is a {self.source.kind}, not a site")
        self.profile = profile_of(self.source)
        self.discovery: Discovery = discovery_of(self.source)
        self.base_url = _origin(base_url or self.source.url)
        self.site_url = _origin(site_url or self.source.url)
        if sections is None:
            sections = self.discovery.sections
        self.sections = tuple(sections.split(",")) if isinstance(sections, str) else sections
        self.walk_sections = (
            tuple(s for s in self.discovery.id_walk_sections if s in self.sections) or self.sections
        )
        self.source_key = key
        self.stat = f"defnews/{key}/"  # the site's own counters (listing pages, probes...)
        self._date_budget = self.discovery.date_max_probes
        # Stay on the site: the offsite middleware drops any other host (links, redirects).
        self.allowed_domains = [_netloc(self.base_url)]
        self.numbers_seen: set[int] = set()
        self.confirmed: set[int] = set()  # article pages of the site that answered 200
        self._urls_seen: list[str] = []  # (date folders: the days seen)
        self._walked = False
        self._ranking_requested = False
        # The sidebar is the same on most pages: parsed again only when its signature changes.
        self._ranking_signature: str | None = None
        self._ranking_seen: Any = None
        # What _ranking made of that sidebar (kept entries as site addresses, off-site ones):
        # the same for every page that repeats it, so worked out once per version.
        self._ranking_sites: tuple[Any, dict[str, list[tuple[int, str, str]]], list[str]] | None = None
        # Incremental state, loaded from the store when the crawl starts (see _load_state).
        self.store: SQLStore | None = None
        self.refresh = False
        self.revisit_age = 0.0
        self.probe_retry_age = 0.0
        self.known: dict[int, datetime] = {}  # article number -> last fetched or changed
        self.known_urls: dict[int, str] = {}  # article number -> stored URL
        self.validators: dict[str, tuple[str | None, str | None]] = {}
        self.probes: dict[int, tuple[bool, datetime]] = {}
        self._listing_fetches: dict[str, tuple[str | None, str | None]] = {}
        self._article_fetches: dict[str, tuple[str | None, str | None]] = {}
        self._probed: dict[int, bool] = {}
        self._known_skipped: set[int] = set()
        self._revisits: set[int] = set()
        self._sidebars = 0
        # Set by crawler.frontier.SharedFrontierScheduler when processes share a frontier.
        self.frontier: Any = None
        self._ranked_requested: set[str] = set()  # sidebar addresses already requested
        # How far the walk down each section's archive has come (crawler/archive.py).
        self.archive = archive.Walker(key)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SiteSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_index_pages = crawler.settings.getint("DEFNEWS_JDEFENSE_MAX_INDEX_PAGES")
        spider.counter_walk = crawler.settings.getint("DEFNEWS_JDEFENSE_COUNTER_WALK")
        spider.refresh = crawler.settings.getbool("DEFNEWS_REFRESH")
        spider.revisit_age = crawler.settings.getfloat("DEFNEWS_REVISIT_AGE")
        spider.probe_retry_age = crawler.settings.getfloat("DEFNEWS_JDEFENSE_PROBE_RETRY_AGE")
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.save_state, signal=signals.spider_closed)
        return spider

    # -- incremental state ----------------------------------------------------------------
    def _load_state(self) -> None:
        location = self.crawler.settings.get("DEFNEWS_STORE") if hasattr(self, "crawler") else None
        if not location:
            return
        self.store = open_store(str(location))
        # Processes sharing a frontier start at different moments, while the others already
        # store this crawl's articles: each takes the store as it was when the crawl began,
        # so all of them skip, paginate and walk the counter alike (as one process would).
        began = getattr(self.frontier, "started", None)

        def before(at: datetime) -> bool:
            return began is None or at < began

        for url, changed_at in self.store.source_article_urls(self.source_key).items():
            number = self.key(url)
            if number is not None and before(changed_at):
                self.known_urls[number] = url
                self.known[number] = max(changed_at, self.known.get(number, changed_at))
        for url, (etag, modified, fetched_at) in self.store.page_fetches(self.site_url).items():
            number = self.key(url)
            if not before(fetched_at):
                continue
            if number is None:
                self.validators[url] = (etag, modified)
            else:
                # Fetched before: stored, or read and dropped (no date...): not fetched again
                # until due, either way.
                self.known[number] = max(fetched_at, self.known.get(number, fetched_at))
        self.probes = {n: p for n, p in self.store.counter_probes(self.source_key).items()
                       if before(p[1])}
        self.archive.load(self.store)
        logger.info("%s: %d articles already stored%s", self.source_key, len(self.known),
                    " (--refresh: all fetched again)" if self.refresh else "")

    def key(self, url: str) -> int | None:
        """The article's id as a number (its counter, or its date-folder id), else None."""
        return pages.article_key(url, self.profile)

    def id_url(self, section: str, number: int) -> str:
        """The URL of article ``number`` in ``section`` by the id-walk template."""
        template = self.discovery.id_walk_template
        assert template is not None
        return self.base_url + template.format(section=section, number=number).lstrip("/")

    def wanted(self, number: int | None, *, count_skip: bool = True) -> bool:
        """Whether the article with this counter must be fetched (new, due, or refresh)."""
        if number is None or self.refresh:
            return True
        last = self.known.get(number)
        if last is None:
            return True
        if self.revisit_age > 0 and datetime.now(UTC) - last >= timedelta(seconds=self.revisit_age):
            if number not in self._revisits:
                self._revisits.add(number)
                self.crawler.stats.inc_value("defnews/incremental/revisits")
            return True
        if count_skip and number not in self._known_skipped:
            self._known_skipped.add(number)
            self.crawler.stats.inc_value("defnews/incremental/known_skipped")
        return False

    def save_state(self, spider: Any = None, reason: str = "finished") -> None:
        """Remember fetched pages, validators and probes. Listing validators only after a
        crawl that finished with every article fetched: a 304 next time must not hide an
        article this crawl failed to get."""
        if self.store is None:
            return
        stats = self.crawler.stats
        if stats.get_value("defnews/store/write_error"):
            # The store refused a write: nothing more is written to it (it may be full), and
            # no page of this crawl counts as fetched (the next run fetches them again).
            self.store.close()
            self.store = None
            return
        complete = reason == "finished" and not (
            stats.get_value("retry/max_reached") or stats.get_value("httperror/response_ignored_count")
            or stats.get_value("downloader/exception_count", 0) > stats.get_value("retry/count", 0)
        )
        now = datetime.now(UTC)
        try:
            # Links noted this crawl, before any page that links them counts as fetched (the
            # store pipeline wrote those of the articles it stored already).
            self.archive.write_linked(self.store, at=now)
            stored = {n for url in self.store.source_article_urls(self.source_key)
                      if (n := self.key(url)) is not None}
            pages_done = dict(self._article_fetches)
            if reason != "finished":
                # After a stop, an article page read whose item the stop dropped before the
                # store held it is not fetched: it must not count as fetched next run.
                pages_done = {url: v for url, v in pages_done.items() if self.key(url) in stored}
            if complete:
                pages_done.update(self._listing_fetches)
            self.store.record_page_fetches(
                [(url, etag, modified) for url, (etag, modified) in pages_done.items()], at=now)
            # A probe found counts once its article is stored (else it is probed again).
            self.store.record_counter_probes(
                self.source_key,
                [(n, found) for n, found in self._probed.items() if not found or n in stored],
                at=now)
            if reason == "finished":
                # Read whole and dropped by a pipeline (no date...): answered for good. After
                # a stop, only what the store holds counts.
                stored |= {n for url in self._article_fetches if (n := self.key(url)) is not None}
            self.archive.save(self.store, stored | set(self.known))
            self.archive.settle(self.store, stored | set(self.known), self.key)
        finally:
            self.store.close()
            self.store = None

    def _listing_request(self, url: str, page: int, section: str | None = None,
                         budget: int = 0) -> scrapy.Request:
        """A section index page, asked conditionally when the store has its validators;
        with a ``budget``, a page of the archive walk: asked whole, followed for ``budget``
        pages whatever they hold (crawler/archive.py)."""
        headers: dict[str, str] = {}
        etag, modified = self.validators.get(self.to_site(url), (None, None))
        if not self.refresh and not budget:
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
        meta: dict[str, Any] = {"handle_httpstatus_list": [304], "defnews_page": "listing"}
        if section is not None:
            meta[archive.SECTION] = section
        if budget:
            meta[archive.BUDGET] = budget
        # Before the articles in the site's queue (priority 1): the pager is walked while the
        # articles are fetched, not after (a rendered listing's links come late as it is).
        return scrapy.Request(
            url, callback=self.parse_listing, cb_kwargs={"page": page}, headers=headers,
            meta=meta, dont_filter=bool(budget), priority=1,
        )

    # -- addresses ----------------------------------------------------------------------
    def to_site(self, url: str) -> str:
        """A fetched (mirror) address as the site's own address."""
        if self.base_url != self.site_url and url.startswith(self.base_url):
            return self.site_url + url[len(self.base_url):]
        return url

    def to_fetch(self, url: str) -> str:
        """A site address as the address to fetch (the mirror, when crawling one)."""
        if self.base_url != self.site_url and url.startswith(self.site_url):
            return self.base_url + url[len(self.site_url):]
        return url

    def _site_html(self, html: str) -> str:
        if self.base_url == self.site_url:
            return html
        return html.replace(self.base_url, self.site_url)

    # -- requests -----------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        self._load_state()
        # The home page unconditionally: its ranking sidebar makes this crawl's snapshot.
        # Each listing after the first (the home page) is a section whose archive is walked:
        # its name is the section slug ({section} listings) or its path.
        listings: dict[str, str] = {}
        for path in self.discovery.listings:
            if "{section}" in path:
                for s in self.sections:
                    listings.setdefault(path.replace("{section}", s), s)
            else:
                listings.setdefault(path, path)
        paths = list(listings)
        if paths:
            yield scrapy.Request(
                self.base_url + paths[0].lstrip("/"), callback=self.parse_listing,
                cb_kwargs={"page": 1}, meta={"defnews_page": "listing"},
            )
        budget = max(1, self.max_index_pages)
        for path in paths[1:]:
            first, section = self.base_url + path.lstrip("/"), listings[path]
            if not self.discovery.pagination:
                yield self._listing_request(first, 1)
                continue
            resume = self.archive.resume(section, self.to_site(first))
            if resume is not None and resume[1] == 1:
                # The archive walk starts (or starts again) at the first page: one request.
                yield self._listing_request(first, 1, section, budget)
                continue
            yield self._listing_request(first, 1, section)
            if resume is not None:
                # Not walked to the end yet: the walk goes on where it stopped.
                yield self._listing_request(self.to_fetch(resume[0]), resume[1], section, budget)
        # Articles an earlier crawl found linked from another article and did not store.
        for url in self.archive.pending():
            if self.wanted(self.key(url), count_skip=False):
                yield self.article_request(self.to_fetch(url))
        # Stored articles due for a visit are asked for directly: no listing may link them.
        if self.refresh or self.revisit_age > 0:
            for number, url in sorted(self.known_urls.items(), reverse=True):
                if self.wanted(number, count_skip=False):
                    yield self.article_request(self.to_fetch(url))

    def article_requests(self, url: str) -> Iterator[scrapy.Request]:
        """The request for a linked article, unless it is stored and not due."""
        number = self.key(url)
        self._see(number, url)
        if self.wanted(number):
            yield self.article_request(url)

    def _see(self, number: int | None, url: str | None = None) -> None:
        """Note an article number linked or requested, for the counter walk; with a shared
        frontier, for every process's walk (a number one process saw is not probed by another)."""
        if number is None or number in self.numbers_seen:
            return
        self.numbers_seen.add(number)
        if url is not None and self.discovery.date_template is not None:
            self._urls_seen.append(self.to_site(url))
        if self.frontier is not None:
            self.frontier.add_numbers(number)

    def article_request(self, url: str, *, probe: tuple[str, ...] = ()) -> scrapy.Request:
        self._see(self.key(url), url)
        meta: dict[str, Any] = {"handle_httpstatus_list": [404]} if probe else {}
        meta["defnews_page"] = "article"  # (crawler/render.py: rendered only when it lacks its body)
        return scrapy.Request(
            self.to_fetch(url),
            callback=self.parse_article,
            errback=self.article_failed,
            cb_kwargs={"probe": probe},
            meta=meta,
        )

    def article_failed(self, failure: Failure) -> Failure:
        """An article page without an answer: a download that failed is fetched again next
        run (its index page is not walked); a refusal (robots.txt, off-site, too large) or a
        page gone (404, 410) is final. The failure goes on to Scrapy, which logs it."""
        request = failure.request  # type: ignore[attr-defined]
        number = self.key(self.to_site(request.url))
        response = getattr(failure.value, "response", None)
        stopping = "crawl stopping" in str(failure.value)  # dropped by a Ctrl-C: not final
        if failure.check(IgnoreRequest) and response is None and not stopping:
            self.archive.answered(number)
        elif response is not None and response.status in (404, 410):
            self.archive.answered(number)
        else:
            self.archive.failed(number)
        return failure

    # -- callbacks ----------------------------------------------------------------------
    def parse_listing(self, response: Response, page: int) -> Iterator[Any]:
        if response.status == 304:
            # Unchanged since the last complete crawl: no new article linked from it.
            self.crawler.stats.inc_value("defnews/http/not_modified")
            return
        if not isinstance(response, TextResponse):
            self._skip(response.url, "not an HTML page")
            return
        decoded = self._decoded(response)
        if decoded.invalid:
            # Its links are read all the same (addresses are ASCII): only its text is not.
            record(self.crawler.stats, "flagged", "undecodable bytes",
                   self.to_site(response.url), decoded.describe())
        text = decoded.text
        try:
            listing = pages.parse_listing(text, response.url, self.profile)
        except PageTooDeep as exc:
            record_failure(self.crawler.stats, "page too deep", self.to_site(response.url),
                           exc.reason)
            return
        signature = (pages.ranking_signature(text, response.url, self.profile)
                     if self.discovery.ranking else None)
        lacking = self._listing_lacks(text, response.url, listing, signature)
        # A response built without its request (tests, a replay) has no meta: no walk.
        meta = response.request.meta if response.request is not None else {}
        section = meta.get(archive.SECTION)
        budget = int(meta.get(archive.BUDGET) or 0)
        next_page = listing.get("next_page") if self.discovery.pagination else None
        if lacking and (rendered := render.again(self, response, lacking)) is not None:
            if next_page and (budget > 1 or (
                    not budget and not self.known and page < self.max_index_pages)):
                # The next index page now, from the served pager, fetched alongside this
                # one's rendering instead of after it (one rendering after another made the
                # crawl as slow as the browser; bench/bench_render.py): an archive walk goes
                # on whatever the page holds, and with nothing stored the pagination cannot
                # stop early. The rendered page does not follow its own pager again (a walk's
                # requests are not filtered as duplicates: each would be fetched twice).
                yield self._listing_request(self.to_fetch(next_page), page + 1, section,
                                            budget - 1 if budget else 0)
                rendered.meta[_NEXT_FOLLOWED] = True
            yield rendered  # filled by scripts: read once a browser has run them
            return
        if meta.get(_NEXT_FOLLOWED):
            next_page = None
        if section is not None:
            self.archive.listed(
                section, page, self.to_site(response.url),
                {n for u in listing["article_urls"] if (n := self.key(u)) is not None},
                self.to_site(listing["next_page"]) if listing.get("next_page") else None,
                archive.total_pages(text, response.url),
            )
        self.crawler.stats.inc_value(self.stat + "listing_pages")
        self.crawler.stats.inc_value(self.stat + "listing_links", len(listing["article_urls"]))
        self._listing_fetches[self.to_site(response.url)] = _validators(response)
        requests = [r for url in listing["article_urls"] for r in self.article_requests(url)]
        wanted = len(requests)
        yield from requests
        if budget:
            # The archive walk: on to the next page while this run's budget lasts.
            if next_page and budget > 1:
                yield self._listing_request(self.to_fetch(next_page), page + 1, section,
                                            budget - 1)
        elif next_page and listing["article_urls"] and not wanted:
            # Every article of this page is stored already: the older pages hold no new one.
            self.crawler.stats.inc_value("defnews/incremental/pagination_stopped")
            logger.debug("%s: only known articles, pagination stops", self.to_site(response.url))
        elif next_page and page < self.max_index_pages:
            yield self._listing_request(self.to_fetch(next_page), page + 1, section)
        # Signed like an article page's sidebar: read only when it changed, and the article
        # pages after this listing keep reusing what was read.
        if self.discovery.ranking:
            yield from self._ranking(response, signature=signature, parsed=True, text=text)

    def parse_article(self, response: Response, probe: tuple[str, ...] = ()) -> Iterator[Any]:
        # An article read counts for the archive walk once the store holds it (or its fetch
        # is recorded: a page the pipelines dropped); only answers without an item count here.
        if response.status == 404 or not isinstance(response, TextResponse):
            self.archive.answered(self.key(self.to_site(response.url)))
        if probe and probe[0] == DATE_PROBE:
            yield from self._date_probe_done(response)
            if response.status == 404:
                return
        elif response.status == 404:
            # A counter-walk probe: the number may live under another section.
            if len(probe) > 1:
                number = self.key(response.url)
                assert number is not None
                yield self.article_request(self.id_url(probe[1], number), probe=probe[1:])
            else:
                self.crawler.stats.inc_value(self.stat + "counter_walk_misses")
                number = self.key(response.url)
                if number is not None:
                    self._probed[number] = False
            return
        if not isinstance(response, TextResponse):
            self._skip(response.url, "not an HTML page")
            return
        decoded = self._decoded(response)
        if decoded.invalid:
            # Bytes that no encoding reads: its text would be published with U+FFFD in it (or,
            # read as another code page, as mojibake). Not published; fetched again next run.
            self._failed(response, "undecodable page", decoded.describe())
            return
        text = decoded.text
        try:
            data = pages.parse_article(text, response.url, self.profile,
                                       pager=self.discovery.prev_next)
        except PageTooDeep as exc:
            # libxml2 builds no tree deeper than 2048 levels: what lies below would be cut.
            self._failed(response, "page too deep", exc.reason)
            return
        except PageParseError as exc:
            if (rendered := render.again(self, response, "no article body")) is not None:
                yield rendered
                return
            self._skip(response.url, str(exc))
            self.archive.answered(self.key(self.to_site(response.url)))
            return
        if not (data.get("content_html") or "").strip() \
                and (rendered := render.again(self, response, "no article body")) is not None:
            yield rendered
            return
        garbled = [name for name in ("title", "summary", "author", "content_html")
                   if looks_like_mojibake(data.get(name) or "")]
        garbled += ["categories"] if any(looks_like_mojibake(c) for c in data.get("categories") or []) else []
        if garbled:
            # Valid text of mojibake (the page itself holds UTF-8 read once as cp1252).
            self._failed(response, "mojibake text", f"in its {', '.join(garbled)}: UTF-8 read "
                         f"as a Western code page ({decoded.describe()})")
            return
        if response.request is not None and response.request.meta.get("playwright"):
            data["provenance"] = {**(data.get("provenance") or {}), "page": "rendered"}
        if _netloc(data["url"]) not in (_netloc(self.base_url), _netloc(self.site_url)):
            # A canonical (or og:url) on another host: never publish the page as that host's.
            record(self.crawler.stats, "ignored", "off-site canonical URL", self.to_site(response.url),
                   f"page names {data['url']}")
            data["url"] = response.url
        if probe and probe[0] != DATE_PROBE:
            self.crawler.stats.inc_value(self.stat + "counter_walk_found")
            number = self.key(response.url)
            if number is not None:
                self._probed[number] = True
        self._article_fetches[self.to_site(response.url)] = _validators(response)
        if response.status == 200 and (number := self.key(response.url)) is not None:
            self.confirmed.add(number)
            if self.frontier is not None:  # every process's walk starts from the same top
                self.frontier.add_numbers(number, key="confirmed")
        if b"</html>" not in response.body[-4096:].lower():
            # Cut off in transfer or by the CMS: keep what could be read (a later crawl that
            # gets the whole page updates the item), but say so.
            logger.warning("%s: page looks truncated (no </html>); stored what could be read",
                           self.to_site(response.url))
            self.crawler.stats.inc_value(self.stat + "truncated_pages")
        coverage.record(self.crawler.stats, data.get("provenance") or {},
                        self.crawler.settings.getfloat("DEFNEWS_COVERAGE_MIN", 0.9))
        after: list[Any] = []
        if self.discovery.prev_next:
            after += [r for key in ("next_url", "prev_url") if data.get(key)
                      for r in self.article_requests(data[key])]
        if self.discovery.ranking:
            after += self._ranking(
                response, signature=data.get("ranking_signature"), parsed=True, text=text
            )
        # The articles this page links are written down before its own article is stored: a
        # stop in between must not leave them linked from a stored page only (never asked
        # for again, since stored pages are not fetched again). They travel with the item:
        # the store pipeline writes them in the batch before the article (crawler/archive.py).
        item = self._item(data)
        item.linked = self.archive.linked([
            self.to_site(r.url) for r in after
            if isinstance(r, scrapy.Request) and r.callback == self.parse_article])
        yield item
        yield from after

    def _ranking(
        self, response: Response, ranking: Any = None, parsed: bool = False,
        signature: str | None = None, text: str | None = None,
    ) -> Iterator[Any]:
        if parsed and signature is not None and signature == self._ranking_signature:
            ranking = self._ranking_seen  # the same sidebar as the last page: read once
        elif parsed and signature is None:
            ranking = None
        else:
            ranking = pages.parse_ranking(
                text if text is not None else page_text(response), response.url, self.profile
            )
            self._ranking_signature, self._ranking_seen = signature, ranking
        if not ranking:
            self.crawler.stats.inc_value("defnews/ranking/pages_without_sidebar")
            return
        repeated = self._ranking_sites is not None and self._ranking_sites[0] is ranking
        if not repeated:
            hosts = (_netloc(self.base_url), _netloc(self.site_url))
            kept = {period: [(e["rank"], e["title"], e["url"]) for e in entries
                             if _netloc(e["url"]) in hosts]
                    for period, entries in ranking.items()}
            off_site = [e["url"] for entries in ranking.values() for e in entries
                        if _netloc(e["url"]) not in hosts]
            self._ranking_sites = (ranking, kept, off_site)
        assert self._ranking_sites is not None
        _, kept, off_site = self._ranking_sites
        for url in off_site:  # dropped (and counted) on every page that shows them
            record_drop(self.crawler.stats, "off-site ranking entry", url,
                        f"in the ranking sidebar of {self.to_site(response.url)}", total=False)
        self._sidebars += 1
        lists = {
            period: [RankingEntry(rank=rank, title=title, url=self.to_site(url))
                     for rank, title, url in entries]
            for period, entries in kept.items()
        }
        yield RankingObservation(
            source=self.source_key,
            page_url=self.to_site(response.url),
            lists=lists,
            seen_at=datetime.now(UTC),
        )
        if repeated:
            return  # its ranked articles were asked for when this version was first read
        # Ranked articles the crawl has not reached otherwise are fetched too, so the ranking
        # feed carries their date, category and summary. Every page repeats the sidebar: each
        # address is requested once per crawl here rather than 30 requests per page built and
        # fingerprinted only for the dupefilter to drop them.
        for entries in kept.values():
            for _, _, url in entries:
                if url not in self._ranked_requested and self.key(url) is not None:
                    self._ranked_requested.add(url)
                    yield from self.article_requests(url)

    @functools.cached_property
    def render_awaits(self) -> dict[str, tuple[tuple[Any, ...], ...]]:
        """What a rendered page is read for (crawler/render.py): article links in the listing
        scope and entries in the ranking sidebar; an article's body (the profile's hints)."""
        hints = self.profile.hints
        # An article link, not any link: the pager and menus are in the served HTML already;
        # in the first of the scope's containers on the page, as parse_listing reads it (in
        # "main, body" the ranking sidebar's links, in the body, would do).
        listing: list[tuple[Any, ...]] = [
            (list(hints.listing_scope or ("main", "body")), "a[href]",
             render.js_pattern(self.profile.article_url_re.pattern))]
        if self.discovery.ranking and hints.ranking:
            listing.append((", ".join(hints.ranking), "li a[href]"))
        article = ((", ".join(hints.body), "p"),) if hints.body else ()
        return {"listing": tuple(listing), **({"article": article} if article else {})}

    def _listing_lacks(
        self, text: str, url: str, listing: dict[str, Any], signature: str | None
    ) -> str | None:
        """What a listing page lacks (no article link, an empty ranking sidebar), or None.
        The sidebar read here is kept for :meth:`_ranking` (read once per signature)."""
        if not listing["article_urls"]:
            return "no article link"
        if signature is None:
            return None
        if signature != self._ranking_signature:
            self._ranking_signature = signature
            self._ranking_seen = pages.parse_ranking(text, url, self.profile)
        if self._ranking_seen is None:
            return "a ranking container with no entry"
        return None

    def _item(self, data: dict[str, Any]) -> ArticleItem:
        return ArticleItem(
            url=self.to_site(data["url"]),
            title=data["title"],
            source=self.source_key,
            # The site's own labels through the source's category_map (sources.toml).
            categories=map_categories(self.source, data.get("categories") or []),
            published_raw=data.get("published_raw"),
            published_source=data.get("published_source"),
            updated_raw=data.get("updated_raw"),
            updated_source=data.get("updated_source"),
            author=data.get("author"),
            summary=data.get("summary") or "",
            content_html=self._site_html(data.get("content_html") or ""),
            content_clean=True,  # parse_article's content_html is clean_html's output
            images=[
                Image(url=self.to_site(img["url"]), caption=img.get("caption"))
                for img in data.get("images") or []
            ],
            language=data.get("language") or self.source.language,
            section=data.get("section"),
            provenance=dict(data.get("provenance") or {}),
            published_precision=data.get("published_precision") or "minute",
            partial=bool(data.get("partial")),
            site_order=self.key(data["url"]) if data.get("published_precision") == "day" else None,
        )

    def _decoded(self, response: Response) -> Decoded:
        """The page's text by crawler.charset; a page read in another encoding than it
        declares is flagged (a WARNING naming the URL, the declared and the chosen one)."""
        decoded = decode_page(response)
        if decoded.overridden and not decoded.invalid:
            record(self.crawler.stats, "flagged", "charset not as declared",
                   self.to_site(response.url), decoded.describe())
        return decoded

    def _failed(self, response: Response, reason: str, detail: str) -> None:
        """An article page lost to its content (bytes no encoding reads, nesting too deep):
        ``Failed <url>: <reason> (<detail>)``, counted, and fetched again next run."""
        record_failure(self.crawler.stats, reason, self.to_site(response.url), detail)
        self.archive.failed(self.key(self.to_site(response.url)))

    def _skip(self, url: str, reason: str) -> None:
        logger.error("skipped %s: %s", self.to_site(url), reason)
        self.crawler.stats.inc_value("defnews/parse_errors")

    # -- end of crawl -------------------------------------------------------------------
    def on_idle(self) -> None:
        engine = self.crawler.engine
        assert engine is not None
        if not self._walked:
            self._walked = True
            requests = list(self._counter_walk()) + list(self._date_probes())
            if requests:
                logger.info("%s: probing %d unseen article ids", self.source_key, len(requests))
                for request in requests:
                    engine.crawl(request)
                raise DontCloseSpider
        if not self._ranking_requested and self.discovery.ranking:
            self._ranking_requested = True
            if self.frontier is not None and not (self._sidebars and self.frontier.claim("ranking")):
                # Processes sharing a frontier: one snapshot per crawl, from the first process
                # that ends having seen the sidebar (every page carries the same one).
                return
            # One ranking snapshot per crawl: the ranking pipeline fills it with the sidebar
            # collapsed from every page. A data: request brings it through the normal item path.
            engine.crawl(
                scrapy.Request("data:,", callback=self.emit_ranking, dont_filter=True)
            )
            raise DontCloseSpider

    def _counter_walk(self) -> Iterator[scrapy.Request]:
        if self.frontier is not None:
            self.numbers_seen |= self.frontier.numbers()
            self.confirmed |= self.frontier.numbers(key="confirmed")
        if self.discovery.id_walk_template is None or self.counter_walk <= 0:
            return
        # Only numbers the site confirmed (its article pages that answered 200, this crawl or
        # stored before) place the walk: a link to …/999001.html does not (crawler.counterwalk).
        top = counterwalk.walk_top(self.confirmed | set(self.known), self.numbers_seen,
                                   self.counter_walk)
        if top is None:
            return
        retry = timedelta(seconds=self.probe_retry_age)
        now = datetime.now(UTC)
        for number in counterwalk.walk_numbers(top, self.counter_walk):
            if number in self.numbers_seen or number in self.known:
                continue
            probed = self.probes.get(number)
            if probed is not None and not self.refresh and (probed[0] or now - probed[1] < retry):
                # Probed before (found, or missing in every section not long ago).
                self.crawler.stats.inc_value(self.stat + "counter_walk_remembered")
                continue
            url = self.id_url(self.walk_sections[0], number)
            yield self.article_request(url, probe=self.walk_sections)

    def emit_ranking(self, response: Response) -> Iterator[RankingItem]:
        yield RankingItem(source=self.source_key)

    # -- date folders -------------------------------------------------------------------
    def _date_url(self, day: date, seq: int) -> str:
        template = self.discovery.date_template
        assert template is not None
        return self.base_url + template.format(date=day, seq=seq).lstrip("/")

    def _days_seen(self) -> dict[date, int]:
        """Day folders of the articles linked or stored: day -> highest sequence seen."""
        days: dict[date, int] = {}
        for url in [*self._urls_seen, *self.known_urls.values()]:
            m = self.profile.article_url_re.match(url_path(url))
            groups = m.groupdict() if m else {}
            if not (groups.get("day") or "").isdigit() or not (groups.get("seq") or "").isdigit():
                continue
            ymd = groups["day"]
            try:
                day = date(2000 + int(ymd[:2]), int(ymd[2:4]), int(ymd[4:6]))
            except ValueError:
                continue
            days[day] = max(days.get(day, 0), int(groups["seq"]))
        return days

    def _date_probes(self) -> Iterator[scrapy.Request]:
        """One probe per recent day folder, newest day first, for its next unseen sequence;
        a day found goes on with its next sequence, a miss ends the day (``_date_probe_done``).
        Bounded by ``max_probes`` requests a crawl; probes are remembered like the counter walk's.
        """
        if self.discovery.date_template is None:
            return
        seen = self._days_seen()
        newest = max(seen) if seen else datetime.now(JST).date()
        for back in range(self.discovery.date_days):
            day = newest - timedelta(days=back)
            request = self._next_date_probe(day, seen.get(day, self.discovery.date_first_seq - 1) + 1)
            if request is not None:
                yield request

    def _next_date_probe(self, day: date, seq: int) -> scrapy.Request | None:
        retry = timedelta(seconds=self.probe_retry_age)
        now = datetime.now(UTC)
        while seq <= self.discovery.date_per_day:
            url = self._date_url(day, seq)
            number = self.key(url)
            if number is None:
                logger.warning("%s: date-folder template gives %s, not an article URL",
                               self.source_key, url)
                return None
            probed = self.probes.get(number)
            if number in self.numbers_seen or number in self.known or (
                probed is not None and not self.refresh and probed[0]
            ):
                seq += 1  # seen or found before: the day may go on
                continue
            if probed is not None and not self.refresh and now - probed[1] < retry:
                self.crawler.stats.inc_value(self.stat + "date_probes_remembered")
                return None  # missing not long ago: the day ends there
            if self._date_budget <= 0:
                self.crawler.stats.inc_value(self.stat + "date_probes_over_budget")
                return None
            self._date_budget -= 1
            self.crawler.stats.inc_value(self.stat + "date_probes")
            return self.article_request(url, probe=(DATE_PROBE, day.isoformat(), str(seq)))
        return None

    def _date_probe_done(self, response: Response) -> Iterator[scrapy.Request]:
        probe: tuple[str, ...] = response.request.cb_kwargs["probe"] if response.request else ()
        number = self.key(response.url)
        found = response.status != 404
        if number is not None:
            self._probed[number] = found
        self.crawler.stats.inc_value(self.stat + ("date_probes_found" if found else "date_probes_missed"))
        if found and len(probe) == 3:
            request = self._next_date_probe(date.fromisoformat(probe[1]), int(probe[2]) + 1)
            if request is not None:
                yield request


class JdefenseSpider(SiteSpider):
    """The site spider for Jディフェンスニュース under its old name (docs, Scrapyd, tests)."""

    name = "jdefense"
    source_key = "jdefense"


def _validators(response: Response) -> tuple[str | None, str | None]:
    """The response's ETag and Last-Modified, for the next crawl's conditional request."""
    def header(name: str) -> str | None:
        value = response.headers.get(name)
        return value.decode("latin-1") if value else None

    return header("ETag"), header("Last-Modified")
