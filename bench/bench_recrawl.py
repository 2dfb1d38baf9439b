"""Requests per re-crawl: what an incremental crawl costs the site.

A 1,000-article mirror of the site (synthetic articles in the demo's markup, three sections,
10 per index page, built by ``tests/mirror.py`` with ``scripts/build_demo_site.py``) is served
by the counting fixture server (``tests/fixture_server.py``: ETag / 304) and crawled once
into a fresh store. Then, each time from a copy of that store, the mirror gets 0, 1 or 10 new
articles and ``defnews crawl`` runs again; the server counts every request by kind. The target
is the listing pages plus the new articles, nothing else.

    .venv/bin/python bench/bench_recrawl.py [SIZE]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, VENV_PYTHON, Table, print_tables

sys.path.insert(0, str(REPO / "tests"))

from fixture_server import FixtureServer  # noqa: E402
from mirror import build_mirror  # noqa: E402

SIZE = 1000
NEW = (0, 1, 10)
PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else sys.executable)


def crawl(server: FixtureServer, work: Path, *extra: str) -> tuple[float, int]:
    command = [PYTHON, "-m", "defnews", "crawl", "--only", "jdefense", "--base-url",
               server.url, "--no-throttle", "--store", str(work / "store.sqlite3"),
               "--max-index-pages", "200", *extra]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=1800)
    return time.perf_counter() - start, proc.returncode


def kinds(server: FixtureServer) -> dict[str, int]:
    counts = {"robots.txt": 0, "listing": 0, "article": 0, "other": 0}
    articles = server.article_requests()
    for path, n in server.counts.items():
        if path == "/robots.txt":
            counts["robots.txt"] += n
        elif path in articles:
            counts["article"] += n
        elif path == "/" or path.endswith("/") or "/index" in path:
            counts["listing"] += n
        else:
            counts["other"] += n
    return counts


def run(size: int = SIZE) -> list[Table]:
    table = Table(
        f"Requests per crawl of a {size:,}-article mirror",
        ["crawl", "requests", "robots.txt", "listing pages (304s)", "article pages",
         "other", "target: listings + new", "wall time", "exit"],
    )
    with tempfile.TemporaryDirectory(prefix="defnews-bench-recrawl-") as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        build_mirror(base / "site", size=size)
        with FixtureServer(base / "site") as server:
            seconds, status = crawl(server, base)
            k = kinds(server)
            table.add("first (empty store)", sum(server.counts.values()), k["robots.txt"],
                      f"{k['listing']} ({server.statuses(304)})", k["article"], k["other"],
                      "-", f"{seconds:.1f} s", status)
        for new, extra in [(n, ()) for n in NEW] + [(0, ("--refresh",))]:
            work = Path(tmp) / f"new-{new}{'-'.join(extra)}"
            work.mkdir()
            shutil.copy(base / "store.sqlite3", work / "store.sqlite3")
            new_paths = build_mirror(work / "site", size=size, new=new)
            with FixtureServer(work / "site") as server:
                seconds, status = crawl(server, work, *extra)
            k = kinds(server)
            fetched_new = sum(1 for p in new_paths if server.counts.get(p))
            label = f"re-crawl, {new} new" + (", --refresh (every crawl before)" if extra else "")
            table.add(
                label, sum(server.counts.values()), k["robots.txt"],
                f"{k['listing']} ({server.statuses(304)})",
                f"{k['article']} ({fetched_new} of the {new} new)", k["other"],
                k["listing"] + new, f"{seconds:.1f} s", status,
            )
    table.notes.append(
        "Target: listing pages + new articles; robots.txt is asked once per crawl on top (it "
        "is obeyed for every request). With new articles in one section, that section's index "
        "page 1 and page 2 change (page 2 is the first with only stored articles: pagination "
        "stops there); the other sections answer 304. `--refresh` fetches every stored article "
        "again: what every re-crawl cost before incremental crawling.")
    table.notes.append(
        "`.venv/bin/python -m defnews -q crawl --only jdefense --base-url <mirror> --no-throttle "
        "--max-index-pages 200` against `tests/fixture_server.py`; each re-crawl starts from a "
        "copy of the first crawl's store. Listing pages: the home page (always fetched whole: "
        "its ranking sidebar makes the crawl's snapshot) and the section indexes (conditional: "
        "304 when unchanged). The first crawl reaches every article through the indexes and "
        "the 次の記事 / 前の記事 chain; wall time includes the process start (about 1 s).")
    return [table]


if __name__ == "__main__":
    print_tables(run(int(sys.argv[1]) if len(sys.argv) > 1 else SIZE))
