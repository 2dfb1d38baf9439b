"""WebSub pings the hub did not accept are sent again by the next builds until it does."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from feeds.websub import PENDING_FILE, publish


class Hub:
    """A hub on 127.0.0.1 that answers each POST with the next status of ``statuses``."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.told: list[tuple[str, int]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                status = hub.statuses.pop(0) if hub.statuses else 204
                hub.told.append((parse_qs(body)["hub.url"][0], status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __enter__(self) -> Hub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


FEEDS = ["https://feeds.example.org/all.atom", "https://feeds.example.org/all.rss"]


@pytest.mark.parametrize("down", [(503, 503), (500, 204)], ids=["hub-down", "one-refused"])
def test_pings_the_hub_missed_are_sent_again_next_build(tmp_path: Path, down):
    with Hub(*down) as hub:
        pinged, errors = publish(hub.url, tmp_path, FEEDS)
        assert pinged == FEEDS
        refused = [url for (url, status) in hub.told if status >= 300]
        assert len(errors) == len(refused) > 0
        assert (tmp_path / PENDING_FILE).is_file()
        hub.told.clear()
        # The next build changed nothing: the missed pings go out again, and are accepted.
        pinged, errors = publish(hub.url, tmp_path, [])
        assert pinged == refused and errors == []
        assert hub.told == [(url, 204) for url in refused]
        assert not (tmp_path / PENDING_FILE).exists()
        hub.told.clear()
        assert publish(hub.url, tmp_path, []) == ([], [])  # nothing left to tell
        assert hub.told == []


def test_a_hub_that_cannot_be_reached_keeps_every_ping_for_later(tmp_path: Path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/"
    pinged, errors = publish(closed, tmp_path, FEEDS, timeout=2)
    assert pinged == FEEDS and len(errors) == 2
    with Hub() as hub:
        # Another hub has its own list; the unreachable one's pings stay pending.
        assert publish(hub.url, tmp_path, []) == ([], [])
    pending = (tmp_path / PENDING_FILE).read_text(encoding="utf-8")
    assert closed in pending and all(url in pending for url in FEEDS)
