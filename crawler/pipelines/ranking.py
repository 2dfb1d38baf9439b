"""Collapse the ranking sidebar seen on many pages into one snapshot per crawl and source.

Every page of a site carries the same sidebar, so the spider yields one
:class:`RankingObservation` per page; this pipeline absorbs them (they never reach the
output) and keeps the latest. At the end of the crawl the spider yields one empty
:class:`RankingItem`, which this pipeline fills with the collapsed snapshot. If the sidebar
changes during the crawl the latest wins and the change is logged.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import PERIODS, RankingItem, RankingObservation, ranked_articles

logger = logging.getLogger(__name__)


def _signature(obs: RankingObservation) -> tuple[tuple[str, tuple[tuple[int, str], ...]], ...]:
    return tuple(
        (period, tuple((e.rank, e.id) for e in entries)) for period, entries in sorted(obs.lists.items())
    )


class RankingPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.latest: dict[str, RankingObservation] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RankingPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, RankingObservation):
            self.stats.inc_value("defnews/ranking/observations")
            previous = self.latest.get(item.source)
            if previous is not None and _signature(previous) != _signature(item):
                self.stats.inc_value("defnews/ranking/changed_during_crawl")
                logger.info(
                    "ranking sidebar of %s changed during the crawl (%s -> %s); the latest wins",
                    item.source, previous.page_url, item.page_url,
                )
            if previous is None or item.seen_at >= previous.seen_at:
                self.latest[item.source] = item
            raise DropItem(f"ranking sidebar of {item.page_url} collapsed", log_level="DEBUG")
        if isinstance(item, RankingItem) and not item.lists:
            obs = self.latest.get(item.source)
            if obs is None:
                raise DropItem(f"no ranking sidebar seen for {item.source} in this crawl",
                               log_level="INFO")
            item.lists = {period: obs.lists.get(period, []) for period in PERIODS}
            item.captured_at = obs.seen_at
            item.articles = ranked_articles(item.lists)
            positions = sum(len(v) for v in item.lists.values())
            distinct = len(item.articles)
            self.stats.set_value("defnews/ranking/positions", positions)
            self.stats.set_value("defnews/ranking/distinct", distinct)
            logger.info("ranking snapshot of %s: %d positions, %d distinct articles",
                        item.source, positions, distinct)
        return item
