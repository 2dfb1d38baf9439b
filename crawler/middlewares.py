"""Downloader middlewares: Scrapy's own, made strict where defnews needs it, and never silent.

Each class extends the Scrapy middleware it replaces in ``DOWNLOADER_MIDDLEWARES`` (see
``crawler/settings.py``) and adds one thing: what it drops is logged at INFO or WARNING with
the URL and the reason, and counted under ``defnews/dropped/<reason>`` for the crawl summary
(:mod:`crawler.drops`). Scrapy itself logs these at DEBUG, or not at all.

- :class:`SiteOffsiteMiddleware` — Scrapy's offsite filter (requests and redirects) with
  ``allowed_domains`` entries that may name a port (``127.0.0.1:8080``: a mirror on a port);
- :class:`RobotsTxtMiddleware` — every request waits for robots.txt and obeys it;
- :class:`RedirectMiddleware`, :class:`MetaRefreshMiddleware` — a redirect loop is a drop;
- :class:`HttpCompressionMiddleware`, :class:`DownloadSizeMiddleware` — a body over
  ``DOWNLOAD_MAXSIZE`` (compressed or not) is a drop.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.httpcompression import (
    HttpCompressionMiddleware as ScrapyHttpCompressionMiddleware,
)
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.downloadermiddlewares.redirect import (
    MetaRefreshMiddleware as ScrapyMetaRefreshMiddleware,
)
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware as ScrapyRedirectMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler.drops import record_drop
from crawler.transfers import refuse_truncated_gzip

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _host_port(entry: str) -> tuple[str, int | None]:
    host, sep, port = entry.lower().rpartition(":")
    if sep and port.isdigit():
        return host, int(port)
    return entry.lower(), None


def host_allowed(host: str, port: int | None, allowed: list[str]) -> bool:
    """Scrapy's policy (the domain or a subdomain of it), plus an optional exact port.

    Scrapy's ``allowed_domains`` cannot name a port; a mirror of the site served on
    127.0.0.1:PORT must not let 127.0.0.1:OTHER in, so an entry ``host:port`` matches that
    port only.
    """
    host = host.lower()
    for entry in allowed:
        want_host, want_port = _host_port(entry)
        if host != want_host and not host.endswith("." + want_host):
            continue
        if want_port is None or want_port == port:
            return True
    return False


class SiteOffsiteMiddleware(OffsiteMiddleware):
    """Off-site requests and redirects are dropped, logged (INFO) and counted.

    Requests scheduled by a spider are filtered when scheduled (the ``request_scheduled``
    signal), redirects when the redirect middleware schedules them; ``dont_filter`` and the
    ``allow_offsite`` meta key let a request through, as in Scrapy.
    """

    def should_follow(self, request: Request, spider: Spider) -> bool:
        allowed = [d for d in getattr(spider, "allowed_domains", None) or [] if d]
        if not allowed:
            return True
        parts = urlparse_cached(request)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
        return host_allowed(parts.hostname or "", port, allowed)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        try:
            super().process_request(request)
        except IgnoreRequest:
            redirected_from = request.meta.get("redirect_urls") or []
            if redirected_from:
                record_drop(self.stats, "off-site redirect", redirected_from[-1],
                            f"to {request.url}", level=logging.WARNING)
            else:
                record_drop(self.stats, "off-site link", request.url)
            raise


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with every request waiting for the rules.

    Scrapy 2.13+ awaits the one shared Deferred of a host's robots.txt from every request
    queued behind it; ``Deferred.asFuture`` hands the result to the first waiter and ``None``
    to the others, which Scrapy reads as "no robots.txt": all but two of the start requests
    went out unchecked (scrapy/scrapy#6802 replaced a callback per waiter with the await). The
    parser is stored on the middleware before the Deferred fires, so it is read from there.
    Forbidden requests are logged at INFO and counted (Scrapy logs them at DEBUG).
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        parser = await super().robot_parser(request)
        if parser is None:
            stored = self._parsers.get(urlparse_cached(request).netloc)
            if stored is not None and not isinstance(stored, Deferred):
                return stored
        return parser

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:
            record_drop(self._stats, "robots.txt", request.url, "forbidden by robots.txt")
            raise


class _CountedRedirects:
    """A redirect chain that comes back to one of its URLs, or is too long, is a drop."""

    crawler: Crawler

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        first = (request.meta.get("redirect_urls") or [request.url])[0]
        try:
            result = super().process_response(request, response)  # type: ignore[misc]
        except IgnoreRequest as exc:
            record_drop(self.crawler.stats, "redirect loop", first,
                        f"{exc}: {len(request.meta.get('redirect_urls') or [])} redirects, "
                        f"last {request.url}", level=logging.WARNING)
            raise
        if isinstance(result, Request):
            seen = [*(request.meta.get("redirect_urls") or []), request.url]
            if result.url in seen:
                record_drop(self.crawler.stats, "redirect loop", first,
                            f"{request.url} redirects back to {result.url}", level=logging.WARNING)
                raise IgnoreRequest(f"redirect loop: {result.url}")
        return result  # type: ignore[no-any-return]


class RedirectMiddleware(_CountedRedirects, ScrapyRedirectMiddleware):
    pass


class MetaRefreshMiddleware(_CountedRedirects, ScrapyMetaRefreshMiddleware):
    pass


class HttpCompressionMiddleware(ScrapyHttpCompressionMiddleware):
    """Scrapy decompresses in 64 KiB steps and stops at ``DOWNLOAD_MAXSIZE`` (memory stays
    bounded by it); the response it gives up on is counted here."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        gzipped = b"gzip" in (response.headers.get(b"Content-Encoding") or b"").lower()
        raw = response.body  # (Scrapy removes Content-Encoding from the shared headers)
        try:
            decoded = super().process_response(request, response)
        except IgnoreRequest as exc:
            record_drop(self.stats, "too large", request.url,
                        f"over DOWNLOAD_MAXSIZE once decompressed: {exc}", level=logging.WARNING)
            raise
        if gzipped and isinstance(decoded, Response) and decoded is not response:
            refuse_truncated_gzip(self.stats, request, raw, decoded)  # crawler.transfers
        return decoded


class DownloadSizeMiddleware:
    """A download cancelled by Scrapy's handler for ``DOWNLOAD_MAXSIZE`` is counted."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DownloadSizeMiddleware:
        return cls(crawler)

    def process_exception(self, request: Request, exception: Exception) -> Any:
        if isinstance(exception, DownloadCancelledError) and "max size" in str(exception):
            record_drop(self.crawler.stats, "too large", request.url,
                        f"over DOWNLOAD_MAXSIZE: {exception}", level=logging.WARNING)
            # Logged and counted here: an IgnoreRequest, like the compression middleware's,
            # not a second report as a download error with a traceback.
            raise IgnoreRequest(str(exception)) from exception
        return None
