"""Smoke test of the feed-build benchmark on a tiny store (no timing is asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_feed_build_benchmark_runs_on_a_tiny_store(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    import bench_feed_build

    figures = bench_feed_build.child(200, tmp_path)
    assert figures["files"] > 0 and figures["peak_mb"] > 0
    assert figures["rebuild"] >= 0 and figures["first"] > 0
    sys.modules.pop("bench_feed_build", None)
