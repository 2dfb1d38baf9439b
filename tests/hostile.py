"""A hostile fixture server for the end-to-end tests (not a test module).

A real HTTP server on 127.0.0.1 (port 0) in a background thread that answers from a table of
``path -> handler`` and, for every other path, from an optional static folder (the demo
site). It records every request it receives, so a test can say what the crawler fetched
(robots.txt obeyed, nothing requested twice, no request to a forbidden path).

Add a case by adding a route::

    server = HostileServer(static_root=SITE)
    server.route("/docs/mod/900001.html", redirect("http://127.0.0.1:9/elsewhere"))
    server.route("/bomb.html", gzip_bomb(512 * MiB))

A handler is a callable ``(Hit) -> Reply``, or a ready :class:`Reply`. The helpers below
(:func:`page`, :func:`redirect`, :func:`redirect_chain`, :func:`gzip_bomb`, :func:`text`)
cover the usual cases; write a function for anything else.
"""

from __future__ import annotations

import functools
import gzip
import threading
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

MiB = 1024 * 1024

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml",
    ".json": "application/feed+json",
    ".css": "text/css",
    ".js": "text/javascript",
    ".jpg": "image/jpeg",
    ".png": "image/png",
}


@dataclass(frozen=True)
class Hit:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # A Content-Length other than the body's (a transfer cut short: the connection is closed
    # after the body).
    declared_length: int | None = None


Handler = Callable[[Hit], Reply] | Reply


def text(body: str, content_type: str = "text/plain; charset=utf-8", status: int = 200) -> Reply:
    return Reply(status, body.encode("utf-8"), {"Content-Type": content_type})


def page(html: str, status: int = 200) -> Reply:
    return text(html, "text/html; charset=utf-8", status)


def redirect(location: str, status: int = 301) -> Reply:
    return Reply(status, b"", {"Location": location})


def redirect_chain(status: int = 302) -> Handler:
    """Redirect ``path?n=K`` to ``path?n=K+1`` forever: a loop no duplicate filter sees."""

    def handler(hit: Hit) -> Reply:
        n = int((hit.query.get("n") or ["0"])[0])
        return redirect(f"{hit.path}?n={n + 1}", status)

    return handler


@functools.cache
def _gzip_zeros(size: int) -> bytes:
    # Compressed once per size and process; 1 GiB of zeros is about 1 MiB of gzip.
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(MiB)
    parts = [compressor.compress(chunk) for _ in range(size // MiB)]
    parts.append(compressor.flush())
    return b"".join(parts)


def gzip_bomb(size: int, content_type: str = "text/html; charset=utf-8") -> Reply:
    """A small gzip body that inflates to ``size`` bytes of zeros."""
    return Reply(200, _gzip_zeros(size), {"Content-Type": content_type, "Content-Encoding": "gzip"})


def cut_short(reply: Reply, keep: float = 0.5) -> Reply:
    """``reply`` with only part of its body sent, under the whole body's Content-Length."""
    return Reply(reply.status, reply.body[: int(len(reply.body) * keep)], dict(reply.headers),
                 declared_length=len(reply.body))


def truncated_gzip(reply: Reply, keep: float = 0.5) -> Reply:
    """``reply`` gzipped, the gzip stream cut (its Content-Length that of the cut stream)."""
    body = gzip.compress(reply.body)
    return Reply(reply.status, body[: int(len(body) * keep)],
                 {**reply.headers, "Content-Encoding": "gzip"})


def gzipped(reply: Reply) -> Reply:
    return Reply(reply.status, gzip.compress(reply.body),
                 {**reply.headers, "Content-Encoding": "gzip"})


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        parts = urlsplit(self.path)
        hit = Hit("GET", parts.path, parse_qs(parts.query), dict(self.headers.items()))
        owner = self.server.owner
        owner._record(hit)
        reply = owner._reply(hit)
        self.send_response(reply.status)
        headers = {"Content-Type": "application/octet-stream", **reply.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        length = len(reply.body) if reply.declared_length is None else reply.declared_length
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(reply.body)
        if length != len(reply.body):
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: HostileServer


class HostileServer:
    """Serve ``routes`` (and ``static_root`` for other paths) on 127.0.0.1, port 0."""

    def __init__(
        self, routes: Mapping[str, Handler] | None = None, static_root: Path | None = None
    ) -> None:
        self.routes: dict[str, Handler] = dict(routes or {})
        self.static_root = static_root
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self.httpd = _Server(("127.0.0.1", 0), _RequestHandler)
        self.httpd.owner = self
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    @property
    def netloc(self) -> str:
        return urlsplit(self.url).netloc

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def paths(self) -> list[str]:
        with self._lock:
            return [hit.path for hit in self.hits]

    def _record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def _reply(self, hit: Hit) -> Reply:
        handler = self.routes.get(hit.path)
        if handler is not None:
            return handler(hit) if callable(handler) else handler
        return self._static(hit.path)

    def _static(self, path: str) -> Reply:
        if self.static_root is None:
            return text("not found", status=404)
        root = self.static_root.resolve()
        target = (root / path.lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(root) or not target.is_file():
            return text("not found", status=404)
        content_type = CONTENT_TYPES.get(target.suffix, "application/octet-stream")
        return Reply(200, target.read_bytes(), {"Content-Type": content_type})

    def __enter__(self) -> HostileServer:
        self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
