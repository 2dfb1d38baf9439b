"""Shared helpers of the benchmarks: timing, tables, machine description.

Not a benchmark itself. Every ``bench_*.py`` module has ``run() -> list[Table]`` (used by
``bench/run.py``) and prints its tables when run as a script.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV_PYTHON = REPO / ".venv" / "bin" / "python"


@dataclass
class Table:
    """One table of figures: what a benchmark prints and what lands in docs/benchmarks.md."""

    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: Any) -> None:
        self.rows.append([str(c) for c in cells])

    def _numeric_columns(self) -> list[bool]:
        """Right-align a column when every cell of it starts with a figure."""
        return [
            bool(self.rows) and all(not r[i] or r[i][0].isdigit() for r in self.rows)
            for i in range(len(self.headers))
        ]

    def text(self) -> str:
        widths = [
            max(_width(h), *(_width(r[i]) for r in self.rows)) if self.rows else _width(h)
            for i, h in enumerate(self.headers)
        ]

        right = self._numeric_columns()

        def line(cells: Sequence[str]) -> str:
            out = []
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True)):
                pad = " " * (w - _width(cell))
                out.append(pad + cell if right[i] else cell + pad)
            return "  ".join(out).rstrip()

        parts = [self.title, "-" * len(self.title), line(self.headers)]
        parts += [line(r) for r in self.rows]
        parts += [f"  {n}" for n in self.notes]
        return "\n".join(parts) + "\n"

    def markdown(self) -> str:
        parts = [f"### {self.title}", ""]
        parts.append("| " + " | ".join(self.headers) + " |")
        parts.append("|" + "|".join("---:" if r else "---" for r in self._numeric_columns()) + "|")
        for r in self.rows:
            parts.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
        if self.notes:
            parts.append("")
            parts += [f"- {n}" for n in self.notes]
        return "\n".join(parts) + "\n"


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def print_tables(tables: Sequence[Table]) -> None:
    for t in tables:
        print(t.text())


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call of ``fn`` takes (perf_counter, GC off during the call), and its result."""
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()
    return elapsed, result


def repeat(fn: Callable[[], Any], times: int) -> list[float]:
    """Seconds of each of ``times`` calls of ``fn``."""
    return [timed(fn)[0] for _ in range(times)]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * p // 100)))
    return ordered[int(rank) - 1]


def fmt_s(seconds: float) -> str:
    """A duration with a unit that keeps 3 significant figures."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def fmt_rate(count: float, seconds: float, unit: str) -> str:
    rate = count / seconds if seconds > 0 else float("inf")
    if rate >= 100:
        return f"{rate:,.0f} {unit}/s"
    return f"{rate:.3g} {unit}/s"


def machine() -> dict[str, str]:
    """nproc, CPU model, Python, Scrapy and lxml versions of this machine."""
    import lxml.etree
    import scrapy

    cpu = platform.processor() or platform.machine()
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "CPU": cpu,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "Scrapy": scrapy.__version__,
        "lxml": lxml.etree.__version__,
        "libxml2": ".".join(map(str, lxml.etree.LIBXML_VERSION)),
    }


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, theirs...), read from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found
