"""Script-rendered pages (crawler/render.py): a generated 1,000-article copy of the site whose
home list, section indexes and ranking sidebar are filled by scripts from JSON
(scripts/scripted_site.py), crawled with ``--render auto``; the same copy served as plain HTML
(``--render auto`` too: nothing lacks, nothing is rendered); the scripted copy with
``--render always`` (every page through Chromium).

    .venv/bin/python bench/bench_render.py [ARTICLES] [--no-always] [--only-auto] [-s NAME=VALUE]

``--no-always`` skips the ``--render always`` crawl (about 2 minutes), ``--only-auto`` the
plain copy too (while working on rendering); ``-s NAME=VALUE`` passes a setting to every crawl
(``-s DEFNEWS_RENDER_MAX_PAGES=2``: what a setting changes).

Per crawl: wall time of ``defnews crawl --no-throttle --counter-walk 0 --max-index-pages
1000`` (process start to exit), articles stored, pages fetched (responses, a rendered page
counted once more for its served HTML), pages rendered and their share, articles/s and pages/s,
the CPU time of the crawl's process tree, and the peak memory of the crawl's whole process
tree, Chromium's processes included (the sum of their proportional set sizes,
/proc/PID/smaps_rollup, sampled every SAMPLE_EVERY s).
Floor (issue #21): ``auto`` renders only listing pages, at ≥ 0.5× the plain copy's
articles/s, under 1 GiB.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import sitemirror
from _common import REPO, VENV_PYTHON, Table, descendants, fmt_rate

ARTICLES = 1000
PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else sys.executable)
SUMMARY = re.compile(r"^\s+jdefense\s+(?P<pages>\d+) pages\s+(?P<new>\d+) new", re.M)
# How often the crawl's memory is sampled: reading smaps_rollup of the ~20 processes of a
# rendering crawl costs about 24 ms of CPU (measured: 100 samples of a browser with six pages);
# every 50 ms that was half a core taken from the crawl it measured, and only from the crawls
# that render (the plain crawl is one process). Chromium's memory grows by pages opened, not in
# bursts of a few milliseconds.
SAMPLE_EVERY = 0.5
RENDERED = re.compile(r"rendered (?P<n>\d+) page\(s\) in the browser \((?P<kinds>[^)]*)\)")


def _scripted_site() -> Any:
    spec = importlib.util.spec_from_file_location("scripted_site", REPO / "scripts" / "scripted_site.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pss(pid: int) -> int:
    """Proportional set size of one process in bytes (RSS where smaps_rollup is unreadable)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def tree_memory(pid: int) -> int:
    """PSS of ``pid`` and every process below it."""
    return sum(_pss(p) for p in [pid, *descendants(pid)])


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def crawl(url: str, store: Path, mode: str, settings: tuple[str, ...] = ()) -> dict[str, Any]:
    command = [PYTHON, "-m", "defnews", "crawl", "--only", "jdefense", "--base-url", url,
               "--store", str(store), "--no-throttle", "--counter-walk", "0",
               "--max-index-pages", "1000", "--render", mode]
    for setting in settings:
        command += ["-s", setting]
    cpu = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=store.parent, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_memory(proc.pid))
            done.wait(SAMPLE_EVERY)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate(timeout=1800)
    seconds = time.perf_counter() - start
    # The crawl's whole tree (Chromium's processes are reaped below it): the server, another
    # child of this process, is waited for only after the crawl.
    cpu = _children_cpu() - cpu
    done.set()
    sampler.join()
    m = SUMMARY.search(out)
    r = RENDERED.search(out)
    if m is None:  # (a summary format or flag change must fail the benchmark, not read -1)
        raise RuntimeError(f"no crawl summary (exit {proc.returncode}):\n{out}\n{err[-3000:]}")
    return {
        "status": proc.returncode, "seconds": seconds, "cpu": cpu, "peak": peak,
        "pages": int(m["pages"]) if m else -1, "new": int(m["new"]) if m else -1,
        "rendered": int(r["n"]) if r else 0, "kinds": r["kinds"] if r else "",
        "stderr": err[-2000:],
    }


def run(articles: int = ARTICLES, *, always: bool = True, plain: bool = True,
        extra: tuple[str, ...] = ()) -> list[Table]:
    sys.path.insert(0, str(REPO))
    from scrapy.settings import Settings

    from crawler import render

    settings = Settings()
    settings.setmodule("crawler.settings")
    unavailable = render.unavailable(settings)
    scripted_site = _scripted_site()
    table = Table(
        f"Script-rendered pages: {articles:,} articles, --render auto against plain HTML and "
        "--render always",
        ["copy, mode", "articles", "pages", "rendered", "share rendered", "articles/s",
         "pages/s", "wall", "CPU", "peak memory"],
    )
    figures: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="defnews-bench-render-") as tmp:
        plain_dir, scripted_dir = Path(tmp) / "plain", Path(tmp) / "scripted"
        files = sitemirror.mirror_files(articles)
        scripted_site.write_folder(files, plain_dir)
        scripted_site.write_folder(scripted_site.scripted(files), scripted_dir)
        runs = [("plain HTML, auto", plain_dir, "auto")] if plain else []
        runs.append(("scripted, auto", scripted_dir, "auto"))
        if unavailable is None and always:
            runs.append(("scripted, always", scripted_dir, "always"))
        for label, root, mode in runs:
            work = Path(tmp) / label.replace(" ", "").replace(",", "-")
            work.mkdir()
            with sitemirror.served(root) as url:
                f = crawl(url, work / "s.sqlite3", mode, extra)
            figures[label] = f
            print(f"{label}: {f}", file=sys.stderr, flush=True)  # (the always run is long)
            share = f["rendered"] / f["pages"] if f["pages"] > 0 else 0.0
            table.add(
                label + ("" if f["status"] == 0 else f" (exit {f['status']})"),
                f"{f['new']:,}", f"{f['pages']:,}",
                f"{f['rendered']:,}" + (f" ({f['kinds']})" if f["kinds"] else ""),
                f"{share:.1%}", fmt_rate(f["new"], f["seconds"], "articles"),
                fmt_rate(f["pages"], f["seconds"], "pages"), f"{f['seconds']:.1f} s",
                f"{f['cpu']:.1f} s",
                f"{f['peak'] / 2**20:,.0f} MiB",
            )
    plain, auto = figures.get("plain HTML, auto", {}), figures["scripted, auto"]
    if plain and plain["seconds"] > 0 and auto["seconds"] > 0 and plain["new"] > 0:
        ratio = (auto["new"] / auto["seconds"]) / (plain["new"] / plain["seconds"])
        table.notes.append(
            f"auto on the scripted copy: {ratio:.2f}× the plain copy's articles/s (floor ≥ 0.5×); "
            f"rendered: {auto['kinds'] or 'nothing'} (floor: listing pages only); peak "
            f"{auto['peak'] / 2**20:,.0f} MiB (floor < 1,024 MiB).")
    if unavailable is None and not (always and plain):
        table.notes.append("--render always was not run (--no-always)" if plain
                           else "Only the scripted copy with --render auto (--only-auto).")
    if unavailable is not None:
        table.notes.append(f"No rendering here ({unavailable}): the scripted copy's listing "
                           "pages were not read, and --render always was not run.")
    table.notes.append(
        "Each: `defnews crawl --only jdefense --no-throttle --counter-walk 0 "
        "--max-index-pages 1000 --render MODE` against the copy served from memory by "
        "bench/sitemirror.py; peak memory: PSS summed over the crawl's process tree (Python, "
        "Playwright's driver, Chromium's processes), sampled every "
        f"{SAMPLE_EVERY * 1000:.0f} ms; CPU: user + system "
        "time of that tree (2 cores: CPU above the wall time is both cores busy)."
        + (f" Settings: {', '.join(extra)}." if extra else ""))
    return [table]


def main(argv: list[str] | None = None) -> int:
    from _common import print_tables

    parser = argparse.ArgumentParser(
        description="Script-rendered pages: --render auto against plain HTML and --render always")
    parser.add_argument("articles", nargs="?", type=int, default=ARTICLES)
    parser.add_argument("--no-always", action="store_true",
                        help="skip the --render always crawl (about 2 minutes)")
    parser.add_argument("--only-auto", action="store_true",
                        help="only the scripted copy with --render auto")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting passed to every crawl (defnews crawl -s)")
    args = parser.parse_args(argv)
    print_tables(run(args.articles, always=not (args.no_always or args.only_auto),
                     plain=not args.only_auto, extra=tuple(args.set)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
