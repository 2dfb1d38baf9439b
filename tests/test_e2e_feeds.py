"""End to end for feed sources: the fixture feeds served on 127.0.0.1, crawled by ``defnews run``
into the same category feeds as the scraped site; the same story is one item, and an edited
title or a moved guid updates it."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from support import ATOM, defnews

from crawler.sources import load_sources
from crawler.store import open_store
from crawler.urls import id_for_url
from defnews.server import StaticServer
from feeds.config import category_slug

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
FRIGATE = "https://fleetwatch.example/2026/03/02/jmsdf-launches-new-frigate-nagasaki"
FRIGATE_TITLE = "JMSDF launches sixth upgraded Mogami-class frigate at Nagasaki"
FRIGATE_EDITED = "JMSDF launches sixth upgraded Mogami-class frigate, names her Yoshino"


def run_feeds(work: Path) -> tuple[int, str, str]:
    with StaticServer(work / "site") as server:
        template = (FIXTURES / "sources.toml").read_text(encoding="utf-8")
        sources = work / "sources.toml"
        sources.write_text(template.replace("{base_url}", server.url.rstrip("/")), encoding="utf-8")
        run = defnews(
            "run", "--sources", str(sources), "--store", str(work / "store.sqlite3"),
            "--public", str(work / "public"), "--no-throttle",
            "--feed-url", "https://feeds.example.org/", cwd=work,
        )
    return run.returncode, run.stdout, run.stderr


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    work = tmp_path_factory.mktemp("feeds-e2e")
    shutil.copytree(FIXTURES, work / "site" / "feeds")
    code, out, err = run_feeds(work)
    return work, code, out, err


def entries(path: Path) -> list[etree._Element]:
    return list(etree.parse(str(path)).getroot().iter(f"{ATOM}entry"))


def slug(label: str, work: Path) -> str:
    return category_slug(label, load_sources(work / "sources.toml").category_slugs)


def test_a_failed_source_fails_the_run_and_is_named(crawled):
    _, code, out, err = crawled
    # The maintenance page served with 200 is an error for its source, never an empty feed.
    assert code == 1
    assert "feed errors: 1" in out
    assert "maintenance" in err and "error.html" in err


def test_sources_merge_into_the_category_feeds(crawled):
    work, *_ = crawled
    naval = entries(work / "public" / "category" / f"{slug('海上', work)}.atom")
    sources = {e.findtext(f"{ATOM}source/{ATOM}title") for e in naval}
    assert {"Fleetwatch", "Pacific Defense Digest"} <= sources
    ids = [e.findtext(f"{ATOM}id") for e in naval]
    assert len(ids) == len(set(ids))
    # The frigate story came through Fleetwatch and Defense Wire: one entry, Fleetwatch's
    # (listed first in the sources file).
    frigate = [e for e in naval if e.findtext(f"{ATOM}id") == FRIGATE]
    assert len(frigate) == 1
    assert frigate[0].findtext(f"{ATOM}title") == FRIGATE_TITLE
    assert frigate[0].findtext(f"{ATOM}source/{ATOM}title") == "Fleetwatch"
    published = [e.findtext(f"{ATOM}published") for e in naval]
    assert published == sorted(published, key=lambda p: p and _instant(p), reverse=True)


def _instant(text: str) -> str:
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).astimezone(UTC).isoformat()


def test_japanese_feed_lands_in_japan_defense_with_exact_title(crawled):
    work, *_ = crawled
    jp = entries(work / "public" / "category" / f"{slug('日本の防衛', work)}.atom")
    titles = {e.findtext(f"{ATOM}title") for e in jp}
    assert "与那国駐屯地に電子戦部隊を新編へ\u3000①部隊の概要" in titles
    assert "千歳基地でF-15J近代化改修機の配備始まる" in titles


def test_one_feed_per_source_and_every_feed_parses(crawled):
    work, *_ = crawled
    for key in ("fleetwatch", "defensewire", "tobu-dfb", "nansei", "hokkai", "pacdigest", "techbrief"):
        for ext in ("atom", "rss"):
            path = work / "public" / "source" / f"{key}.{ext}"
            parsed = feedparser.parse(str(path))
            assert parsed.bozo == 0, path
            assert parsed.entries, path
    assert not (work / "public" / "source" / "maintenance.atom").exists()


def test_feed_dates_are_aware_and_undated_entries_dated_when_first_seen(crawled):
    work, _, out, _ = crawled
    with open_store(work / "store.sqlite3") as store:
        articles = store.articles()
    assert articles
    assert all(a.published is not None and a.published.tzinfo is not None for a in articles)
    inferred = [a for a in articles if a.dates["published"].source != "feed"]
    # mod-press.rdf's last item has no date: kept, as readers show it, dated when first seen
    # and recorded as inferred.
    assert [a.title for a in inferred] == ["ホームページのメンテナンスのお知らせ"]
    assert inferred[0].dates["published"].source == "first_seen"
    assert inferred[0].published == inferred[0].first_seen
    assert inferred[0].inferred == ["published"]
    assert "tobu-dfb: 3 entries read, 3 kept" in out and "1 published inferred" in out


def test_edited_title_and_moved_guid_update_the_item(crawled, tmp_path):
    work, *_ = crawled
    with open_store(work / "store.sqlite3") as store:
        count = store.count_articles()
        first_seen = store.get_article(id_for_url(FRIGATE)).first_seen
    shutil.copy(FIXTURES / "naval-updated.xml", work / "site" / "feeds" / "naval.xml")
    code, out, err = run_feeds(work)
    assert code == 1, err[-3000:]  # the maintenance source still fails
    with open_store(work / "store.sqlite3") as store:
        assert store.count_articles() == count
        frigate = store.get_article(id_for_url(FRIGATE))
    assert frigate.title == FRIGATE_EDITED
    assert frigate.guid == "https://fleetwatch.example/?p=48211"
    assert frigate.first_seen == first_seen
    naval = entries(work / "public" / "category" / f"{slug('海上', work)}.atom")
    assert [e.findtext(f"{ATOM}title") for e in naval if e.findtext(f"{ATOM}id") == FRIGATE] == [
        FRIGATE_EDITED
    ]


def test_second_crawl_revalidates_feeds_with_conditional_requests(tmp_path):
    """Feeds go through Scrapy's HTTP cache: a re-crawl asks If-Modified-Since and gets 304s
    instead of the whole feeds again."""
    shutil.copytree(FIXTURES, tmp_path / "site" / "feeds")
    for path in (tmp_path / "site" / "feeds").iterdir():
        # Just modified: no heuristic freshness (a tenth of the file's age), so the second
        # crawl must ask the server instead of answering from the cache.
        os.utime(path)
    runs = []
    with StaticServer(tmp_path / "site") as server:
        template = (FIXTURES / "sources.toml").read_text(encoding="utf-8")
        sources = tmp_path / "sources.toml"
        sources.write_text(template.replace("{base_url}", server.url.rstrip("/")), encoding="utf-8")
        for _ in range(2):
            # -v: Scrapy's stats dump (INFO) is what this test reads.
            runs.append(defnews("-v", "crawl", "--sources", str(sources), "--store",
                                str(tmp_path / "store.sqlite3"), "--no-throttle", cwd=tmp_path))
    assert "'httpcache/revalidate'" not in runs[0].stderr
    revalidated = re.search(r"'httpcache/revalidate': (\d+)", runs[1].stderr)
    assert revalidated and int(revalidated.group(1)) >= 7, runs[1].stderr[-3000:]
    assert (tmp_path / "httpcache").is_dir()
    assert "0 new" in runs[1].stdout
