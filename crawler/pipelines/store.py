"""Store: upsert articles (never duplicates), record ranking snapshots and their history."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from crawler.items import ArticleItem, DateProvenance, RankingItem
from crawler.pipelines.dedupe import source_priority
from crawler.store import SQLStore, open_store

logger = logging.getLogger(__name__)


class StorePipeline:
    """Settings: ``DEFNEWS_STORE`` (a SQLite path or a ``postgresql://`` DSN; empty disables),
    ``DEFNEWS_SOURCES`` (the sources file whose order ranks sources sharing a story)."""

    def __init__(self, crawler: Crawler, location: str) -> None:
        self.stats = crawler.stats
        self.location = location
        self.priority = source_priority(crawler.settings)
        self.store: SQLStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        location = crawler.settings.get("DEFNEWS_STORE")
        if not location:
            raise NotConfigured("DEFNEWS_STORE is empty")
        return cls(crawler, str(location))

    def open_spider(self) -> None:
        self.store = open_store(self.location)

    def close_spider(self) -> None:
        if self.store is not None:
            self.store.close()

    def process_item(self, item: Any) -> Any:
        assert self.store is not None
        now = datetime.now(UTC)
        if isinstance(item, ArticleItem):
            result = self._upsert_revisit(item, now)
            self.stats.inc_value(f"defnews/store/{result.status}")
            if result.status == "duplicate":
                raise DropItem(
                    f"{item.url}: same story already stored from another source", log_level="INFO"
                )
            item.first_seen = result.first_seen
        elif isinstance(item, RankingItem):
            entrances = self.store.add_ranking_snapshot(item)
            self.stats.inc_value("defnews/store/ranking_snapshots")
            self.stats.set_value("defnews/ranking/entrances", len(entrances))
            logger.info("ranking of %s stored: %d new entrances", item.source, len(entrances))
        return item

    def _upsert_revisit(self, item: ArticleItem, now: datetime) -> Any:
        """Upsert; when a page that gives no modification date has changed since it was
        stored (a revisit), ``updated`` becomes the time the change was seen (and stays so
        while the page does not change again)."""
        assert self.store is not None
        stored = self.store.get_article(item.id) if item.updated is None and item.id else None
        if stored is not None and stored.source == item.source:
            item.updated = stored.updated
            if "updated" in stored.dates:
                item.dates["updated"] = stored.dates["updated"]
        result = self.store.upsert_article(item, now=now, priority=self.priority)
        if stored is not None and result.status == "updated":
            item.updated = now
            item.dates["updated"] = DateProvenance(raw=now.isoformat(), source="revisit")
            result = self.store.upsert_article(item, now=now, priority=self.priority)
            self.stats.inc_value("defnews/store/changed_on_revisit")
        return result
