"""The archive walk: what a first crawl did not reach is looked for on the next runs, until
every section's index pages were walked to the end (crawler/archive.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fixture_server import FixtureServer
from mirror import build_mirror
from support import Run, defnews

from crawler import archive
from crawler.pages.jdefense import article_number
from crawler.store import ArchiveWalk, open_store


def crawl_args(server: FixtureServer, work: Path, *extra: str) -> list[str]:
    return ["crawl", "--only", "jdefense", "--base-url", server.url, "--no-throttle",
            "--store", str(work / "store.sqlite3"), "-s", "DEFNEWS_PROGRESS_INTERVAL=0",
            "-s", "DEFNEWS_RETRY_BACKOFF=0.1", *extra]


def crawl(server: FixtureServer, work: Path, *extra: str) -> Run:
    return defnews(*crawl_args(server, work, *extra), cwd=work)


def stored(work: Path) -> set[str]:
    with open_store(work / "store.sqlite3") as store:
        return set(store.source_article_urls("jdefense"))


@pytest.fixture(scope="module")
def everything(tmp_path_factory) -> set[str]:
    """Every article of the mirror, as one uninterrupted first crawl stores them."""
    work = tmp_path_factory.mktemp("archive-full")
    build_mirror(work / "site")
    with FixtureServer(work / "site") as server:
        run = crawl(server, work)
    assert run.returncode == 0, run.stderr[-3000:]
    urls = stored(work)
    assert len(urls) > 40
    with open_store(work / "store.sqlite3") as store:
        walks = store.archive_walks("jdefense")
    assert set(walks) == {"mod", "others", "commentary"}
    assert all(w.complete for w in walks.values()), walks
    assert "archive walk" not in run.stdout  # complete: nothing to say
    return urls


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
# Stopped after so many requests: before the archive walk, a stop after 32 left 35 of the 42
# articles after two more runs, for good (the stored newest pages ended each pagination).
@pytest.mark.parametrize("after", [24, 32, 40], ids=["after-24", "after-32", "after-40"])
def test_an_interrupted_first_crawl_loses_nothing_after_the_next_normal_run(
        everything, tmp_path, signum, after):
    build_mirror(tmp_path / "site")
    with FixtureServer(tmp_path / "site") as server:
        server.delay = 0.15  # a throttled first crawl: long enough to be stopped part-way
        proc = subprocess.Popen([sys.executable, "-m", "defnews", *crawl_args(server, tmp_path)],
                                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.monotonic() + 120
        while sum(server.counts.values()) < after and proc.poll() is None:
            assert time.monotonic() < deadline, "the crawl did not get going"
            time.sleep(0.02)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode in (130, -signal.SIGKILL), (proc.returncode, err[-3000:])
        if signum == signal.SIGINT:
            assert "archive walk" in out and "resumes next run" in out, out
            assert "healthy" not in out
        partial = stored(tmp_path)
        assert partial < everything  # stopped part-way
        server.delay = 0.0
        run = crawl(server, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert stored(tmp_path) == everything
    assert "archive walk" not in run.stdout


def test_a_bounded_first_crawl_says_so_and_the_next_runs_resume(everything, tmp_path):
    build_mirror(tmp_path / "site")
    bounded = ("--max-index-pages", "1")
    with FixtureServer(tmp_path / "site") as server:
        first = crawl(server, tmp_path, *bounded)
        assert first.returncode == 0, first.stderr[-3000:]
        # mod has 3 index pages, others and commentary one each.
        assert "incomplete: archive walk 3 of 5 index pages; resumes next run" in first.stdout
        assert "healthy but incomplete" in first.stdout
        with open_store(tmp_path / "store.sqlite3") as store:
            walks = store.archive_walks("jdefense")
        assert {s: (w.next_page, w.complete) for s, w in walks.items()} == {
            "mod": (2, False), "others": (2, True), "commentary": (2, True)}
        assert walks["mod"].next_url == "https://j-defense.ikaros.jp/docs/mod/index_2.html"
        second = crawl(server, tmp_path, *bounded)
        assert "incomplete: archive walk 4 of 5 index pages; resumes next run" in second.stdout
        server.reset()
        third = crawl(server, tmp_path, *bounded)
        assert "/docs/mod/index_3.html" in server.counts  # resumed where the walk stopped
    assert third.returncode == 0, third.stderr[-3000:]
    assert "archive walk" not in third.stdout
    assert stored(tmp_path) == everything
    with open_store(tmp_path / "store.sqlite3") as store:
        assert all(w.complete for w in store.archive_walks("jdefense").values())


def at(page: int, url: str | None, complete: bool = False, total: int | None = None) -> ArchiveWalk:
    return ArchiveWalk("mod", url, page, total, complete, archive.datetime.now(archive.UTC))


@pytest.mark.parametrize(("before", "listed", "stored", "failed", "after"), [
    (None, {1: ({1, 2}, "p2"), 2: ({3}, None)}, {1, 2, 3}, set(), (3, None, True)),
    (None, {1: ({1, 2}, "p2"), 2: ({3}, None)}, {1, 2}, set(), (2, "p2", False)),
    (None, {1: ({1, 2}, "p2"), 2: ({3}, None)}, {1, 2, 3}, {3}, (2, "p2", False)),
    (None, {1: ({1, 2}, "p2")}, {1, 2}, set(), (2, "p2", False)),
    (None, {}, set(), set(), (1, None, False)),
    (at(2, "p2"), {1: ({9}, "p2"), 2: ({3}, "p3"), 3: ({4}, None)}, {3, 4}, set(), (4, None, True)),
    (at(2, "p2"), {1: ({9}, "p2")}, {9}, set(), (2, "p2", False)),
], ids=["walked-whole", "article-missing", "article-failed", "budget-spent", "nothing-read",
        "resumed-to-the-end", "resume-page-not-reached"])
def test_progress_moves_only_over_pages_whose_articles_are_stored(before, listed, stored, failed,
                                                                  after):
    walker = archive.Walker("jdefense", walks={"mod": before} if before else {})
    walker.resume("mod", "p1")
    for page, (numbers, next_url) in listed.items():
        walker.listed("mod", page, f"p{page}", numbers, next_url, None)
    for n in failed:
        walker.failed(n)
    walk = walker.progress(stored)["mod"]
    assert (walk.next_page, walk.next_url, walk.complete) == after


@pytest.mark.parametrize(("html", "url", "total"), [
    ('<a href="./">1</a><a href="index_2.html">2</a><a href="index_3.html">3</a>',
     "http://h/docs/mod/", 3),
    ('<a href="/news/page/2/">2</a><a href="/news/page/14/">14</a>', "http://h/news/", 14),
    ('<a href="/other/index_9.html">9</a>', "http://h/docs/mod/", None),
    ("<p>no pagination</p>", "http://h/docs/mod/", None),
], ids=["index-n", "wordpress", "other-section", "none"])
def test_total_pages_from_the_numbered_pagination(html, url, total):
    assert archive.total_pages(html, url) == total


def test_links_noted_for_their_article_are_written_at_the_end_of_the_crawl(tmp_path):
    """Links handed to the store with the linking page's article (Walker.linked) are each
    handed over once, and all written when the crawl closes (a linking page that no pipeline
    stored is recorded as fetched only then)."""
    base = "https://j-defense.ikaros.jp/docs/mod/"
    with open_store(tmp_path / "s.sqlite3") as store:
        store.record_archive_links("jdefense", [f"{base}000600.html"], at=datetime.now(UTC))
        walker = archive.Walker("jdefense")
        walker.load(store)
        assert walker.linked([f"{base}000652.html", f"{base}000600.html"]) == [
            f"{base}000652.html"]  # asked for by an earlier run: in the store already
        assert walker.linked([f"{base}000652.html", f"{base}000700.html"]) == [
            f"{base}000700.html"]
        assert store.archive_links("jdefense") == {f"{base}000600.html"}  # not written here
        walker.write_linked(store, at=datetime.now(UTC))
        assert store.archive_links("jdefense") == {
            f"{base}000600.html", f"{base}000652.html", f"{base}000700.html"}
        assert walker.settle(store, {600, 652}, article_number) == 1
        assert store.archive_links("jdefense") == {f"{base}000700.html"}


def test_links_are_kept_until_their_articles_are_stored(tmp_path):
    """An article reached only through another's prev/next link: the link is in the store
    before the linking article is (a SIGKILL between them loses nothing), and asked for again
    by every run until its article is stored or answered for good."""
    base = "https://j-defense.ikaros.jp/docs/mod/"
    with open_store(tmp_path / "s.sqlite3") as store:
        walker = archive.Walker("jdefense")
        walker.load(store)
        walker.ahead(store, [f"{base}000652.html", f"{base}000700.html", f"{base}000710.html"])
        # Written at once, not when the crawl ends: a new crawl (after a kill) reads them.
        again = archive.Walker("jdefense")
        again.load(store)
        assert again.pending() == [f"{base}000652.html", f"{base}000700.html",
                                   f"{base}000710.html"]
        again.answered(710)  # a 404: final
        again.failed(700)  # a timeout: asked again next run
        assert again.settle(store, {652, 700}, article_number) == 1
        assert store.archive_links("jdefense") == {f"{base}000700.html"}
    done = {"mod": at(4, None, complete=True, total=3)}
    assert archive.summary(done) is None
    assert archive.summary(done, 1) == (
        "incomplete: archive walk: 1 linked articles not fetched yet; resumes next run")


@pytest.mark.parametrize(("html", "url", "total"), [
    # Links that name their whole address skip the join unless they can name a page number;
    # relative ones are joined (their folder may be what says "page").
    ('<a href="https://h/docs/mod/index_4.html">4</a><a href="/docs/mod/000123.html">a</a>',
     "https://h/docs/mod/", 4),
    ('<a href="HTTP://h/news/page/7/">7</a><a href="//h/news/page/9/">9</a>', "http://h/news/", 9),
    ('<a href=".">this page</a><a href="?x=1">same</a>', "http://h/news/page/3/", 3),
    ('<a href="index_5.html">5</a>', "http://h/docs/mod/index_2.html", 5),
], ids=["absolute", "scheme-case-and-network-path", "relative-in-a-page-folder", "relative"])
def test_total_pages_joins_only_links_that_can_name_a_page(html, url, total):
    assert archive.total_pages(html, url) == total
