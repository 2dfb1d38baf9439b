"""What was read incompletely is fetched again: transfers cut short are never taken as whole.

- A body shorter than its Content-Length (the connection closed early) is Scrapy's data loss:
  the download fails (``DOWNLOAD_FAIL_ON_DATALOSS``); :class:`TruncatedTransferMiddleware`
  counts it as failed with its URL, once Scrapy's retries are spent, instead of a traceback.
- A gzip stream cut short decompresses without error into the first part of the page (zlib
  stops where the bytes stop): :func:`gzip_whole` checks the stream's own trailer (CRC-32 and
  length of the whole), and the compression middleware refuses a response that fails it.
- :class:`WholeFilesystemCacheStorage` (Scrapy's filesystem HTTP cache) never stores such a
  response, writes a record of each body it stores last (length and SHA-256), and discards an
  entry whose body does not match it (a write cut short by a full disk) instead of serving half
  a feed after a 304.

Neither the page nor the feed is recorded as fetched, so the next run asks for it again.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import shutil
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.extensions.httpcache import FilesystemCacheStorage

from crawler.failures import reason_of, record_failure

logger = logging.getLogger(__name__)

TRUNCATED = "truncated transfer"
_WHOLE = "defnews_whole"  # the record of a stored body, written after it


def gzip_whole(raw: bytes, decompressed: bytes | None = None) -> bool:
    """Whether ``raw`` is a complete gzip stream (of ``decompressed``, when given).

    The last 8 bytes of a gzip member are the CRC-32 and the length of its data: a stream cut
    anywhere fails that check. A stream of several members (rare on the web) fails it too and
    is then decompressed whole to tell (bounded: Scrapy has decompressed it already)."""
    if len(raw) < 18:
        return False
    if decompressed is not None:
        crc, size = struct.unpack("<II", raw[-8:])
        if size == len(decompressed) & 0xFFFFFFFF and crc == zlib.crc32(decompressed):
            return True
    try:
        gzip.decompress(raw)
    except (EOFError, OSError, zlib.error):  # BadGzipFile is an OSError
        return False
    return True


def _is_gzip(headers: Any) -> bool:
    value = headers.get(b"Content-Encoding") or b""
    return b"gzip" in value.lower()


class TruncatedTransferMiddleware:
    """Downloader middleware (order 45: after the retries): a body cut short is a failure of
    that request, counted and named once."""

    def __init__(self, stats: Any) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> TruncatedTransferMiddleware:
        return cls(crawler.stats)

    def process_exception(self, request: Any, exception: Exception, spider: Any = None) -> None:
        if "DataLoss" in type(exception).__name__:
            record_failure(self.stats, TRUNCATED, request.url,
                           f"body shorter than its Content-Length: {reason_of(exception)}; "
                           "fetched again next run", level=logging.WARNING)
            raise IgnoreRequest(f"{TRUNCATED}: {request.url}") from exception


def refuse_truncated_gzip(stats: Any, request: Any, raw: bytes, response: Any) -> None:
    """Raise IgnoreRequest (counted as failed) when ``raw``, the gzip stream ``response`` was
    decompressed from, was cut short."""
    if not gzip_whole(raw, response.body):
        record_failure(stats, TRUNCATED, request.url,
                       f"gzip stream cut short ({len(raw)} bytes); fetched again next run",
                       level=logging.WARNING)
        raise IgnoreRequest(f"{TRUNCATED}: {request.url}")


class WholeFilesystemCacheStorage(FilesystemCacheStorage):  # type: ignore[misc]
    """Scrapy's filesystem cache, storing only whole responses and serving only whole entries."""

    def store_response(self, spider: Any, request: Any, response: Any) -> None:
        if _is_gzip(response.headers) and not gzip_whole(response.body):
            logger.info("not cached: %s is a gzip stream cut short", request.url)
            return
        rpath = Path(self._get_request_path(spider, request))
        (rpath / _WHOLE).unlink(missing_ok=True)  # no record while the entry is rewritten
        try:
            super().store_response(spider, request, response)
            _write_atomically(rpath / _WHOLE, _record(response.body))
        except OSError as exc:  # a full disk: the entry is incomplete, so it goes
            logger.warning("HTTP cache: %s not cached (%s)", request.url, reason_of(exc))
            shutil.rmtree(rpath, ignore_errors=True)

    def retrieve_response(self, spider: Any, request: Any) -> Any:
        rpath = Path(self._get_request_path(spider, request))
        if not (rpath / "pickled_meta").exists():
            return None
        why = "its body does not match the record of it"
        try:
            expected = (rpath / _WHOLE).read_text(encoding="ascii")
            response = super().retrieve_response(spider, request)
        except FileNotFoundError:
            response, expected, why = None, "", "no record of its body (a write cut short)"
        except (OSError, EOFError, ValueError) as exc:  # pickles and files cut short
            response, expected, why = None, "", f"unreadable: {reason_of(exc)}"
        if response is not None and _record(response.body) == expected:
            return response
        logger.warning("HTTP cache entry for %s is not whole (%s): discarded, fetched again",
                       request.url, why)
        shutil.rmtree(rpath, ignore_errors=True)
        return None


def _record(body: bytes) -> str:
    return f"{len(body)} {hashlib.sha256(body).hexdigest()}"


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".whole-")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
