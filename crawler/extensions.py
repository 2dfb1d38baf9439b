"""A progress line for operators: pages fetched, items stored, pages skipped."""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

logger = logging.getLogger("defnews.progress")


class Progress:
    """Logs one line every ``DEFNEWS_PROGRESS_INTERVAL`` seconds (0 disables)."""

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        interval = crawler.settings.getfloat("DEFNEWS_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def line(self) -> str:
        stats = self.crawler.stats
        get = stats.get_value
        return (
            f"{self.crawler.spider.name if self.crawler.spider else '?'}: "
            f"{get('response_received_count', 0)} pages, "
            f"{get('defnews/store/new', 0)} new, {get('defnews/store/updated', 0)} updated, "
            f"{get('defnews/store/unchanged', 0)} unchanged, "
            f"{get('defnews/dropped', 0) + get('defnews/parse_errors', 0)} skipped"
        )

    def log(self) -> None:
        logger.info(self.line())

    def spider_opened(self) -> None:
        self.loop = task.LoopingCall(self.log)
        self.loop.start(self.interval, now=False)

    def spider_closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
