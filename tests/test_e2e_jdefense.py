"""End to end: serve the fixture site on 127.0.0.1, crawl it with real Scrapy (``defnews run``
in a subprocess, as an operator would), and check the feeds, the items and the store."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import jsonschema
import pytest
from lxml import etree
from support import ATOM, Run, defnews

from crawler.items import SCHEMA_PATH
from crawler.sources import load_sources
from crawler.store import open_store
from defnews.server import StaticServer
from feeds.config import category_slug

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "defnews" / "demo_site"
# A text render of the real page, copied from the project's shared reference material.
REFERENCE = ROOT / "tests" / "fixtures" / "reference" / "jdefense-001933.txt"
REF_URL = "https://j-defense.ikaros.jp/docs/mod/001933.html"
REF_TITLE = "中谷防衛大臣、NATO国防相会合及び各国国防大臣との会談等に出席(10月17日)"


def crawl_site(site: Path, work: Path, *extra: str) -> Run:
    with StaticServer(site) as server:
        return defnews(
            "run", "--only", "jdefense", "--base-url", server.url,
            "--store", str(work / "store.sqlite3"), "--public", str(work / "public"),
            "--output", str(work / "items.jsonl"), "--no-throttle", "--counter-walk", "40",
            "--feed-url", "https://feeds.example.org/", *extra,
            cwd=work,
        )


def feed_files(public: Path) -> list[Path]:
    return sorted(p for p in public.rglob("*") if p.suffix in (".atom", ".rss"))


def snapshot(public: Path) -> dict[str, bytes]:
    return {str(p.relative_to(public)): p.read_bytes() for p in sorted(public.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    work = tmp_path_factory.mktemp("e2e")
    first = crawl_site(SITE, work)
    assert first.returncode == 0, first.stderr[-4000:]
    return work, first


def japan_defense_slug() -> str:
    return category_slug("日本の防衛", load_sources().category_slugs)


def atom_entry(path: Path, url: str) -> etree._Element:
    tree = etree.parse(str(path))
    for entry in tree.getroot().iter(f"{ATOM}entry"):
        if entry.findtext(f"{ATOM}id") == url:
            return entry
    raise AssertionError(f"{url} not in {path}")


def reference_body_lines() -> list[str]:
    lines = REFERENCE.read_text(encoding="utf-8").splitlines()
    start = lines.index("2024-10-22 18:15") + 1
    end = lines.index("(以上)")
    return [line for line in lines[start:end + 1] if line.strip()]


def test_reference_article_in_category_atom(crawled):
    work, _ = crawled
    entry = atom_entry(work / "public" / "category" / f"{japan_defense_slug()}.atom", REF_URL)
    assert entry.findtext(f"{ATOM}title") == REF_TITLE
    assert entry.findtext(f"{ATOM}published") == "2024-10-22T18:15:00+09:00"
    assert entry.find(f"{ATOM}link").get("href") == REF_URL
    assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == ["日本の防衛"]
    content = etree.fromstring(f"<div>{entry.findtext(f'{ATOM}content')}</div>", etree.HTMLParser())
    text = "\n".join(t.strip() for t in content.itertext() if t.strip())
    for line in reference_body_lines()[1:]:  # the lead may be the summary only
        assert line in text, line
    for boilerplate in ("読まれている記事", "Ranking", "《特集》ジェット戦闘機", "次の記事", "pagetop",
                        "bnrname", "日本の防衛と安全保障の今を伝える"):
        assert boilerplate not in text


def test_reference_article_in_category_rss(crawled):
    work, _ = crawled
    parsed = feedparser.parse(str(work / "public" / "category" / f"{japan_defense_slug()}.rss"))
    assert parsed.bozo == 0
    (entry,) = [e for e in parsed.entries if e.id == REF_URL]
    assert entry.title == REF_TITLE
    assert entry.published == "Tue, 22 Oct 2024 18:15:00 +0900"
    body = entry.content[0].value
    assert "ルッテNATO事務総長との会談" in body and "読まれている記事" not in body


def test_every_feed_parses_without_bozo(crawled):
    work, _ = crawled
    files = feed_files(work / "public")
    assert len(files) >= 8
    for path in files:
        parsed = feedparser.parse(str(path))
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        assert parsed.version in ("atom10", "rss20"), path


def test_items_match_the_published_schema(crawled):
    work, _ = crawled
    schema = json.loads(Path(SCHEMA_PATH).read_text(encoding="utf-8"))
    items = [json.loads(line) for line in (work / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    for item in items:
        jsonschema.validate(item, schema)
    articles = [i for i in items if i["type"] == "article"]
    assert len(articles) >= 30
    assert len({a["id"] for a in articles}) == len(articles)
    ref = next(a for a in articles if a["url"] == REF_URL)
    assert ref["published"] == "2024-10-22T18:15:00+09:00"
    assert ref["categories"] == ["日本の防衛"]
    assert ref["dates"]["published"]["raw"] == "2024-10-22 18:15"


def test_one_ranking_snapshot_per_crawl(crawled):
    work, _ = crawled
    items = [json.loads(line) for line in (work / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    rankings = [i for i in items if i["type"] == "ranking"]
    assert len(rankings) == 1
    lists = rankings[0]["lists"]
    assert [len(lists[p]) for p in ("24h", "1w", "1m")] == [10, 10, 10]
    assert len({e["id"] for p in lists.values() for e in p}) == 21
    with open_store(work / "store.sqlite3") as store:
        assert store.count_snapshots("jdefense") == 1


def test_bad_pages_are_logged_with_url_and_reason(crawled):
    _, run = crawled
    assert "skipped 1: missing published" in run.stdout
    assert "https://j-defense.ikaros.jp/docs/others/003702.html: missing published" in run.stderr
    assert "https://j-defense.ikaros.jp/docs/mod/004120.html: page looks truncated" in run.stderr


def test_every_discovery_path_is_followed(crawled):
    work, _ = crawled
    urls = {json.loads(line)["url"] for line in (work / "items.jsonl").read_text(encoding="utf-8").splitlines()
            if json.loads(line)["type"] == "article"}
    site_pages = {
        "https://j-defense.ikaros.jp/" + str(p.relative_to(SITE))
        for p in SITE.glob("docs/*/[0-9]*.html")
    }
    # Every article page but the dateless one: through the home page, the indexes and their
    # pagination, 前の記事 links (000652), the ranking, and the counter walk (005041).
    assert site_pages - urls == {"https://j-defense.ikaros.jp/docs/others/003702.html"}


def test_second_crawl_changes_nothing(crawled, tmp_path):
    work, _ = crawled
    with open_store(work / "store.sqlite3") as store:
        rows_before = store.dump_articles()
    files_before = snapshot(work / "public")
    again = crawl_site(SITE, work)
    assert again.returncode == 0, again.stderr[-4000:]
    with open_store(work / "store.sqlite3") as store:
        assert store.dump_articles() == rows_before
    assert snapshot(work / "public") == files_before
    assert "0 new" in again.stdout


def test_postgresql_store_gives_the_same_article_feeds(crawled, tmp_path, pg_dsn):
    """The same crawl into PostgreSQL builds the same article feeds, byte for byte."""
    dsn = pg_dsn
    work, _ = crawled
    with StaticServer(SITE) as server:
        run = defnews(
            "run", "--only", "jdefense", "--base-url", server.url, "--store", dsn,
            "--public", str(tmp_path / "public"), "--no-throttle", "--counter-walk", "40",
            "--feed-url", "https://feeds.example.org/", cwd=tmp_path,
        )
    assert run.returncode == 0, run.stderr[-4000:]
    # Article feeds: not the rankings, nor the health feed (of runs: it is updated when the
    # first run was, #17 point 11, and the two runs were not at the same second).
    def articles(folder: Path) -> dict[str, bytes]:
        return {k: v for k, v in snapshot(folder).items()
                if not k.startswith(("ranking", "health."))}

    sqlite_files = articles(work / "public")
    pg_files = articles(tmp_path / "public")
    assert pg_files.keys() == sqlite_files.keys()
    for name in sorted(pg_files):
        if name.endswith((".atom", ".rss")):
            assert pg_files[name] == sqlite_files[name], name
