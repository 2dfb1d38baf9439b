"""Run every benchmark and write docs/benchmarks.md.

    .venv/bin/python bench/run.py [--out docs/benchmarks.md] [--only dates,pages,store,crawl]

Each benchmark also runs alone (``.venv/bin/python bench/bench_dates.py`` ...) and prints its
tables. Nothing here asserts a speed: the figures are recorded, not judged.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import REPO, Table, machine

COMMAND = ".venv/bin/python bench/run.py"
BENCHMARKS = {
    # key: (module, heading, what it measures)
    "dates": (
        "bench_dates",
        "Dates (crawler/dates.py)",
        "`parse_date` over a mix of the forms the sources write, `find_dates` over a long "
        "article-like body and over adversarial inputs.",
    ),
    "pages": (
        "bench_pages",
        "Page parsers (crawler/pages/jdefense.py)",
        "`parse_article`, `parse_listing` and `parse_ranking` over the bundled demo site.",
    ),
    "store": (
        "bench_store_feeds",
        "Store and feed build (crawler/store.py, feeds/build.py)",
        "Upserts of synthetic articles (new, then an unchanged re-run), ranking snapshots, "
        "and `build_feeds` (first build, unchanged rebuild) on SQLite and PostgreSQL.",
    ),
    "crawl": (
        "bench_crawl",
        "End to end (defnews demo)",
        "The whole job as a user runs it: serve the fixture site, crawl, store, build.",
    ),
    "crawl_peer": (
        "bench_crawl_peer",
        "Crawl vs bare Scrapy (defnews crawl, 10,000-article mirror)",
        "`defnews crawl` into SQLite and PostgreSQL against a bare Scrapy spider following the "
        "same links, politeness off, on a generated mirror served from memory on 127.0.0.1.",
    ),
}


def _git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{rev} (with uncommitted changes)" if dirty else rev


def render(
    results: list[tuple[str, str, float, list[Table]]], started: datetime, total: float
) -> str:
    info = machine()
    lines = [
        "# Benchmarks",
        "",
        "Produced by `bench/run.py` (see `bench/README.md`); do not edit by hand, re-run:",
        "",
        "```sh",
        COMMAND,
        "```",
        "",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Revision: {_git_revision()}",
        f"- Machine: {info['nproc']} CPUs (`nproc`), {info['CPU']}, {info['OS']}",
        f"- Python {info['Python']}, Scrapy {info['Scrapy']}, lxml {info['lxml']} "
        f"(libxml2 {info['libxml2']})",
        f"- Whole run: {total:.0f} s",
        "",
        "Times are wall-clock (`time.perf_counter`), garbage collection off inside each timed "
        "call. Each figure is repeated (best or median, as each table says); on a shared "
        "machine expect a few tens of percent of noise between runs. Only 127.0.0.1 is "
        "contacted.",
        "",
    ]
    for heading, what, seconds, tables in results:
        lines += [f"## {heading}", "", f"{what} ({seconds:.0f} s)", ""]
        for table in tables:
            lines.append(table.markdown())
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help="comma-separated subset of: " + ", ".join(BENCHMARKS),
    )
    args = parser.parse_args(argv)
    keys = [k for k in args.only.split(",") if k]
    unknown = set(keys) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    results = []
    for key in keys:
        module_name, heading, what = BENCHMARKS[key]
        print(f"== {heading}", flush=True)
        start = time.perf_counter()
        tables = importlib.import_module(module_name).run()
        seconds = time.perf_counter() - start
        for table in tables:
            print(table.text(), flush=True)
        results.append((heading, what, seconds, tables))
    total = time.perf_counter() - t0

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(results, started, total), encoding="utf-8")
    print(f"Wrote {args.out} ({total:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
