"""The benchmarks run on a tiny input and produce their tables (no figure is judged here:
performance is measured in bench/, never asserted in tests)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import bench_crawl_peer  # noqa: E402  (bench/ is not a package)
import run as bench_run  # noqa: E402
import sitemirror as mirror  # noqa: E402

from crawler.pages.jdefense import (  # noqa: E402
    article_number,
    parse_article,
    parse_listing,
    parse_ranking,
)


def test_mirror_lists_and_chains_every_article(tmp_path: Path) -> None:
    articles = 40  # enough for full ranking lists (10 per period)
    mirror.write_mirror(articles, tmp_path)
    pages = sorted(tmp_path.glob("docs/*/[0-9]*.html"))
    assert sorted(article_number("/" + p.relative_to(tmp_path).as_posix()) or 0 for p in pages) == list(range(1, articles + 1))
    listed: set[int] = set()
    for index in tmp_path.glob("docs/*/index*.html"):
        found = parse_listing(index.read_text(encoding="utf-8"), "https://j-defense.ikaros.jp/")
        listed |= {article_number(u) for u in found["article_urls"]} - {None}  # type: ignore[arg-type]
    assert listed == set(range(1, articles + 1))
    newest = tmp_path / "docs" / mirror.SECTIONS[articles % 3] / f"{articles:06d}.html"
    page = parse_article(newest.read_text(encoding="utf-8"), "https://j-defense.ikaros.jp/x")
    assert page["title"].endswith(f"({articles})")
    assert page["prev_url"] and page["published_raw"]
    ranking = parse_ranking(newest.read_text(encoding="utf-8"), "https://j-defense.ikaros.jp/x")
    assert sum(len(v) for v in (ranking or {}).values()) == 3 * mirror.RANKING_SIZE


def test_mirror_refuses_an_empty_site(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one article"):
        mirror.write_mirror(0, tmp_path)


def test_crawl_peer_benchmark_on_a_tiny_mirror() -> None:
    articles = 12
    [table] = bench_crawl_peer.run(articles=articles, concurrency=4, repeat=1, server_seconds=0.2)
    rows = {row[0]: row for row in table.rows}
    assert {"bare Scrapy → JSON Lines", "defnews → SQLite"} <= set(rows)
    for label, row in rows.items():
        pages, items = int(row[1].replace(",", "")), int(row[2].replace(",", ""))
        # Both crawlers reach and extract every article (plus robots.txt, home, indexes).
        assert items == articles, label
        assert pages >= articles + 4, label
    assert any("target ≥ 70%" in note for note in table.notes)
    assert any("PostgreSQL" in note for note in table.notes)


# Each benchmark registered in bench/run.py, shrunk to a tiny input: module constants to
# override, and the call (crawl_peer: the test above).
TINY: dict[str, tuple[dict[str, Any], Callable[[Any], Any]]] = {
    "dates": ({"MIX_ROUNDS": 1, "GROUP_ROUNDS": 1, "REPEATS": 1, "ADV_REPEATS": 1},
              lambda m: m.run()),
    "pages": ({"ROUNDS": 1}, lambda m: m.run()),
    "store": ({"UPSERT_REPEATS": 1, "BUILD_REPEATS": 1, "SNAPSHOTS": 2}, lambda m: m.run(20)),
    "crawl": ({"RUNS": 1, "STARTUP_REPEATS": 1}, lambda m: m.run()),
    "feeds": ({"REPEATS": 1, "SIZES": (20,)}, lambda m: m.run()),
    "feedbuild": ({"REBUILDS": 1, "FIRST_BUILDS": 1}, lambda m: m.run((200,))),
    "recrawl": ({"NEW": (0, 1)}, lambda m: m.run(12)),
    "hostile": ({"BOMB": 4 * 1024 * 1024, "ROUNDS": 10, "REPEATS": 1}, lambda m: m.run()),
    "scale": ({"REPEATS": 1, "PROCESSES": (1, 2)}, lambda m: m.run(12, 50)),
    "sites": ({}, lambda m: m.run(articles=12, runs=1)),
    "stories": ({"DEMO_WARMUP": 0}, lambda m: m.run([200], demo_runs=1)),
    "render": ({}, lambda m: m.run(12)),
}


def test_every_registered_benchmark_has_a_tiny_run() -> None:
    assert set(TINY) | {"crawl_peer"} == set(bench_run.BENCHMARKS)


@pytest.mark.parametrize("key", sorted(TINY), ids=str)
def test_benchmark_runs_on_a_tiny_input(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    module = importlib.import_module(bench_run.BENCHMARKS[key][0])
    overrides, call = TINY[key]
    for name, value in overrides.items():
        monkeypatch.setattr(module, name, value)
    tables = call(module)
    assert tables, key
    for table in tables:
        assert table.rows, f"{key}: {table.title} has no rows"
        assert all(len(row) == len(table.headers) for row in table.rows), table.title
        assert table.markdown().startswith(f"### {table.title}")
    if key == "crawl":  # figures read from the command's summary: -1 means it was not found
        assert not [c for row in tables[0].rows for c in row if c.startswith("-1")], tables[0].rows
