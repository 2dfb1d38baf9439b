"""The generic spider for sources that publish feeds (RSS, Atom, CDF, JSON Feed).

One request per feed URL of each enabled ``kind = "feed"`` source in the sources file, so
throttling, robots.txt, retries, the HTTP cache and conditional requests apply as to any
page. Parsing is :mod:`crawler.pages.feed`'s; this module only fetches and counts.

    scrapy crawl feeds -a sources=path/to/sources.toml -a only=navalnews,mod-jp

Stats: ``defnews/feeds/requests``, ``defnews/feeds/entries`` (and ``.../entries/<key>``),
``defnews/feeds/entries_skipped``, ``defnews/feeds/recovered`` (malformed but read),
``defnews/feeds/errors`` and ``defnews/feeds/errors/<key>``, ``defnews/feeds/replaced_chars``
(bytes invalid in the feed's encoding, decoded as U+FFFD), ``defnews/feeds/not_modified`` (a
304 to the conditional request made with the validators kept in the store).

Per source (the crawl summary's lines), under ``defnews/feeds/source/<key>/``: ``read``
(entries in the documents), ``kept`` (items that left the pipelines), ``merged`` (duplicates
of an item already seen or stored), ``dropped`` and ``dropped/<reason>``, ``inferred/<field>``
(titles and dates filled the way readers do). ``DEFNEWS_FEED_MAX_ENTRIES`` bounds the entries
read per feed document.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler.drops import count_drop
from crawler.failures import count_failure, reason_of, record_failure
from crawler.items import ArticleItem
from crawler.pages.feed import ACCEPT, EntryError, FeedError, entry_to_item, parse_feed
from crawler.sources import Source, SourcesConfig, format_interval, load_sources

STATS = "defnews/feeds"
# What the pipelines' DropItem messages say of a duplicate (dedupe: "duplicate of an article
# already seen in this crawl"; store: "same story already stored from another source").
# EntryError reasons as the crawl-wide drop counts name them (crawler/drops.py).
_DROP_REASONS = {"no_http_link": "not http(s) link", "no_link": "no link",
                 "undecodable_text": "undecodable text", "mojibake_text": "mojibake text"}
_MERGED = re.compile(r": (duplicate of an article already seen|same story already stored)")
_HEADERS = ("Content-Type", "Content-Location", "Content-Language")


class FeedsSpider(scrapy.Spider):
    name = "feeds"
    # Feeds are fetched again and again: keep them in Scrapy's HTTP cache, asked again on
    # every run with If-None-Match / If-Modified-Since (a 304 reads the cached copy): the
    # cache saves bytes, never a request (crawler/cachepolicy.py). Operators turn it off
    # with -s HTTPCACHE_ENABLED=0.
    custom_settings = {
        "HTTPCACHE_ENABLED": True,
        "HTTPCACHE_POLICY": "crawler.cachepolicy.RevalidatePolicy",
    }

    def __init__(
        self, sources: str | None = None, only: str | None = None, *args: Any,
        mirror: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.config: SourcesConfig = load_sources(sources or None)
        self.feed_sources: tuple[Source, ...] = self._select(self.config, only)
        # "ORIGIN=MIRROR": feeds listed under ORIGIN are fetched from MIRROR, and read as if
        # fetched from ORIGIN (relative links, ids), so ids never depend on the mirror's port.
        self.origin, _, self.mirror = (mirror or "").partition("=")
        self.run_stats: dict[str, Any] = {}
        # fulltext sources: the entry URLs the store holds already (their pages are not
        # fetched again), filled from the store when the crawl has one.
        self.known_urls: set[str] = set()

    def to_fetch(self, url: str) -> str:
        if self.mirror and url.startswith(self.origin):
            return self.mirror + url[len(self.origin):]
        return url

    def to_source(self, url: str) -> str:
        if self.mirror and url.startswith(self.mirror):
            return self.origin + url[len(self.mirror):]
        return url

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> FeedsSpider:
        if not kwargs.get("sources") and not (args and args[0]):
            # No `-a sources=`: the sources file of the settings (`-s` / Scrapyd's
            # `-d setting=DEFNEWS_SOURCES=...`), the one the pipelines read too.
            kwargs["sources"] = crawler.settings.get("DEFNEWS_SOURCES") or None
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(spider._item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(spider._item_error, signal=signals.item_error)
        return spider

    def _item_error(self, item: Any, response: Any = None, spider: Any = None) -> None:
        # Lost to an exception in a pipeline (a store write that failed): read, never kept.
        if isinstance(item, ArticleItem):
            self._inc(f"source/{item.source}/failed")

    def _item_scraped(self, item: Any) -> None:
        if isinstance(item, ArticleItem):
            self._inc(f"source/{item.source}/kept")
            for name in item.inferred:  # "title" here, "published" by the normalize pipeline
                self._inc(f"source/{item.source}/inferred/{name}")

    def _item_dropped(self, item: Any, exception: BaseException) -> None:
        if not isinstance(item, ArticleItem):
            return
        message = str(exception)
        if _MERGED.match(message.removeprefix(item.url)):
            self._inc(f"source/{item.source}/merged")
            return
        # "<url>: missing published" -> "missing published"
        reason = message.removeprefix(f"{item.url}: ").split(" (", 1)[0].strip() or "dropped"
        self._drop(item.source, reason)

    def _drop(self, source_key: str, reason: str, n: int = 1) -> None:
        self._inc(f"source/{source_key}/dropped", n)
        self._inc(f"source/{source_key}/dropped/{reason}", n)

    @staticmethod
    def _select(config: SourcesConfig, only: str | None) -> tuple[Source, ...]:
        if not only:
            return config.feed_sources()
        keys = [k.strip() for k in only.split(",") if k.strip()]
        known = {s.key: s for s in config.sources}
        unknown = [k for k in keys if k not in known]
        if unknown:
            raise ValueError(f"only={only!r}: no source {', '.join(unknown)} in {config.path}")
        not_feeds = [k for k in keys if known[k].kind != "feed"]
        if not_feeds:
            raise ValueError(
                f'only={only!r}: {", ".join(not_feeds)} not a feed source (kind = "site")'
            )
        # Asking for a source by name crawls it even when it is disabled in the file.
        return tuple(known[k] for k in dict.fromkeys(keys))

    async def start(self) -> AsyncIterator[scrapy.Request]:
        validators = self._load_validators()
        last_fetches = self._last_fetches()
        now = datetime.now(UTC)
        for source in self.feed_sources:
            last = last_fetches.get(source.key)
            if source.min_interval and last is not None and (
                    now - last).total_seconds() < source.min_interval:
                # Politeness: the source asks to be fetched at most once per min_interval.
                due = last + timedelta(seconds=source.min_interval)
                why = (f"min_interval {format_interval(source.min_interval)}: last fetched "
                       f"{last:%Y-%m-%d %H:%M:%S}Z, due {due:%Y-%m-%d %H:%M:%S}Z")
                self.logger.info("Feed source %s not fetched: %s", source.key, why)
                self.crawler.stats.set_value(f"defnews/feeds/skipped/{source.key}", why)
                continue
            if source.min_interval:
                self.crawler.stats.set_value(f"defnews/feeds/min_interval/{source.key}",
                                             source.min_interval)
            for url in source.urls:
                self._inc("requests")
                self._inc(f"requested/{source.key}")
                headers = {"Accept": ACCEPT}
                etag, modified = validators.get(url, (None, None))
                # Conditional by the store's validators (the HTTP cache, when on, puts its own
                # in their place for the feeds it holds): an unchanged feed costs a 304.
                if etag:
                    headers["If-None-Match"] = etag
                if modified:
                    headers["If-Modified-Since"] = modified
                yield scrapy.Request(
                    self.to_fetch(url),
                    callback=self.parse,
                    errback=self.failed,
                    cb_kwargs={"source_key": source.key},
                    headers=headers,
                    meta={"handle_httpstatus_list": [304]},
                )

    def _last_fetches(self) -> dict[str, datetime]:
        """Source key -> when its last recorded run (a health record) fetched it, for the
        sources that set a min_interval."""
        location = self.crawler.settings.get("DEFNEWS_STORE") if hasattr(self, "crawler") else None
        keys = [s.key for s in self.feed_sources if s.min_interval]
        if not location or not keys:
            return {}
        from crawler.store import open_store

        with open_store(str(location)) as store:
            runs = {key: store.source_runs(key, limit=1) for key in keys}
        return {key: run[0].finished_at for key, run in runs.items() if run}

    def _load_validators(self) -> dict[str, tuple[str | None, str | None]]:
        self._fetched: dict[str, tuple[str | None, str | None]] = {}
        location = self.crawler.settings.get("DEFNEWS_STORE") if hasattr(self, "crawler") else None
        if not location:
            return {}
        from scrapy import signals

        from crawler.store import open_store

        self.crawler.signals.connect(self._save_validators, signal=signals.spider_closed)
        urls = {url for source in self.feed_sources for url in source.urls}
        with open_store(str(location)) as store:
            fetches = store.page_fetches("")
            for source in self.feed_sources:
                if source.fulltext:
                    self.known_urls.update(store.source_article_urls(source.key))
        return {url: (etag, modified) for url, (etag, modified, _at) in fetches.items()
                if url in urls}

    def _save_validators(self, reason: str = "finished") -> None:
        """Validators of the feeds read whole, once the crawl finished (an interrupted crawl
        may not have stored their entries: no 304 may hide them next time)."""
        if reason != "finished" or not self._fetched:
            return

        from crawler.store import open_store

        with open_store(str(self.crawler.settings.get("DEFNEWS_STORE"))) as store:
            store.record_page_fetches(
                [(url, etag, modified) for url, (etag, modified) in self._fetched.items()],
                at=datetime.now(UTC))

    def parse(self, response: Response, source_key: str) -> Any:
        if response.status == 304:
            self._inc("not_modified")
            self._inc(f"not_modified/{source_key}")
            self.crawler.stats.inc_value("defnews/http/not_modified")
            return
        source = self.config.get(source_key)
        headers = {
            name: value.decode("latin-1")
            for name in _HEADERS
            if (value := response.headers.get(name))
        }
        limit = self.crawler.settings.getint("DEFNEWS_FEED_MAX_ENTRIES", 0)
        try:
            feed = parse_feed(
                response.body, self.to_source(response.url), headers=headers,
                max_entries=limit or None,
            )
        except FeedError as exc:
            self.logger.error(
                "Feed source %s: %s is not a usable feed: %s", source_key, response.url, exc
            )
            self._error(source_key, f"{self.to_source(response.url)}: not a usable feed: {exc}")
            return
        # Kept out of the crawl's stats (whose figures tests and tools read as they are):
        # the runner adds it to the run's record, for health ("a feed that reads empty").
        self.run_stats.setdefault("defnews/feeds/read", set()).add(source_key)
        if hasattr(self, "_fetched"):
            self._fetched[self.to_source(response.url)] = (
                _header(response, "ETag"), _header(response, "Last-Modified"))
        if feed.bozo_exception:
            self._inc("recovered")
            self.logger.warning(
                "Feed source %s: %s read with problems, entries recovered: %s",
                source_key,
                response.url,
                feed.bozo_exception,
            )
        if feed.charset_overridden:
            # The charset the feed declares does not read its bytes: which one did.
            self._inc("charset_overridden")
            self.logger.warning("Feed source %s: %s: charset not as declared: %s",
                                source_key, response.url, feed.charset)
        if feed.replaced_chars:
            self._inc("replaced_chars", feed.replaced_chars)
            self._inc(f"source/{source_key}/replaced_chars", feed.replaced_chars)
        if feed.undecodable_bytes:
            # One bad byte costs one item: the entries holding such bytes are dropped below
            # (entry_to_item: "undecodable text"), the others kept.
            undecodable = sum(1 for e in feed.entries if e.get("undecodable"))
            self.logger.warning(
                "Feed source %s: %s has %d byte sequence(s) that no encoding reads (%s): "
                "%d entr%s holding them dropped, the others kept",
                source_key, response.url, feed.undecodable_bytes, feed.charset, undecodable,
                "y" if undecodable == 1 else "ies",
            )
        if feed.replaced_chars > feed.undecodable_bytes:
            self.logger.warning(
                "Feed source %s: %s has %d reference(s) to no character (&#xD800;), read as "
                "U+FFFD (the rest of the text is intact)",
                source_key, response.url, feed.replaced_chars - feed.undecodable_bytes,
            )
        self._inc(f"source/{source_key}/read", feed.total_entries)
        for warning in feed.warnings:  # a field of the wrong type, ignored (the entry kept)
            self.logger.warning("Feed source %s: %s: %s", source_key, response.url, warning)
            self._inc(f"source/{source_key}/ignored_fields")
        for reason in feed.failed_entries:  # an entry the reader could not read: that one only
            self._inc(f"source/{source_key}/failed")
            record_failure(self.crawler.stats, "feed entry could not be read", response.url,
                           reason)
        over = feed.total_entries - len(feed.entries)
        if over > 0:
            self._inc("entries_skipped", over)
            self._drop(source_key, "over DEFNEWS_FEED_MAX_ENTRIES", over)
            self.logger.warning(
                "Feed source %s: %s has %d entries; the %d past DEFNEWS_FEED_MAX_ENTRIES=%d "
                "are dropped",
                source_key,
                response.url,
                feed.total_entries,
                over,
                len(feed.entries),
            )
        for entry in feed.entries:
            try:
                item = entry_to_item(entry, source)
            except EntryError as exc:
                self._inc("entries_skipped")
                self._drop(source_key, exc.reason.replace("_", " "))
                self.logger.warning(
                    "Feed source %s: %s: entry dropped: %s", source_key, response.url, exc
                )
                # Also in the crawl-wide drop counts, under the reason every source shares.
                count_drop(self.crawler.stats, _DROP_REASONS.get(exc.reason, exc.reason))
                continue
            except Exception:
                # One entry the code cannot read (a bug to report) costs that entry, never
                # the rest of the feed: logged with its traceback, counted as failed.
                self._inc("entries_skipped")
                self._inc(f"source/{source_key}/failed")
                count_failure(self.crawler.stats, "feed entry could not be read")
                self.logger.exception(
                    "Feed source %s: %s: entry %r could not be read",
                    source_key,
                    response.url,
                    entry.get("guid") or entry.get("url") or entry.get("title"),
                )
                continue
            self._inc("entries")
            self._inc(f"entries/{source_key}")
            if item.inferred:
                self.logger.info(
                    "Feed source %s: %s: entry %s has no %s: filled as readers do",
                    source_key,
                    response.url,
                    item.url,
                    " or ".join(item.inferred),
                )
            if source.fulltext and item.url not in self.known_urls:
                yield self._page_request(item)
            else:
                yield item

    # -- fulltext: the entry's page read for its body ------------------------------------------

    def _page_request(self, item: ArticleItem) -> scrapy.Request:
        """The entry's page, through the same downloader (robots.txt, throttling, the HTTP
        cache; Scrapy's duplicate filter fetches a page once per crawl)."""
        self._inc("fulltext/requests")
        return scrapy.Request(
            self.to_fetch(item.url),
            callback=self.parse_page,
            errback=self.page_failed,
            cb_kwargs={"item": item},
        )

    def parse_page(self, response: Response, item: ArticleItem) -> Any:
        """The body from the page; the feed's title, date and link stay authoritative."""
        from crawler.pages.html import PageParseError
        from crawler.pages.profile_rules import decode_page
        from crawler.pages.reader import read_article

        if not isinstance(response, TextResponse):
            yield self._keep_summary(item, f"not a text page ({_header(response, 'Content-Type')})")
            return
        decoded = decode_page(response)  # (crawler.charset: a charset lie read right)
        if decoded.invalid:
            # Its text would go out with U+FFFD in it: the feed's own summary is kept instead.
            yield self._keep_summary(item, f"undecodable page: {decoded.describe()}")
            return
        try:
            page = read_article(decoded.text, self.to_source(response.url))
        except PageParseError as exc:
            yield self._keep_summary(item, str(exc))
            return
        if not page["content_html"]:
            yield self._keep_summary(item, "the page has no article text")
            return
        item.content_html = page["content_html"]
        item.content_clean = False  # sanitized again by the normalize pipeline, as any feed's
        item.author = item.author or page["author"]
        item.provenance = {**item.provenance, "body": f"page/{page['provenance'].get('body')}"}
        self._inc("fulltext/read")
        self._inc(f"source/{item.source}/fulltext/read")
        yield item

    def page_failed(self, failure: Failure) -> Any:
        request = failure.request  # type: ignore[attr-defined]
        item = request.cb_kwargs["item"]
        response = getattr(failure.value, "response", None)
        reason = f"HTTP {response.status}" if response is not None else failure.getErrorMessage()
        yield self._keep_summary(item, f"fetching {request.url} failed: {reason}")

    def _keep_summary(self, item: ArticleItem, reason: str) -> ArticleItem:
        """A page that cannot be read: the entry keeps the feed's summary, the reason logged."""
        self.logger.warning(
            "Feed source %s: %s: page not read, the feed's summary kept: %s",
            item.source, item.url, reason,
        )
        self._inc("fulltext/failed")
        self._inc(f"source/{item.source}/fulltext/failed")
        return item

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        source_key = request.cb_kwargs.get("source_key", "?")
        response = getattr(failure.value, "response", None)
        # reason_of: the exception's type when it has no message (never an empty reason).
        # The log line names the exception too; the health record keeps the status alone.
        if response is not None:
            reason = f"HTTP {response.status}"
            logged = f"{reason} ({failure.type.__name__ if failure.type else 'error'})"
        else:
            reason = logged = reason_of(failure)
        self.logger.error("Feed source %s: fetching %s failed: %s", source_key, request.url, logged)
        self._error(source_key, f"{self.to_source(request.url)}: fetching failed: {reason}")

    def _error(self, source_key: str, message: str) -> None:
        self._inc("errors")
        self._inc(f"errors/{source_key}")
        # The last error of each source, with its URL: its health record names it.
        self.crawler.stats.set_value(f"{STATS}/error_message/{source_key}", message)

    def _inc(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(f"{STATS}/{key}", n)


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
