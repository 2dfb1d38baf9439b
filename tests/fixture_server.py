"""A fixture HTTP server for crawl tests and benchmarks (not a test module).

Serves a folder like a static site (``/docs/mod/`` -> ``docs/mod/index.html``) on 127.0.0.1,
answers conditional requests (a strong ETag from the content, Last-Modified from the file),
counts every request by path, and misbehaves on demand, per path, in order:

    server.script("/docs/mod/001933.html", "429:1", "ok")  # Retry-After: 1, then the page
    server.script("/", "500", "500")                       # two 500s, then the page
    server.script("/x.html", "slow:2")                     # the page after 2 s
    server.script("/y.html", "drop")                       # close the connection, no response
    server.delay = 0.5                                     # every response waits 0.5 s

Steps: ``ok``, ``<status>``, ``<status>:<Retry-After>``, ``slow:<seconds>``, ``drop``.
"""

from __future__ import annotations

import email.utils
import hashlib
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TYPES = {".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8",
         ".css": "text/css", ".js": "text/javascript", ".png": "image/png",
         ".xml": "application/rss+xml; charset=utf-8", ".atom": "application/atom+xml"}


class FixtureServer:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.counts: Counter[str] = Counter()
        self.agents: Counter[str] = Counter()  # User-Agent header -> requests
        self.log: list[tuple[str, int, float]] = []  # (path, status, time.monotonic())
        self.scripts: dict[str, list[str]] = {}
        self.delay = 0.0
        self.lock = threading.Lock()
        # Set by a request that reached the server, for tests that wait for a crawl to start.
        self.requested = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def script(self, path: str, *steps: str) -> None:
        with self.lock:
            self.scripts.setdefault(path, []).extend(steps)

    def article_requests(self) -> Counter[str]:
        """Requests for article pages (``/docs/<section>/<number>.html``)."""
        return Counter({p: n for p, n in self.counts.items()
                        if p.startswith("/docs/") and p.endswith(".html")
                        and p.rsplit("/", 1)[-1][:6].isdigit()})

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()
            self.agents.clear()
            self.log.clear()

    # -- serving ----------------------------------------------------------------------------
    def _file(self, path: str) -> Path | None:
        rel = path.split("?", 1)[0].lstrip("/")
        target = (self.root / rel).resolve()
        if not target.is_relative_to(self.root.resolve()):
            return None
        if target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        with self.lock:
            self.counts[path] += 1
            self.agents[h.headers.get("User-Agent") or ""] += 1
            steps = self.scripts.get(path)
            step = steps.pop(0) if steps else "ok"
        self.requested.set()
        if self.delay:
            time.sleep(self.delay)
        if step == "drop":
            self._record(path, 0)
            h.close_connection = True
            h.connection.close()
            return
        if step.startswith("slow:"):
            time.sleep(float(step.split(":", 1)[1]))
            step = "ok"
        if step != "ok":
            status, _, retry_after = step.partition(":")
            body = f"status {status}\n".encode()
            self._record(path, int(status))
            h.send_response(int(status))
            if retry_after:
                h.send_header("Retry-After", retry_after)
            h.send_header("Content-Type", "text/plain")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        target = self._file(path)
        if target is None:
            self._record(path, 404)
            h.send_error(404)
            return
        data = target.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
        modified = email.utils.formatdate(target.stat().st_mtime, usegmt=True)
        if h.headers.get("If-None-Match") == etag:
            self._record(path, 304)
            h.send_response(304)
            h.send_header("ETag", etag)
            h.end_headers()
            return
        self._record(path, 200)
        h.send_response(200)
        h.send_header("Content-Type", TYPES.get(target.suffix, "application/octet-stream"))
        h.send_header("Content-Length", str(len(data)))
        h.send_header("ETag", etag)
        h.send_header("Last-Modified", modified)
        h.end_headers()
        h.wfile.write(data)

    def _record(self, path: str, status: int) -> None:
        with self.lock:
            self.log.append((path, status, time.monotonic()))

    def statuses(self, status: int) -> int:
        return sum(1 for _, s, _ in self.log if s == status)

    # -- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> FixtureServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
