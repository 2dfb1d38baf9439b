"""Run crawls and builds for the command line: one options dataclass in, one report out."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
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
    base_url: str | None = None  # fetch the site spider's pages from this mirror
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
        if self.finish_reason != "finished":
            return f"ended with {self.finish_reason!r}"
        if self.get("defnews/feeds/errors"):
            return f"{self.get('defnews/feeds/errors')} feed(s) could not be read"
        shared = "defnews/frontier/worker" in self.stats  # other processes may have had the items
        if not shared and not self.get("item_scraped_count") and not self.get("defnews/store/unchanged"):
            return "no item was scraped"
        return None


@dataclass
class CrawlReport:
    crawlers: list[CrawlerResult]
    output: Path | None = None

    @property
    def ok(self) -> bool:
        return all(c.failed is None for c in self.crawlers)


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


def run_crawl(options: CrawlOptions) -> CrawlReport:
    """Crawl every enabled source of the sources file (or ``options.only``), concurrently."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.feeds import FeedsSpider

    config = load_sources(options.sources)
    selected = _select(config, options.only)
    sites = [s for s in selected if s.kind == "site"]
    feed_keys = [s.key for s in selected if s.kind == "feed"]
    if not sites and not feed_keys:
        raise UsageError("no enabled source to crawl")
    if options.base_url and len(sites) > 1:
        raise UsageError("--base-url names one mirror: choose the site with --only")
    settings = build_settings(options)
    if settings.get("DEFNEWS_REDIS_URL"):
        from crawler.frontier import RedisUnavailable, check_redis

        try:
            check_redis(settings["DEFNEWS_REDIS_URL"])
        except RedisUnavailable as exc:
            raise UsageError(str(exc)) from exc
    process = CrawlerProcess(settings)
    known_spiders = set(process.spider_loader.list())
    for source in sites:
        if (source.spider or source.key) not in known_spiders:
            raise UsageError(f"source {source.key!r}: no spider named {source.spider or source.key!r}"
                             f" (spiders: {', '.join(sorted(known_spiders))})")
    results: list[CrawlerResult] = []
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
            results.append(
                CrawlerResult(spider.name, source_key, reason, dict(crawler.stats.get_stats()))
            )

        handlers.append(closed)
        crawler.signals.connect(closed, signal=signals.spider_closed)
        process.crawl(crawler, **kwargs)

    for source in sites:
        schedule(
            source.spider or source.key,
            source.key,
            base_url=options.base_url or source.urls[0],
            site_url=source.urls[0],
            source=source.key,
        )
    if feed_keys:
        schedule(
            FeedsSpider,
            "feeds",
            sources=str(config.path) if config.path else None,
            only=",".join(feed_keys),
        )
    try:
        process.start()
        if options.output is not None:
            _concat_atomic(parts, options.output)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return CrawlReport(results, options.output)


def _select(config: SourcesConfig, only: tuple[str, ...]) -> list[Any]:
    enabled = [s for s in config.sources if s.enabled]
    if not only:
        return enabled
    unknown = sorted(set(only) - {s.key for s in config.sources})
    if unknown:
        raise UsageError(f"unknown source(s): {', '.join(unknown)} (see {config.path})")
    return [s for s in config.sources if s.key in only]


def _concat_atomic(parts: list[Path], output: Path) -> None:
    """Join the per-crawler item files into ``output`` without ever leaving half a file."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                if part.exists():
                    with part.open("rb") as src:
                        shutil.copyfileobj(src, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class BuildOptions:
    store: str
    public: Path
    sources: Path | None = None
    feed_url: str = DEFAULT_FEED_URL
    limit: int = 50
    title: str = "defnews"


def run_build(options: BuildOptions) -> BuildReport:
    config = load_sources(options.sources)
    feed_config = FeedConfig(
        base_url=options.feed_url if options.feed_url.endswith("/") else options.feed_url + "/",
        title=options.title,
        limit=options.limit,
        category_slugs=dict(config.category_slugs),
        source_names={s.key: s.name for s in config.sources},
    )
    with open_store(options.store) as store:
        return build_feeds(store, options.public, feed_config)
