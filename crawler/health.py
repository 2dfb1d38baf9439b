"""Per-crawl health figures: how many articles came through with each field filled.

The :class:`HealthStats` extension counts, for every article item scraped or dropped, which of the
fields in :data:`COVERAGE_FIELDS` it carries (stats ``defnews/health/articles`` and
``defnews/health/with/<field>``). :func:`coverage` turns a crawl's stats into ratios, with
``parsed`` (articles read / article pages that failed to parse) alongside.

``coverage`` is the one place the operator side (``defnews/health.py``) reads coverage from:
when per-field coverage from the page parsers' layers exists, point it there.

The :class:`HealthRecorder` extension writes each source's health record into the store when
a crawl ends, wherever it ran: ``defnews crawl``, ``scrapy crawl``, Scrapyd (the feeds
crawler: one record per feed source). A crawl stopped by a signal is not judged; a crawl whose
frontier or store failed is the crawl's failure, recorded for no source.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.items import ArticleItem

COVERAGE_FIELDS = ("published", "categories", "summary")
PREFIX = "defnews/health"


class HealthStats:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HealthStats:
        ext = cls(crawler)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        # Articles dropped by a pipeline (no date, invalid...) were read too: they count.
        crawler.signals.connect(ext.item_scraped, signal=signals.item_dropped)
        return ext

    def item_scraped(self, item: Any) -> None:
        if not isinstance(item, ArticleItem):
            return
        assert self.stats is not None
        self.stats.inc_value(f"{PREFIX}/articles")
        for name in COVERAGE_FIELDS:
            if getattr(item, name, None):
                self.stats.inc_value(f"{PREFIX}/with/{name}")


def coverage(stats: Mapping[str, Any]) -> tuple[int, dict[str, float]]:
    """(articles attempted, {field: ratio}) from a crawl's stats; ``parsed`` is the share of
    article pages read at all. Empty when no article page was attempted."""
    articles = int(stats.get(f"{PREFIX}/articles", 0) or 0)
    failed = int(stats.get("defnews/parse_errors", 0) or 0)
    attempted = articles + failed
    if not attempted:
        return 0, {}
    ratios = {"parsed": articles / attempted}
    if articles:
        for name in COVERAGE_FIELDS:
            ratios[name] = int(stats.get(f"{PREFIX}/with/{name}", 0) or 0) / articles
    return attempted, ratios


logger = logging.getLogger(__name__)


class HealthRecorder:
    """Settings: ``DEFNEWS_STORE`` (where the records go; empty: none),
    ``DEFNEWS_HEALTH_RECORD`` (False: record nothing), the thresholds of
    ``DEFNEWS_HEALTH_MIN_COVERAGE`` / ``DEFNEWS_HEALTH_MIN_ARTICLES``."""

    def __init__(self, crawler: Crawler, location: str) -> None:
        self.crawler = crawler
        self.location = location

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HealthRecorder:
        location = crawler.settings.get("DEFNEWS_STORE")
        if not location or not crawler.settings.getbool("DEFNEWS_HEALTH_RECORD", True):
            raise NotConfigured("no store to record health in")
        ext = cls(crawler, str(location))
        # After every spider_closed handler (the store's last batch, the spider's own state):
        # the engine has stopped and the stats are final.
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def engine_stopped(self) -> None:
        # The operator side judges; imported here, where a crawl has ended (it needs the
        # store and feedgen, not Scrapy).
        from datetime import UTC, datetime

        from defnews.health import record_health
        from defnews.runner import CrawlerResult, CrawlReport

        assert self.crawler.stats is not None
        stats = dict(self.crawler.stats.get_stats())
        reason = str(stats.get("finish_reason") or "")
        if reason in ("", "shutdown"):
            return  # stopped by a signal (or never opened): nothing to judge
        spider = self.crawler.spider
        stats.setdefault("finish_time", datetime.now(UTC))
        stats.update(getattr(spider, "run_stats", {}) or {})
        name = getattr(spider, "name", "?")
        source = getattr(spider, "source_key", None) or name
        result = CrawlerResult(name, str(source), reason, stats)
        try:
            record_health(self.location, CrawlReport([result]), {},
                          stats.get("start_time") or datetime.now(UTC),
                          settings=self.crawler.settings)
        except Exception as exc:  # noqa: BLE001 - the store failed: said, never the site's
            logger.error("health of %s not recorded: the store %s failed: %s", source,
                         self.location.rsplit("@", 1)[-1], exc)
