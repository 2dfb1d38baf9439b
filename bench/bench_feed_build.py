"""Feed build at scale: ``build_feeds`` over SQLite stores of 1k, 10k, 100k and 1M articles
across 20 categories, first build and unchanged rebuild, with the peak memory of each size.

Each size runs in its own child process (a fresh interpreter), so that its peak RSS is its own.
The rows are written straight into the store's tables with ``executemany`` in one transaction
(not one upsert per article), so that a million rows take seconds, not an hour.

    .venv/bin/python bench/bench_feed_build.py [N ...]
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import REPO, Table, fmt_s, median, print_tables

SIZES = (1_000, 10_000, 100_000, 1_000_000)
CATEGORIES = 20
SOURCES = ("jdefense", "fleetwatch", "defensewire")
LIMIT = 50
REBUILDS = 3
FIRST_BUILDS = 3
T0 = datetime(2020, 1, 1, tzinfo=UTC)
LABELS = [
    "日本の防衛", "陸上", "海上", "航空", "宇宙・サイバー", "防衛産業", "国際", "防衛省関連",
    "ニュース解説", "特集", "解説", "レポート", "装備", "人事", "予算", "演習", "海外",
    "政策", "技術", "その他",
]  # fmt: skip
assert len(LABELS) == CATEGORIES


def _rows(n: int, *, start: int = 0):  # type: ignore[no-untyped-def]
    """Article rows and their category rows; each article has 1-2 of the 20 labels."""
    body = "<p>" + "防衛省は令和7年度の計画を公表した。" * 12 + "</p>"
    for i in range(start, start + n):
        source = SOURCES[i % len(SOURCES)]
        url = f"https://{source}.example/news/{i:07d}.html"
        article_id = hashlib.sha1(url.encode()).hexdigest()
        published = T0 + timedelta(minutes=7 * i)
        labels = [LABELS[i % CATEGORIES]]
        if i % 3 == 0:
            labels.append(LABELS[(i * 7 + 3) % CATEGORIES])
        labels = list(dict.fromkeys(labels))
        data = {
            "id": article_id,
            "url": url,
            "title": f"記事 {i}: 護衛艦が共同訓練に参加",
            "source": source,
            "published": published.isoformat(),
            "updated": None,
            "first_seen": published.isoformat(),
            "categories": labels,
            "author": None,
            "summary": "護衛艦が共同訓練に参加した。",
            "content_html": f"{body}<p>{i}</p>",
            "images": [{"url": f"https://img.example/{i}.jpg", "caption": None}],
            "language": "ja",
            "dates": {},
            "guid": None,
            "section": None,
            "type": "article",
        }
        payload = json.dumps(data, ensure_ascii=False, sort_keys=True)
        yield (
            (
                article_id,
                url,
                source,
                published.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                published.isoformat(),
                published.isoformat(),
                hashlib.sha256(payload.encode()).hexdigest(),
                payload,
            ),
            [(article_id, label) for label in labels],
        )


def fill(store_path: Path, n: int) -> float:
    """Bulk-insert ``n`` articles into a fresh SQLite store; returns the seconds it took."""
    from crawler.store import SQLiteStore

    started = time.perf_counter()
    store = SQLiteStore(store_path)
    conn = store.conn
    conn.execute("BEGIN")
    batch: list[tuple[object, ...]] = []
    labels: list[tuple[str, str]] = []
    for row, cats in _rows(n):
        batch.append(row)
        labels += cats
        if len(batch) >= 20_000:
            _flush(conn, batch, labels)
    _flush(conn, batch, labels)
    conn.execute("COMMIT")
    store.close()
    return time.perf_counter() - started


def _flush(conn, batch, labels) -> None:  # type: ignore[no-untyped-def]
    conn.executemany("INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)
    conn.executemany("INSERT INTO article_categories VALUES (?, ?)", labels)
    batch.clear()
    labels.clear()


def _add_rankings(store_path: Path, n: int) -> None:
    from crawler.items import RankingEntry, RankingItem
    from crawler.store import SQLiteStore

    with SQLiteStore(store_path) as store:
        for k in range(5):
            lists = {}
            for p, period in enumerate(("24h", "1w", "1m")):
                lists[period] = []
                for r in range(10):
                    i = max(0, n - 1 - (k + 3 * p + r) * 3)
                    url = f"https://jdefense.example/news/{i:07d}.html"
                    lists[period].append(
                        RankingEntry(r + 1, f"記事 {i}", url, hashlib.sha1(url.encode()).hexdigest())
                    )
            store.add_ranking_snapshot(
                RankingItem(source="jdefense", captured_at=T0 + timedelta(days=k), lists=lists)
            )


def child(n: int, workdir: Path) -> dict[str, float]:
    """One size, in this process: fill, first build, unchanged rebuilds; figures as a dict."""
    from crawler.store import SQLiteStore
    from feeds.build import build_feeds
    from feeds.config import FeedConfig

    store_path = workdir / f"store-{n}.sqlite3"
    fill_s = fill(store_path, n)
    _add_rankings(store_path, n)
    # Slugs configured for every label, as the sources file does for the labels it knows:
    # an unconfigured Japanese label loads the romaniser's dictionaries once per folder (about
    # 1.2 s; measured apart, below) before its name is kept in the folder's build state.
    config = FeedConfig(
        base_url="http://localhost:8000/",
        limit=LIMIT,
        category_slugs={label: f"label-{i:02d}" for i, label in enumerate(LABELS)},
    )
    with SQLiteStore(store_path) as store:
        firsts = []
        for k in range(FIRST_BUILDS):  # each into a fresh folder: everything rendered
            out = workdir / f"public-{n}-{k}"
            started = time.perf_counter()
            report = build_feeds(store, out, config)
            firsts.append(time.perf_counter() - started)
            assert report.written > 0 and report.rendered > 0
        first = sorted(firsts)[len(firsts) // 2]
        rebuilds = []
        for _ in range(REBUILDS):
            started = time.perf_counter()
            again = build_feeds(store, out, config)
            rebuilds.append(time.perf_counter() - started)
            assert again.written == 0 and again.rendered == 0, (again.written, again.rendered)
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from feeds.config import _kakasi

    started = time.perf_counter()
    _kakasi()  # cold: the configured slugs above never needed it
    romaniser = time.perf_counter() - started
    return {
        "fill": fill_s,
        "first": first,
        "rebuild": sorted(rebuilds)[len(rebuilds) // 2],
        "files": float(report.written),
        "peak_mb": rss_kb / 1024,
        "db_mb": store_path.stat().st_size / 1e6,
        "romaniser": romaniser,
    }


def run(sizes: tuple[int, ...] = SIZES) -> list[Table]:
    table = Table(
        "Feed build at scale (SQLite)",
        ["stored articles", "bulk fill", "first build", "unchanged rebuild", "vs 1k first build",
         "peak RSS", "store size"],
    )
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="defnews-bench-build-") as tmp:
        for n in sizes:
            proc = subprocess.run(
                [sys.executable, __file__, "--child", str(n), tmp],
                cwd=REPO,
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "bench")])},
            )
            if proc.returncode != 0:
                raise RuntimeError(f"size {n} failed:\n{proc.stderr}")
            results[n] = json.loads(proc.stdout.strip().splitlines()[-1])
            for f in Path(tmp).glob(f"store-{n}.sqlite3*"):
                f.unlink()
    base = results[min(results)]["first"]
    for n, r in results.items():
        table.add(
            f"{n:,}",
            fmt_s(r["fill"]),
            fmt_s(r["first"]),
            fmt_s(r["rebuild"]),
            f"{r['first'] / base:.2f}x",
            f"{r['peak_mb']:.0f} MB",
            f"{r['db_mb']:.0f} MB",
        )
    table.notes.append(
        f"{CATEGORIES} category labels (1-2 per article), {len(SOURCES)} sources, ~1 KB of JSON "
        f"per article, 5 ranking snapshots; limit {LIMIT} entries per feed. Each size in a fresh "
        "child process (peak RSS is that process's, fill included); rows bulk-inserted with "
        f"executemany in one transaction. First build: median of {FIRST_BUILDS}, each into a "
        f"fresh folder. Unchanged rebuild: median of {REBUILDS}, "
        "each renders nothing (BuildReport.rendered == 0). Targets (issue #13): 100k first "
        "build < 1 s; 1M <= 1.5x the 1k build. Every label has a configured slug; a folder's "
        "first build with unconfigured Japanese labels also loads pykakasi's dictionaries once "
        f"({fmt_s(median([r['romaniser'] for r in results.values()]))} here), after which the "
        "names are kept in the folder's build state."
    )
    return [table]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(int(sys.argv[2]), Path(sys.argv[3]))))
    else:
        chosen = tuple(int(a) for a in sys.argv[1:]) or SIZES
        print_tables(run(chosen))
