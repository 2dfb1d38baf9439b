"""The whole job end to end: ``python -m defnews -q demo`` (serve the bundled fixture site and
feeds on 127.0.0.1, crawl them with the real spiders, store, build the feeds), run RUNS times
in one temp dir: the first run starts from an empty store, the others re-crawl into the
unchanged store (and reuse the feeds' HTTP cache, as a scheduled run does).

    .venv/bin/python bench/bench_crawl.py
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from _common import REPO, VENV_PYTHON, Table, median, print_tables

RUNS = 3
STARTUP_REPEATS = 3
PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else sys.executable)
COMMAND = [PYTHON, "-m", "defnews", "demo"]

# "  jdefense       165 pages    42 new     0 updated     0 unchanged    0 duplicates  [finished]"
SOURCE_LINE = re.compile(
    r"^\s+(?P<source>\S+)\s+(?P<pages>\d+) pages\s+(?P<new>\d+) new\s+(?P<updated>\d+) updated"
    r"\s+(?P<unchanged>\d+) unchanged\s+(?P<dups>\d+) duplicates\s+\[(?P<reason>[^\]]+)\]",
    re.MULTILINE,
)
# "Feeds in public/ (80 written, 0 unchanged, 26 feeds rendered)"
FEEDS_LINE = re.compile(
    r"^Feeds in .*\((?P<written>\d+) written, (?P<unchanged>\d+) unchanged[,)]", re.M
)
SKIPPED_LINE = re.compile(r"^\s+skipped (?P<n>\d+):", re.MULTILINE)


@dataclass
class Run:
    seconds: float
    status: int
    pages: int
    new: int
    updated: int
    unchanged: int
    duplicates: int
    skipped: int
    reasons: str
    feeds_written: int
    feeds_unchanged: int
    warnings: int


def parse_summary(stdout: str) -> dict[str, int | str]:
    sources = list(SOURCE_LINE.finditer(stdout))
    if not sources:
        raise ValueError(f"no crawl summary in the output of {' '.join(COMMAND)}:\n{stdout}")
    feeds = FEEDS_LINE.search(stdout)
    return {
        "pages": sum(int(m["pages"]) for m in sources),
        "new": sum(int(m["new"]) for m in sources),
        "updated": sum(int(m["updated"]) for m in sources),
        "unchanged": sum(int(m["unchanged"]) for m in sources),
        "duplicates": sum(int(m["dups"]) for m in sources),
        "skipped": sum(int(m["n"]) for m in SKIPPED_LINE.finditer(stdout)),
        "reasons": ", ".join(f"{m['source']}: {m['reason']}" for m in sources),
        "feeds_written": int(feeds["written"]) if feeds else -1,
        "feeds_unchanged": int(feeds["unchanged"]) if feeds else -1,
    }


def run_demo(cwd: str) -> Run:
    start = time.perf_counter()
    proc = subprocess.run(COMMAND, cwd=cwd, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(COMMAND)} exited {proc.returncode}:\n{proc.stderr}")
    summary = parse_summary(proc.stdout)
    warnings = sum(1 for line in proc.stderr.splitlines() if " WARNING: " in line)
    return Run(seconds=seconds, status=proc.returncode, warnings=warnings, **summary)  # type: ignore[arg-type]


def startup_seconds(repeats: int | None = None) -> float:
    """Interpreter start plus the imports a crawl needs (Scrapy, Twisted, lxml, the project)."""
    code = "import scrapy.crawler, crawler.spiders.jdefense, crawler.spiders.feeds, feeds.build"
    times = []
    for _ in range(repeats or STARTUP_REPEATS):
        start = time.perf_counter()
        subprocess.run([PYTHON, "-c", code], check=True, capture_output=True, cwd=REPO)
        times.append(time.perf_counter() - start)
    return min(times)


def run() -> list[Table]:
    with tempfile.TemporaryDirectory(prefix="defnews-bench-crawl-") as tmp:
        runs = [run_demo(tmp) for _ in range(RUNS)]
    startup = startup_seconds()
    table = Table(
        "End to end: `defnews -q demo`",
        [
            "run",
            "wall time",
            "pages",
            "new",
            "updated",
            "unchanged",
            "dup.",
            "skipped",
            "feed files written",
            "exit",
        ],
    )
    for i, r in enumerate(runs):
        label = "1 (empty store)" if i == 0 else f"{i + 1} (unchanged store)"
        table.add(
            label,
            f"{r.seconds:.2f} s",
            r.pages,
            r.new,
            r.updated,
            r.unchanged,
            r.duplicates,
            r.skipped,
            f"{r.feeds_written} of {r.feeds_written + r.feeds_unchanged}",
            r.status,
        )
    reruns = [r.seconds for r in runs[1:]]
    first = runs[0]
    rerun_text = f"re-runs median {median(reruns):.2f} s" if reruns else "no re-run"
    table.notes.append(
        f"First run {first.seconds:.2f} s; {rerun_text} "
        f"({first.pages / first.seconds:.0f} pages/s on the first run, wall time over "
        "everything: process start, two local HTTP servers, the crawl, the build)."
    )
    table.notes.append(
        f"Process start + imports alone (`python -c 'import scrapy.crawler, crawler.spiders…'`, "
        f"best of {STARTUP_REPEATS}): {startup:.2f} s."
    )
    table.notes.append(
        f"Command: `{' '.join(['.venv/bin/python', *COMMAND[1:]])}` with a temp dir as cwd "
        f"(store, public/ and httpcache/ live there), {RUNS} runs in a row. Pages, items, "
        "duplicates and skipped are summed over the crawlers (jdefense + feeds) from the "
        f"printed summary. The first run logged {first.warnings} warnings: the fixtures include "
        "a page and a feed entry without a date, a malformed feed and a truncated page."
    )
    return [table]


if __name__ == "__main__":
    print_tables(run())
