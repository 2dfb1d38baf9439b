"""crawler/coverage.py: per-field coverage and layer shares from crawl stats."""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler.coverage import coverage_lines, coverage_table, record


def stats_for(provenances: list[dict[str, str]], minimum: float = 0.9) -> dict:
    stats = MemoryStatsCollector(get_crawler())
    for p in provenances:
        record(stats, p, minimum)
    return stats.get_stats()


def test_table_counts_layers_and_missing_fields() -> None:
    stats = stats_for(
        [{"title": "hints", "labels": "structure"}] * 3 + [{"title": "metadata"}]
    )
    table = {row.field: row for row in coverage_table(stats)}
    assert table["title"].share == 1.0 and table["title"].layers == {"hints": 3, "metadata": 1}
    assert table["labels"].found == 3 and table["labels"].articles == 4
    assert table["published"].found == 0
    assert list(table)[:5] == ["title", "published", "labels", "body", "summary"]


def test_lines_warn_under_the_minimum() -> None:
    stats = stats_for([{"title": "hints", "labels": "structure"}] * 8 + [{"title": "text"}] * 2,
                      minimum=0.9)
    lines = coverage_lines(stats)
    assert lines[0].startswith("title") and "hints 80%" in lines[0] and "text 20%" in lines[0]
    warnings = [line for line in lines if line.startswith("WARNING")]
    assert any(w.startswith("WARNING: labels found on 80%") for w in warnings)
    assert not any("title" in w for w in warnings)
    assert not [w for w in coverage_lines(stats, minimum=0.0) if w.startswith("WARNING: labels")]


def test_no_articles_no_lines() -> None:
    assert coverage_lines({}) == []
