"""Static file servers.

- :class:`StaticServer`: the standard library's ``http.server`` in a thread, for the demo's
  fixture site and the tests (it runs beside Scrapy's reactor in one process).
- :func:`serve_public`: ``defnews serve``, the public folder on Twisted (ETag, gzip, no
  listing, nothing outside the folder, access log); see below.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import resource
import threading
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

logger = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".xml": "application/xml",
    ".rdf": "application/rdf+xml",
    ".json": "application/json",
    ".jsonl": "application/jsonl; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".opml": "text/x-opml",
}


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **CONTENT_TYPES}

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        """An HTML page that is not UTF-8 (a Shift_JIS fixture site) is served as plain
        ``text/html``: its own ``<meta charset>`` (or nothing) says what it is."""
        kind = super().guess_type(path)
        if kind.startswith("text/html") and "charset=utf-8" in kind:
            try:
                Path(path).read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                return "text/html"
            except OSError:
                pass
        return kind

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        logger.debug("%s %s", self.address_string(), format % args)


class StaticServer:
    """Serve ``root`` on ``host:port`` (port 0: any free port) in a background thread.

    >>> with StaticServer(path) as server:  # doctest: +SKIP
    ...     server.url  # 'http://127.0.0.1:41234/'
    """

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        if not root.is_dir():
            raise FileNotFoundError(f"nothing to serve: {root} is not a directory")
        handler = functools.partial(_Handler, directory=str(root))
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        # serve_forever polls for shutdown every poll_interval (0.5 s by default): a short one
        # lets the demo and the tests stop their servers at once.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}/"

    def start(self) -> StaticServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> StaticServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve in the foreground until interrupted (``defnews serve``)."""
        try:
            self.httpd.serve_forever()
        finally:
            self.httpd.server_close()


# -- `defnews serve`: the public folder on Twisted ------------------------------------------
#
# Twisted ships with Scrapy and is a real HTTP server (HTTP/1.1 keep-alive, ranges, HEAD,
# producers for large files). twisted.web.static.File does the file work; what it lacks for a
# public feed host is added here, and nothing else: ETags, Cache-Control, gzip on request, no
# directory listing, no hidden files, nothing outside the folder, an access log, a large
# listen backlog.

FEED_CONTENT_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",  # every .json we publish is a JSON Feed
    ".xml": "application/xml; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/vnd.microsoft.icon",
}
DEFAULT_MAX_AGE = 300  # seconds: readers poll every few minutes at most
DEFAULT_BACKLOG = 1024  # pending connections the kernel queues (Twisted's default is 50)
# Slow and idle clients (nginx's client_header_timeout and keepalive_timeout, shorter: a feed
# request is one line and a few headers). Twisted's own idle timeout is 12 hours, and it is
# reset by every byte, so a client feeding a header a byte at a time held its socket forever.
DEFAULT_HEADER_TIMEOUT = 10.0  # seconds to send the whole request head
DEFAULT_IDLE_TIMEOUT = 15.0  # seconds a kept-alive connection may wait for its next request
# Open connections at most: by default the open-file limit less a reserve (an answer being
# sent holds its file open too; the log, the listening socket). Past it, the oldest kept-alive
# connection whose client has had its answer is closed for the new one, as nginx reuses
# keep-alive connections; else the oldest that is not being answered (idle, or still sending
# its head); with every one busy, the new connection gets a 503. Without a cap, accept()
# failed with EMFILE at the limit and no normal request was answered at all.
FD_RESERVE = 64
# A connection this young is not closed for a newer one (it has had no time to send its
# request): the new one gets the 503 instead.
EVICT_AGE = 1.0
# Range requests (as nginx's max_ranges and its rule that ranges adding up to more than the
# file are answered with the whole file): overlapping and adjacent ranges are merged first.
MAX_RANGES = 16
# Files up to this size are read whole and closed at once rather than streamed from an open
# file (feeds are a few hundred KB): an answer holds no file descriptor while it is sent.
IN_MEMORY_MAX = 8 * 1024 * 1024
# Editor backups and leftovers that are never served, besides hidden files (dot files).
_NOT_SERVED = re.compile(r"(~|\.(bak|old|orig|save|swp|swo|tmp|rej)|#)$|^#", re.IGNORECASE)
# Compressing these again gains nothing.
_COMPRESSED = (b"image/png", b"image/jpeg", b"image/gif", b"image/webp", b"application/gzip")

access_logger = logging.getLogger("defnews.access")


def _public_resource(root: Path, *, max_age: int) -> Any:
    """The Twisted resource tree serving ``root`` (imported lazily: the demo's stdlib server
    and the crawler must not load a reactor they do not use)."""
    from twisted.web import http, pages, resource, server, static

    class _Gzip(server.GzipEncoderFactory):  # type: ignore[misc]
        compressLevel = 6  # nginx's gzip_comp_level range: most of the gain, far less CPU

        def encoderForRequest(self, request: Any) -> Any:
            # No body to encode (HEAD), or byte ranges of the file itself (as nginx, which
            # does not compress 206 answers either).
            if request.method == b"HEAD" or request.getHeader(b"range") is not None:
                return None
            return super().encoderForRequest(request)

    gzip = [_Gzip()]

    def _not_modified(request: Any) -> bytes:
        # A 304 has no body: drop the gzip encoder chosen before we knew (Twisted picks it
        # when the request starts), or its empty stream would be sent as one.
        request._encoder = None
        request.responseHeaders.removeHeader(b"content-encoding")
        return b""
    refused = pages.notFound("Not found", "No such file.")

    class PublicFile(static.File):  # type: ignore[misc]
        contentTypes = {**static.File.contentTypes, **FEED_CONTENT_TYPES}
        indexNames = ["index.html"]

        def __init__(self, path: str, *args: Any, **kwargs: Any) -> None:
            super().__init__(path, *args, **kwargs)
            self.real_root = os.path.realpath(root)

        def directoryListing(self) -> Any:
            return pages.forbidden("Forbidden", "Directory listing is not allowed.")

        def getChild(self, path: bytes, request: Any) -> Any:
            try:
                name = path.decode("utf-8")
            except UnicodeDecodeError:
                return refused
            # Hidden files (build bookkeeping, temporary files, .git, "..") and anything a
            # decoded segment could smuggle: NUL, separators.
            if name.startswith(".") or any(c in name for c in ("\x00", "/", "\\")):
                return refused
            if _NOT_SERVED.search(name):  # all.atom~, index.html.bak, #all.atom#
                return refused
            child = super().getChild(path, request)
            if isinstance(child, static.File):
                real = os.path.realpath(child.path)
                if real != self.real_root and not real.startswith(self.real_root + os.sep):
                    return refused  # a symlink out of the folder
                if child.isfile():
                    return resource.EncodingResourceWrapper(child, gzip)
            return child

        def createSimilarFile(self, path: str) -> Any:
            f = super().createSimilarFile(path)
            f.childNotFound = refused
            return f

        def render_GET(self, request: Any) -> Any:
            self.restat(False)
            if not self.exists() or not self.isfile():
                return super().render_GET(request)  # 404, or the slash redirect of a folder
            stat = os.stat(self.path)
            # Size and mtime, as nginx does; weak, since gzip may change the bytes sent.
            etag = b'W/"%x-%x"' % (stat.st_size, stat.st_mtime_ns)
            request.setHeader(b"cache-control", b"public, max-age=%d" % max_age)
            request.setHeader(b"vary", b"Accept-Encoding")
            request.setHeader(b"x-content-type-options", b"nosniff")
            if request.setETag(etag) is http.CACHED:
                return _not_modified(request)
            if request.getHeader(b"if-none-match") is not None:
                # RFC 9110 13.1.3: If-Modified-Since is ignored when If-None-Match is sent.
                request.requestHeaders.removeHeader(b"if-modified-since")
            elif request.setLastModified(self.getModificationTime()) is http.CACHED:
                return _not_modified(request)
            _coalesce_ranges(request, stat.st_size)
            try:
                if (request.method == b"GET" and request.getHeader(b"range") is None
                        and stat.st_size <= IN_MEMORY_MAX):
                    return self._whole(request)
                return super().render_GET(request)
            except OSError as exc:  # out of file descriptors: busy, not broken
                logger.warning("cannot open %s: %s; answered 503", self.path, exc.strerror or exc)
                request.setResponseCode(http.SERVICE_UNAVAILABLE)
                request.setHeader(b"retry-after", b"5")
                request.setHeader(b"content-type", b"text/plain; charset=utf-8")
                return b"Busy: try again shortly"

        render_HEAD = render_GET

        def _whole(self, request: Any) -> bytes:
            """The file read at once and closed (Twisted's producer holds it open until the
            client has read it all: one descriptor per slow reader)."""
            if self.type is None:
                self.type, self.encoding = static.getTypeAndEncoding(
                    self.basename(), self.contentTypes, self.contentEncodings, self.defaultType)
            with open(self.path, "rb") as f:
                data = f.read()
            request.setHeader(b"accept-ranges", b"bytes")
            self._setContentHeaders(request, len(data))
            request.setResponseCode(http.OK)
            return data

    class _ServerName(resource.Resource):
        """The root: the folder itself, with the Server header set once."""

        isLeaf = False

        def __init__(self, folder: Any) -> None:
            super().__init__()
            self.folder = folder

        def getChildWithDefault(self, path: bytes, request: Any) -> Any:
            request.setHeader(b"server", b"defnews")
            return self.folder.getChildWithDefault(path, request)

        def render(self, request: Any) -> Any:
            request.setHeader(b"server", b"defnews")
            return self.folder.render(request)

    folder = PublicFile(str(root), defaultType="application/octet-stream")
    folder.childNotFound = refused
    return _ServerName(folder)


def _byte_ranges(header: bytes, size: int) -> list[tuple[int, int]] | None:
    """The ranges of a ``Range: bytes=...`` header as (first, last) offsets in a file of
    ``size`` bytes, the unsatisfiable ones left out; None when the header is malformed."""
    unit, _, spec = header.partition(b"=")
    if unit.strip().lower() != b"bytes" or not spec:
        return None
    ranges = []
    for part in spec.split(b","):
        first, dash, last = part.strip().partition(b"-")
        if not dash or not (first.isdigit() or last.isdigit()) or (first and not first.isdigit()) \
                or (last and not last.isdigit()):
            return None
        if not first:  # the last N bytes
            start, end = max(size - int(last), 0), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
            if last and int(last) < start:
                return None
        if start < size and end >= start:
            ranges.append((start, end))
    return ranges


def _coalesce_ranges(request: Any, size: int) -> None:
    """Rewrite the request's Range header as nginx would answer it: overlapping and adjacent
    ranges merged; more than :data:`MAX_RANGES`, or ranges adding up to more than the file
    (500 overlapping ``0-``: 38.6 MB for a 77 KB file), answered with the whole file (200)."""
    header = request.getHeader(b"range")
    if header is None:
        return
    ranges = _byte_ranges(header, size)
    if ranges is None:
        return  # malformed: Twisted ignores it and sends the whole file
    if not ranges:
        return  # none satisfiable: Twisted's 416
    asked = sum(end - start + 1 for start, end in ranges)
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    if len(merged) > MAX_RANGES or asked > size:
        request.requestHeaders.removeHeader(b"range")
        return
    request.requestHeaders.setRawHeaders(
        b"range", [b"bytes=" + b",".join(b"%d-%d" % (a, b) for a, b in merged)])


def default_max_connections() -> int:
    """The open-file limit of this process, less an eighth of it (at least
    :data:`FD_RESERVE`) for the files being sent."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft = soft if soft != resource.RLIM_INFINITY else 65536
    return max(16, soft - max(FD_RESERVE, soft // 8))


_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\n"
         b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 20\r\n\r\n"
         b"Too many connections")


def make_site(
    root: Path, *, max_age: int = DEFAULT_MAX_AGE, header_timeout: float = DEFAULT_HEADER_TIMEOUT,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT, max_connections: int | None = None,
) -> Any:
    """A ``twisted.web.server.Site`` for ``root`` whose access log goes to the
    ``defnews.access`` logger (combined log format, one line per request), with the timeouts
    and the connection cap above."""
    from twisted.internet import protocol
    from twisted.internet import reactor as _reactor
    from twisted.web import http, server

    reactor: Any = _reactor  # twisted's reactor module is typed as its interfaces only
    cap = max_connections or default_max_connections()

    class _Channel(http.HTTPChannel):  # type: ignore[misc]
        """An HTTP connection that must send each request head within ``header_timeout``."""

        site: _Site
        transport: Any
        _head_deadline: Any = None
        connected_at = 0.0
        served = 0  # requests answered on this connection

        def connectionMade(self) -> None:
            super().connectionMade()
            self.connected_at = reactor.seconds()
            self.site.open[self] = None
            self._expect_head()

        def _expect_head(self) -> None:
            self._head_deadline = reactor.callLater(header_timeout, self._too_slow)

        def _too_slow(self) -> None:
            self._head_deadline = None
            logger.debug("closing %s: no whole request head in %.0f s",
                         self.transport.getPeer(), header_timeout)
            self.transport.abortConnection()

        def allHeadersReceived(self) -> None:
            if self._head_deadline is not None and self._head_deadline.active():
                self._head_deadline.cancel()
            self._head_deadline = None
            super().allHeadersReceived()

        def requestDone(self, request: Any) -> None:
            self.served += 1
            super().requestDone(request)
            if self.persistent and self.transport.connected and self._head_deadline is None:
                self._expect_head()

        def connectionLost(self, reason: Any = None) -> None:
            if self._head_deadline is not None and self._head_deadline.active():
                self._head_deadline.cancel()
            self._head_deadline = None
            self.site.open.pop(self, None)
            super().connectionLost(reason)

        @property
        def answering(self) -> bool:
            return bool(self._handlingRequest)

    class _Busy(protocol.Protocol):
        transport: Any

        def connectionMade(self) -> None:
            self.transport.write(_BUSY)
            self.transport.loseConnection()

    class _Site(server.Site):  # type: ignore[misc]
        protocol = _Channel  # type: ignore[assignment]

        def __init__(self, resource: Any) -> None:
            super().__init__(resource, timeout=idle_timeout)
            self.open: dict[_Channel, None] = {}  # in the order they connected

        def buildProtocol(self, addr: Any) -> Any:
            if len(self.open) >= cap:
                old = reactor.seconds() - EVICT_AGE
                # First a kept-alive connection whose client has had its answer; only then one
                # that has sent nothing yet (a slow client's, or a busy one's that has not got
                # round to its request: closing it resets a connection its client is still
                # opening).
                victim = next((c for c in self.open if c.served and not c.answering
                               and c.connected_at <= old), None) or next(
                    (c for c in self.open if not c.answering and c.connected_at <= old), None)
                if victim is None:
                    busy = _Busy()
                    busy.factory = self
                    return busy
                self.open.pop(victim, None)
                victim.transport.abortConnection()  # the oldest idle or slow connection
            channel = super().buildProtocol(addr)
            channel.site = self
            return channel

        def log(self, request: Any) -> None:
            access_logger.info("%s", http.combinedLogFormatter(http.datetimeToLogString(), request))

    site = _Site(_public_resource(root, max_age=max_age))
    site.displayTracebacks = False  # never show a traceback to a client
    return site


def serve_public(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    max_age: int = DEFAULT_MAX_AGE,
    backlog: int = DEFAULT_BACKLOG,
    announce: Callable[[str], None] = print,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    max_connections: int | None = None,
) -> int | None:
    """Serve ``root`` until interrupted (``defnews serve``); return the signal that stopped
    it (SIGINT, SIGTERM), for the command's exit status 128 + N."""
    if not root.is_dir():
        raise FileNotFoundError(f"nothing to serve: {root} is not a directory")
    from twisted.internet import reactor as _reactor

    reactor: Any = _reactor  # the module-level installed reactor; its interfaces are untyped
    site = make_site(root, max_age=max_age, header_timeout=header_timeout,
                     idle_timeout=idle_timeout, max_connections=max_connections)
    listening = reactor.listenTCP(port, site, backlog=backlog, interface=host)
    address = listening.getHost()
    shown = f"[{address.host}]" if ":" in address.host else address.host
    received: list[int] = []

    def stop(signum: int, _frame: Any) -> None:
        # Twisted's own handlers stop the reactor too, but do not say which signal it was.
        received.append(signum)
        reactor.callFromThread(reactor.stop)

    def install() -> None:
        import signal

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, stop)

    # Before the announcement (a signal right after it is ours); the reactor installs none of
    # its own (they replaced ours when it started: a SIGTERM in between exited 0).
    install()
    announce(f"http://{shown}:{address.port}/")
    reactor.run(installSignalHandlers=False)
    return received[0] if received else None
