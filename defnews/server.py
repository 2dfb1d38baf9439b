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
            return super().render_GET(request)

        render_HEAD = render_GET

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


def make_site(root: Path, *, max_age: int = DEFAULT_MAX_AGE) -> Any:
    """A ``twisted.web.server.Site`` for ``root`` whose access log goes to the
    ``defnews.access`` logger (combined log format, one line per request)."""
    from twisted.web import http, server

    class _Site(server.Site):  # type: ignore[misc]
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
) -> int | None:
    """Serve ``root`` until interrupted (``defnews serve``); return the signal that stopped
    it (SIGINT, SIGTERM), for the command's exit status 128 + N."""
    if not root.is_dir():
        raise FileNotFoundError(f"nothing to serve: {root} is not a directory")
    from twisted.internet import reactor as _reactor

    reactor: Any = _reactor  # the module-level installed reactor; its interfaces are untyped
    listening = reactor.listenTCP(port, make_site(root, max_age=max_age), backlog=backlog,
                                  interface=host)
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
