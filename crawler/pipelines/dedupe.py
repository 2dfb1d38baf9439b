"""Deduplicate within a crawl: one article per id (canonical URL).

Across crawls the store does the rest (an upsert by id never duplicates).
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import ArticleItem


class DedupePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.seen: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        key = item.id
        if key in self.seen:
            self.stats.inc_value("defnews/duplicates")
            raise DropItem(
                f"{item.url}: duplicate of an article already seen in this crawl "
                f"(via {self.seen[key]})",
                log_level="INFO",
            )
        self.seen[key] = item.url
        return item
