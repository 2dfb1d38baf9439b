"""Beyond one machine: PostgreSQL upserts batched against one commit per article, and a crawl
of a large generated mirror by 1, 2 and 3 processes sharing one Redis frontier.

    .venv/bin/python bench/bench_scale.py [ARTICLES] [UPSERTS]

1. Upserts/s of N synthetic articles (``bench_store_feeds.make_article``) into a fresh store:
   one transaction per article (``upsert_article``, what the store pipeline did before
   batching) and batches of 100 (``upsert_articles``, what it does now), on SQLite and on
   PostgreSQL.
2. A crawl of a generated copy of the demo site grown to ARTICLES articles (default 10,000:
   the bundled demo articles, repeated under new numbers and dates, rendered by
   ``scripts/build_demo_site.py``) served on 127.0.0.1, by P = 1, 2, 3 ``defnews crawl``
   processes with ``--redis`` (one frontier) into one store (PostgreSQL when reachable, else
   SQLite): wall time until the last process exits, pages/s, articles stored, and the most
   times any article page was fetched (1: each fetched once in total).

Needs Redis at $DEFNEWS_BENCH_REDIS (default redis://127.0.0.1:6379/0) for part 2; each run
uses its own key prefix and deletes it.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from _common import REPO, VENV_PYTHON, Table, fmt_rate, median, print_tables, timed
from bench_store_feeds import T0, _postgres, _sqlite, make_article

ARTICLES = 10_000
UPSERTS = 5_000
BATCH = 100
REPEATS = 3
PROCESSES = (1, 2, 3)
REDIS_URL = os.environ.get("DEFNEWS_BENCH_REDIS", "redis://127.0.0.1:6379/0")
PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else sys.executable)
JST = timezone(timedelta(hours=9))


# -- 1. upserts ---------------------------------------------------------------------------
def _upsert_rates(open_fresh: Any, n: int) -> dict[str, float]:
    """Median articles/s of each write mode, each run on a fresh store."""
    rates: dict[str, list[float]] = {"one transaction per article": [], f"batches of {BATCH}": []}
    for _ in range(REPEATS):
        store = open_fresh()
        items = [make_article(i) for i in range(n)]
        elapsed, _ = timed(lambda: [store.upsert_article(a, now=T0) for a in items])  # noqa: B023
        assert store.count_articles() == n
        store.close()
        rates["one transaction per article"].append(n / elapsed)

        store = open_fresh()
        items = [make_article(i) for i in range(n)]

        def batched() -> None:
            for start in range(0, n, BATCH):
                store.upsert_articles(items[start:start + BATCH], now=T0)  # noqa: B023

        elapsed, _ = timed(batched)
        assert store.count_articles() == n
        store.close()
        rates[f"batches of {BATCH}"].append(n / elapsed)
    return {mode: median(values) for mode, values in rates.items()}


def bench_upserts(n: int) -> Table:
    table = Table(
        f"Store writes: {n:,} new articles",
        ["backend", "writes", "articles/s (median)", "vs SQLite, same writes"],
    )
    with _sqlite() as open_sqlite:
        sqlite = _upsert_rates(open_sqlite, n)
    for mode, rate in sqlite.items():
        table.add("SQLite", mode, fmt_rate(rate, 1, "articles").removesuffix(" articles/s"), "1.00x")
    with _postgres() as postgres:
        if isinstance(postgres, str):
            table.notes.append(f"PostgreSQL skipped: {postgres}")
            return table
        open_pg, description = postgres
        pg = _upsert_rates(open_pg, n)
    for mode, rate in pg.items():
        table.add("PostgreSQL", mode, fmt_rate(rate, 1, "articles").removesuffix(" articles/s"),
                  f"{sqlite[mode] / rate:.2f}x slower" if rate < sqlite[mode]
                  else f"{rate / sqlite[mode]:.2f}x faster")
    best_sqlite = max(sqlite.values())
    batched = pg[f"batches of {BATCH}"]
    table.notes.append(
        f"PostgreSQL batched: {batched / pg['one transaction per article']:.1f}x its one-commit-"
        f"per-article rate; {best_sqlite / batched:.2f}x the time of SQLite's best "
        "(target: within 1.5x)."
    )
    table.notes.append(description)
    table.notes.append(f"Median of {REPEATS} runs, each on a fresh store (PostgreSQL: a fresh "
                       "schema); the same synthetic articles as the store benchmark.")
    return table


# -- 2. a large mirror, crawled by several processes ---------------------------------------
def build_mirror(out: Path, articles: int) -> int:
    """The demo site grown to ``articles`` articles; returns how many article pages it has."""
    sys.path.insert(0, str(REPO / "scripts"))
    import build_demo_site as demo

    site = demo.load_site()
    base = [a for a in site.articles if a.linked and a.date and not a.malformed]
    grown = list(site.articles)
    start = datetime(2015, 1, 1, 9, 0, tzinfo=JST)  # the date line is JST wall time
    top = max(a.number for a in site.articles)
    for i in range(max(0, articles - len(site.articles))):
        a = copy.deepcopy(base[i % len(base)])
        a.number = top + 1 + i
        a.title = f"{a.title} ({i})"
        a.date = (start + timedelta(minutes=37 * i)).strftime("%Y-%m-%d %H:%M")
        a.modified = None
        a.canonical = None
        a.listed = True
        grown.append(a)
    site.articles = grown
    site.index_page_size = 100
    for rel, data in demo.render_site(site).items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return sum(1 for a in site.articles if a.linked)


class CountingServer:
    """A threaded static server on 127.0.0.1 that counts the GETs of article pages."""

    ARTICLE = re.compile(r"/docs/[a-z]+/\d{6}\.html")

    def __init__(self, root: Path) -> None:
        self.hits: Counter[str] = Counter()
        lock = threading.Lock()
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if server.ARTICLE.fullmatch(self.path):
                    with lock:
                        server.hits[self.path] += 1
                super().do_GET()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
        self.httpd.daemon_threads = True
        self.httpd.request_queue_size = 128
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __enter__(self) -> CountingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _redis_or_reason() -> Any:
    try:
        import redis
    except ImportError:
        return "the redis client is not installed (pip install -e '.[redis]')"
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        return f"Redis not reachable at {REDIS_URL} ({exc.__class__.__name__})"
    return client


def _crawl(processes: int, url: str, store: str, prefix: str, work: Path) -> float:
    command = [PYTHON, "-m", "defnews", "crawl", "--only", "jdefense", "--base-url", url,
               "--store", store, "--redis", REDIS_URL, "--no-throttle", "--counter-walk", "0",
               "--max-index-pages", "1000", "-s", f"DEFNEWS_REDIS_PREFIX={prefix}",
               "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "HTTPCACHE_ENABLED=False"]
    start = time.perf_counter()
    procs = [subprocess.Popen(command, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(processes)]
    outs = [p.communicate(timeout=3600) for p in procs]
    elapsed = time.perf_counter() - start
    for p, (out, err) in zip(procs, outs, strict=True):
        if p.returncode != 0:
            raise RuntimeError(f"crawl exited {p.returncode}:\n{out}\n{err[-3000:]}")
    return elapsed


def bench_crawl(articles: int) -> Table:
    table = Table(
        f"Crawl of a {articles:,}-article mirror on one Redis frontier",
        ["processes", "wall time", "pages/s", "articles stored", "max fetches of one article"],
    )
    client = _redis_or_reason()
    if isinstance(client, str):
        table.notes.append(f"skipped: {client}")
        return table
    with tempfile.TemporaryDirectory(prefix="defnews-bench-scale-") as tmp:
        root = Path(tmp) / "site"
        elapsed, pages = timed(partial(build_mirror, root, articles))
        table.notes.append(f"Mirror: {pages:,} article pages, 100 per index page, generated in "
                           f"{elapsed:.1f} s from the demo site's articles.")
        with _postgres() as postgres:
            for processes in PROCESSES:
                prefix = f"defnews-bench-{uuid.uuid4().hex[:8]}"
                if isinstance(postgres, str):
                    store = str(Path(tmp) / f"store{processes}.sqlite3")
                    open_store_fn = None
                else:
                    open_pg, description = postgres
                    fresh = open_pg()
                    store = fresh.dsn  # type: ignore[attr-defined]
                    fresh.close()
                    open_store_fn = store
                with CountingServer(root) as server:
                    seconds = _crawl(processes, server.url, store, prefix, Path(tmp))
                    hits = server.hits
                for key in client.scan_iter(f"{prefix}:*"):
                    client.delete(key)
                from crawler.store import open_store

                with open_store(open_store_fn or store) as s:
                    stored = s.count_articles()
                fetched = sum(hits.values())
                table.add(processes, f"{seconds:.1f} s", f"{fetched / seconds:,.0f}",
                          f"{stored:,}", max(hits.values()) if hits else 0)
            table.notes.append(
                "Store: " + (f"SQLite ({postgres})" if isinstance(postgres, str) else description)
            )
    table.notes.append(
        "Each process: `defnews -q crawl --redis --no-throttle --counter-walk 0 "
        "--max-index-pages 1000 -s CONCURRENT_REQUESTS_PER_DOMAIN=16`; the wall time runs from "
        "starting the processes to the last exit (start-up included). One run each. The site "
        "server (Python's threaded http.server), Redis, PostgreSQL and the crawlers share the "
        "machine's cores."
    )
    return table


def run(articles: int = ARTICLES, upserts: int = UPSERTS) -> list[Table]:
    return [bench_upserts(upserts), bench_crawl(articles)]


if __name__ == "__main__":
    print_tables(run(int(sys.argv[1]) if len(sys.argv) > 1 else ARTICLES,
                     int(sys.argv[2]) if len(sys.argv) > 2 else UPSERTS))
