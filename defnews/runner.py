"""Run crawls and builds for the command line: one options dataclass in, one report out."""

from __future__ import annotations

import logging
import shutil
import signal
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.sources import SourcesConfig, load_sources
from crawler.store import open_store
from feeds.build import BuildReport, build_feeds
from feeds.config import FeedConfig

logger = logging.getLogger(__name__)

DEFAULT_FEED_URL = "http://localhost:8000/"


class UsageError(ValueError):
    """A bad option or source selection: the command exits with status 2."""


@dataclass
class CrawlOptions:
    store: str
    sources: Path | None = None
    only: tuple[str, ...] = ()
    output: Path | None = None
    # -o appends this run's items to ``output`` (as Scrapy's -o does); -O replaces it.
    overwrite: bool = False
    base_url: str | None = None  # fetch the site spider's pages from this mirror
    site_mirrors: Mapping[str, str] = field(default_factory=dict)  # source key -> its mirror
    feeds_mirror: str | None = None  # "ORIGIN=MIRROR": fetch feeds listed at ORIGIN from MIRROR
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class CrawlerResult:
    name: str
    source: str
    finish_reason: str
    stats: dict[str, Any]

    def get(self, key: str) -> int:
        return int(self.stats.get(key, 0) or 0)

    @property
    def failed(self) -> str | None:
        """Why this crawl counts as failed, or None."""
        if self.stats.get("defnews/store/write_error"):  # disk full, read-only, connection lost
            return str(self.stats["defnews/store/write_error"])
        if self.finish_reason != "finished":
            return f"ended with {self.finish_reason!r}"
        if self.get("defnews/feeds/errors"):
            return f"{self.get('defnews/feeds/errors')} feed(s) could not be read"
        shared = "defnews/frontier/worker" in self.stats  # other processes may have had the items
        if self.stats.get("defnews/feeds/read") and not self.get("defnews/feeds/entries"):
            # A feed source whose feed was read whole and lists no entry (yet): a valid empty
            # feed, not a failure (one that empties after having entries is judged unhealthy
            # by defnews.health.judge).
            return None
        if not shared and not (self.get("item_scraped_count") or self.get("defnews/store/unchanged")
                               or self.get("defnews/incremental/known_skipped")
                               or self.get("defnews/http/not_modified")):
            # (An incremental crawl that finds only stored articles, or 304s, is not a failure.)
            return "no item was scraped"
        return None


@dataclass
class CrawlReport:
    crawlers: list[CrawlerResult]
    output: Path | None = None
    # The shutdown signals received during the crawl (SIGINT, SIGTERM), in order: a crawl
    # that got one is interrupted and nothing is built from it; two mean a forced stop.
    signals: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.signals and all(c.failed is None for c in self.crawlers)

    @property
    def interrupted(self) -> int | None:
        """The first shutdown signal received, or None."""
        return self.signals[0] if self.signals else None


def build_settings(options: CrawlOptions) -> Any:
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("DEFNEWS_STORE", options.store, priority="cmdline")
    if "://" not in options.store and "HTTPCACHE_DIR" not in options.settings:
        # The HTTP cache lives beside the store, wherever the command is run from.
        cache = Path(options.store).resolve().parent / "httpcache"
        settings.set("HTTPCACHE_DIR", str(cache), priority="cmdline")
    # The command configures logging (level, file) once; Scrapy adds no second root handler.
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    if options.sources is not None:
        settings.set("DEFNEWS_SOURCES", str(options.sources), priority="cmdline")
    for name, value in options.settings.items():
        settings.set(name, value, priority="cmdline")
    return settings


def check_crawl_options(options: CrawlOptions) -> tuple[SourcesConfig, list[Any], Any]:
    """The sources file, the sources to crawl and the Scrapy settings, or :class:`UsageError`:
    a wrong --only, --base-url or --redis is refused before anything (the store included) is
    created."""
    config = load_sources(options.sources)
    selected = _select(config, options.only)
    sites = [s for s in selected if s.kind == "site"]
    if not selected:
        raise UsageError("no enabled source to crawl")
    if options.base_url and len(sites) > 1:
        raise UsageError("--base-url names one mirror: choose the site with --only")
    settings = build_settings(options)
    check_setting_values(settings, options.settings)
    from crawler import render

    try:
        mode = render.mode_of(settings)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if mode == "always" and (why := render.unavailable(settings)):
        raise UsageError(f"--render always: pages cannot be rendered here: {why}")
    if settings.get("DEFNEWS_REDIS_URL"):
        from crawler.frontier import RedisUnavailable, check_redis

        try:
            check_redis(settings["DEFNEWS_REDIS_URL"])
        except RedisUnavailable as exc:
            raise UsageError(str(exc)) from exc
    return config, selected, settings


def check_setting_values(settings: Any, given: Mapping[str, Any]) -> None:
    """A ``-s NAME=VALUE`` that the setting's type cannot take is refused in one line naming
    it, before anything starts (it made the crawler fail at start-up, after the store was
    made, with 51 lines of traceback)."""
    from scrapy.settings import Settings

    defaults = Settings()
    defaults.setmodule("crawler.settings", priority="project")
    # bool before int: True is an int too.
    kinds = ((bool, "getbool", "true or false"), (int, "getint", "a whole number"),
             (float, "getfloat", "a number"), (dict, "getdict", "a JSON object"))
    for name, value in given.items():
        if not isinstance(value, str):
            continue  # set by an option, already checked
        default = defaults.get(name)
        kind = next((k for k in kinds if isinstance(default, k[0])), None)
        if kind is None:
            continue
        try:
            getattr(Settings({name: value}), kind[1])(name)
        except (ValueError, TypeError):
            raise UsageError(f"-s {name}={value}: expected {kind[2]} (default "
                             f"{default!r})") from None


def run_crawl(options: CrawlOptions) -> CrawlReport:
    """Crawl every enabled source of the sources file (or ``options.only``), concurrently."""
    from scrapy import signals

    from crawler.spiders.feeds import FeedsSpider

    config, selected, settings = check_crawl_options(options)
    sites = [s for s in selected if s.kind == "site"]
    feed_keys = [s.key for s in selected if s.kind == "feed"]
    process = _Process(settings)
    # Scrapy installs its shutdown handlers once the reactor runs; a signal before that (while
    # the crawlers start) must stop the crawl the same way, not raise inside their start.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, process._signal_shutdown)
    known_spiders = set(process.spider_loader.list())
    def spider_of(source: Any) -> str:
        """The spider named by the source, else (a source naming none but its key) the
        generic site spider: a site is a profile, not a spider."""
        name = source.spider or source.key
        return "site" if name not in known_spiders and name == source.key else name

    for source in sites:
        if spider_of(source) not in known_spiders:
            raise UsageError(f"source {source.key!r}: no spider named {source.spider or source.key!r}"
                             f" (spiders: {', '.join(sorted(known_spiders))})")
    results: list[CrawlerResult] = []
    scheduled: list[tuple[str, Any]] = []
    handlers: list[Any] = []  # signal receivers are weak references: keep ours alive
    parts: list[Path] = []
    tmpdir = Path(tempfile.mkdtemp(prefix="defnews-items-"))

    def schedule(spider: Any, source_key: str, **kwargs: Any) -> None:
        crawler = process.create_crawler(spider)
        if options.output is not None:
            part = tmpdir / f"{len(parts):02d}-{source_key}.jsonl"
            parts.append(part)
            crawler.settings.set(
                "FEEDS", {str(part): {"format": "jsonlines", "overwrite": True}}, priority="cmdline"
            )

        def closed(spider: Any, reason: str) -> None:
            stats = dict(crawler.stats.get_stats())
            stats.setdefault("finish_time", datetime.now(UTC))  # for the run's duration
            stats.update(getattr(spider, "run_stats", {}))  # figures a spider kept aside
            results.append(CrawlerResult(spider.name, source_key, reason, stats))

        handlers.append(closed)
        crawler.signals.connect(closed, signal=signals.spider_closed)
        scheduled.append((source_key, crawler))
        started = process.crawl(crawler, **kwargs)
        started.addErrback(_start_failed, source_key, spider, results)

    for source in sites:
        schedule(
            spider_of(source),
            source.key,
            base_url=options.site_mirrors.get(source.key) or options.base_url or source.urls[0],
            site_url=source.urls[0],
            source=source.key,
            **({"sources": str(config.path)} if config.path else {}),
        )
    if feed_keys:
        schedule(
            FeedsSpider,
            "feeds",
            sources=str(config.path) if config.path else None,
            only=",".join(feed_keys),
            **({"mirror": options.feeds_mirror} if options.feeds_mirror else {}),
        )
    try:
        process.start()
        restore_signal_handlers()
        _account_for_missing(scheduled, results)
        if options.output is not None and not process.received:
            _concat_atomic(parts, options.output, append=not options.overwrite)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return CrawlReport(results, options.output, list(process.received))


class Interrupted(KeyboardInterrupt):
    """SIGTERM (or SIGINT) outside the crawl: stop what is being done, exit 128 + signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum: int, _frame: Any) -> None:
    raise Interrupted(signum)


def restore_signal_handlers() -> None:
    """Scrapy leaves its shutdown handlers installed after the reactor stops, where they do
    nothing: SIGINT and SIGTERM during the build phase would be ignored. Make both raise."""
    signal.signal(signal.SIGINT, _raise_interrupted)
    signal.signal(signal.SIGTERM, _raise_interrupted)


def _process_class() -> Any:
    from scrapy.crawler import CrawlerProcess

    class Process(CrawlerProcess):
        """Scrapy's process, remembering which shutdown signals it received (Scrapy's own
        handlers do the stopping: the first gracefully, the second by force)."""

        received: list[int]

        def _signal_shutdown(self, signum: int, frame: Any) -> None:
            from twisted.internet import reactor

            self.received.append(signum)
            super()._signal_shutdown(signum, frame)
            reactor.callFromThread(self._drop_queued)

        def _drop_queued(self) -> None:
            """A graceful stop waits for every request in the downloader; those still queued
            for their download delay (AutoThrottle: seconds each) would hold it up for long.
            Only the transfers in progress are waited for."""
            from scrapy.exceptions import IgnoreRequest

            dropped = 0
            for crawler in list(self.crawlers):
                downloader = getattr(crawler.engine, "downloader", None)
                for slot in list(getattr(downloader, "slots", {}).values()):
                    while slot.queue:
                        request, queued = slot.queue.popleft()
                        queued.errback(IgnoreRequest(f"crawl stopping: {request.url} not fetched"))
                        dropped += 1
            if dropped:
                logger.info("stopping: %d queued requests dropped", dropped)

        def _signal_kill(self, signum: int, frame: Any) -> None:
            self.received.append(signum)
            super()._signal_kill(signum, frame)

    return Process


def _Process(settings: Any) -> Any:  # noqa: N802 - reads as the class it builds
    process = _process_class()(settings)
    process.received = []
    return process


def _start_failed(failure: Any, source_key: str, spider: Any, results: list[CrawlerResult]) -> None:
    """A crawler that could not start (a bad setting, a component that raised) is a failed
    source with its reason, not an empty summary and an unhandled Deferred error."""
    exc = failure.value
    if isinstance(exc, KeyboardInterrupt):  # stopped while starting: an interruption
        logger.info("%s: stopped while starting", source_key)
        return
    logger.error("%s: the crawl could not start: %s: %s", source_key, type(exc).__name__, exc)
    logger.debug("the crawl of %s could not start", source_key,
                 exc_info=(failure.type, failure.value, failure.getTracebackObject()))
    if not any(r.source == source_key for r in results):
        name = spider if isinstance(spider, str) else getattr(spider, "name", str(spider))
        results.append(CrawlerResult(name, source_key,
                                     f"not started: {type(exc).__name__}: {exc}", {}))


def _account_for_missing(scheduled: list[tuple[str, Any]], results: list[CrawlerResult]) -> None:
    """A crawler that never reported its end was killed (a second Ctrl-C): say so."""
    for source_key, crawler in scheduled:
        if not any(r.source == source_key for r in results):
            stats = dict(crawler.stats.get_stats()) if crawler.stats else {}
            name = crawler.spider.name if crawler.spider else source_key
            results.append(CrawlerResult(name, source_key, "killed", stats))


def _select(config: SourcesConfig, only: tuple[str, ...]) -> list[Any]:
    enabled = [s for s in config.sources if s.enabled]
    if not only:
        return enabled
    unknown = sorted(set(only) - {s.key for s in config.sources})
    if unknown:
        raise UsageError(f"unknown source(s): {', '.join(unknown)} (see {config.path})")
    return [s for s in config.sources if s.key in only]


def _concat_atomic(parts: list[Path], output: Path, *, append: bool = False) -> None:
    """Join the per-crawler item files into ``output`` (after what it held, with ``append``)
    without ever leaving half a file."""
    from defnews.export import write_lines

    def chunks() -> Any:
        for part in parts:
            if part.exists():
                with part.open("rb") as src:
                    yield from src

    write_lines(chunks(), output, append=append)


@dataclass
class BuildOptions:
    store: str
    public: Path
    sources: Path | None = None
    feed_url: str = DEFAULT_FEED_URL
    limit: int = 50
    title: str = "defnews"
    hub_url: str | None = None  # WebSub hub
    prune: bool = False  # remove the feeds no longer built (not those of configured sources)


def run_build(options: BuildOptions) -> BuildReport:
    config = load_sources(options.sources)
    feed_config = FeedConfig(
        base_url=options.feed_url if options.feed_url.endswith("/") else options.feed_url + "/",
        title=options.title,
        limit=options.limit,
        category_slugs=dict(config.category_slugs),
        source_names={s.key: s.name for s in config.sources},
        hub_url=options.hub_url,
        prune=options.prune,
    )
    with open_store(options.store) as store:
        report = build_feeds(store, options.public, feed_config)
        from defnews.health import write_health  # (imports this module)

        write_health(store, options.public, feed_config.base_url)
        return report
