"""End to end for the ranking: every page of the fixture site carries the same sidebar; a crawl
makes one snapshot, an unchanged re-crawl adds nothing to the "new in the ranking" feed, and a
changed sidebar adds exactly the entrants."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import feedparser
import pytest
from support import defnews

from crawler.store import open_store
from crawler.urls import id_for_url
from defnews.server import StaticServer

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "defnews" / "demo_site"
SITE_URL = "https://j-defense.ikaros.jp"


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_demo_site", ROOT / "scripts" / "build_demo_site.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


builder = _load_builder()


def crawl(site: Path, work: Path) -> None:
    with StaticServer(site) as server:
        run = defnews(
            "run", "--only", "jdefense", "--base-url", server.url,
            "--store", str(work / "store.sqlite3"), "--public", str(work / "public"),
            "--output", str(work / "items.jsonl"), "--no-throttle",
            "--feed-url", "https://feeds.example.org/", cwd=work,
        )
    assert run.returncode == 0, run.stderr[-4000:]


def new_feed(work: Path) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(str(work / "public" / "ranking" / "jdefense-new.atom"))
    assert parsed.bozo == 0
    return parsed


def entrance_keys(parsed) -> set[tuple[str, str]]:
    """(period, article URL) of every entry of the "new in the ranking" feed."""
    keys = set()
    for entry in parsed.entries:
        url, _, fragment = entry.id.partition("#ranking-")
        keys.add((fragment.split("-")[0], url))
    return keys


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    work = tmp_path_factory.mktemp("ranking-e2e")
    crawl(SITE, work)
    return work


def test_first_crawl_makes_one_snapshot_not_one_per_page(work):
    items = [json.loads(x) for x in (work / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    (ranking,) = [i for i in items if i["type"] == "ranking"]
    assert sum(len(v) for v in ranking["lists"].values()) == 30
    assert len(ranking["articles"]) == 21
    with open_store(work / "store.sqlite3") as store:
        assert store.count_snapshots("jdefense") == 1
        view = store.latest_ranking("jdefense")
    # Every ranked article was fetched and stored, so the ranking feed has its date and summary.
    assert all(r.article is not None for entries in view.lists.values() for r in entries)
    assert len(new_feed(work).entries) == 30


def test_period_feeds_in_rank_order_with_the_articles_own_ids(work):
    site = builder.load_site()
    for period in ("24h", "1w", "1m"):
        parsed = feedparser.parse(str(work / "public" / "ranking" / f"jdefense-{period}.atom"))
        assert parsed.bozo == 0
        assert [e.id for e in parsed.entries] == [SITE_URL + path for _, path in site.ranking[period]]
        assert all(e.get("published") for e in parsed.entries)
        assert parsed.entries[0].title.startswith("1位")


def test_unchanged_recrawls_add_nothing_then_a_changed_sidebar_adds_the_entrants(work, tmp_path):
    before = (work / "public" / "ranking" / "jdefense-new.atom").read_bytes()
    crawl(SITE, work)
    crawl(SITE, work)
    assert (work / "public" / "ranking" / "jdefense-new.atom").read_bytes() == before
    with open_store(work / "store.sqlite3") as store:
        assert store.count_snapshots("jdefense") == 3

    site = builder.load_site()
    ranked = {path for entries in site.ranking.values() for _, path in entries}
    outsiders = [a for a in site.articles if a.path not in ranked and a.date and a.linked
                 and not a.malformed][:2]
    assert len(outsiders) == 2
    changed = {p: [path for _, path in entries] for p, entries in site.ranking.items()}
    changed["24h"] = [outsiders[0].path] + changed["24h"][:9]  # one enters at 1, the 10th leaves
    changed["1m"] = changed["1m"][:9] + [outsiders[1].path]  # one replaces the 10th
    changed["1w"] = changed["1w"][1:] + changed["1w"][:1]  # reordered only: no entrant
    title = {a.path: a.title for a in site.articles}
    variant = tmp_path / "site"
    builder.build_site(variant, ranking={p: [(title[x], x) for x in v] for p, v in changed.items()})

    crawl(variant, work)
    after = new_feed(work)
    expected = {("24h", SITE_URL + outsiders[0].path), ("1m", SITE_URL + outsiders[1].path)}
    assert len(after.entries) == 30 + 2
    old = entrance_keys(feedparser.parse(before))
    assert entrance_keys(after) - old == expected
    with open_store(work / "store.sqlite3") as store:
        stints = store.ranking_stints("jdefense", id_for_url(SITE_URL + changed["24h"][1]))
    assert [s.snapshots for s in stints if s.period == "24h"] == [4]
