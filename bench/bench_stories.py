"""Stories (crawler/stories/): quality on a labelled set of its own, and cost at scale.

Quality: ``bench/data/stories_set.txt`` — real public events of 2022-2025 as outlets' feeds
give them (title, link, date, one sentence), in Japanese, English, Chinese, Italian and
Portuguese, and look-alike articles of other events (families: crashes and their
follow-ups, weekly updates, 人事発令, press conferences, missile launches, airspace
incidents, ship passages). Written for this benchmark; not the tests' fixtures
(tests/fixtures/stories). Decided in publication order, as a crawl would: pairwise precision,
recall and F1, the share of hard-negative pairs kept apart (look-alikes of one family, of
different events, published within 31 days of each other), cross-language recall.

Cost: a synthetic archive of N articles (two years, ~140 a day; titles and sentences built
from the vocabulary of the set, with random designators, amounts, places and dates), indexed
in memory; then the time to assign one new article (features + candidates + decision) at
1k, 10k, 100k stored, with the mean number of candidates; and ``StoryStore.rebuild`` of the
100k-article SQLite store (stored features; and features read again from the articles).

    .venv/bin/python bench/bench_stories.py [N]
"""

from __future__ import annotations

import gc
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

from _common import REPO, Table, median, percentile, print_tables

from crawler.items import ArticleItem, to_json_dict
from crawler.stories.features import features
from crawler.stories.index import StoryIndex, features_json
from crawler.stories.quality import Article, cluster, pairwise

SET = REPO / "bench" / "data" / "stories_set.txt"
HARD_NEGATIVE_DAYS = 31


def load_set() -> tuple[list[Article], dict[str, str], dict[str, str]]:
    arts, gold, family = [], {}, {}
    for n, line in enumerate(SET.read_text(encoding="utf-8").splitlines()):
        if not line.strip() or line.startswith("#"):
            continue
        event, fam, outlet, lang, pub, title, text = line.split("|")
        art = Article(f"https://{outlet}.example/{event}/{n}", title, text,
                      datetime.fromisoformat(pub), lang, outlet)
        arts.append(art)
        gold[art.id], family[art.id] = event, fam
    return arts, gold, family


def quality() -> Table:
    arts, gold, family = load_set()
    started = time.perf_counter()
    pred = cluster(arts)
    seconds = time.perf_counter() - started
    langs = {a.id: a.language for a in arts}
    scores = pairwise(pred, gold, langs)
    hard = [(a, b) for a, b in combinations(arts, 2)
            if family[a.id] != "-" and family[a.id] == family[b.id] and gold[a.id] != gold[b.id]
            and abs(a.published - b.published) <= timedelta(days=HARD_NEGATIVE_DAYS)]
    apart = sum(pred[a.id] != pred[b.id] for a, b in hard)
    events = {}
    for a in arts:
        events.setdefault(gold[a.id], set()).add(a.source)
    multi = [e for e, outlets in events.items() if len(outlets) >= 2]
    table = Table("Stories: quality on the labelled set (bench/data/stories_set.txt)",
                  ["measure", "value", "floor"])
    table.add("pairwise precision", f"{scores.precision:.3f}", "")
    table.add("pairwise recall", f"{scores.recall:.3f}", "")
    table.add("pairwise F1", f"{scores.f1:.3f}", "0.90")
    table.add("hard negatives kept apart", f"{apart}/{len(hard)} = {apart / len(hard):.1%}",
              "95%")
    table.add("cross-language recall", f"{scores.cross_recall:.3f} ({scores.cross_pairs} pairs)",
              "0.70")
    table.notes += [
        f"{len(arts)} articles, {len(events)} events ({len(multi)} told by 2-8 outlets), "
        f"{scores.pairs_true} same-event pairs; languages: "
        + ", ".join(f"{lang} {sum(1 for a in arts if a.language == lang)}"
                    for lang in ("ja", "en", "zh", "it", "pt")) + f"; clustered in {seconds:.2f} s.",
        "Hard negatives: pairs of look-alike articles (same family) of different events "
        f"published within {HARD_NEGATIVE_DAYS} days of each other.",
    ]
    return table


# -- cost at scale ----------------------------------------------------------------------------

_PLACES = ["男女群島", "与那国島", "宮古島", "対馬", "奄美大島", "尖閣諸島", "沖縄本島", "礼文島",
           "Danjo", "Yonaguni", "Miyako", "Tsushima", "Amami", "Rebun", "Okinawa"]
_KINDS_JA = ["領空侵犯", "緊急発進", "航行", "発射", "訓練", "墜落", "会談", "訪問", "署名"]
_KINDS_EN = ["airspace violation", "scramble", "passage", "launch", "exercise", "crash",
             "talks", "visit", "agreement"]


def synthetic(n: int, seed: int = 7) -> list[ArticleItem]:
    rnd = random.Random(seed)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        pub = start + timedelta(minutes=int(i * 730 * 24 * 60 / n))
        d = pub - timedelta(days=rnd.randint(0, 3))
        desig = f"{rnd.choice('YHJFPK')}-{rnd.randint(1, 40)}"
        place = rnd.choice(_PLACES)
        k = rnd.randrange(len(_KINDS_JA))
        amount = rnd.randint(2, 900)
        if i % 2:
            title = f"中国軍{desig}が{place}沖で{_KINDS_JA[k]}({d.month}月{d.day}日)"
            text = (f"令和{d.year - 2018}年{d.month}月{d.day}日{rnd.randint(0, 23)}時"
                    f"{rnd.randint(0, 59)}分頃、{place}周辺で{desig}{amount}機による"
                    f"{_KINDS_JA[k]}が確認されました。")
            lang = "ja"
        else:
            title = f"Chinese {desig} {_KINDS_EN[k]} near {place}"
            text = (f"A Chinese {desig} was involved in a {_KINDS_EN[k]} near {place} on "
                    f"{d.strftime('%B')} {d.day}, with {amount} aircraft, the ministry said.")
            lang = "en"
        out.append(ArticleItem(url=f"https://s{i % 7}.example/{i}", title=title,
                               source=f"s{i % 7}", published=pub, summary=text, language=lang,
                               id=f"{i:016x}", first_seen=pub))
    return out


def cost(sizes: list[int]) -> tuple[Table, list[ArticleItem]]:
    table = Table("Stories: cost of one new article (features + candidates + decision)",
                  ["stored", "features µs (median)", "decide µs (median)", "decide µs (p95)",
                   "total ms (p95)", "candidates (mean)", "index build s", "peak RSS MB"])
    biggest = max(sizes)
    items = synthetic(biggest + 200)
    feats = [features(a.title, a.summary, a.published) for a in items[:biggest + 200]]
    for size in sizes:
        index = StoryIndex()
        gc.disable()
        t0 = time.perf_counter()
        for item, f in zip(items[:size], feats[:size], strict=True):
            index.decide(item.id, f)
        built = time.perf_counter() - t0
        ft, dt, tot, cands = [], [], [], []
        # New articles dated inside the archive's span (the window holds its usual load).
        probe = items[biggest:biggest + 200]
        for n, item in enumerate(probe):
            item = ArticleItem(**{**item.__dict__, "id": f"new{size}-{n}",
                                  "published": items[int(size * (n + 0.5) / len(probe))].published})
            a = time.perf_counter()
            f = features(item.title, item.summary, item.published)
            b = time.perf_counter()
            decision = index.decide(item.id, f)
            c = time.perf_counter()
            ft.append((b - a) * 1e6)
            dt.append((c - b) * 1e6)
            tot.append((c - a) * 1e3)
            cands.append(decision.candidates)
        gc.enable()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        table.add(f"{size:,}", f"{median(ft):.0f}", f"{median(dt):.0f}",
                  f"{percentile(dt, 95):.0f}", f"{percentile(tot, 95):.2f}",
                  f"{sum(cands) / len(cands):.0f}", f"{built:.1f}", f"{rss:.0f}")
    table.notes.append(
        "Synthetic archive over two years (~140 articles a day, half Japanese, half English, "
        "look-alike by construction: every article names a designator, a place, a kind of "
        "event, a count and a date), decided in order; 200 new articles dated inside it. "
        "`total` is features + decision; `index build` is deciding the whole archive in memory.")
    return table, items[:biggest]


def rebuild(items: list[ArticleItem]) -> Table:
    import json

    from crawler.store import SQLiteStore
    from crawler.stories.store import StoryStore

    table = Table("Stories: `defnews stories --rebuild` (StoryStore.rebuild, SQLite)",
                  ["articles", "features", "seconds", "stories", "changed story"])
    with tempfile.TemporaryDirectory() as tmp:
        with SQLiteStore(Path(tmp) / "store.sqlite3") as store:
            now = datetime.now(UTC).isoformat()
            rows = []
            for a in items:
                data = to_json_dict(a)
                rows.append((a.id, a.url, a.source, a.published.isoformat() if a.published else None,
                             now, now, "x", json.dumps(data, ensure_ascii=False)))
            store.conn.execute("BEGIN")
            store.conn.executemany("INSERT INTO articles (id, url, source, published_utc,"
                                   " first_seen, changed_at, content_hash, data)"
                                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            store.conn.execute("COMMIT")
            st = StoryStore(store)
            first = st.rebuild(recompute=True)
            table.add(f"{first.articles:,}", "read from the articles", f"{first.seconds:.1f}",
                      f"{first.stories:,}", "-")
            again = st.rebuild()
            table.add(f"{again.articles:,}", "stored (current version)", f"{again.seconds:.1f}",
                      f"{again.stories:,}", f"{again.moved}")
    table.notes.append("First row: a store whose articles have no story yet (every feature "
                       "computed); second: the rebuild a user runs (`defnews stories --rebuild`), "
                       "reusing the features stored with the current version.")
    return table


def run(sizes: list[int] | None = None) -> list[Table]:
    sizes = sizes or [1_000, 10_000, 100_000]
    tables = [quality()]
    cost_table, items = cost(sizes)
    tables.append(cost_table)
    tables.append(rebuild(items))
    _ = features_json  # the stored form the rebuild reads
    return tables


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print_tables(run(args or None))
