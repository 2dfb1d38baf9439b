"""The store: upserts never duplicate, re-runs change nothing, ranking history is kept."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest

from crawler.items import ArticleItem, Image, RankingEntry, RankingItem
from crawler.urls import id_for_url

JST = timezone(timedelta(hours=9))
T0 = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)


def article(n: int, **overrides) -> ArticleItem:
    url = f"https://j-defense.ikaros.jp/docs/mod/{n:06d}.html"
    data = dict(
        url=url,
        id=id_for_url(url),
        title=f"記事 {n}",
        source="jdefense",
        published=datetime(2025, 1, 1, 9, 0, tzinfo=JST) + timedelta(hours=n),
        categories=["日本の防衛"],
        summary="要約",
        content_html="<p>本文</p>",
        images=[Image(url="https://j-defense.ikaros.jp/images/a.jpg", caption="写真:防衛省")],
    )
    data.update(overrides)
    return ArticleItem(**data)


def test_insert_then_unchanged_then_updated(store):
    first = store.upsert_article(article(1), now=T0)
    assert first.status == "new" and first.first_seen == T0
    again = store.upsert_article(article(1), now=T0 + timedelta(days=1))
    assert again.status == "unchanged"
    assert again.first_seen == T0
    edited = store.upsert_article(article(1, title="記事 1 (訂正)"), now=T0 + timedelta(days=2))
    assert edited.status == "updated"
    assert edited.first_seen == T0
    assert store.count_articles() == 1
    stored = store.get_article(first.id)
    assert stored is not None
    assert stored.title == "記事 1 (訂正)"
    assert stored.first_seen == T0


def test_round_trip_keeps_aware_dates_and_fields(store):
    item = article(2, author="影本賢治 KAGEMOTO Kenji", categories=["ニュース解説", "特集"])
    store.upsert_article(item, now=T0)
    back = store.get_article(item.id)
    assert back is not None
    assert back.published == datetime(2025, 1, 1, 11, 0, tzinfo=JST)
    assert back.published.utcoffset() == timedelta(hours=9)
    assert back.categories == ["ニュース解説", "特集"]
    assert back.images == [Image(url="https://j-defense.ikaros.jp/images/a.jpg", caption="写真:防衛省")]
    assert back.author == "影本賢治 KAGEMOTO Kenji"


def test_unchanged_rerun_writes_nothing(store):
    for n in range(5):
        store.upsert_article(article(n), now=T0)
    before = store.dump_articles()
    for n in range(5):
        assert store.upsert_article(article(n), now=T0 + timedelta(hours=5)).status == "unchanged"
    assert store.dump_articles() == before


def test_articles_newest_first_by_category_and_limit(store):
    store.upsert_article(article(1), now=T0)
    store.upsert_article(article(3, categories=["その他"]), now=T0)
    store.upsert_article(article(2, categories=["日本の防衛", "特集"]), now=T0)
    assert [a.title for a in store.articles()] == ["記事 3", "記事 2", "記事 1"]
    assert [a.title for a in store.articles(category="日本の防衛")] == ["記事 2", "記事 1"]
    assert [a.title for a in store.articles(limit=1)] == ["記事 3"]
    assert store.categories() == {"その他": 1, "日本の防衛": 2, "特集": 1}
    assert store.sources() == {"jdefense": 3}


def test_order_is_by_instant_not_by_written_offset(store):
    # 10:00+09:00 is 01:00Z, earlier than 02:00Z written in UTC.
    store.upsert_article(article(1, published=datetime(2025, 1, 1, 10, 0, tzinfo=JST)), now=T0)
    store.upsert_article(article(2, published=datetime(2025, 1, 1, 2, 0, tzinfo=UTC)), now=T0)
    assert [a.title for a in store.articles()] == ["記事 2", "記事 1"]


def test_guid_keeps_identity_when_link_changes(store):
    a = article(1, source="navalnews", guid="tag:navalnews,2025:1")
    store.upsert_article(a, now=T0)
    moved_url = "https://j-defense.ikaros.jp/docs/mod/000001-moved.html"
    moved = article(1, source="navalnews", guid="tag:navalnews,2025:1", url=moved_url,
                    id=id_for_url(moved_url))
    result = store.upsert_article(moved, now=T0 + timedelta(hours=1))
    assert result.status == "updated"
    assert result.id == a.id
    assert store.count_articles() == 1
    assert store.get_article(a.id).url == moved_url


def test_same_story_from_another_source_is_one_item(store):
    store.upsert_article(article(1), now=T0)
    other = article(1, source="otherfeed", title="別の見出し")
    assert store.upsert_article(other, now=T0).status == "duplicate"
    assert store.count_articles() == 1
    assert store.get_article(other.id).title == "記事 1"


def test_higher_priority_source_takes_a_shared_story_over(store):
    priority = {"first": 0, "second": 1}
    store.upsert_article(article(1, source="second", title="second's title"), now=T0,
                         priority=priority)
    taken = store.upsert_article(article(1, source="first", title="first's title"),
                                 now=T0 + timedelta(hours=1), priority=priority)
    assert taken.status == "updated" and taken.first_seen == T0
    back = store.upsert_article(article(1, source="second", title="second again"),
                                now=T0 + timedelta(hours=2), priority=priority)
    assert back.status == "duplicate"
    stored = store.get_article(taken.id)
    assert (stored.source, stored.title) == ("first", "first's title")
    assert store.sources() == {"first": 1}


def ranking(captured_at: datetime, lists: dict[str, list[int]]) -> RankingItem:
    def entry(rank: int, n: int) -> RankingEntry:
        url = f"https://j-defense.ikaros.jp/docs/mod/{n:06d}.html"
        return RankingEntry(rank=rank, title=f"記事 {n}", url=url, id=id_for_url(url))

    return RankingItem(
        source="jdefense",
        captured_at=captured_at,
        lists={p: [entry(i + 1, n) for i, n in enumerate(ns)] for p, ns in lists.items()},
    )


def test_ranking_history_entrances_and_stints(store):
    lists = {"24h": [1, 2, 3], "1w": [2, 1, 4], "1m": [4, 5, 1]}
    entered = store.add_ranking_snapshot(ranking(T0, lists))
    assert len(entered) == 9
    # Unchanged ranking: a new snapshot, no new entrance.
    assert store.add_ranking_snapshot(ranking(T0 + timedelta(hours=1), lists)) == []
    view = store.latest_ranking("jdefense")
    assert view is not None
    assert view.changed_at == T0 and view.captured_at == T0 + timedelta(hours=1)
    # Article 6 enters the 24h list at rank 1; article 3 leaves it.
    changed = {"24h": [6, 1, 2], "1w": [2, 1, 4], "1m": [4, 5, 1]}
    entered = store.add_ranking_snapshot(ranking(T0 + timedelta(hours=2), changed))
    assert [(e.period, e.article_id, e.entered_rank) for e in entered] == [
        ("24h", id_for_url("https://j-defense.ikaros.jp/docs/mod/000006.html"), 1)
    ]
    view = store.latest_ranking("jdefense")
    assert view.changed_at == T0 + timedelta(hours=2)
    assert [r.rank for r in view.lists["24h"]] == [1, 2, 3]
    assert [r.title for r in view.lists["24h"]] == ["記事 6", "記事 1", "記事 2"]
    # Article 1 slipped from rank 1 to rank 2 in 24h: its stint goes on, best rank stays 1.
    a1 = id_for_url("https://j-defense.ikaros.jp/docs/mod/000001.html")
    stint = [s for s in store.ranking_stints("jdefense", a1) if s.period == "24h"][0]
    assert (stint.best_rank, stint.snapshots, stint.active) == (1, 3, True)
    a3 = id_for_url("https://j-defense.ikaros.jp/docs/mod/000003.html")
    (left,) = store.ranking_stints("jdefense", a3)
    assert (left.snapshots, left.active) == (2, False)
    # Re-entering opens a second stint: a second entrance.
    back = store.add_ranking_snapshot(ranking(T0 + timedelta(hours=3), lists))
    assert {(e.period, e.article_id) for e in back} == {("24h", a3)}
    assert len(store.ranking_entrances("jdefense")) == 9 + 1 + 1
    assert store.count_snapshots("jdefense") == 4


def test_ranking_joins_stored_articles(store):
    store.upsert_article(article(1), now=T0)
    store.add_ranking_snapshot(ranking(T0, {"24h": [1, 2], "1w": [], "1m": []}))
    view = store.latest_ranking("jdefense")
    first, second = view.lists["24h"]
    assert first.article is not None and first.article.title == "記事 1"
    assert second.article is None


def _integrity_errors() -> tuple[type[Exception], ...]:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the test extra installs it
        return (sqlite3.IntegrityError,)
    return (sqlite3.IntegrityError, psycopg.IntegrityError)


def test_failed_write_rolls_back(store):
    store.upsert_article(article(1), now=T0)
    before = store.dump_articles()
    broken = article(2)
    broken.categories = [None]  # type: ignore[list-item]  # NOT NULL violation mid-transaction
    with pytest.raises(_integrity_errors()):
        store.upsert_article(broken, now=T0)
    assert store.dump_articles() == before


def test_batch_gives_one_result_per_item_in_order(store):
    priority = {"jdefense": 0, "otherfeed": 1}
    store.upsert_articles([article(1), article(2)], now=T0, priority=priority)
    batch = [
        article(3),                                        # new
        article(2, title="記事 2 (訂正)"),                   # updated
        article(1),                                        # unchanged
        article(1, source="otherfeed", title="別の見出し"),  # duplicate (lower priority)
        article(4, guid="g-4"),                            # new, with a guid
    ]
    results = store.upsert_articles(batch, now=T0 + timedelta(hours=1), priority=priority)
    assert [r.status for r in results] == ["new", "updated", "unchanged", "duplicate", "new"]
    assert [r.id for r in results] == [a.id for a in batch]
    assert results[1].first_seen == T0 and results[0].first_seen == T0 + timedelta(hours=1)
    assert store.count_articles() == 4
    assert store.get_article(batch[1].id).title == "記事 2 (訂正)"


def test_failed_batch_rolls_back_every_item(store):
    store.upsert_article(article(1), now=T0)
    before = store.dump_articles()
    broken = article(3)
    broken.categories = [None]  # type: ignore[list-item]
    with pytest.raises(_integrity_errors()):
        store.upsert_articles([article(2), broken, article(1, title="changed")], now=T0)
    assert store.dump_articles() == before


def _write_all(location: str, source: str, seed: int, barrier, out) -> None:
    import random

    from crawler.store import open_store

    items = [article(n, source=source, title=f"{source} {n}") for n in range(150)]
    random.Random(seed).shuffle(items)
    statuses: list[str] = []
    with open_store(location) as s:
        barrier.wait()
        for start in range(0, len(items), 25):
            results = s.upsert_articles(items[start:start + 25], now=T0,
                                        priority={"s0": 0, "s1": 1, "s2": 2})
            statuses += [r.status for r in results]
    out.put(statuses)


def test_concurrent_writers_never_duplicate(store_location):
    """Three processes write the same 150 stories (one source each, shuffled, in batches):
    each story is new exactly once in total, and the first-listed source owns every one."""
    import multiprocessing

    from crawler.store import open_store

    open_store(store_location).close()
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(3), ctx.Queue()
    procs = [ctx.Process(target=_write_all, args=(store_location, f"s{k}", k, barrier, out))
             for k in range(3)]
    for p in procs:
        p.start()
    statuses = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    assert sum(st.count("new") for st in statuses) == 150
    with open_store(store_location) as s:
        assert s.count_articles() == 150
        assert s.sources() == {"s0": 150}
        assert s._query("SELECT COUNT(*) FROM article_categories")[0][0] == 150


def test_articles_without_a_date_come_last(store):
    store.upsert_article(article(1, published=None), now=T0)
    store.upsert_article(article(2), now=T0)
    store.upsert_article(article(3), now=T0)
    assert [a.title for a in store.articles()] == ["記事 3", "記事 2", "記事 1"]


@pytest.mark.parametrize("seed", [1, 2, 3], ids=["seed1", "seed2", "seed3"])
def test_batches_give_what_one_at_a_time_gives(store, tmp_path, seed):
    """Random streams (repeated stories, edits, three sources, guids that move their link):
    the batched path's results and rows equal one upsert at a time into a SQLite store."""
    import random

    rnd = random.Random(seed)
    priority = {"s0": 0, "s1": 1, "s2": 2}
    stream = []
    for _ in range(120):
        n = rnd.randrange(12)
        source = f"s{rnd.randrange(3)}"
        extra = {"guid": f"g{n}"} if source == "s2" else {}
        if extra and rnd.random() < 0.3:  # same guid, a link that moved
            url = f"https://j-defense.ikaros.jp/docs/others/{n:06d}.html"
            extra.update(url=url, id=id_for_url(url))
        stream.append(article(n, source=source, title=f"t{n}-{rnd.randrange(3)}",
                              categories=rnd.sample(["a", "b", "c"], rnd.randrange(1, 3)), **extra))
    from copy import deepcopy

    from crawler.store import SQLiteStore

    reference = SQLiteStore(tmp_path / "reference.sqlite3")
    step = T0
    for start in range(0, len(stream), 17):
        batch = stream[start:start + 17]
        expected = [reference.upsert_article(a, now=step, priority=priority) for a in deepcopy(batch)]
        assert store.upsert_articles(deepcopy(batch), now=step, priority=priority) == expected
        step += timedelta(minutes=1)
    assert store.dump_articles() == reference.dump_articles()
    assert store.categories() == reference.categories()
    assert store._query("SELECT source, guid, article_id FROM article_guids ORDER BY 1, 2") == [
        tuple(r) for r in reference._query("SELECT source, guid, article_id FROM article_guids ORDER BY 1, 2")
    ]
    reference.close()


def _link_writer(location: str, reverse: bool, barrier, out) -> None:
    from crawler.store import open_store

    urls = [f"https://j-defense.ikaros.jp/docs/others/{n:06d}.html" for n in range(400)]
    if reverse:
        urls.reverse()
    errors: list[str] = []
    with open_store(location) as s:
        barrier.wait()
        for round_ in range(6):
            try:
                s.record_archive_links("jdefense", urls, at=T0)
                s.forget_archive_links("jdefense", urls[round_ % 2::2])
            except Exception as exc:  # the assertion below names it
                errors.append(f"{type(exc).__name__}: {exc}")
    out.put(errors)


def test_concurrent_archive_link_writers_do_not_deadlock(store_location):
    """Two crawl processes on one frontier note and forget overlapping archive links, each in
    its own order (the order their pages link them): neither write fails (a PostgreSQL
    deadlock stopped a crawl with exit 2), and the links end as the last writes left them."""
    import multiprocessing

    from crawler.store import open_store

    open_store(store_location).close()
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_link_writer, args=(store_location, rev, barrier, out))
             for rev in (False, True)]
    for p in procs:
        p.start()
    errors = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    assert errors == [[], []]
    with open_store(store_location) as s:
        left = s.archive_links("jdefense")
    assert left <= {f"https://j-defense.ikaros.jp/docs/others/{n:06d}.html" for n in range(400)}
