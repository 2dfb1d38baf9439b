"""Failures are counted where they happen, and never logged without a reason.

A drop (``crawler.drops``) is a decision: the item or link is not wanted. A *failure* is a
unit lost to an error: an exception in a spider callback or in a pipeline, a parse error, a
store write that did not happen. Each is logged on one line, ``Failed <url>: <reason>
(<detail>)``, and counted:

- ``defnews/failed`` — pages and items lost to an error (the summary's "failed");
- ``defnews/failed/<reason>`` — the same, per reason;
- ``defnews/feeds/source/<key>/failed`` — a feed source's items lost after they were read
  (the summary checks read = kept + merged + dropped + failed for every source).

:class:`ContainErrorsMiddleware` (a spider middleware) is the net under every callback: an
exception costs the page it was reading (what the callback yielded before it is kept), never
the crawl, and is counted. The page parsers and ``crawler.urls`` contain errors at smaller
units first (a bad link skips that link).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol

from crawler.drops import stats_key

logger = logging.getLogger("defnews.failed")


class Stats(Protocol):
    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...


def reason_of(exc: BaseException | Any) -> str:
    """One line saying why: the exception's message, else its type (``TimeoutError()`` has
    no message; an empty reason is never logged)."""
    value = getattr(exc, "value", exc)  # a twisted Failure: its exception
    text = str(value).strip().splitlines()[0].strip() if str(value).strip() else ""
    name = type(value).__name__
    if not text:
        return name
    return text if name in ("Exception", "DropItem") else f"{name}: {text}"


def record_failure(
    stats: Stats | None, reason: str, url: str, detail: str = "", *,
    level: int = logging.ERROR, count: int = 1,
) -> None:
    """Log ``Failed <url>: <reason> (<detail>)`` and count it under ``defnews/failed``."""
    reason = reason.strip() or "error"
    logger.log(level, "Failed %s: %s%s", url or "(no URL)", reason, f" ({detail})" if detail else "")
    count_failure(stats, reason, count=count)


def count_failure(stats: Stats | None, reason: str, *, count: int = 1) -> None:
    """The counting half of :func:`record_failure`, for a caller that logs it itself."""
    if stats is not None:
        stats.inc_value("defnews/failed", count)
        stats.inc_value(stats_key("failed", reason), count)


class ContainErrorsMiddleware:
    """Spider middleware: an exception raised by a callback (or by its output generator)
    costs that page only; it is logged with the page's URL and reason and counted."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> ContainErrorsMiddleware:
        return cls(crawler.stats)

    def process_spider_exception(self, response: Any, exception: BaseException,
                                 spider: Any = None) -> Iterable[Any] | None:
        from scrapy.exceptions import CloseSpider
        from scrapy.spidermiddlewares.httperror import HttpError

        if isinstance(exception, (CloseSpider, HttpError)):
            return None  # not an error of the page: Scrapy's own handling goes on
        logger.debug("callback error on %s", response.url, exc_info=exception)
        record_failure(self.stats, "page could not be read", response.url, reason_of(exception))
        return []


class FailureStats:
    """Extension: an item lost to an exception in a pipeline (a store write that failed, a
    bug) is counted as failed, per reason (the log formatter logs it on one line)."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> FailureStats:
        from scrapy import signals

        ext = cls(crawler.stats)
        crawler.signals.connect(ext.item_error, signal=signals.item_error)
        return ext

    def item_error(self, item: Any, response: Any = None, spider: Any = None,
                   failure: Any = None) -> None:
        count_failure(self.stats, "item could not be processed")
