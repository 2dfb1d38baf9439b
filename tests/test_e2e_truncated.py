"""Transfers cut short (issue 18, points 3 and 6): a page sent with a short body under its
Content-Length, a truncated gzip stream, and a feed whose cached copy is not whole. What was
read incompletely is never stored as final, is counted and named, and is fetched again.
"""

from __future__ import annotations

import re
from pathlib import Path

from hostile import HostileServer, cut_short, text, truncated_gzip
from test_e2e_hostile import SITE, article, home, run_defnews

from crawler.store import open_store

SOURCES = """
[categories]
"日本の防衛" = "japan-defense"

[[source]]
key = "jdefense"
name = "Jディフェンスニュース"
kind = "site"
spider = "jdefense"
url = "https://j-defense.ikaros.jp/"
language = "ja"
"""


def crawl(work: Path, site: HostileServer):
    sources = work / "sources.toml"
    sources.write_text(SOURCES, encoding="utf-8")
    return run_defnews(
        work, "crawl", "--sources", str(sources), "--base-url", site.url,
        "--store", str(work / "store.sqlite3"), "--no-throttle", "--counter-walk", "0",
        "--max-index-pages", "1", "-s", "RETRY_TIMES=0")


def stored(work: Path) -> set[str]:
    with open_store(str(work / "store.sqlite3")) as store:
        return {a.url.rsplit("/", 1)[-1] for a in store.articles()}


def test_a_page_cut_in_transfer_is_not_stored_and_is_fetched_again(tmp_path):
    links = ["/docs/mod/009201.html", "/docs/mod/009202.html", "/docs/mod/009203.html"]
    routes = {
        "/": home(links, []),
        "/docs/mod/009201.html": article(9201),
        "/docs/mod/009202.html": cut_short(article(9202)),
        "/docs/mod/009203.html": truncated_gzip(article(9203)),
    }
    with HostileServer(routes, static_root=SITE) as site:
        code, out, err, _ = crawl(tmp_path, site)
        assert "Crawl summary" in out, err[-3000:]
        first = stored(tmp_path)
        assert "009201.html" in first
        assert not {"009202.html", "009203.html"} & first, first
        summary = out.split("Crawl summary", 1)[1]
        # Counted and named: each cut page is a failure with its URL and reason.
        for n in ("009202", "009203"):
            assert re.search(rf"{n}\.html.*(truncated|cut short|data loss|incomplete)", err, re.I), err[-3000:]
        assert re.search(r"failed \d+: .*(truncated|incomplete)", summary), summary
        # The next run gets them whole and stores them.
        site.route("/docs/mod/009202.html", article(9202))
        site.route("/docs/mod/009203.html", article(9203))
        code, out, err, _ = crawl(tmp_path, site)
        assert {"009201.html", "009202.html", "009203.html"} <= stored(tmp_path), err[-3000:]
        assert site.paths().count("/docs/mod/009202.html") == 2
        assert site.paths().count("/docs/mod/009201.html") == 1  # stored whole: not again


FEED_SOURCES = """
[categories]
"国際" = "world"

[[source]]
key = "wire"
name = "Wire"
kind = "feed"
urls = ["{base}feeds/wire.xml"]
language = "en"
categories = ["国際"]
"""


def test_a_cached_feed_copy_that_is_not_whole_is_discarded(tmp_path):
    items = "".join(
        f"<item><title>Story {n}</title><link>https://wire.example/{n}</link>"
        f"<pubDate>Mon, 01 Dec 2026 10:00:00 +0000</pubDate><category>x</category></item>"
        for n in range(1000))
    body = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>W</title>'
            f"<link>https://wire.example/</link><description>d</description>{items}</channel></rss>")
    feed = text(body, "application/rss+xml; charset=UTF-8")
    feed.headers["ETag"] = '"v1"'
    feed.headers["Cache-Control"] = "max-age=0"

    def reply(hit):
        if hit.headers.get("If-None-Match") == '"v1"':
            return text("", status=304)
        return feed

    sources = tmp_path / "sources.toml"
    with HostileServer({"/feeds/wire.xml": reply}) as server:
        sources.write_text(FEED_SOURCES.replace("{base}", server.url), encoding="utf-8")
        args = ("crawl", "--sources", str(sources), "--store", str(tmp_path / "store.sqlite3"),
                "--no-throttle")
        code, out, err, _ = run_defnews(tmp_path, *args)
        assert "wire: 1000 entries read, 1000 kept" in out, (out, err[-2000:])
        # A write cut short (the disk filled up): half the body in the cache.
        (cached,) = list((tmp_path / "httpcache").rglob("response_body"))
        whole = cached.read_bytes()
        cached.write_bytes(whole[: len(whole) // 2])
        code, out, err, _ = run_defnews(tmp_path, *args)
    # The cut copy was never read as the feed: discarded (the store, which has every entry,
    # revalidates with its own validators: a 304, nothing read from half a body).
    assert "HTTP cache entry for" in err and "is not whole" in err, err[-3000:]
    assert not re.search(r"wire: [1-9]\d* entries read", out), out
    with open_store(str(tmp_path / "store.sqlite3")) as store:
        assert len(list(store.articles())) == 1000
    assert not list((tmp_path / "httpcache").rglob("response_body")) or \
        all(len(p.read_bytes()) == len(whole) for p in (tmp_path / "httpcache").rglob("response_body"))
