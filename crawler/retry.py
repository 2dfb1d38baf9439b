"""Retries that listen to the site: ``Retry-After`` on 429/503, exponential backoff otherwise.

Scrapy's :class:`~scrapy.downloadermiddlewares.retry.RetryMiddleware` decides *whether* to
retry (``RETRY_TIMES``, ``RETRY_HTTP_CODES``, ``RETRY_EXCEPTIONS``) and builds the retry
request; it retries at once. This subclass only adds *when*:

- a 429 or 503 with ``Retry-After`` (seconds or an HTTP date) waits that long, at most
  ``DEFNEWS_RETRY_AFTER_MAX`` seconds (a longer one gives up on the page, logged and counted);
- other retried statuses and timeouts wait ``DEFNEWS_RETRY_BACKOFF`` x 2^(retries so far),
  at most ``DEFNEWS_RETRY_BACKOFF_MAX`` seconds;
- the domain's download slot is held back for the same time, so the other requests to that
  host wait too (with a download delay configured; AutoThrottle then slows down by itself).

A crawl being stopped does not wait out a delay: the wait ends and the request is dropped.
Stats: ``defnews/retry/delayed``, ``defnews/retry/retry_after``, ``defnews/retry/waited_ms``,
``defnews/retry/retry_after_too_long``.
"""

from __future__ import annotations

import email.utils
import logging
import time
from datetime import UTC, datetime
from typing import Any

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message
from twisted.internet import reactor, task

from crawler.failures import reason_of

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from now (RFC 9110: delay-seconds or an HTTP-date)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backoff = settings.getfloat("DEFNEWS_RETRY_BACKOFF")
        self.backoff_max = settings.getfloat("DEFNEWS_RETRY_BACKOFF_MAX")
        self.retry_after_max = settings.getfloat("DEFNEWS_RETRY_AFTER_MAX")

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retries = int(request.meta.get("retry_times", 0))
        delay = None
        if response.status in (429, 503):
            delay = retry_after_seconds(response.headers.get("Retry-After"))
            if delay is not None:
                self.crawler.stats.inc_value("defnews/retry/retry_after")
                if delay > self.retry_after_max:
                    self.crawler.stats.inc_value("defnews/retry/retry_after_too_long")
                    logger.warning("%s: HTTP %d asks to wait %.0f s (more than "
                                   "DEFNEWS_RETRY_AFTER_MAX=%.0f): not retried this crawl",
                                   request.url, response.status, delay, self.retry_after_max)
                    return response
        if delay is None:
            delay = self._backoff(retries)
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        await self._wait(request, delay, f"HTTP {response.status}")
        return retry

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception, spider: Any = None
    ) -> Request | Response | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get(
            "dont_retry", False
        ):
            return None
        retry = self._retry(request, _named(exception))
        if retry is None:
            return None
        await self._wait(request, self._backoff(int(request.meta.get("retry_times", 0))),
                         type(exception).__name__)
        return retry

    def _backoff(self, retries: int) -> float:
        return float(min(self.backoff * (2 ** retries), self.backoff_max))

    def _stopping(self) -> bool:
        engine = self.crawler.engine
        return engine is None or not engine.running

    async def _wait(self, request: Request, delay: float, why: str) -> None:
        if delay <= 0:
            return
        self.crawler.stats.inc_value("defnews/retry/delayed")
        self.crawler.stats.inc_value("defnews/retry/waited_ms", round(delay * 1000))
        logger.info("%s: %s, retrying in %.1f s", request.url, why, delay)
        self._hold_slot(request, delay)
        end = time.monotonic() + delay
        # Waited in short steps so that a stopping crawl is not held up by a long Retry-After.
        while (left := end - time.monotonic()) > 0:
            if self._stopping():
                raise IgnoreRequest(f"crawl stopping: retry of {request.url} abandoned")
            await maybe_deferred_to_future(
                task.deferLater(reactor, min(left, 0.2), lambda: None))  # type: ignore[arg-type]

    def _hold_slot(self, request: Request, delay: float) -> None:
        """Hold the host's download slot back too (applies when a download delay is set)."""
        engine = self.crawler.engine
        downloader = getattr(engine, "downloader", None)
        if downloader is None:
            return
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is not None:
            slot.lastseen = max(slot.lastseen, time.monotonic() + delay)


def _named(exception: Exception) -> Exception:
    """``exception``, or one of its class saying its type when it has no message: Scrapy
    logs "Gave up retrying ... (failed 1 times): " with the message, which would be empty
    (ResponseDataLossError, TimeoutError); the stats key, the class's name, is the same."""
    if str(exception).strip():
        return exception
    try:
        return type(exception)(reason_of(exception))
    except Exception:  # noqa: BLE001 - a class that wants other arguments: as it was
        return exception
