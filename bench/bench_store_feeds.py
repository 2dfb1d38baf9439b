"""The store and the feed builder: upsert N synthetic articles (new, then an unchanged re-run),
then build_feeds over that store (first build, then an unchanged rebuild). SQLite in a temp
dir; PostgreSQL too when reachable at $DEFNEWS_BENCH_POSTGRES (default
postgresql://postgres@127.0.0.1:5432/test), in a throwaway schema that is dropped afterwards.

    .venv/bin/python bench/bench_store_feeds.py [N]
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from functools import cache, partial
from pathlib import Path

from _common import Table, fmt_rate, fmt_s, median, print_tables, timed

from crawler.items import ArticleItem, DateProvenance, Image, RankingEntry, RankingItem
from crawler.sources import load_sources
from crawler.store import SQLiteStore, SQLStore, open_store
from crawler.urls import id_for_url
from feeds.build import build_feeds
from feeds.config import FeedConfig

N = 5_000
LIMIT = 50
BUILD_REPEATS = 3
UPSERT_REPEATS = 3
SNAPSHOTS = 5  # ranking snapshots, so that the ranking feeds have entries
PG_DSN = os.environ.get("DEFNEWS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")

JST = timezone(timedelta(hours=9))
T0 = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
LABELS = [
    "日本の防衛", "陸上", "海上", "航空", "宇宙・サイバー",
    "防衛産業", "国際", "防衛省関連", "ニュース解説", "特集",
]  # fmt: skip
SOURCES = [
    ("jdefense", "https://j-defense.ikaros.jp/docs/{section}/{n:06d}.html"),
    ("fleetwatch", "https://fleetwatch.example/news/2025/{n}.html"),
    ("defensewire", "https://defensewire.example/articles/{n}-story"),
]
SECTIONS = ("mod", "commentary", "others")
SENTENCES = [
    "防衛省 統合幕僚監部は令和7(2025)年10月28日(火)、中国海軍の艦艇の動向について公表した。",
    "海上自衛隊第1ミサイル艇隊所属の「おおたか」が、与那国島の南約80kmの海域を北東に進む艦艇を確認した。",
    "訓練には陸上自衛隊の第1空挺団など約1,200名、車両約150両、航空機約20機が参加する。",
    "防衛大臣は記者会見で、令和8年度予算の概算要求について説明した。",
    "同艦は全長約155m、満載排水量約7,500トンで、垂直発射装置を64セル備える。",
    "The ministry said the exercise would continue through the end of the month.",
]


@cache  # built once per article: the benchmark makes each article 6 times
def _content(n: int, target_bytes: int = 5_000) -> str:
    """~target_bytes of article HTML (UTF-8), a little different for every article."""
    parts: list[str] = []
    size = 0
    i = n
    while size < target_bytes:
        paragraph = "".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(3))
        block = f"<p>{paragraph}（{n}-{i}）</p>\n"
        if i % 4 == 0:
            block += (
                f'<figure><img src="https://img.example/{n}/{i}.jpg" alt="">'
                f"<figcaption>写真:防衛省（{i}）</figcaption></figure>\n"
            )
        parts.append(block)
        size += len(block.encode("utf-8"))
        i += 1
    return "".join(parts)


def make_article(n: int) -> ArticleItem:
    """One synthetic article: 1-2 of 10 labels, one of 3 sources, ~5 KB of content."""
    source, pattern = SOURCES[n % len(SOURCES)]
    url = pattern.format(n=n, section=SECTIONS[n % len(SECTIONS)])
    published = datetime(2024, 1, 1, 9, 0, tzinfo=JST) + timedelta(minutes=97 * n)
    labels = [LABELS[n % len(LABELS)]]
    if n % 3 == 0:
        labels.append(LABELS[(n * 7 + 3) % len(LABELS)])
    return ArticleItem(
        url=url,
        id=id_for_url(url),
        title=f"記事 {n}: 海上自衛隊の護衛艦が共同訓練に参加、令和7年度の計画を公表",
        source=source,
        published=published,
        updated=published + timedelta(hours=2) if n % 5 == 0 else None,
        categories=list(dict.fromkeys(labels)),
        author="影本賢治 KAGEMOTO Kenji" if source == "jdefense" else None,
        summary=SENTENCES[n % len(SENTENCES)] + SENTENCES[(n + 1) % len(SENTENCES)],
        content_html=_content(n),
        images=[
            Image(url=f"https://img.example/{n}/{k}.jpg", caption=f"写真:防衛省（{k}）")
            for k in range(1 + n % 3)
        ],
        language="ja",
        dates={
            "published": DateProvenance(
                raw=published.strftime("%Y-%-m-%-d %H:%M"), source="dateline"
            )
        },
        guid=url if source != "jdefense" else None,
        section=SECTIONS[n % len(SECTIONS)] if source == "jdefense" else None,
    )


def make_snapshot(k: int, items: list[ArticleItem]) -> RankingItem:
    """A ranking of the newest jdefense articles, shifting by one every snapshot."""
    pool = [a for a in items if a.source == "jdefense"][-40:]
    lists = {}
    for p, period in enumerate(("24h", "1w", "1m")):
        chosen = pool[k + 3 * p : k + 3 * p + 10]
        lists[period] = [
            RankingEntry(rank=r + 1, title=a.title, url=a.url, id=a.id)
            for r, a in enumerate(chosen)
        ]
    return RankingItem(source="jdefense", captured_at=T0 + timedelta(hours=k), lists=lists)


def _feed_config() -> FeedConfig:
    config = load_sources()
    return FeedConfig(
        base_url="http://localhost:8000/",
        limit=LIMIT,
        category_slugs=dict(config.category_slugs),
        source_names={s.key: s.name for s in config.sources},
    )


def _upsert_all(store: SQLStore, items: list[ArticleItem], now: datetime) -> list[str]:
    return [store.upsert_article(a, now=now).status for a in items]


def _row(
    name: str, operation: str, times: list[float], count: int = 0, unit: str = ""
) -> list[str]:
    """backend, operation, median, best, rate and time per item (both from the median)."""
    mid = median(times)
    return [
        name,
        operation,
        fmt_s(mid),
        fmt_s(min(times)),
        fmt_rate(count, mid, unit) if count else "",
        fmt_s(mid / count) if count else "",
    ]


def bench_backend(name: str, open_fresh: Callable[[], SQLStore], n: int) -> list[list[str]]:
    """Upserts on UPSERT_REPEATS fresh stores; snapshots and builds on the last one."""
    inserts: list[float] = []
    reruns: list[float] = []
    for rep in range(UPSERT_REPEATS):
        store = open_fresh()
        items = [make_article(i) for i in range(n)]
        elapsed, statuses = timed(partial(_upsert_all, store, items, T0))
        assert statuses == ["new"] * n, set(statuses)
        inserts.append(elapsed)
        again = [make_article(i) for i in range(n)]  # fresh, equal items, as a re-crawl makes
        elapsed, statuses = timed(partial(_upsert_all, store, again, T0 + timedelta(hours=1)))
        assert statuses == ["unchanged"] * n, set(statuses)
        reruns.append(elapsed)
        if rep < UPSERT_REPEATS - 1:
            store.close()
    rows = [
        _row(name, f"upsert {n:,} new articles", inserts, n, "articles"),
        _row(name, f"upsert {n:,} unchanged (re-run)", reruns, n, "articles"),
    ]
    with store:
        snapshot_times = [
            timed(partial(store.add_ranking_snapshot, make_snapshot(k, items)))[0]
            for k in range(SNAPSHOTS)
        ]
        rows.append(_row(name, "add_ranking_snapshot (30 positions)", snapshot_times))

        config = _feed_config()
        firsts, rebuilds = [], []
        files = 0
        with tempfile.TemporaryDirectory(prefix="defnews-bench-feeds-") as tmp:
            for r in range(BUILD_REPEATS):
                out = Path(tmp) / f"public{r}"
                elapsed, report = timed(partial(build_feeds, store, out, config))
                assert report.written > 0 and report.unchanged == 0
                files = report.written
                firsts.append(elapsed)
                elapsed, report = timed(partial(build_feeds, store, out, config))
                assert report.written == 0, report.written
                rebuilds.append(elapsed)
        rows.append(_row(name, f"build_feeds, first build ({files} files)", firsts))
        rows.append(_row(name, "build_feeds, unchanged rebuild (written == 0)", rebuilds))
    return rows


@contextmanager
def _sqlite() -> Iterator[Callable[[], SQLStore]]:
    """A factory of fresh SQLite stores in a temp dir."""
    with tempfile.TemporaryDirectory(prefix="defnews-bench-store-") as tmp:
        count = iter(range(1_000_000))
        yield lambda: SQLiteStore(Path(tmp) / f"bench{next(count)}.sqlite3")


@contextmanager
def _postgres() -> Iterator[tuple[Callable[[], SQLStore], str] | str]:
    """A factory of fresh stores on PG_DSN, one throwaway schema each (all dropped
    afterwards), or the reason PostgreSQL is not usable."""
    try:
        import psycopg
    except ImportError:
        yield "psycopg is not installed (pip install -e '.[postgres]')"
        return
    try:
        with psycopg.connect(PG_DSN, connect_timeout=3, autocommit=True) as conn:
            settings = conn.execute(
                "SELECT current_setting('server_version'), current_setting('synchronous_commit')"
            ).fetchall()
    except psycopg.Error as exc:
        yield f"PostgreSQL not reachable at {PG_DSN} ({exc.__class__.__name__}: {' '.join(str(exc).split())})"
        return
    schemas: list[str] = []
    sep = "&" if "?" in PG_DSN else "?"

    def fresh() -> SQLStore:
        schema = f"defnews_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_DSN, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        schemas.append(schema)
        return open_store(f"{PG_DSN}{sep}options=-csearch_path%3D{schema}")

    version, sync = settings[0]
    description = f"PostgreSQL {version} on 127.0.0.1, synchronous_commit={sync}."
    try:
        yield fresh, description
    finally:
        with psycopg.connect(PG_DSN, connect_timeout=3, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def run(n: int = N) -> list[Table]:
    table = Table(
        f"Store and feeds: {n:,} synthetic articles",
        ["backend", "operation", "median", "best", "rate (median)", "per item (median)"],
    )
    sample = make_article(1)
    content_kb = sum(len(make_article(i).content_html.encode()) for i in range(100)) / 100 / 1000
    with _sqlite() as open_sqlite:
        table.rows += bench_backend("SQLite", open_sqlite, n)
    with _postgres() as postgres:
        if isinstance(postgres, str):
            print(f"PostgreSQL skipped: {postgres}", file=sys.stderr)
            table.notes.append(f"PostgreSQL skipped: {postgres}")
        else:
            open_pg, description = postgres
            table.rows += bench_backend("PostgreSQL", open_pg, n)
            table.notes.append(description)
    table.notes.append(
        f"Articles: {len(LABELS)} category labels (1-2 each), {len(SOURCES)} sources, "
        f"content_html ~{content_kb:.1f} KB UTF-8, 1-3 images, e.g. {sample.url}. One "
        "transaction per upsert, as the store pipeline does. The re-run upserts fresh, equal "
        f"items (hash compare, no write). Median of {UPSERT_REPEATS} runs, each on a fresh "
        f"store (PostgreSQL: a fresh schema). Ranking: {SNAPSHOTS} snapshots in a row (10 per "
        f"list, shifting by one), each timed. Builds: {BUILD_REPEATS}, each into a fresh "
        f"folder (limit {LIMIT} entries per feed), then rebuilt in place. SQLite file in the "
        "temp dir (WAL, synchronous=NORMAL)."
    )
    return [table]


if __name__ == "__main__":
    print_tables(run(int(sys.argv[1]) if len(sys.argv) > 1 else N))
