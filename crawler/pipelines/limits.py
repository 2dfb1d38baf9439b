"""Limits: at most ``DEFNEWS_MAX_CATEGORIES_PER_SOURCE`` category labels per source.

Every label becomes two feed files and a line of the index page: a source that sends 3,000
labels must not make 6,000 files. The labels the sources file names (its ``[categories]``
table, each source's ``categories`` and ``category_map`` targets) are always kept; of the
others, N per source in all (those already in the store count) are kept and the rest are
dropped from the items, each logged and counted (``defnews/dropped/category_label_over_limit``).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.drops import record_drop
from crawler.items import ArticleItem
from crawler.sources import load_sources

logger = logging.getLogger(__name__)

REASON = "category label over limit"


class CategoryLimitPipeline:
    def __init__(self, crawler: Crawler, limit: int, declared: frozenset[str]) -> None:
        self.stats = crawler.stats
        self.limit = limit
        self.declared = declared
        self.seen: dict[str, set[str]] = {}
        self.store_location: str = crawler.settings.get("DEFNEWS_STORE") or ""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CategoryLimitPipeline:
        limit = crawler.settings.getint("DEFNEWS_MAX_CATEGORIES_PER_SOURCE")
        if limit <= 0:
            raise NotConfigured("DEFNEWS_MAX_CATEGORIES_PER_SOURCE is 0: no limit")
        try:
            config = load_sources(crawler.settings.get("DEFNEWS_SOURCES") or None)
        except Exception as exc:  # the spiders report a bad sources file
            logger.debug("category limit: sources file not read (%s); no label is declared", exc)
            declared: frozenset[str] = frozenset()
        else:
            labels = set(config.category_slugs)
            for source in config.sources:
                labels.update(source.categories)
                labels.update(source.category_map.values())
            declared = frozenset(labels)
        return cls(crawler, limit, declared)

    def open_spider(self) -> None:
        """Labels already stored count too: a source cannot add N more on every run."""
        location = self.store_location
        if not location:
            return
        from crawler.store import open_store

        try:
            with open_store(location) as store:
                stored = store.source_labels()
        except Exception as exc:  # the store pipeline reports a store it cannot open
            logger.debug("category limit: stored labels not read from %s: %s", location, exc)
            return
        for source, labels in stored.items():
            self.seen.setdefault(source, set()).update(labels - self.declared)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem) or not item.categories:
            return item
        seen = self.seen.setdefault(item.source, set())
        kept = []
        for label in item.categories:
            if label in self.declared or label in seen:
                kept.append(label)
            elif len(seen) < self.limit:
                seen.add(label)
                kept.append(label)
            else:
                record_drop(self.stats, REASON, item.url,
                            f"label {label[:80]!r}: {item.source} already used {self.limit} "
                            "(DEFNEWS_MAX_CATEGORIES_PER_SOURCE)", total=False)
        item.categories = kept
        return item
