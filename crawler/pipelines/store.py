"""Store: upsert articles (never duplicates), record ranking snapshots and their history.

Writes are batched and leave the reactor thread: articles wait in a batch that is committed
in one transaction when it holds ``DEFNEWS_STORE_BATCH_SIZE`` items or its first item has
waited ``DEFNEWS_STORE_BATCH_SECONDS``, in a worker thread (one write at a time), while the
crawl goes on. Items that arrive while a batch is being written form the next batch (group
commit). Each item's ``process_item`` returns only once its batch is committed, with its own
result: the crawl summary still counts new / updated / unchanged per item, a copy owned by
another source is still dropped, and the JSON Lines output carries ``first_seen``. The last
batch is written when the spider closes, which is also what Scrapy's graceful SIGTERM / Ctrl-C
does; a pending batch never waits longer than ``DEFNEWS_STORE_BATCH_SECONDS``.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.base import DelayedCall
from twisted.internet.defer import Deferred, DeferredLock
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from crawler.failures import reason_of
from crawler.items import ArticleItem, DateProvenance, RankingItem
from crawler.pipelines.dedupe import source_priority
from crawler.store import SQLStore, UpsertResult, open_store

logger = logging.getLogger(__name__)


class StoreWriteError(RuntimeError):
    """The store refused a write (disk full, read-only, connection lost): the item is lost
    to this crawl, which stops."""


class StorePipeline:
    """Settings: ``DEFNEWS_STORE`` (a SQLite path or a ``postgresql://`` DSN; empty disables),
    ``DEFNEWS_SOURCES`` (the sources file whose order ranks sources sharing a story),
    ``DEFNEWS_STORE_BATCH_SIZE`` / ``DEFNEWS_STORE_BATCH_SECONDS`` (when a batch is written)."""

    def __init__(self, crawler: Crawler, location: str) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        # Why a write failed (disk full, read-only, connection lost): the crawl stops, every
        # item after it fails at once, and nothing is built from the crawl.
        self.write_error: str | None = None
        self.location = location
        self.priority = source_priority(crawler.settings)
        self.batch_size = max(1, crawler.settings.getint("DEFNEWS_STORE_BATCH_SIZE", 100))
        self.batch_seconds = max(0.0, crawler.settings.getfloat("DEFNEWS_STORE_BATCH_SECONDS", 0.5))
        self.store: SQLStore | None = None
        self._pending: list[tuple[ArticleItem, Deferred[UpsertResult]]] = []
        self._timer: DelayedCall | None = None
        self._writer = DeferredLock()  # one write at a time: one connection, one transaction
        # The reactor's clock and thread pool (tests substitute a Clock and a direct call).
        self._clock: Any = reactor
        self._in_thread: Any = deferToThread

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        location = crawler.settings.get("DEFNEWS_STORE")
        if not location:
            raise NotConfigured("DEFNEWS_STORE is empty")
        return cls(crawler, str(location))

    def open_spider(self) -> None:
        self.store = open_store(self.location)

    async def close_spider(self) -> None:
        if self.store is None:
            return
        if self.write_error is not None:
            self._fail_pending()
        while self._pending or self._writer.locked:
            self._flush()
            await maybe_deferred_to_future(self._writer.acquire())
            self._writer.release()
        try:
            self.store.close()
        except Exception as exc:  # noqa: BLE001 - a lost connection: already reported
            logger.debug("store: closing after a failed write: %s", exc)

    async def process_item(self, item: Any) -> Any:
        assert self.store is not None
        if self.write_error is not None:
            raise StoreWriteError(self.write_error)  # counted as failed, never as kept
        if isinstance(item, ArticleItem):
            waiter: Deferred[UpsertResult] = Deferred()
            self._pending.append((item, waiter))
            self._schedule()
            result = await maybe_deferred_to_future(waiter)
            self.stats.inc_value(f"defnews/store/{result.status}")
            # Per source too: each feed source of one crawl gets its own health record.
            self.stats.inc_value(f"defnews/store/source/{item.source}/{result.status}")
            if result.status == "duplicate":
                raise DropItem(
                    f"{item.url}: same story already stored from another source", log_level="INFO"
                )
            item.first_seen = result.first_seen
        elif isinstance(item, RankingItem):
            self._flush()  # the articles seen before the ranking go in first
            try:
                entrances = await maybe_deferred_to_future(
                    self._writer.run(self._in_thread, self.store.add_ranking_snapshot, item)
                )
            except Exception as exc:
                self._stop(reason_of(exc))
                raise StoreWriteError(self.write_error or reason_of(exc)) from exc
            self.stats.inc_value("defnews/store/ranking_snapshots")
            self.stats.set_value("defnews/ranking/entrances", len(entrances))
            logger.info("ranking of %s stored: %d new entrances", item.source, len(entrances))
        return item

    # -- batching (reactor thread) ----------------------------------------------------------
    def _schedule(self) -> None:
        if len(self._pending) >= self.batch_size:
            self._flush()
        elif self._timer is None:
            self._timer = self._clock.callLater(self.batch_seconds, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._flush()

    def _flush(self) -> None:
        """Hand the pending items to the writer; while it is busy they keep gathering and go
        as one batch when it is free."""
        if self._timer is not None:
            if self._timer.active():
                self._timer.cancel()
            self._timer = None
        if not self._pending or self._writer.locked:
            return
        batch, self._pending = self._pending[: self.batch_size], self._pending[self.batch_size:]
        store = self.store
        assert store is not None
        items = [item for item, _ in batch]
        d = self._writer.run(self._in_thread, self._upsert_batch, items, now=datetime.now(UTC))

        def written(outcome: tuple[list[UpsertResult], int]) -> None:
            results, changed = outcome
            self.stats.inc_value("defnews/store/batches")
            if changed:
                self.stats.inc_value("defnews/store/changed_on_revisit", changed)
            for (_, waiter), result in zip(batch, results, strict=True):
                waiter.callback(result)

        def failed(failure: Failure) -> None:
            reason = reason_of(failure)
            logger.error("store: a batch of %d articles could not be written (%s): %s",
                         len(batch), self.location.split("@")[-1], reason)
            self._stop(reason)
            error = Failure(StoreWriteError(self.write_error or reason))
            for _, waiter in batch:
                waiter.errback(error)
            self._fail_pending()

        d.addCallbacks(written, failed)
        d.addBoth(self._after_write)

    def _stop(self, reason: str) -> None:
        """A write failed: stop the crawl with one line saying why (the command exits 2 and
        builds nothing from it, see defnews.commands.crawl_status)."""
        if self.write_error is not None:
            return
        shown = re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", self.location)  # no password
        self.write_error = f"store {shown} could not be written: {reason}"
        self.stats.set_value("defnews/store/write_error", self.write_error)
        logger.error("%s; stopping the crawl", self.write_error)
        engine = getattr(self.crawler, "engine", None)
        if engine is not None and getattr(engine, "spider", None) is not None:
            deferred_from_coro(engine.close_spider_async(reason="store_write_failed"))

    def _fail_pending(self) -> None:
        """Items waiting for a batch after a failed write: each fails at once."""
        pending, self._pending = self._pending, []
        for _, waiter in pending:
            waiter.errback(Failure(StoreWriteError(self.write_error or "store write failed")))

    def _after_write(self, _: object) -> None:
        # Items gathered during the write have waited already: write them now.
        if self._pending and self.write_error is None:
            self._flush()

    # -- revisits (writer thread) ------------------------------------------------------------
    def _upsert_batch(
        self, items: list[ArticleItem], *, now: datetime
    ) -> tuple[list[UpsertResult], int]:
        """Upsert a batch; when a page that gives no modification date has changed since it
        was stored (a revisit), ``updated`` becomes the time the change was seen (and stays so
        while the page does not change again). Returns the results and how many changed."""
        store = self.store
        assert store is not None
        # The articles these pages link, before the pages themselves (crawler/archive.py).
        linked: dict[str, list[str]] = {}
        for item in items:
            if item.linked:
                linked.setdefault(item.source, []).extend(item.linked)
        for source, urls in linked.items():
            store.record_archive_links(source, urls, at=now)
        stored: dict[int, ArticleItem] = {}
        for n, item in enumerate(items):
            before = store.get_article(item.id) if item.updated is None and item.id else None
            if before is not None and before.source == item.source:
                stored[n] = before
                item.updated = before.updated
                if "updated" in before.dates:
                    item.dates["updated"] = before.dates["updated"]
        results = store.upsert_articles(items, now=now, priority=self.priority)
        changed = [n for n in stored if results[n].status == "updated"]
        for n in changed:
            items[n].updated = now
            items[n].dates["updated"] = DateProvenance(raw=now.isoformat(), source="revisit")
        if changed:
            again = store.upsert_articles([items[n] for n in changed], now=now,
                                          priority=self.priority)
            for n, result in zip(changed, again, strict=True):
                results[n] = result
        return results, len(changed)
