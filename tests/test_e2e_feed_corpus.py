"""End to end over the feed corpus: every format and oddity (tests/fixtures/feeds/corpus/) plus
a generated huge feed, served on 127.0.0.1 and listed in a sources file, crawled and built by
``defnews run``. Every entry a reader shows (an http(s) identity and something to show) is in
the store and in the built feeds under the outlet's own link; every built feed parses; no
source fails; the summary accounts for every entry read."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import feedparser
import pytest
from support import defnews
from test_pages_feed_corpus import reader_entries

from crawler.store import open_store
from crawler.urls import id_for_url
from defnews.server import StaticServer

CORPUS = Path(__file__).parent / "fixtures" / "feeds" / "corpus"
HUGE_ENTRIES = 1500


def huge_feed(n: int) -> bytes:
    """An RSS 2.0 feed of ``n`` items, as a busy outlet's full archive feed."""
    items = "".join(
        f"<item><title>Huge feed story {i}</title>"
        f"<link>https://huge.example/stories/{i}?ref=rss</link>"
        f"<guid isPermaLink=\"false\">huge-{i}</guid>"
        f"<pubDate>Mon, 02 Mar 2026 {i % 24:02d}:{i % 60:02d}:00 +0000</pubDate>"
        f"<description>&lt;p&gt;Story number {i} of the archive.&lt;/p&gt;</description></item>"
        for i in range(n)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>Huge Archive</title><link>https://huge.example/</link>"
        f"<description>All stories</description>{items}</channel></rss>"
    ).encode()


HUGE_SOURCE = """
[[source]]
key = "huge"
name = "Huge Archive"
kind = "feed"
urls = ["{base_url}/corpus/huge.xml"]
language = "en"
categories = ["国際"]
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("feed-corpus")
    site = work / "site" / "corpus"
    shutil.copytree(CORPUS, site)
    (site / "huge.xml").write_bytes(huge_feed(HUGE_ENTRIES))
    with StaticServer(work / "site") as server:
        text = (CORPUS / "sources.toml").read_text(encoding="utf-8") + HUGE_SOURCE
        sources = work / "sources.toml"
        sources.write_text(text.replace("{base_url}", server.url.rstrip("/")), encoding="utf-8")
        done = defnews(
            "run", "--sources", str(sources), "--store", str(work / "store.sqlite3"),
            "--public", str(work / "public"), "--no-throttle", "--limit", str(HUGE_ENTRIES + 100),
            "--feed-url", "https://feeds.example.org/", cwd=work,
        )
    return work, done


# The corpus entry whose title holds a byte that no encoding reads (invalid-utf8.xml).
UNDECODABLE = "https://bouei-watch.example/2026/03/broken"


def reader_links(path: Path) -> list[str]:
    """The link a reader opens for each entry of one feed file that has one."""
    return [r["link"] for r in reader_entries(path.name, path.parent) if r["link"]]


def test_no_source_fails_and_the_run_succeeds(run):
    work, done = run
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "FAILED" not in done.stdout
    assert "Traceback" not in done.stderr


def test_every_entry_with_an_identity_is_stored_under_the_outlets_link(run):
    work, _ = run
    with open_store(work / "store.sqlite3") as store:
        stored = {a.id: a for a in store.articles()}
    feeds = sorted(p for p in (work / "site" / "corpus").iterdir() if p.suffix != ".toml")
    expected = 0
    for path in feeds:
        for link in reader_links(path):
            if link == UNDECODABLE:
                # One bad byte costs that entry: never stored, its feed's other entry is.
                assert id_for_url(link) not in stored
                continue
            expected += 1
            article = stored.get(id_for_url(link))
            assert article is not None, (path.name, link)
            if path.name != "dup-b.atom":  # its one shared story is dup-a's (listed first)
                assert article.url == link, path.name
    # One item per story: dup-b's copy of dup-a's story merged into it.
    assert len(stored) == expected - 1


def test_every_stored_item_is_in_the_built_feeds_and_every_feed_parses(run):
    work, _ = run
    with open_store(work / "store.sqlite3") as store:
        stored = store.articles()
    built = list((work / "public").rglob("*.atom")) + list((work / "public").rglob("*.rss"))
    assert built
    published: set[str] = set()
    for path in built:
        parsed = feedparser.parse(path.read_bytes())
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        published.update(e.link for e in parsed.entries)
    assert {a.url for a in stored} <= published
    assert len(stored) == HUGE_ENTRIES + 36  # the corpus' 37, less the undecodable entry


def test_published_link_is_byte_identical_and_two_spellings_are_one_item(run):
    work, _ = run
    outlet = "http://www.kyushu-diary.example/2026/03/02/amphibious-landing/#c4788"
    with open_store(work / "store.sqlite3") as store:
        [story] = [a for a in store.articles() if "amphibious-landing" in a.url]
    assert story.url == outlet and story.source == "dup-a"
    for name in ("all.atom", "all.rss", "source/dup-a.atom"):
        parsed = feedparser.parse((work / "public" / name).read_bytes())
        links = [e.link for e in parsed.entries if "amphibious-landing" in e.link]
        assert links == [outlet], name
    raw = (work / "public" / "all.atom").read_text(encoding="utf-8")
    assert f'href="{outlet}"' in raw
    # The entry id is the identity key: stable when the outlet re-spells its link. In RSS it
    # is then no permalink (the link is the outlet's, the guid is not).
    key = "https://kyushu-diary.example/2026/03/02/amphibious-landing"
    atom = feedparser.parse((work / "public" / "all.atom").read_bytes())
    assert [e.id for e in atom.entries if e.link == outlet] == [key]
    rss = (work / "public" / "all.rss").read_text(encoding="utf-8")
    assert f'<guid isPermaLink="false">{key}</guid>' in rss
    dup_b = feedparser.parse((work / "public" / "source" / "dup-b.atom").read_bytes())
    assert [e.link for e in dup_b.entries] == ["https://western-wire.example/2026/03/hijudai"]


def test_summary_accounts_for_every_entry_read(run):
    _, done = run
    out = done.stdout
    assert f"huge: {HUGE_ENTRIES} entries read, {HUGE_ENTRIES} kept" in out
    assert "dup-b: 2 entries read, 1 kept, 1 merged as duplicates, 0 dropped" in out
    assert "atom10: 4 entries read, 3 kept, 0 merged as duplicates, 1 dropped" in out
    assert "dropped 1: no http link" in out
    assert "rss092: 3 entries read, 2 kept, 0 merged as duplicates, 1 dropped" in out
    assert "dropped 1: no link" in out
    assert "rss091: 2 entries read, 2 kept, 0 merged as duplicates, 0 dropped (2 published inferred)" in out
    # The entry with the bad byte is dropped (counted, reason named), the other kept; the
    # source is healthy with a warning, not clean.
    assert ("invalid-utf8: 2 entries read, 1 kept, 0 merged as duplicates, 1 dropped "
            "(1 invalid byte(s) replaced)") in out
    assert "dropped 1: undecodable text" in out
    assert re.search(r"invalid-utf8 +healthy with warnings", out), out
    assert "warning: 1 feed entries not published: bytes that no encoding reads" in out
    assert "markup-titles: 2 entries read, 2 kept, 0 merged as duplicates, 0 dropped (2 title inferred)" in out
    for line in re.findall(r"^\s+\S+: (\d+) entries read, (\d+) kept, (\d+) merged as duplicates, "
                           r"(\d+) dropped", out, re.MULTILINE):
        read, kept, merged, dropped = map(int, line)
        assert read == kept + merged + dropped
