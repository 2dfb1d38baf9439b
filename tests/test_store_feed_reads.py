"""The store reads the feed builder uses: newest N per feed from an index, labels and sources
by skip-scan, per-source activity and rank history (crawler/store.py), on SQLite and
PostgreSQL (the ``store`` fixture of conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawler.items import ArticleItem, RankingEntry, RankingItem
from crawler.store import SQLiteStore, SQLStore

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _item(i: int, labels: list[str], *, dated: bool = True, source: str = "a") -> ArticleItem:
    return ArticleItem(
        url=f"https://example.jp/{i}",
        id=f"id{i:03d}",
        title=f"t{i}",
        source=source,
        # Pairs of articles share a date: the id breaks the tie.
        published=T0 + timedelta(hours=i // 2) if dated else None,
        categories=labels,
    )


@pytest.fixture
def filled(store: SQLStore) -> SQLStore:
    for i in range(60):
        labels = ["common"] + (["rare"] if i in (3, 30, 31) else [])
        store.upsert_article(_item(i, labels, source="ab"[i % 2]), now=T0 + timedelta(minutes=i))
    store.upsert_article(_item(98, ["rare", "common"], dated=False), now=T0)
    store.upsert_article(_item(99, ["solo"], source="c"), now=T0 + timedelta(days=9))
    return store


def _expected(store: SQLStore, *, category=None, source=None, limit=None) -> list[str]:
    rows = [a for a in store.articles() if (category is None or category in a.categories)
            and (source is None or a.source == source)]
    dated = sorted((a for a in rows if a.published), key=lambda a: a.id)
    dated.sort(key=lambda a: a.published, reverse=True)
    undated = sorted(a.id for a in rows if not a.published)
    ids = [a.id for a in dated] + undated
    return ids if limit is None else ids[:limit]


@pytest.mark.parametrize("walk", [True, False], ids=["index-walk", "sort-few"])
def test_articles_by_category_newest_first_with_either_plan(filled, monkeypatch, walk) -> None:
    monkeypatch.setattr(type(filled), "_common_label", lambda self, label, limit: walk)
    for label in ("common", "rare", "solo", "missing"):
        for limit in (1, 5, 70, None):
            got = [a.id for a in filled.articles(category=label, limit=limit)]
            assert got == _expected(filled, category=label, limit=limit), (label, limit)


def test_the_plan_follows_how_common_the_label_is(filled) -> None:
    if not isinstance(filled, SQLiteStore):
        pytest.skip("SQLite's plan choice: PostgreSQL's planner chooses by its statistics")
    store = filled
    # 61 rows, limit 5: sqrt(5 * 61) ~ 17 matches make a label common.
    assert store._common_label("common", 5) is True
    assert store._common_label("rare", 5) is False
    plan = " ".join(
        str(r[3]) for r in store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT a.id FROM articles a WHERE a.source = ?"
            " ORDER BY a.published_utc DESC NULLS LAST, a.id LIMIT 5", ("a",)
        )
    )
    assert "articles_source_published" in plan and "TEMP B-TREE" not in plan


def test_articles_by_source(filled) -> None:
    for source in ("a", "b", "c"):
        assert [a.id for a in filled.articles(source=source, limit=7)] == _expected(
            filled, source=source, limit=7
        )


def test_labels_and_sources_by_skip_scan(filled) -> None:
    assert filled.category_labels() == sorted(filled.categories())
    assert filled.source_keys() == sorted(filled.sources())


def test_source_activity(filled) -> None:
    store = filled
    count, last = store.source_activity("a")
    assert last == T0 + timedelta(minutes=58)  # the even ones are source "a"
    assert count == 31  # all within 24 hours of it: 30 of the 60, and the undated one
    assert store.source_activity("c") == (1, T0 + timedelta(days=9))
    assert store.source_activity("c", window_hours=0) == (0, T0 + timedelta(days=9))
    assert store.source_activity("nope") == (0, None)


def test_ranking_history_is_one_point_per_change_oldest_first(filled) -> None:
    store = filled

    def snapshot(hour: int, first: str) -> None:
        store.add_ranking_snapshot(RankingItem(
            source="a", captured_at=T0 + timedelta(hours=hour),
            lists={"24h": [RankingEntry(1, "x", "https://example.jp/1", first),
                           RankingEntry(2, "y", "https://example.jp/2", "id050")]},
        ))

    for hour, first in [(0, "id000"), (1, "id001"), (2, "id002"), (3, "id002"), (4, "id003"),
                        (5, "id003")]:
        snapshot(hour, first)
    history = store.ranking_history("a", snapshots=2)
    # The lists changed at hours 0, 1, 2 and 4; hours 3 and 5 repeated them (re-crawls).
    assert history == [
        (T0 + timedelta(hours=2), "24h", 1, "id002"),
        (T0 + timedelta(hours=2), "24h", 2, "id050"),
        (T0 + timedelta(hours=4), "24h", 1, "id003"),
        (T0 + timedelta(hours=4), "24h", 2, "id050"),
    ]
    assert len(store.ranking_history("a")) == 8  # 4 changes, 2 positions each
    assert store.ranking_history("b") == []
