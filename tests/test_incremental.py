"""Incremental, polite re-crawls against the counting fixture server: a re-crawl fetches the
listing pages and only the articles not yet stored; 429s wait for Retry-After; 5xx, slow
responses and dropped connections are retried."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_server import FixtureServer
from mirror import build_mirror
from support import Run, defnews

from crawler.store import open_store


def crawl(server: FixtureServer, work: Path, *extra: str) -> Run:
    run = defnews(
        "crawl", "--only", "jdefense", "--base-url", server.url, "--no-throttle",
        "--store", str(work / "store.sqlite3"), "-s", "DEFNEWS_RETRY_BACKOFF=0.1",
        "-s", "DEFNEWS_PROGRESS_INTERVAL=0", *extra, cwd=work,
    )
    return run


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """A mirror crawled once, its store copied per test."""
    work = tmp_path_factory.mktemp("incremental")
    site = work / "site"
    build_mirror(site)
    with FixtureServer(site) as server:
        first = crawl(server, work)
        assert first.returncode == 0, first.stderr[-3000:]
        assert len(server.article_requests()) > 40
    return work


@pytest.fixture
def work(mirror, tmp_path):
    for name in ("store.sqlite3",):
        (tmp_path / name).write_bytes((mirror / name).read_bytes())
    build_mirror(tmp_path / "site")
    return tmp_path


def test_second_crawl_downloads_no_article_page(work):
    with FixtureServer(work / "site") as server:
        run = crawl(server, work)
    assert run.returncode == 0, run.stderr[-3000:]
    assert dict(server.article_requests()) == {}
    # robots.txt, the home page (whole: its ranking sidebar), three section indexes (304).
    assert sum(server.counts.values()) == 5, server.counts
    assert server.statuses(304) == 3
    assert "0 new" in run.stdout


def test_two_new_articles_download_exactly_those_two(work):
    new = build_mirror(work / "site", new=2)
    with FixtureServer(work / "site") as server:
        run = crawl(server, work)
    assert run.returncode == 0, run.stderr[-3000:]
    assert dict(server.article_requests()) == {path: 1 for path in new}
    assert "2 new" in run.stdout
    with open_store(work / "store.sqlite3") as store:
        urls = set(store.source_article_urls("jdefense"))
    assert {f"https://j-defense.ikaros.jp{p}" for p in new} <= urls


def test_refresh_fetches_stored_articles_again(work):
    with FixtureServer(work / "site") as server:
        run = crawl(server, work, "--refresh")
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(server.article_requests()) > 40
    assert server.statuses(304) == 0


def test_revisit_age_fetches_articles_last_seen_before_it(work):
    with FixtureServer(work / "site") as server:
        run = crawl(server, work, "-s", "DEFNEWS_REVISIT_AGE=0.001")
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(server.article_requests()) > 40


def test_a_429_waits_for_retry_after_and_retries(work):
    (new,) = build_mirror(work / "site", new=1)
    with FixtureServer(work / "site") as server:
        server.script(new, "429:1")
        run = crawl(server, work)
    assert run.returncode == 0, run.stderr[-3000:]
    times = [t for path, _, t in server.log if path == new]
    statuses = [s for path, s, _ in server.log if path == new]
    assert statuses == [429, 200]
    assert times[1] - times[0] >= 1.0  # Retry-After: 1 was honoured
    assert "1 new" in run.stdout


@pytest.mark.parametrize(
    "steps", [("500", "503"), ("drop",), ("slow:3",)], ids=["5xx", "dropped", "timeout"])
def test_errors_and_timeouts_are_retried(work, steps):
    (new,) = build_mirror(work / "site", new=1)
    with FixtureServer(work / "site") as server:
        server.script(new, *steps)
        run = crawl(server, work, "-s", "DOWNLOAD_TIMEOUT=1")
    assert run.returncode == 0, run.stderr[-3000:]
    assert server.counts[new] == len(steps) + 1
    assert "1 new" in run.stdout


def test_a_page_failing_every_retry_is_fetched_again_next_crawl(work):
    """The listing's validators are not kept after a crawl that lost an article: the next
    crawl must not get a 304 that hides it."""
    (new,) = build_mirror(work / "site", new=1)
    with FixtureServer(work / "site") as server:
        server.script(new, "500", "500", "500")
        failed = crawl(server, work)
        assert "0 new" in failed.stdout
        server.reset()
        again = crawl(server, work)
    assert again.returncode == 0, again.stderr[-3000:]
    assert dict(server.article_requests()) == {new: 1}
    assert "1 new" in again.stdout


def test_counter_walk_remembers_what_it_probed(work):
    with FixtureServer(work / "site") as server:
        run = crawl(server, work, "--counter-walk", "60")
    assert run.returncode == 0, run.stderr[-3000:]
    probes = sum(server.article_requests().values())
    with FixtureServer(work / "site") as server:
        again = crawl(server, work, "--counter-walk", "60")
    assert probes > 0  # the wider walk probed numbers the first crawl had not reached
    assert dict(server.article_requests()) == {}, again.stdout


def test_revisit_of_a_changed_page_keeps_the_id_and_sets_updated(work):
    path = "/docs/mod/001933.html"
    page = work / "site" / path.lstrip("/")
    url = f"https://j-defense.ikaros.jp{path}"
    with open_store(work / "store.sqlite3") as store:
        before = {a.url: a for a in store.articles(source="jdefense")}[url]
    assert before.updated is None
    html = page.read_text(encoding="utf-8")
    body = "<p>10月17日(木)、中谷防衛大臣は"
    assert body in html
    page.write_text(html.replace(body, "<p>10月17日(木)、中谷元防衛大臣は", 1), encoding="utf-8")
    with FixtureServer(work / "site") as server:
        run = crawl(server, work, "--refresh")
    assert run.returncode == 0, run.stderr[-3000:]
    with open_store(work / "store.sqlite3") as store:
        after = {a.url: a for a in store.articles(source="jdefense")}
    changed = after[url]
    assert changed.id == before.id and changed.first_seen == before.first_seen
    assert changed.updated is not None and changed.dates["updated"].source == "revisit"
    revisited = [u for u, a in after.items() if "updated" in a.dates and a.dates["updated"].source == "revisit"]
    assert revisited == [url]  # only the changed page
    assert "1 updated" in run.stdout

    with FixtureServer(work / "site") as server:  # unchanged since: nothing moves
        again = crawl(server, work, "--refresh")
    with open_store(work / "store.sqlite3") as store:
        assert store.get_article(before.id).updated == changed.updated
    assert "0 updated" in again.stdout


FEED_FIXTURES = Path(__file__).parent / "fixtures" / "feeds"


def test_feeds_are_asked_conditionally_with_validators_from_the_store(tmp_path):
    """With the HTTP cache off, the store's validators alone make an unchanged feed a 304."""
    import shutil

    shutil.copytree(FEED_FIXTURES, tmp_path / "site" / "feeds")
    with FixtureServer(tmp_path / "site") as server:
        sources = tmp_path / "sources.toml"
        sources.write_text((FEED_FIXTURES / "sources.toml").read_text(encoding="utf-8")
                           .replace("{base_url}", server.url.rstrip("/")), encoding="utf-8")
        runs = []
        for _ in range(2):
            server.reset()
            runs.append(defnews("crawl", "--sources", str(sources), "--store",
                                str(tmp_path / "store.sqlite3"), "--no-throttle",
                                "-s", "HTTPCACHE_ENABLED=0", cwd=tmp_path))
        answered = {path: status for path, status, _ in server.log if path.startswith("/feeds/")}
    # Every feed but the one that is not a feed (an HTML error page, read again each time).
    assert {p for p, s in answered.items() if s != 304} == {"/feeds/error.html"}, answered
    assert len(answered) >= 7
    assert not (tmp_path / "httpcache").exists()
    assert "0 new" in runs[1].stdout
