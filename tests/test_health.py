"""Source health: a layout change makes the source unhealthy (exit 1, health.json, an entry
in health.atom) and its feeds keep their items; healthy re-runs change nothing."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from fixture_server import FixtureServer
from mirror import build_mirror
from support import Run, defnews

from crawler.sources import load_sources
from crawler.store import SQLiteStore
from defnews.health import judge, write_health
from defnews.runner import CrawlerResult

BROKEN = (b"<!DOCTYPE html><html><head><title>J-Defense renewed</title></head><body>"
          b"<div id='app' data-page='1'></div><script src='/app.js'></script></body></html>")
LIMITS = {"parsed": 0.8, "published": 0.5, "categories": 0.5}


def run(server: FixtureServer, work: Path) -> Run:
    return defnews(
        "run", "--only", "jdefense", "--base-url", server.url, "--no-throttle",
        "--store", str(work / "store.sqlite3"), "--public", str(work / "public"),
        "--feed-url", "https://feeds.example.org/", cwd=work,
    )


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    work = tmp_path_factory.mktemp("health")
    build_mirror(work / "site")
    with FixtureServer(work / "site") as server:
        first = run(server, work)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "jdefense     healthy" in first.stdout
    return work


@pytest.fixture
def work(baseline, tmp_path):
    shutil.copy(baseline / "store.sqlite3", tmp_path / "store.sqlite3")
    shutil.copytree(baseline / "public", tmp_path / "public")
    return tmp_path


def entry_ids(path: Path) -> list[str]:
    return [e.id for e in feedparser.parse(str(path)).entries]


def test_healthy_rerun_leaves_the_public_folder_byte_identical(work):
    before = {p: p.read_bytes() for p in (work / "public").rglob("*") if p.is_file()}
    build_mirror(work / "site")
    with FixtureServer(work / "site") as server:
        again = run(server, work)
    assert again.returncode == 0, again.stderr[-3000:]
    after = {p: p.read_bytes() for p in (work / "public").rglob("*") if p.is_file()}
    assert after == before
    health = json.loads((work / "public" / "health.json").read_text(encoding="utf-8"))["_defnews"]
    assert health["healthy"] is True and health["sources"]["jdefense"]["healthy"] is True


@pytest.mark.parametrize("broken", ["listings", "articles"])
def test_layout_change_marks_the_source_unhealthy_and_feeds_keep_their_items(work, broken):
    all_before = entry_ids(work / "public" / "all.atom")
    new = build_mirror(work / "site", new=2)
    site = work / "site"
    if broken == "listings":
        pages = [site / "index.html", *site.glob("docs/*/index*.html")]
    else:
        pages = [site / p.lstrip("/") for p in new]
    for page in pages:
        page.write_bytes(BROKEN)
    with FixtureServer(site) as server:
        result = run(server, work)
    assert result.returncode == 1, result.stdout + result.stderr[-300:]
    assert "jdefense     UNHEALTHY" in result.stdout
    reason = "no article found" if broken == "listings" else "articles with published: 0%"
    assert reason in result.stdout
    health = json.loads((work / "public" / "health.json").read_text(encoding="utf-8"))["_defnews"]
    assert health["healthy"] is False
    assert health["sources"]["jdefense"]["healthy"] is False
    assert any(reason in r for r in health["sources"]["jdefense"]["reasons"])
    feed = feedparser.parse(str(work / "public" / "health.atom"))
    assert feed.bozo == 0
    assert [e.title for e in feed.entries] == ["jdefense: UNHEALTHY"]
    assert feed.entries[0].id.startswith("tag:defnews,2024:health:jdefense:")
    # The feeds keep every item they had.
    assert entry_ids(work / "public" / "all.atom") == all_before

    # Fixed: the next run recovers, and the health feed says so.
    build_mirror(site, new=2)
    with FixtureServer(site) as server:
        fixed = run(server, work)
    assert fixed.returncode == 0, fixed.stdout
    feed = feedparser.parse(str(work / "public" / "health.atom"))
    assert [e.title for e in feed.entries] == ["jdefense: healthy again", "jdefense: UNHEALTHY"]
    assert json.loads((work / "public" / "health.json").read_text())["_defnews"]["healthy"] is True


def result(**stats: int) -> CrawlerResult:
    base = {"item_scraped_count": 0, "response_received_count": 5}
    return CrawlerResult("jdefense", "jdefense", "finished", {**base, **stats})


def previous_run(store: SQLiteStore, seen: int) -> list:
    now = datetime.now(UTC)
    store.add_source_run("jdefense", started_at=now - timedelta(minutes=15), finished_at=now,
                         finish_reason="finished", healthy=True, data={"articles_seen": seen})
    return store.source_runs("jdefense")


@pytest.mark.parametrize(
    ("stats", "seen_before", "healthy", "reason"),
    [
        ({"defnews/incremental/known_skipped": 20, "item_scraped_count": 0}, 40, True, None),
        ({"defnews/http/not_modified": 3, "defnews/incremental/known_skipped": 0,
          "defnews/store/unchanged": 1}, 40, True, None),
        ({"defnews/store/unchanged": 0, "defnews/incremental/known_skipped": 0,
          "defnews/jdefense/listing_pages": 4, "defnews/store/new": 0}, 0, False,
         "no item was scraped"),
        ({"item_scraped_count": 10, "defnews/health/articles": 10,
          "defnews/health/with/published": 10, "defnews/health/with/categories": 2,
          "defnews/health/with/summary": 10}, 40, False, "articles with categories: 20%"),
        ({"item_scraped_count": 2, "defnews/health/articles": 2, "defnews/parse_errors": 8,
          "defnews/health/with/published": 2, "defnews/health/with/categories": 2}, 40, False,
         "articles read: 20%"),
        ({"item_scraped_count": 1, "defnews/health/articles": 1, "defnews/parse_errors": 0},
         40, True, None),
        # One of several processes on a shared frontier: the others took every article.
        ({"defnews/frontier/worker": "w1", "defnews/jdefense/listing_pages": 4}, 40, True, None),
    ],
    ids=["known-only", "not-modified", "nothing", "categories-coverage", "parse-failures",
         "sample-too-small", "shared-frontier-process-without-articles"],
)
def test_judge(tmp_path, stats, seen_before, healthy, reason):
    with SQLiteStore(tmp_path / "s.sqlite3") as store:
        verdict = judge(result(**stats), previous_run(store, seen_before), LIMITS, 2)
    assert verdict.healthy is healthy, verdict.reasons
    if reason:
        assert any(reason in r for r in verdict.reasons), verdict.reasons


def test_no_article_where_earlier_runs_found_some(tmp_path):
    stats = {"defnews/store/unchanged": 0, "item_scraped_count": 0}
    c = CrawlerResult("jdefense", "jdefense", "finished", {**stats, "defnews/jdefense/listing_pages": 4})
    # An empty crawl after good ones is unhealthy even when something was scraped elsewhere:
    c.stats["item_scraped_count"] = 1  # e.g. the ranking snapshot
    with SQLiteStore(tmp_path / "s.sqlite3") as store:
        verdict = judge(c, previous_run(store, 42), LIMITS, 2)
    assert not verdict.healthy
    assert "earlier runs found up to 42" in verdict.reasons[0]


def test_health_files_are_stable_and_port_free(tmp_path):
    with SQLiteStore(tmp_path / "s.sqlite3") as store:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        for i, ok in enumerate([True, True, False, False, True]):
            at = now + timedelta(minutes=15 * i)
            store.add_source_run("jdefense", started_at=at, finished_at=at, finish_reason="finished",
                                 healthy=ok, data={"articles_seen": 10 * ok, "reasons": [] if ok else ["x"]})
        write_health(store, tmp_path / "a", "http://127.0.0.1:18000/")
        write_health(store, tmp_path / "b", "http://127.0.0.1:18001/")
    feed = feedparser.parse(str(tmp_path / "a" / "health.atom"))
    assert [e.title for e in feed.entries] == ["jdefense: healthy again", "jdefense: UNHEALTHY"]
    ids_a = [e.id for e in feed.entries]
    ids_b = [e.id for e in feedparser.parse(str(tmp_path / "b" / "health.atom")).entries]
    assert ids_a == ids_b and not any("127.0.0.1" in i for i in ids_a)
    assert (tmp_path / "a" / "health.json").read_bytes() == (tmp_path / "b" / "health.json").read_bytes()


def test_a_feed_that_empties_makes_the_feeds_source_unhealthy(tmp_path):
    earlier = {"feeds": {"navalnews": {"entries": 12, "errors": 0, "not_modified": 0},
                         "quiet": {"entries": 0, "errors": 0, "not_modified": 0}}}
    stats = {"item_scraped_count": 5, "defnews/feeds/entries": 5,
             "defnews/feeds/read": {"navalnews", "wire", "quiet"},
             "defnews/feeds/entries/wire": 5}
    c = CrawlerResult("feeds", "feeds", "finished", stats)
    with SQLiteStore(tmp_path / "s.sqlite3") as store:
        now = datetime.now(UTC)
        store.add_source_run("feeds", started_at=now, finished_at=now, finish_reason="finished",
                             healthy=True, data=earlier)
        verdict = judge(c, store.source_runs("feeds"), LIMITS, 2)
        assert verdict.reasons == ["feed navalnews: no entry, where earlier runs read up to 12"]
        # A 304 is not an empty feed.
        c.stats["defnews/feeds/not_modified/navalnews"] = 1
        assert judge(c, store.source_runs("feeds"), LIMITS, 2).healthy


def test_health_command_shows_states_and_runs_and_exits_1_when_unhealthy(tmp_path, capsys):
    from defnews.cli import main

    path = tmp_path / "s.sqlite3"
    with SQLiteStore(path) as store:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        for i, ok in enumerate([True, False]):
            at = now + timedelta(minutes=15 * i)
            store.add_source_run("jdefense", started_at=at, finished_at=at, finish_reason="finished",
                                 healthy=ok, data={"pages": 5 + i, "not_modified": 3, "new": i,
                                                   "reasons": [] if ok else ["layout changed"]})
    assert main(["health", "--store", str(path)]) == 1
    out = capsys.readouterr().out
    assert "jdefense: UNHEALTHY since 2026-01-01T00:15:00+00:00" in out
    assert "layout changed" in out and out.count("pages") == 2
    with SQLiteStore(path) as store:
        store.add_source_run("jdefense", started_at=now + timedelta(hours=1),
                             finished_at=now + timedelta(hours=1), finish_reason="finished",
                             healthy=True, data={})
    assert main(["health", "--store", str(path), "--runs", "1"]) == 0
    assert capsys.readouterr().out.count("pages") == 1


def _runs(store, oks):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for i, ok in enumerate(oks):
        at = now + timedelta(minutes=15 * i)
        store.add_source_run("jdefense", started_at=at, finished_at=at, finish_reason="finished",
                             healthy=ok, data={"reasons": [] if ok else ["x"]})
    return now


def test_a_health_feed_without_entries_is_updated_when_the_first_run_was(tmp_path):
    """It said 1970-01-01 (no state change yet)."""
    with SQLiteStore(tmp_path / "s.sqlite3") as store:
        first = _runs(store, [True, True])
        write_health(store, tmp_path / "p", "http://localhost:8000/")
    feed = feedparser.parse(str(tmp_path / "p" / "health.atom"))
    assert feed.entries == []
    assert feed.feed.updated == first.isoformat()
    doc = json.loads((tmp_path / "p" / "health.json").read_text(encoding="utf-8"))
    assert doc["_defnews"]["updated"] == first.isoformat()


def test_health_json_is_a_json_feed_like_every_json_file_of_the_folder(tmp_path):
    import jsonschema

    schema = json.loads((Path(__file__).parent / "fixtures" / "schemas"
                         / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8"))
    with SQLiteStore(tmp_path / "s.sqlite3") as store:
        _runs(store, [True, False, True])
        write_health(store, tmp_path / "p", "http://localhost:8000/")
    doc = json.loads((tmp_path / "p" / "health.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, schema)
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert [i["title"] for i in doc["items"]] == ["jdefense: healthy again", "jdefense: UNHEALTHY"]
    assert doc["_defnews"]["sources"]["jdefense"]["healthy"] is True


# -- health per source, from wherever the crawl ran (#17 points 3, 5) ----------------------
ROOT = Path(__file__).resolve().parents[1]
FEED_FIXTURES = Path(__file__).parent / "fixtures" / "feeds"


def test_scrapy_crawl_records_health_like_defnews_crawl(tmp_path):
    """Under `scrapy crawl` (and Scrapyd) no record was written: `defnews health` said
    "no run recorded yet", exit 0."""
    import os
    import subprocess
    import sys

    from defnews.server import StaticServer

    store = tmp_path / "s.sqlite3"
    with StaticServer(ROOT / "defnews" / "demo_site") as server:
        proc = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "jdefense", "-a", f"base_url={server.url}",
             "-s", f"DEFNEWS_STORE={store}", "-s", "DOWNLOAD_DELAY=0",
             "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "LOG_LEVEL=WARNING"],
            cwd=ROOT, capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-3000:]
    health = defnews("health", "--store", str(store), cwd=tmp_path)
    assert health.returncode == 0, health.stdout
    assert health.stdout.startswith("jdefense: healthy since ")
    assert "last fetch 20" in health.stdout and "last new item 20" in health.stdout


def test_every_feed_source_has_its_own_record_and_a_failed_one_is_named(tmp_path):
    shutil.copytree(FEED_FIXTURES, tmp_path / "site" / "feeds")
    from defnews.server import StaticServer

    with StaticServer(tmp_path / "site") as server:
        template = (FEED_FIXTURES / "sources.toml").read_text(encoding="utf-8")
        sources = tmp_path / "sources.toml"
        sources.write_text(template.replace("{base_url}", server.url.rstrip("/")),
                           encoding="utf-8")
        run = defnews("crawl", "--sources", str(sources), "--store", str(tmp_path / "s.sqlite3"),
                      "--no-throttle", cwd=tmp_path)
        error_url = f"{server.url}feeds/error.html"
    assert run.returncode == 1
    with SQLiteStore(tmp_path / "s.sqlite3") as store:
        recorded = set(store.run_sources())
        maintenance = store.source_runs("maintenance", limit=1)[0]
        fleetwatch = store.source_runs("fleetwatch", limit=1)[0]
    keys = {s.key for s in load_sources(sources).sources if s.enabled}
    assert recorded == keys  # one record per feed source, none called "feeds"
    assert not maintenance.healthy and fleetwatch.healthy
    assert error_url in maintenance.data["error"]
    assert any(error_url in r for r in maintenance.data["reasons"])
    assert fleetwatch.data["new"] > 0 and fleetwatch.data["last_new_item"]
    health = defnews("health", "--store", str(tmp_path / "s.sqlite3"), cwd=tmp_path)
    assert health.returncode == 1
    assert "maintenance: UNHEALTHY" in health.stdout and error_url in health.stdout
    assert "fleetwatch: healthy" in health.stdout


def test_health_of_a_store_no_crawl_recorded_into_is_a_failure(tmp_path):
    with SQLiteStore(tmp_path / "s.sqlite3"):
        pass
    run = defnews("health", "--store", str(tmp_path / "s.sqlite3"), cwd=tmp_path)
    assert run.returncode == 1 and "no run recorded yet" in run.stdout


def test_health_names_a_configured_source_that_never_ran(tmp_path):
    with SQLiteStore(tmp_path / "s.sqlite3") as store:
        _runs(store, [True])
    sources = tmp_path / "sources.toml"
    sources.write_text('[categories]\n"国際" = "world"\n'
                       '[[source]]\nkey = "jdefense"\nname = "J"\nkind = "site"\n'
                       'spider = "jdefense"\nurl = "https://j-defense.ikaros.jp/"\nlanguage = "ja"\n'
                       '[[source]]\nkey = "quiet"\nname = "Q"\nkind = "feed"\n'
                       'url = "https://q.example/feed.xml"\nlanguage = "en"\n', encoding="utf-8")
    run = defnews("health", "--store", str(tmp_path / "s.sqlite3"), "--sources", str(sources),
                  cwd=tmp_path)
    assert run.returncode == 1
    assert "quiet: NEVER RUN" in run.stdout and "jdefense: healthy" in run.stdout


@pytest.mark.parametrize("stats", [
    {"defnews/frontier/error": "Redis at redis://r:6379/0 is not reachable"},
    {"defnews/store/write_errors": 3},
], ids=["redis-gone", "store-failed"])
def test_a_frontier_or_store_outage_is_the_crawls_failure_not_the_sites(tmp_path, stats):
    from defnews.health import record_health
    from defnews.runner import CrawlReport

    c = CrawlerResult("jdefense", "jdefense", "redis_unavailable" if "defnews/frontier/error"
                      in stats else "finished", {"response_received_count": 3, **stats})
    verdicts = record_health(str(tmp_path / "s.sqlite3"), CrawlReport([c]), {},
                             datetime(2026, 1, 1, tzinfo=UTC))
    assert verdicts == []
    with SQLiteStore(tmp_path / "s.sqlite3") as store:
        assert store.source_runs("jdefense") == []


def test_a_feed_source_min_interval_skips_it_sooner_and_says_so(tmp_path):
    """Politeness (#17 "What to build"): `min_interval = "1h"` fetches the source at most once
    an hour; a run sooner skips it and says so, `defnews health` shows the interval."""
    shutil.copytree(FEED_FIXTURES, tmp_path / "site" / "feeds")
    with FixtureServer(tmp_path / "site") as server:
        template = (FEED_FIXTURES / "sources.toml").read_text(encoding="utf-8")
        text = template.replace("{base_url}", server.url.rstrip("/")).replace(
            'key = "fleetwatch"\n', 'key = "fleetwatch"\nmin_interval = "1h"\n')
        sources = tmp_path / "sources.toml"
        sources.write_text(text, encoding="utf-8")
        assert load_sources(sources).get("fleetwatch").min_interval == 3600

        def crawl() -> Run:
            return defnews("crawl", "--sources", str(sources), "--only", "fleetwatch,defensewire",
                           "--store", str(tmp_path / "s.sqlite3"), "--no-throttle", cwd=tmp_path)

        first = crawl()
        assert first.returncode == 0, first.stdout + first.stderr[-3000:]
        assert server.counts["/feeds/naval.xml"] == 1
        assert "not fetched" not in first.stdout
        second = crawl()
        assert second.returncode == 0, second.stdout + second.stderr[-3000:]
        assert server.counts["/feeds/naval.xml"] == 1  # within the hour: not asked
        assert server.counts["/feeds/wire.atom"] == 2  # no min_interval: asked every run
        assert "fleetwatch: not fetched, min_interval 1h: last fetched " in second.stdout
        # An hour later (the last record's fetch moved back), it is fetched again.
        with SQLiteStore(tmp_path / "s.sqlite3") as store, store.transaction() as cur:
            hour_ago = (datetime.now(UTC) - timedelta(hours=1, minutes=1)).isoformat()
            cur.execute("UPDATE source_runs SET finished_at = ? WHERE source = 'fleetwatch'",
                        (hour_ago,))
        third = crawl()
        assert third.returncode == 0, third.stderr[-3000:]
        assert server.counts["/feeds/naval.xml"] == 2
        assert "not fetched" not in third.stdout
    health = defnews("health", "--store", str(tmp_path / "s.sqlite3"), cwd=tmp_path)
    section = health.stdout.split("fleetwatch:", 1)[1].split("\n\n", 1)[0]
    assert "min interval 1h: a run sooner after the last fetch skips the source" in section
    listed = defnews("sources", "--sources", str(sources), cwd=tmp_path)
    assert "(at most every 1h)" in [ln for ln in listed.stdout.splitlines()
                                    if "fleetwatch" in ln][0]
