"""Two builds on one public folder (issue #9, item 4), and WebSub pings to a local fake hub."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import feedparser
import pytest
from lxml import etree

from crawler.items import ArticleItem
from crawler.store import SQLiteStore
from feeds.build import LOCK_FILE, build_feeds, folder_lock
from feeds.config import FeedConfig
from feeds.write import is_temp_file

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def _fill(path: Path, n: int, *, start: int = 0) -> None:
    with SQLiteStore(path) as store:
        for i in range(start, start + n):
            url = f"https://j-defense.example.jp/docs/mod/{i:06d}.html"
            store.upsert_article(
                ArticleItem(
                    url=url, id=f"id{i:06d}", title=f"記事 {i}", source="jdefense",
                    published=T0 + timedelta(minutes=i),
                    categories=[["日本の防衛", "解説", "レポート", "陸上"][i % 4]],
                    content_html="<p>" + "本文" * 200 + "</p>",
                ),
                now=T0,
            )


def _build(store: Path, public: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "defnews", "build", "--store", str(store), "--public",
         str(public), "--feed-url", "https://feeds.example.org/"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_two_builds_on_one_folder_both_succeed(tmp_path: Path) -> None:
    store, public = tmp_path / "store.sqlite3", tmp_path / "public"
    _fill(store, 150)
    for _ in range(2):  # each round starts both builds at the same moment
        procs = [_build(store, public), _build(store, public)]
        outs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
        _fill(store, 5, start=1000 + _)  # new data: the next round writes again
    files = [p for p in public.rglob("*") if p.is_file()]
    assert not [p for p in files if is_temp_file(p)]
    for feed in public.rglob("*.atom"):
        assert feedparser.parse(feed.read_bytes()).bozo == 0


def test_a_build_waits_for_the_one_holding_the_folder(tmp_path: Path) -> None:
    store, public = tmp_path / "store.sqlite3", tmp_path / "public"
    _fill(store, 20)
    public.mkdir()
    with folder_lock(public):
        proc = _build(store, public)
        assert proc.stderr is not None
        # The build says it waits (an event, not a sleep), and has written nothing yet.
        for line in proc.stderr:
            if "another build is writing" in line:
                break
        else:  # pragma: no cover - the build ended without waiting
            raise AssertionError(proc.communicate())
        assert not (public / "index.html").exists()
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    assert (public / "index.html").exists() and (public / LOCK_FILE).exists()


# -- WebSub -----------------------------------------------------------------------------------


class _Hub(BaseHTTPRequestHandler):
    pings: list[dict[str, list[str]]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length).decode("ascii")
        type(self).pings.append(
            {"content-type": [self.headers["Content-Type"]], **parse_qs(body)}
        )
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def hub() -> tuple[str, list[dict[str, list[str]]]]:
    pings: list[dict[str, list[str]]] = []
    handler = type("Hub", (_Hub,), {"pings": pings})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hub", pings
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_websub_hub_is_linked_and_pinged_for_changed_feeds_only(tmp_path: Path, hub) -> None:
    hub_url, pings = hub
    store, public = tmp_path / "store.sqlite3", tmp_path / "public"
    _fill(store, 8)
    config = FeedConfig(base_url="https://feeds.example.org/", hub_url=hub_url)
    with SQLiteStore(store) as data:
        first = build_feeds(data, public, config)
    topics = sorted(p["hub.url"][0] for p in pings)
    assert all(p["hub.mode"] == ["publish"] for p in pings)
    assert all(p["content-type"] == ["application/x-www-form-urlencoded"] for p in pings)
    assert topics == sorted(first.pinged) and first.ping_errors == []
    assert "https://feeds.example.org/all.atom" in topics
    assert "https://feeds.example.org/category/kaisetsu.json" in topics
    # Every feed links to the hub.
    atom = etree.parse(str(public / "all.atom")).getroot()
    assert atom.find("{http://www.w3.org/2005/Atom}link[@rel='hub']").get("href") == hub_url

    pings.clear()
    with SQLiteStore(store) as data:
        again = build_feeds(data, public, config)
    assert (again.written, pings) == (0, [])  # nothing changed: no ping

    _fill(store, 1, start=500)  # a new 日本の防衛 article (500 % 4 == 0)
    with SQLiteStore(store) as data:
        build_feeds(data, public, config)
    assert sorted(p["hub.url"][0] for p in pings) == sorted(
        f"https://feeds.example.org/{stem}.{kind}"
        for stem in ("all", "category/nippon-no-bouei", "source/jdefense")
        for kind in ("atom", "rss", "json")
    )


def test_without_a_hub_nothing_is_pinged_or_linked(tmp_path: Path) -> None:
    store, public = tmp_path / "store.sqlite3", tmp_path / "public"
    _fill(store, 2)
    with SQLiteStore(store) as data:
        report = build_feeds(data, public, FeedConfig(base_url="https://feeds.example.org/"))
    assert report.pinged == [] and report.changed_urls
    assert b'rel="hub"' not in (public / "all.atom").read_bytes()
    assert b'"hubs"' not in (public / "all.json").read_bytes()
