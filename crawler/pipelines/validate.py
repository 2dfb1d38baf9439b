"""Validate: an article missing its title, URL or date is dropped, logged and counted."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import ArticleItem


class ValidatePipeline:
    required = ("url", "title", "published")

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        missing = [name for name in self.required if not getattr(item, name)]
        if missing:
            reason = "missing " + ", ".join(missing)
            self.stats.inc_value("defnews/dropped")
            self.stats.inc_value(f"defnews/dropped/{reason.replace(' ', '_')}")
            where = item.url or "(no url)"
            raw = f" (raw date {item.published_raw!r})" if item.published_raw else ""
            raise DropItem(f"{where}: {reason}{raw}")
        return item
