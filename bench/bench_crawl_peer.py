"""The crawl against its peer, in the same run: ``defnews crawl`` and a bare Scrapy spider
(``bare_spider.py``: same links, CSS extraction, JSON Lines export) over a generated mirror of
ARTICLES articles (``sitemirror.py``) served on 127.0.0.1 by an in-memory Twisted server in its
own process, with politeness off for both (no delay, no AutoThrottle, CONCURRENCY requests
in flight, robots.txt obeyed by both). defnews crawls into SQLite, then into PostgreSQL.

Each crawl runs in a child process of its own; the figures are measured inside it around the
crawl (wall time, CPU time of the process from ``getrusage``, peak RSS), interpreter start
and imports excluded.

    .venv/bin/python bench/bench_crawl_peer.py                    # 10,000 articles
    .venv/bin/python bench/bench_crawl_peer.py --articles 300 --repeat 3
    .venv/bin/python bench/bench_crawl_peer.py --profile bench/profiles/crawl.html
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import REPO, Table, print_tables
from sitemirror import PYTHON, measure_server, served, write_mirror

ARTICLES = 10_000
CONCURRENCY = 16
REPEAT = 3  # best of 3, the order alternating: one run on this shared machine is too noisy
BARE, SQLITE, POSTGRES = "bare Scrapy → JSON Lines", "defnews → SQLite", "defnews → PostgreSQL"
PG_DSN = os.environ.get("DEFNEWS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")

# Politeness off, the same for both crawlers.
SETTINGS: dict[str, Any] = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "ROBOTSTXT_OBEY": True,
    "HTTPCACHE_ENABLED": False,
    "LOG_LEVEL": "INFO",
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
}

# "  jdefense       165 pages    42 new     0 updated     0 unchanged    0 duplicates  [finished]"
SUMMARY = re.compile(
    r"^\s+(?P<source>\S+)\s+(?P<pages>\d+) pages\s+(?P<new>\d+) new\s+(?P<updated>\d+) updated"
    r"\s+(?P<unchanged>\d+) unchanged\s+\d+ duplicates\s+\[(?P<reason>[^\]]+)\]",
    re.MULTILINE,
)


@dataclass
class Result:
    crawler: str
    pages: int
    items: int
    seconds: float
    cpu: float
    max_rss_kib: int

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.cpu / self.pages if self.pages else 0.0


# -- inside the child process ----------------------------------------------------------------


def _usage() -> tuple[float, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), ru.ru_utime + ru.ru_stime


def _peak_rss_kib() -> int:
    """Peak RSS of this process: VmHWM, not ``ru_maxrss``, which keeps the high-water mark of
    the parent's memory image from before the exec (the parent holds the whole mirror)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux


def _defnews_child(url: str, target: str, concurrency: int) -> dict[str, Any]:
    from defnews import cli

    argv = [
        "crawl", "--store", target, "--only", "jdefense", "--base-url", url, "--no-throttle",
        "--max-index-pages", "1000000", "--counter-walk", "0",
    ]
    settings = {**SETTINGS, "CONCURRENT_REQUESTS": concurrency,
                "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency}
    settings.pop("LOG_LEVEL")  # the command's own (INFO)
    for name, value in settings.items():
        argv += ["-s", f"{name}={value}"]
    out = io.StringIO()
    wall0, cpu0 = _usage()
    with redirect_stdout(out):
        status = cli.main(argv)
    wall1, cpu1 = _usage()
    found = SUMMARY.search(out.getvalue())
    if status != 0 or found is None or found["reason"] != "finished":
        raise RuntimeError(f"defnews crawl exited {status}:\n{out.getvalue()}")
    return {"pages": int(found["pages"]), "items": int(found["new"]) + int(found["updated"]),
            "seconds": wall1 - wall0, "cpu": cpu1 - cpu0}


def _bare_child(url: str, target: str, concurrency: int) -> dict[str, Any]:
    from bare_spider import BareSpider
    from scrapy.crawler import CrawlerProcess

    settings = {**SETTINGS, "CONCURRENT_REQUESTS": concurrency,
                "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
                "FEEDS": {target: {"format": "jsonlines", "encoding": "utf-8"}}}
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    wall0, cpu0 = _usage()
    process.crawl(crawler, base_url=url)
    process.start()
    wall1, cpu1 = _usage()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    if stats.get("finish_reason") != "finished":
        raise RuntimeError(f"bare spider ended with {stats.get('finish_reason')!r}")
    return {"pages": stats.get("response_received_count", 0),
            "items": stats.get("item_scraped_count", 0),
            "seconds": wall1 - wall0, "cpu": cpu1 - cpu0}


def child_main(kind: str, url: str, target: str, concurrency: int, profile: str | None) -> None:
    crawl = _defnews_child if kind == "defnews" else _bare_child
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.002)
        profiler.start()
    result = crawl(url, target, concurrency)
    if profiler is not None and profile:
        profiler.stop()
        path = Path(profile)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".html":
            path.write_text(profiler.output_html(), encoding="utf-8")
        else:
            path.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
    result["max_rss_kib"] = _peak_rss_kib()
    print("RESULT " + json.dumps(result), flush=True)


# -- in the parent ---------------------------------------------------------------------------


def crawl(kind: str, label: str, url: str, target: str, concurrency: int,
          profile: str | None = None) -> Result:
    cmd = [PYTHON, str(Path(__file__).resolve()), "--child", kind, url, target,
           "--concurrency", str(concurrency)]
    if profile:
        cmd += ["--profile", profile]
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True,
                              timeout=3600)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            log.seek(0)
            tail = log.read()[-3000:]
            raise RuntimeError(f"{label} crawl failed (exit {proc.returncode}):\n{proc.stdout}\n{tail}")
    data = json.loads(lines[-1].removeprefix("RESULT "))
    return Result(crawler=label, **data)


@contextmanager
def postgres_target() -> Iterator[str | None]:
    """A DSN on a throwaway schema of PG_DSN (dropped afterwards), or None if unreachable."""
    try:
        import psycopg
    except ImportError:
        yield None
        return
    schema = f"defnews_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(PG_DSN, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.Error:
        yield None
        return
    sep = "&" if "?" in PG_DSN else "?"
    try:
        yield f"{PG_DSN}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_DSN, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _best(results: list[Result]) -> Result:
    return max(results, key=lambda r: r.rate)


def run(
    articles: int = ARTICLES,
    concurrency: int = CONCURRENCY,
    repeat: int = REPEAT,
    postgres: bool = True,
    server_seconds: float = 2.0,
) -> list[Table]:
    runs: dict[str, list[Result]] = {}
    skipped_postgres = not postgres
    with tempfile.TemporaryDirectory(prefix="defnews-bench-peer-") as tmp:
        root = Path(tmp) / "site"
        start = time.perf_counter()
        files = write_mirror(articles, root)
        generated = time.perf_counter() - start
        with served(root) as url:
            server_rate = measure_server(url, articles, seconds=server_seconds)
            for n in range(repeat):
                plan = [BARE, SQLITE, POSTGRES] if postgres else [BARE, SQLITE]
                if n % 2:  # alternate the order: a machine getting busier favours nobody
                    plan.reverse()
                for label in plan:
                    if label == POSTGRES:
                        with postgres_target() as dsn:
                            if dsn is None:
                                postgres = False
                            else:
                                runs.setdefault(label, []).append(
                                    crawl("defnews", label, url, dsn, concurrency))
                        continue
                    kind, target = (("bare", f"bare{n}.jsonl") if label == BARE
                                    else ("defnews", f"store{n}.sqlite3"))
                    runs.setdefault(label, []).append(
                        crawl(kind, label, url, str(Path(tmp) / target), concurrency))
    best = {label: _best(runs[label]) for label in (BARE, SQLITE, POSTGRES) if label in runs}
    bare, sqlite = best[BARE], best[SQLITE]
    table = Table(
        f"Crawl of a {articles:,}-article mirror: defnews vs a bare Scrapy spider",
        ["crawler", "pages", "items", "wall time", "pages/s", "CPU ms/page", "peak RSS",
         "pages/s vs bare"],
    )
    for label, r in best.items():
        table.add(label, f"{r.pages:,}", f"{r.items:,}", f"{r.seconds:.1f} s", f"{r.rate:,.1f}",
                  f"{r.cpu_ms_per_page:.2f}", f"{r.max_rss_kib / 1024:.0f} MiB",
                  f"{100 * r.rate / bare.rate:.0f}%")
    table.notes.append(
        f"defnews / bare Scrapy: {100 * sqlite.rate / bare.rate:.0f}% of the pages/s "
        f"(target ≥ 70%); by CPU time per page, which a busy machine disturbs less, "
        f"{100 * bare.cpu_ms_per_page / sqlite.cpu_ms_per_page:.0f}% "
        f"({sqlite.cpu_ms_per_page / bare.cpu_ms_per_page:.2f}× the CPU per page)."
    )
    if POSTGRES in best:
        pg = best[POSTGRES]
        table.notes.append(
            f"Into PostgreSQL / into SQLite: {100 * pg.rate / sqlite.rate:.0f}% of the pages/s "
            f"(target ≥ 95%); PostgreSQL at {PG_DSN.split('@')[-1]} on this machine, a fresh "
            "schema."
        )
    elif skipped_postgres:
        table.notes.append("PostgreSQL not measured (--no-postgres).")
    else:
        table.notes.append(f"PostgreSQL not measured: not reachable at {PG_DSN} (or psycopg missing).")
    table.notes.append(
        f"Mirror: {files:,} files generated in {generated:.1f} s (`bench/sitemirror.py`), served from "
        f"memory by Twisted in its own process: {server_rate:,.0f} requests/s alone (2 keep-alive "
        f"client processes, {server_seconds:.0f} s, on the same machine)."
    )
    table.notes.append(
        f"Both: no download delay, no AutoThrottle, {concurrency} concurrent requests (per domain "
        "too), robots.txt obeyed, no HTTP cache, INFO log. defnews runs as "
        "`defnews crawl --only jdefense --base-url URL --no-throttle --max-index-pages 1000000 "
        "--counter-walk 0` (every article is listed on an index page); pages include robots.txt "
        "and the index pages. "
        f"Best of {repeat} run(s) each by pages/s; CPU and peak RSS of the crawling process."
    )
    table.notes.append(
        f"Command: `.venv/bin/python bench/bench_crawl_peer.py --articles {articles} "
        f"--concurrency {concurrency} --repeat {repeat}`."
    )
    return [table]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=ARTICLES)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--profile", metavar="FILE",
                        help="profile one defnews crawl with pyinstrument into FILE (.html or .txt)")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "URL", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, url, target = args.child
        child_main(kind, url, target, concurrency=args.concurrency, profile=args.profile)
        return 0
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="defnews-bench-profile-") as tmp:
            write_mirror(args.articles, Path(tmp) / "site")
            with served(Path(tmp) / "site") as url:
                r = crawl("defnews", SQLITE, url, str(Path(tmp) / "p.sqlite3"),
                          args.concurrency, profile=str(Path(args.profile).resolve()))
        print(f"{r.pages} pages, {r.rate:.1f} pages/s under the profiler; wrote {args.profile}")
        return 0
    print_tables(run(args.articles, args.concurrency, args.repeat, not args.no_postgres))
    return 0


if __name__ == "__main__":
    sys.exit(main())
