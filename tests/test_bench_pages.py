"""Smoke test of the page-parser benchmark on a few pages (no timing is asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_pages_benchmark_peers_and_profile_run_on_a_few_pages(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    import bench_pages

    monkeypatch.setattr(bench_pages, "ROUNDS", 1)
    pages = bench_pages.article_pages()[:3]
    table = bench_pages._peers(pages)
    names = [row[0] for row in table.rows]
    assert names[:3] == [
        "lxml.html.fromstring (bare parse)",
        "parse_html(plain=True) (parse_article's own parse)",
        "parse_article",
    ]
    out = tmp_path / "profile.txt"
    monkeypatch.setattr(bench_pages, "article_pages", lambda: pages)
    bench_pages.profile(str(out), rounds=1)
    text = out.read_text(encoding="utf-8")
    # The reader's phases are named in it (crawler/pages/reader.py: segment, choose_date...).
    assert "parse_article" in text and "segment" in text and "choose_date" in text
    sys.modules.pop("bench_pages", None)
