"""Run every benchmark and write docs/benchmarks.md.

    .venv/bin/python bench/run.py [--out docs/benchmarks.md] [--only dates,pages,store,feeds,crawl]
    ),
    .venv/bin/python bench/run.py [--out docs/benchmarks.md] [--only dates,pages,store,hostile,crawl]

With ``--only``, the sections of the other benchmarks already in ``--out`` are kept as they
are (each section says when and at which revision it was measured), so one benchmark can be
re-run without re-running them all. Each benchmark also runs alone
(``.venv/bin/python bench/bench_dates.py`` ...) and prints its tables. Nothing here asserts a
speed: the figures are recorded, not judged.
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
    "feeds": (
        "bench_feeds",
        "Feed reading (crawler/pages/feed.py)",
        "`parse_feed` + `entry_to_item` over the feed corpus and over generated feeds of "
        "1,000 and 5,000 entries (clean, and with one invalid byte), against feedparser alone.",
    ),
    "feedbuild": (
        "bench_feed_build",
        "Feed build at scale (feeds/build.py, crawler/store.py)",
        "`build_feeds` over SQLite stores of 1k, 10k, 100k and 1M articles across 20 "
        "categories: first build and unchanged rebuild, peak memory (issue #13's targets).",
    ),
    "recrawl": (
        "bench_recrawl",
        "Incremental re-crawls (crawler/spiders/jdefense.py)",
        "Requests a re-crawl of a generated 1,000-article mirror sends with 0, 1 and 10 new "
        "articles, by kind, against the target: listing pages plus new articles.",
    ),
    "sites": (
        "bench_sites",
        "Site spider per site (crawler/spiders/site.py)",
        "Per-page cost of the generic site spider crawling a generated 1,000-article copy of "
        "Jディフェンスニュース and of 朝雲, against the J-Defense spider it replaced.",
    ),
    "hostile": (
        "bench_hostile",
        "Trust nothing from outside (crawler/middlewares.py, crawler/pipelines/normalize.py)",
        "A gzip bomb against DOWNLOAD_MAXSIZE (defnews' and Scrapy's default), and the cost of "
        "the link, markup and date gate of the normalize pipeline.",
    ),
    "scale": (
        "bench_scale",
        "Beyond one machine (crawler/store.py batches, crawler/frontier.py)",
        "PostgreSQL and SQLite upserts, one transaction per article against batches of 100; "
        "a crawl of a generated 10,000-article mirror by 1, 2 and 3 processes sharing one "
        "Redis frontier and one store.",
    ),
    "render": (
        "bench_render",
        "Script-rendered pages (crawler/render.py, 1,000-article scripted copy)",
        "A generated copy whose listings and ranking sidebar scripts fill from JSON, crawled "
        "with `--render auto`, against the same copy as plain HTML and `--render always`: "
        "share of pages rendered, articles/s, pages/s, peak memory with Chromium's processes.",
    ),
    "crawl": (
        "bench_crawl",
        "End to end (defnews demo)",
        "The whole job as a user runs it: serve the fixture site, crawl, store, build.",
    ),
    "stories": (
        "bench_stories",
        "Stories (crawler/stories/)",
        "Clustering articles of all sources into stories: pairwise quality on a labelled set "
        "of its own (five languages, look-alikes of every kind), the cost of one new article "
        "at 1k, 10k and 100k stored, the rebuild of 100k (SQLite, PostgreSQL), and the demo "
        "crawl with and without story assignment.",
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
            # The page this script writes is not a change of the code measured.
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
             ":!docs/benchmarks.md"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{rev} (with uncommitted changes)" if dirty else rev


def section(
    heading: str, what: str, seconds: float, tables: list[Table], started: datetime, revision: str
) -> str:
    """One benchmark's part of the page, from its ``## heading`` to the next."""
    lines = [
        f"## {heading}",
        "",
        f"{what} ({seconds:.0f} s; measured {started.strftime('%Y-%m-%d %H:%M UTC')} at "
        f"revision {revision})",
        "",
    ]
    lines += [table.markdown() for table in tables]
    return "\n".join(lines).rstrip() + "\n"


def kept_sections(text: str) -> dict[str, str]:
    """The ``## heading`` sections of an earlier page, by heading."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        if current is not None:
            current.append(line)
    return {heading: "\n".join(lines).rstrip() + "\n" for heading, lines in sections.items()}


def render(
    sections: list[str], started: datetime, total: float, partial: bool, revision: str
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
        f"- Revision: {revision}",
        f"- Machine: {info['nproc']} CPUs (`nproc`), {info['CPU']}, {info['OS']}",
        f"- Python {info['Python']}, Scrapy {info['Scrapy']}, lxml {info['lxml']} "
        f"(libxml2 {info['libxml2']})",
        f"- Whole run: {total:.0f} s"
        + (" (only some sections were re-run; each says when it was measured)" if partial else ""),
        "",
        "Times are wall-clock (`time.perf_counter`), garbage collection off inside each timed "
        "call. Each figure is repeated (best or median, as each table says); on a shared "
        "machine expect a few tens of percent of noise between runs. Only 127.0.0.1 is "
        "contacted.",
        "",
    ]
    return "\n".join(lines) + "\n" + "\n".join(sections)


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
    revision = _git_revision()  # the code measured: as it is when the run starts
    t0 = time.perf_counter()
    fresh: dict[str, str] = {}
    for key in keys:
        module_name, heading, what = BENCHMARKS[key]
        print(f"== {heading}", flush=True)
        start = time.perf_counter()
        tables = importlib.import_module(module_name).run()
        seconds = time.perf_counter() - start
        for table in tables:
            print(table.text(), flush=True)
        fresh[heading] = section(heading, what, seconds, tables, started, revision)
    total = time.perf_counter() - t0

    old = kept_sections(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
    sections = []
    for _module, heading, _what in BENCHMARKS.values():
        if heading in fresh:
            sections.append(fresh[heading])
        elif heading in old:
            sections.append(old[heading])
    # Sections no benchmark here writes (bench_articles.py needs corpora run.py does not
    # have) stay as they are, in their place at the end: a re-run used to drop them.
    ours = {heading for _module, heading, _what in BENCHMARKS.values()}
    sections += [text for heading, text in old.items() if heading not in ours]
    partial = len(fresh) < len(sections)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_text(render(sections, started, total, partial, revision), encoding="utf-8")
    tmp.replace(args.out)
    print(f"Wrote {args.out} ({total:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
