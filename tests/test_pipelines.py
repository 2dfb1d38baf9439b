"""Pipelines built the way Scrapy builds them, fed hand-made items."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest
from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem, RankingEntry, RankingItem, RankingObservation
from crawler.pipelines.dedupe import DedupePipeline, source_priority
from crawler.pipelines.normalize import NormalizePipeline
from crawler.pipelines.ranking import RankingPipeline
from crawler.pipelines.store import StorePipeline
from crawler.pipelines.validate import ValidatePipeline
from crawler.store import open_store
from crawler.urls import id_for_url

JST = timezone(timedelta(hours=9))
T0 = datetime(2025, 12, 27, 3, 0, tzinfo=UTC)


def raw_article(**overrides) -> ArticleItem:
    data = dict(
        url="http://www.j-defense.ikaros.jp/docs/mod/001933.html?utm_source=x",
        title="  中谷防衛大臣、NATO国防相会合及び\n  各国国防大臣との会談等に出席(10月17日) ",
        source="jdefense",
        categories=[" 日本の防衛 ", "日本の防衛", ""],
        published_raw="2024-10-22 18:15",
        published_source="dateline",
        summary=" 防衛省は 令和6(2024)年10月18日(金)01時35分(現地時間)、… ",
    )
    data.update(overrides)
    return ArticleItem(**data)


def test_normalize_keys_by_the_canonical_url_and_reads_the_date_line(crawler):
    pipe = build_from_crawler(NormalizePipeline, crawler)
    item = pipe.process_item(raw_article())
    # The link stays as the source wrote it; only the identity key is normalised.
    assert item.url == "http://www.j-defense.ikaros.jp/docs/mod/001933.html?utm_source=x"
    assert item.key == "https://j-defense.ikaros.jp/docs/mod/001933.html"
    assert item.id == id_for_url(item.key) == id_for_url(item.url)
    assert item.title == "中谷防衛大臣、NATO国防相会合及び 各国国防大臣との会談等に出席(10月17日)"
    assert item.categories == ["日本の防衛"]
    assert item.published == datetime(2024, 10, 22, 18, 15, tzinfo=JST)
    assert item.published.utcoffset() == timedelta(hours=9)
    assert item.dates["published"].raw == "2024-10-22 18:15"
    assert item.dates["published"].source == "dateline"


def test_normalize_leaves_unreadable_date_empty_and_counts(crawler, caplog):
    pipe = build_from_crawler(NormalizePipeline, crawler)
    with caplog.at_level(logging.WARNING):
        item = pipe.process_item(raw_article(published_raw="第5世代"))
    assert item.published is None
    assert crawler.stats.get_value("defnews/dates/unreadable/published") == 1
    assert "001933.html" in caplog.text and "第5世代" in caplog.text


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        pytest.param({"title": ""}, "missing title", id="no-title"),
        pytest.param({"published": None}, "missing published", id="no-date"),
        pytest.param({"url": ""}, "missing url", id="no-url"),
    ],
)
def test_validate_drops_with_url_and_reason(crawler, overrides, reason):
    item = ArticleItem(url="https://j-defense.ikaros.jp/docs/mod/000700.html", title="t",
                       source="jdefense", published=T0)
    for k, v in overrides.items():
        setattr(item, k, v)
    pipe = build_from_crawler(ValidatePipeline, crawler)
    with pytest.raises(DropItem, match=reason) as info:
        pipe.process_item(item)
    if item.url:
        assert item.url in str(info.value)
    assert crawler.stats.get_value("defnews/dropped") == 1
    assert crawler.stats.get_value(f"defnews/dropped/{reason.replace(' ', '_')}") == 1


def test_dedupe_drops_second_copy_of_an_article(crawler):
    pipe = build_from_crawler(DedupePipeline, crawler)
    a = ArticleItem(url="https://x.example/1", title="t", source="s", id="a" * 16)
    b = ArticleItem(url="https://x.example/1", title="t", source="s", id="a" * 16)
    assert pipe.process_item(a) is a
    with pytest.raises(DropItem, match="duplicate"):
        pipe.process_item(b)
    assert crawler.stats.get_value("defnews/duplicates") == 1


def observation(ids: list[int], at: datetime, page: str = "p") -> RankingObservation:
    def entries(ns: list[int]) -> list[RankingEntry]:
        return [
            RankingEntry(rank=i + 1, title=f"t{n}", url=f"https://j-defense.ikaros.jp/docs/mod/{n:06d}.html",
                         id=id_for_url(f"https://j-defense.ikaros.jp/docs/mod/{n:06d}.html"))
            for i, n in enumerate(ns)
        ]

    return RankingObservation(source="jdefense", page_url=page,
                              lists={"24h": entries(ids), "1w": entries(ids[::-1]), "1m": []},
                              seen_at=at)


def test_ranking_collapses_observations_into_one_snapshot(crawler, caplog):
    pipe = build_from_crawler(RankingPipeline, crawler)
    for i in range(50):
        with pytest.raises(DropItem):
            pipe.process_item(observation([1, 2, 3], T0 + timedelta(seconds=i), page=f"p{i}"))
    with caplog.at_level(logging.INFO):
        with pytest.raises(DropItem):
            pipe.process_item(observation([4, 2, 3], T0 + timedelta(seconds=60), page="late"))
    assert "changed during the crawl" in caplog.text
    snapshot = pipe.process_item(RankingItem(source="jdefense"))
    assert [e.title for e in snapshot.lists["24h"]] == ["t4", "t2", "t3"]  # the latest wins
    assert snapshot.captured_at == T0 + timedelta(seconds=60)
    assert crawler.stats.get_value("defnews/ranking/observations") == 51
    assert crawler.stats.get_value("defnews/ranking/positions") == 6
    assert crawler.stats.get_value("defnews/ranking/distinct") == 3


def test_ranking_without_sidebar_emits_nothing(crawler):
    pipe = build_from_crawler(RankingPipeline, crawler)
    with pytest.raises(DropItem, match="no ranking sidebar"):
        pipe.process_item(RankingItem(source="jdefense"))


def _store_pipe(crawler, **settings):
    """The store pipeline with a manual clock and writes run in place of a thread."""
    from twisted.internet.defer import maybeDeferred
    from twisted.internet.task import Clock

    if settings:
        crawler = get_crawler(Spider, {**crawler.settings.copy_to_dict(), **settings})
        crawler.stats.open_spider()
    pipe = build_from_crawler(StorePipeline, crawler)
    pipe._clock = Clock()
    writes: list[int] = []

    def run(fn, *args, **kwargs):
        if args and isinstance(args[0], list):
            writes.append(len(args[0]))
        return maybeDeferred(fn, *args, **kwargs)

    pipe._in_thread = run
    pipe.open_spider()
    return pipe, pipe._clock, writes, crawler


def _start(coro):
    from twisted.internet.defer import Deferred

    return Deferred.fromCoroutine(coro)


def _result(d):
    out: list = []
    d.addBoth(out.append)
    assert out, "not finished"
    if hasattr(out[0], "raiseException"):
        out[0].raiseException()
    return out[0]


def _art(n: int, **kw) -> ArticleItem:
    return ArticleItem(url=f"https://x.example/{n}", title=f"t{n}", source=kw.pop("source", "s"),
                       id=f"{n:016d}", published=T0, **kw)


def test_store_pipeline_sets_first_seen_and_counts(crawler, tmp_path):
    pipe, clock, _, crawler = _store_pipe(crawler, DEFNEWS_STORE_BATCH_SIZE=1)
    out = _result(_start(pipe.process_item(_art(1))))
    assert out.first_seen is not None and out.first_seen.tzinfo is not None
    again = _result(_start(pipe.process_item(_art(1))))
    assert again.first_seen == out.first_seen
    _result(_start(pipe.close_spider()))
    assert crawler.stats.get_value("defnews/store/new") == 1
    assert crawler.stats.get_value("defnews/store/unchanged") == 1
    with open_store(tmp_path / "s.sqlite3") as store:
        assert store.count_articles() == 1


def test_store_pipeline_writes_a_batch_when_full(crawler, tmp_path):
    pipe, clock, writes, crawler = _store_pipe(crawler, DEFNEWS_STORE_BATCH_SIZE=3,
                                      DEFNEWS_STORE_BATCH_SECONDS=60)
    waiting = [_start(pipe.process_item(_art(n))) for n in range(2)]
    assert writes == [] and not any(d.called for d in waiting)  # batch not full, no time passed
    waiting.append(_start(pipe.process_item(_art(2))))
    assert writes == [3] and all(d.called for d in waiting)
    assert crawler.stats.get_value("defnews/store/new") == 3
    assert crawler.stats.get_value("defnews/store/batches") == 1
    _result(_start(pipe.close_spider()))


def test_store_pipeline_writes_a_batch_after_its_seconds(crawler, tmp_path):
    pipe, clock, writes, crawler = _store_pipe(crawler, DEFNEWS_STORE_BATCH_SIZE=100,
                                      DEFNEWS_STORE_BATCH_SECONDS=2)
    d = _start(pipe.process_item(_art(1)))
    clock.advance(1.9)
    assert not d.called
    clock.advance(0.2)
    assert d.called and writes == [1]
    _result(_start(pipe.close_spider()))


def test_store_pipeline_close_writes_what_is_pending(crawler, tmp_path):
    pipe, clock, writes, crawler = _store_pipe(crawler, DEFNEWS_STORE_BATCH_SIZE=100,
                                      DEFNEWS_STORE_BATCH_SECONDS=60)
    waiting = [_start(pipe.process_item(_art(n))) for n in range(5)]
    _result(_start(pipe.close_spider()))
    assert writes == [5] and all(d.called for d in waiting)
    with open_store(tmp_path / "s.sqlite3") as store:
        assert store.count_articles() == 5


def test_store_pipeline_batch_keeps_per_item_results(crawler, tmp_path):
    """A copy from a lower-priority source in the same batch is dropped, the others counted."""
    pipe, clock, writes, crawler = _store_pipe(crawler, DEFNEWS_STORE_BATCH_SIZE=3)
    pipe.priority = {"first": 0, "second": 1}
    a = _start(pipe.process_item(_art(1, source="first")))
    b = _start(pipe.process_item(_art(1, source="second")))
    c = _start(pipe.process_item(_art(2, source="second")))
    assert writes == [3]
    assert _result(a).source == "first" and _result(c).source == "second"
    with pytest.raises(DropItem, match="another source"):
        _result(b)
    assert crawler.stats.get_value("defnews/store/duplicate") == 1
    assert crawler.stats.get_value("defnews/store/new") == 2
    _result(_start(pipe.close_spider()))


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        pytest.param("  a \n\t b  ", "a b", id="layout-space"),
        pytest.param("電子戦部隊を新編へ\u3000①部隊の概要", "電子戦部隊を新編へ\u3000①部隊の概要",
                     id="ideographic-space-kept"),
        pytest.param("\u00a0x\u00a0\u00a0y", "x y", id="nbsp"),
        pytest.param(None, "", id="none"),
    ],
)
def test_clean_text(raw, clean):
    from crawler.pipelines.normalize import clean_text

    assert clean_text(raw) == clean


def test_dedupe_keeps_the_higher_priority_source_whatever_arrives_first(tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[categories]\n"海上" = "naval"\n'
        '[[source]]\nkey = "first"\nname = "F"\nkind = "feed"\nurl = "https://f.example/feed"\nlanguage = "en"\n'
        '[[source]]\nkey = "second"\nname = "S"\nkind = "feed"\nurl = "https://s.example/feed"\nlanguage = "en"\n',
        encoding="utf-8",
    )
    c = get_crawler(Spider, {"DEFNEWS_SOURCES": str(sources)})
    c.stats.open_spider()
    pipe = build_from_crawler(DedupePipeline, c)
    late = ArticleItem(url="https://x.example/1", title="t", source="second", id="c" * 16)
    early = ArticleItem(url="https://x.example/1", title="t", source="first", id="c" * 16)
    assert pipe.process_item(late) is late
    assert pipe.process_item(early) is early  # outranks the copy seen before
    with pytest.raises(DropItem, match="from first"):
        pipe.process_item(ArticleItem(url="https://x.example/1", title="t", source="second",
                                      id="c" * 16))


def test_seed_page_sidebar_is_30_positions_of_21_articles_with_ranks(crawler):
    """The sidebar of the reference page, parsed, normalized and collapsed like in a crawl."""
    from pathlib import Path

    from crawler.pages.jdefense import parse_ranking

    page = Path(__file__).parents[1] / "defnews" / "demo_site" / "docs" / "mod" / "001933.html"
    base = "https://j-defense.ikaros.jp/docs/mod/001933.html"
    sidebar = parse_ranking(page.read_bytes(), base)
    obs = RankingObservation(
        source="jdefense", page_url=base, seen_at=T0,
        lists={p: [RankingEntry(rank=e["rank"], title=e["title"], url=e["url"]) for e in v]
               for p, v in sidebar.items()},
    )
    obs = build_from_crawler(NormalizePipeline, crawler).process_item(obs)
    ranking = build_from_crawler(RankingPipeline, crawler)
    with pytest.raises(DropItem):
        ranking.process_item(obs)
    snapshot = ranking.process_item(RankingItem(source="jdefense"))
    assert [len(snapshot.lists[p]) for p in ("24h", "1w", "1m")] == [10, 10, 10]
    assert [[e.rank for e in snapshot.lists[p]] for p in ("24h", "1w", "1m")] == [list(range(1, 11))] * 3
    assert len(snapshot.articles) == 21
    by_title = {a.title: a.ranks for a in snapshot.articles}
    assert by_title["《特集》ジェット戦闘機の「世代」とは? ──ステルス機は第5世代、今後現れる第6世代"] == {
        "24h": 1, "1w": 3}
    assert by_title["自衛官・防衛省職員らの給与アップ改正案を閣議決定、国会に提出(12月8日)"] == {
        "24h": 4, "1w": 2, "1m": 3}
    assert by_title["人事発令 令和7年12月18日付け、1佐職人事(海自4名)"] == {"1m": 10}
    assert sum(len(a.ranks) for a in snapshot.articles) == 30
    # Dates in ranking titles are read relative to the capture (late December 2025).
    salary = next(e for e in snapshot.lists["24h"] if e.title.startswith("防衛省職員の給与"))
    assert [d.date().isoformat() for d in salary.title_dates] == ["2025-12-24"]


def test_normalize_sanitizes_feed_html_and_makes_summaries_plain(crawler):
    pipe = build_from_crawler(NormalizePipeline, crawler)
    item = pipe.process_item(raw_article(
        url="https://fleetwatch.example/2026/03/02/frigate/",
        summary="<p>The <b>sixth</b> ship &amp; more <script>x()</script></p>",
        content_html='<p>Launched <b>today<p>Next</p><img src="/i/a.jpg" onerror="x()">',
    ))
    assert item.summary == "The sixth ship & more"
    assert "<script" not in item.content_html and "onerror" not in item.content_html
    assert 'src="https://fleetwatch.example/i/a.jpg"' in item.content_html
    assert item.content_html.count("<b>") == item.content_html.count("</b>")


@pytest.mark.parametrize("order", ["earlier-first", "later-first"])
def test_dedupe_counts_the_same_whichever_copy_arrives_first(crawler, order):
    """The copy of the source listed first is kept; the other one counts as merged either way
    (the per-source summary does not depend on arrival order)."""
    import io

    from defnews.commands import print_feed_sources

    keys = list(source_priority(crawler.settings))
    earlier, later = keys[0], keys[1]
    pipe = build_from_crawler(DedupePipeline, crawler)
    copies = {k: ArticleItem(url="https://x.example/1", title="t", source=k, id="a" * 16)
              for k in (earlier, later)}
    arrivals = [earlier, later] if order == "earlier-first" else [later, earlier]
    for key in arrivals:
        crawler.stats.inc_value(f"defnews/feeds/source/{key}/read")
        try:
            pipe.process_item(copies[key])
        except DropItem:
            crawler.stats.inc_value(f"defnews/feeds/source/{key}/merged")
        else:
            crawler.stats.inc_value(f"defnews/feeds/source/{key}/kept")
    assert crawler.stats.get_value("defnews/duplicates") == 1
    out = io.StringIO()
    print_feed_sources(crawler.stats.get_stats(), out)
    assert f"{earlier}: 1 entries read, 1 kept, 0 merged" in out.getvalue()
    assert f"{later}: 1 entries read, 0 kept, 1 merged" in out.getvalue()


def _raw_sidebar(at: datetime, titles: list[str]) -> RankingObservation:
    return RankingObservation(
        source="jdefense", page_url="p", seen_at=at,
        lists={"24h": [RankingEntry(rank=i + 1, title=f"  {t}\n", url=f"http://www.j-defense.ikaros.jp/docs/mod/{i + 1:06d}.html?utm_source=x")
                       for i, t in enumerate(titles)]},
    )


def test_normalize_reads_each_ranking_entry_once_per_crawl_and_day(crawler, monkeypatch):
    """The sidebar repeats on every page: its titles are scanned for dates once, not per page,
    and every observation still gets the same cleaned entries (own lists, not shared)."""
    import crawler.pipelines.normalize as normalize

    scanned: list[str] = []
    real_find_dates = normalize.find_dates

    def counting_find_dates(text, **kwargs):
        scanned.append(text)
        return real_find_dates(text, **kwargs)

    monkeypatch.setattr(normalize, "find_dates", counting_find_dates)
    pipe = build_from_crawler(NormalizePipeline, crawler)
    titles = ["政令を公布(12月24日)", "閣議決定(12月8日)"]
    seen = [pipe.process_item(_raw_sidebar(T0 + timedelta(minutes=i), titles)) for i in range(40)]
    assert sorted(scanned) == sorted(titles)
    for obs in seen:
        first = obs.lists["24h"][0]
        assert first.title == "政令を公布(12月24日)"
        assert first.url == "https://j-defense.ikaros.jp/docs/mod/000001.html"
        assert first.id == id_for_url(first.url)
        assert [d.date().isoformat() for d in first.title_dates] == ["2025-12-24"]
    assert seen[0].lists["24h"][0].title_dates is not seen[1].lists["24h"][0].title_dates
    # A changed entry is read; so is every entry again on another day (yearless title dates
    # are read against the day of the capture).
    pipe.process_item(_raw_sidebar(T0, ["新しい記事(1月5日)", titles[1]]))
    assert scanned[-1] == "新しい記事(1月5日)" and len(scanned) == 3
    next_year = pipe.process_item(_raw_sidebar(T0 + timedelta(days=20), titles))
    assert len(scanned) == 5
    assert [d.date().isoformat() for d in next_year.lists["24h"][0].title_dates] == ["2025-12-24"]


@pytest.mark.parametrize("already_clean", [True, False], ids=["parser-cleaned", "raw"])
def test_normalize_sanitizes_content_once(crawler, monkeypatch, already_clean):
    """Content a page parser already sanitized is not parsed and sanitized again; anything else
    (feeds) is."""
    import crawler.pipelines.normalize as normalize

    calls: list[str] = []
    real_clean_html = normalize.clean_html

    def counting_clean_html(fragment, base_url):
        calls.append(fragment)
        return real_clean_html(fragment, base_url)

    monkeypatch.setattr(normalize, "clean_html", counting_clean_html)
    pipe = build_from_crawler(NormalizePipeline, crawler)
    item = pipe.process_item(raw_article(content_html="<p>本文</p>", content_clean=already_clean))
    assert item.content_html == "<p>本文</p>"
    assert len(calls) == (0 if already_clean else 1)


def test_store_pipeline_writes_the_links_of_a_batch_before_its_articles(crawler, tmp_path):
    """The articles a page links (ArticleItem.linked) are in the store before that page's own
    article is: written by the batch that stores it, ahead of the articles (crawler/archive.py)."""
    pipe, clock, writes, crawler = _store_pipe(crawler, DEFNEWS_STORE_BATCH_SIZE=2)
    order: list[str] = []
    store = pipe.store
    links, upserts = store.record_archive_links, store.upsert_articles
    store.record_archive_links = lambda *a, **k: (order.append("links"), links(*a, **k))[1]
    store.upsert_articles = lambda *a, **k: (order.append("articles"), upserts(*a, **k))[1]
    first = _start(pipe.process_item(_art(1, linked=["https://x.example/7", "https://x.example/8"])))
    second = _start(pipe.process_item(_art(2, source="t", linked=["https://x.example/9"])))
    assert _result(first).first_seen and _result(second).first_seen
    assert order == ["links", "links", "articles"]
    _result(_start(pipe.close_spider()))
    with open_store(tmp_path / "s.sqlite3") as stored:
        assert stored.archive_links("s") == {"https://x.example/7", "https://x.example/8"}
        assert stored.archive_links("t") == {"https://x.example/9"}
