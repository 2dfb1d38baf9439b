"""Give every article its story (crawler.stories): after dedupe and the store.

With a store (``DEFNEWS_STORE``) the decision is the store's: taken in a transaction under
the story lock, after reading what other processes decided (a shared-frontier crawl, Scrapyd
processes), and kept: a re-crawled article keeps its story. Without a store, the stories of
this crawl's articles are decided in memory. Articles wait while a decision is being written
and go together in the next one (one transaction for many), off the reactor thread.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred, DeferredLock
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from crawler.items import ArticleItem
from crawler.store import SQLStore, open_store
from crawler.stories.index import StoryIndex
from crawler.stories.store import StoryStore, article_features


class StoriesPipeline:
    """Settings: ``DEFNEWS_STORE`` (where stories are decided; empty: in memory),
    ``DEFNEWS_STORIES`` (False turns the step off)."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.location = str(crawler.settings.get("DEFNEWS_STORE") or "")
        self.enabled = crawler.settings.getbool("DEFNEWS_STORIES", True)
        self.store: SQLStore | None = None
        self.stories: StoryStore | None = None
        self.memory = StoryIndex()
        self._pending: list[tuple[ArticleItem, Deferred[str]]] = []
        self._writer = DeferredLock()
        self._in_thread: Any = deferToThread

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoriesPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        if self.enabled and self.location:
            self.store = open_store(self.location)
            self.stories = StoryStore(self.store)

    async def close_spider(self) -> None:
        while self._pending or self._writer.locked:
            self._flush()
            await maybe_deferred_to_future(self._writer.acquire())
            self._writer.release()
        if self.store is not None:
            self.store.close()

    async def process_item(self, item: Any) -> Any:
        if not self.enabled or not isinstance(item, ArticleItem) or not item.id:
            return item
        if self.stories is None:
            decision = self.memory.decide(item.id, article_features(item))
            item.story = decision.story
        else:
            waiter: Deferred[str] = Deferred()
            self._pending.append((item, waiter))
            self._flush()
            item.story = await maybe_deferred_to_future(waiter)
        self.stats.inc_value("defnews/stories/assigned")
        if item.story != item.id:
            self.stats.inc_value("defnews/stories/joined")
        return item

    def _flush(self) -> None:
        if not self._pending or self._writer.locked:
            return
        batch, self._pending = self._pending, []
        stories = self.stories
        assert stories is not None

        def decide() -> list[str]:
            return stories.assign([(item.id, article_features(item)) for item, _ in batch])

        d = self._writer.run(self._in_thread, decide)

        def done(result: list[str]) -> None:
            for (_, waiter), story in zip(batch, result, strict=True):
                waiter.callback(story)

        def failed(failure: Failure) -> None:
            for _, waiter in batch:
                waiter.errback(failure)

        d.addCallbacks(done, failed)
        d.addBoth(lambda _: self._flush())
