"""The index page in a real browser: Debian's Chromium, driven by Playwright, against the page
``defnews serve`` serves.

`.ci/run` installs ``chromium`` and ``fonts-noto-cjk`` with apt-get; Playwright comes with the
test extra and drives /usr/bin/chromium (``playwright install`` is never run: it downloads
browsers). Without Chromium the test skips and says why.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.items import ArticleItem, Image, RankingEntry, RankingItem
from crawler.sources import load_sources
from crawler.store import SQLiteStore
from crawler.urls import id_for_url
from feeds.build import build_feeds
from feeds.config import FeedConfig

CHROMIUM = os.environ.get("DEFNEWS_CHROMIUM", "/usr/bin/chromium")
T0 = datetime(2025, 11, 20, 0, 0, tzinfo=UTC)
TITLES = [
    "護衛艦「もがみ」型12番艦が進水、三菱重工長崎造船所で命名式",
    "航空自衛隊のF-35B、新田原基地への配備を開始",
    "陸上自衛隊第1空挺団が降下訓練始め、約1,200名が参加",
    "防衛省、令和8年度概算要求を公表　過去最大の8.8兆円",
    "日米共同統合演習「キーン・ソード」始まる",
    "中国海軍の艦艇3隻、与那国島と台湾の間を北上",
    "宇宙作戦群、新たな監視衛星の運用を開始",
    "防衛装備庁、次期戦闘機の開発状況を説明",
]
LABELS = ["日本の防衛", "海上", "航空", "陸上", "国際", "解説", "レポート", "その他"]


def _store(path: Path) -> None:
    with SQLiteStore(path) as store:
        articles = []
        for i in range(40):
            source = ("jdefense", "navalnews", "mod")[i % 3]
            url = f"https://j-defense.example.jp/docs/mod/{i:06d}.html"
            article = ArticleItem(
                url=url, id=id_for_url(url), title=TITLES[i % len(TITLES)] + f"（{i}）",
                source=source, published=T0 + timedelta(hours=5 * i),
                categories=[LABELS[i % len(LABELS)], LABELS[(i * 3 + 1) % len(LABELS)]],
                summary="防衛省は発表した。", content_html="<p>本文</p>",
                images=[Image(url=f"https://img.example.jp/{i}.jpg")],
            )
            store.upsert_article(article, now=T0 + timedelta(hours=5 * i))
            articles.append(article)
        jd = [a for a in articles if a.source == "jdefense"]
        for k in range(8):
            order = jd[k % 5:] + jd[: k % 5]
            store.add_ranking_snapshot(RankingItem(
                source="jdefense", captured_at=T0 + timedelta(days=8, hours=6 * k),
                lists={p: [RankingEntry(r + 1, a.title, a.url, a.id)
                           for r, a in enumerate(order[s:s + 5])]
                       for p, s in (("24h", 0), ("1w", 2), ("1m", 4))},
            ))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium "
                    "fonts-noto-cjk; .ci/run does)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (test extra)")
    tmp = tmp_path_factory.mktemp("browser")
    _store(tmp / "store.sqlite3")
    sources = load_sources()
    config = FeedConfig(
        base_url="http://127.0.0.1/",
        title="defnews 防衛ニュース",
        category_slugs=dict(sources.category_slugs),
        source_names={s.key: s.name for s in sources.sources},
    )
    with SQLiteStore(tmp / "store.sqlite3") as store:
        build_feeds(store, tmp / "public", config)
    proc = subprocess.Popen(
        [sys.executable, "-m", "defnews", "serve", "--public", str(tmp / "public"), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = next(w for w in line.split() if w.startswith("http://"))
        yield url, tmp
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_index_page_in_chromium(served: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    url, _ = served
    with sync_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
            external: list[str] = []
            page.on("request", lambda r: external.append(r.url)
                    if not r.url.startswith(url) else None)
            response = page.goto(url)
            assert response is not None and response.status == 200
            assert page.title().startswith("defnews 防衛ニュース")
            assert external == []  # self-contained: nothing fetched from elsewhere

            cards = page.locator("section#categories article")
            names = [n.strip() for n in cards.locator("h3 > span:first-child").all_inner_texts()]
            assert names[0] == "日本の防衛" and names[-1] == "その他"
            assert set(names) == set(LABELS)
            subscribe = page.locator("section#categories .sub a")
            hrefs = [subscribe.nth(i).get_attribute("href") for i in range(subscribe.count())]
            assert len(hrefs) == 3 * len(LABELS)
            assert all(h and h.startswith("category/") for h in hrefs)
            # Every category and subscribe link answers.
            for href in hrefs:
                assert page.request.get(url + href).status == 200, href
            assert page.locator("section#ranking svg.spark").count() > 0
            assert page.locator("section#sources li").count() == 3
            # One autodiscovery link per format, for the feed of every article (there were
            # three per feed: 78); every other feed is linked in the page.
            alternates = page.locator("head link[rel=alternate]")
            assert [alternates.nth(i).get_attribute("href") for i in range(alternates.count())] \
                == ["all.atom", "all.rss", "all.json"]
            assert all(t.endswith(" JST") for t in page.locator("time").all_inner_texts())

            page.screenshot(path=str(tmp_path / "index.png"), full_page=True)
            mobile = browser.new_page(viewport={"width": 390, "height": 844}, locale="ja-JP")
            mobile.goto(url)
            assert mobile.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
            # No word broken across lines at 390 px: each feed's type, each source's name, each
            # state sits on one line (a Range over its text has one box per line).
            broken = mobile.evaluate("""() => {
                const out = [];
                for (const el of document.querySelectorAll(
                        'td.kind, .health li strong, .health li span, #feeds td:first-child')) {
                    const r = document.createRange();
                    r.selectNodeContents(el);
                    const lines = new Set([...r.getClientRects()].map(b => Math.round(b.top)));
                    if (lines.size > 1 && !el.textContent.includes(' ')) out.push(el.textContent);
                }
                return out;
            }""")
            assert broken == []
            mobile.screenshot(path=str(tmp_path / "index-mobile.png"), full_page=True)

            # Follow one subscribe link: the JSON Feed of the first category.
            first_json = page.locator("section#categories article").first.locator("a.json")
            with page.expect_navigation() as nav:
                first_json.click()
            followed = nav.value
            assert followed is not None and followed.status == 200
            assert followed.headers["content-type"] == "application/feed+json; charset=utf-8"
            assert page.url.endswith("category/japan-defense.json")
        finally:
            browser.close()
    assert (tmp_path / "index.png").stat().st_size > 10_000
    if os.environ.get("DEFNEWS_KEEP_SCREENSHOT"):
        target = Path(os.environ["DEFNEWS_KEEP_SCREENSHOT"])
        target.mkdir(parents=True, exist_ok=True)
        for name in ("index.png", "index-mobile.png"):
            (target / name).write_bytes((tmp_path / name).read_bytes())
