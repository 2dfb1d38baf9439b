"""Per-crawl health figures: how many articles came through with each field filled.

The :class:`HealthStats` extension counts, for every article item scraped or dropped, which of the
fields in :data:`COVERAGE_FIELDS` it carries (stats ``defnews/health/articles`` and
``defnews/health/with/<field>``). :func:`coverage` turns a crawl's stats into ratios, with
``parsed`` (articles read / article pages that failed to parse) alongside.

``coverage`` is the one place the operator side (``defnews/health.py``) reads coverage from:
when per-field coverage from the page parsers' layers exists, point it there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

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
