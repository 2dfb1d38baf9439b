"""Per-page cost of the generic site spider on each site, against the J-Defense spider it
replaced: crawls of a generated 1,000-article copy of Jディフェンスニュース (``sitemirror.py``)
and of 朝雲 (``scripts/build_asagumo_site.py --copies``, Shift_JIS), each with
``defnews crawl --only KEY --base-url MIRROR`` (no store, no throttle); the J-Defense copy also
with the code of a baseline revision (``--baseline DIR``: a checkout of main before the
generic spider (by default the revision before ``crawler/spiders/site.py`` was added, taken
with ``git archive``), run with the same interpreter by ``PYTHONPATH``).

    .venv/bin/python bench/bench_sites.py [--articles 1000] [--runs 3] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

from _common import REPO, Table, median, print_tables
from sitemirror import PYTHON, served, write_mirror

SOURCE_LINE = re.compile(r"^\s+(?P<source>\S+)\s+(?P<pages>\d+) pages\s+(?P<new>\d+) new", re.M)


def _asagumo_builder():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "build_asagumo_site", REPO / "scripts" / "build_asagumo_site.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def crawl(key: str, url: str, work: Path, code: Path | None) -> tuple[float, int, int]:
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    command = [PYTHON, "-m", "defnews", "crawl", "--only", key, "--base-url", url,
               "--no-throttle", "--counter-walk", "0", "--max-index-pages", "1000",
               "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "HTTPCACHE_ENABLED=False",
               "--store", str(work / f"store-{time.monotonic_ns()}.sqlite3")]
    start = time.perf_counter()
    run = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=3600)
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        raise RuntimeError(f"crawl exited {run.returncode}:\n{run.stdout}\n{run.stderr[-3000:]}")
    m = SOURCE_LINE.search(run.stdout)
    if m is None:
        raise RuntimeError(f"no crawl summary:\n{run.stdout}")
    return elapsed, int(m["pages"]), int(m["new"])


def startup(work: Path, code: Path | None) -> float:
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    start = time.perf_counter()
    subprocess.run([PYTHON, "-c", "import scrapy.crawler, crawler.spiders.jdefense, feeds.build"],
                   cwd=work, env=env, check=True, timeout=300)
    return time.perf_counter() - start


def baseline_revision() -> str | None:
    """The revision before the generic site spider (the commit that added
    ``crawler/spiders/site.py``, its parent): the J-Defense spider it replaced."""
    added = subprocess.run(
        ["git", "log", "--format=%H", "--diff-filter=A", "-1", "--", "crawler/spiders/site.py"],
        cwd=REPO, capture_output=True, text=True,
    ).stdout.strip()
    return f"{added}^" if added else None


def _checkout(revision: str, into: Path) -> Path:
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", revision], cwd=REPO, capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def run(articles: int = 1000, runs: int = 3, baseline: Path | None = None) -> list[Table]:
    table = Table(
        f"Crawl of a generated {articles:,}-article copy of each site, per page",
        ["site", "spider", "pages", "articles", "wall time", "startup", "ms per page"],
    )
    with tempfile.TemporaryDirectory(prefix="defnews-bench-sites-") as tmp:
        work = Path(tmp)
        jd, asa = work / "jdefense", work / "asagumo"
        write_mirror(articles, jd)
        _asagumo_builder().build(asa, copies=articles)
        revision = None
        if baseline is None and (revision := baseline_revision()) is not None:
            baseline = _checkout(revision, work / "baseline")
        runs_of = [("jdefense", jd, "generic site spider", None),
                   ("asagumo", asa, "generic site spider", None)]
        if baseline is not None:
            label = f"jdefense spider ({revision[:7] + '^' if revision else baseline})"
            runs_of.insert(0, ("jdefense", jd, label, baseline))
        # The spiders take turns, round after round (the machine is shared: a busy minute
        # then weighs on every row alike, not on the one that happened to run in it).
        results: list[list[tuple[float, int, int]]] = [[] for _ in runs_of]
        boots: list[list[float]] = [[] for _ in runs_of]
        with served(jd) as jd_url, served(asa) as asa_url:
            for _ in range(runs):
                for n, (key, root, _label, code) in enumerate(runs_of):
                    results[n].append(crawl(key, jd_url if root == jd else asa_url, work, code))
                    boots[n].append(startup(work, code))
        for n, (key, _root, label, _code) in enumerate(runs_of):
            boot = median(boots[n])
            wall = median([r[0] for r in results[n]])
            pages, new = results[n][0][1], results[n][0][2]
            table.add(key, label, pages, new, f"{wall:.1f} s", f"{boot:.1f} s",
                      f"{(wall - boot) / pages * 1000:.2f}")
    table.notes.append(
        f"Median of {runs} crawls each (the spiders taking turns), every one into a fresh "
        "SQLite store; ms per page = "
        "(wall time - interpreter and import startup) / pages fetched (robots.txt, listings, "
        "articles, date-folder probes). `defnews crawl --only KEY --base-url MIRROR "
        "--no-throttle --counter-walk 0 --max-index-pages 1000 -s "
        "CONCURRENT_REQUESTS_PER_DOMAIN=16`; the baseline is the same command with the code of "
        "the revision before the generic spider (`git archive`, on PYTHONPATH). The 朝雲 copy "
        "(Shift_JIS) links every article from its front page, 8 a day folder, each article page "
        "a latest-news box of the 10 newest (as the J-Defense copy's sidebar has 10 a tab); "
        "the J-Defense "
        "copy is bench/sitemirror.py's (section indexes, 100 a page, 次の記事/前の記事, ranking)."
    )
    return [table]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", type=Path,
                        help="a checkout to compare (default: the revision before site.py)")
    args = parser.parse_args()
    print_tables(run(args.articles, args.runs, args.baseline))


if __name__ == "__main__":
    main()
