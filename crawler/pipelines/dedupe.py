"""Deduplicate within a crawl: one article per id (canonical URL).

When two sources carry the same story in one crawl, the copy of the source listed first in
the sources file is kept, whichever arrives first. Across crawls the store does the rest (an
upsert by id never duplicates, with the same source order).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.settings import Settings

from crawler.items import ArticleItem
from crawler.sources import load_sources
from crawler.store import outranks


def source_priority(settings: Settings) -> dict[str, int]:
    """Source key -> its position in the sources file (``DEFNEWS_SOURCES``; the packaged one
    when unset)."""
    path = settings.get("DEFNEWS_SOURCES") or None
    config = load_sources(Path(path) if path else None)
    return {source.key: n for n, source in enumerate(config.sources)}


class DedupePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.priority = source_priority(crawler.settings)
        self.seen: dict[str, tuple[str, str]] = {}  # id -> (source, url)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        first = self.seen.get(item.id)
        if first is not None and not outranks(item.source, first[0], self.priority):
            self.stats.inc_value("defnews/duplicates")
            raise DropItem(
                f"{item.url}: duplicate of an article already seen in this crawl "
                f"(from {first[0]}: {first[1]})",
                log_level="INFO",
            )
        if first is not None and first[0] != item.source:
            # A source listed earlier takes over a story another source brought first: that
            # copy counts as merged, as it would have had it arrived second (the summary's
            # per-source counts do not depend on arrival order).
            self.stats.inc_value("defnews/duplicates")
            self.stats.inc_value(f"defnews/dedupe/superseded/{first[0]}")
        self.seen[item.id] = (item.source, item.url)
        return item
