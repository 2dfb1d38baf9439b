"""End to end, issue 20: the real crawler (``defnews crawl --only asagumo --base-url``) on the
朝雲 fixture site (Shift_JIS, no feed, a profile only): every field of every article against
``tests/fixtures/asagumo_expected.json``; the front page and the company page are not articles;
the article no page links is found by the date-folder probe, and the probes are remembered."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import lxml.html
import pytest
from support import Run, defnews

from crawler.store import open_store
from defnews.server import StaticServer

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "defnews" / "demo_asagumo"
EXPECTED = json.loads((ROOT / "tests" / "fixtures" / "asagumo_expected.json").read_text("utf-8"))
BOILERPLATE = ("創刊70年", "安保・防衛問題の専門紙です", "TOP >", "画像の続きを", "続きを読む",
               "最新ニュース", "LATEST NEWS", "朝雲新聞社", "・・・", "トップニュース")

sys.path.insert(0, str(ROOT / "scripts"))
import build_asagumo_site  # noqa: E402


def crawl(site: Path, work: Path, *extra: str) -> tuple[Run, list[dict]]:
    out = work / f"items-{len(list(work.glob('items-*')))}.jsonl"
    with StaticServer(site) as server:
        run = defnews(
            "crawl", "--only", "asagumo", "--base-url", server.url, "--output", str(out),
            "--no-throttle", *extra, cwd=work,
        )
    assert run.returncode == 0, run.stderr[-4000:]
    return run, [json.loads(line) for line in out.read_text("utf-8").splitlines()]


def blocks(content_html: str) -> list[str]:
    root = lxml.html.fragment_fromstring(content_html, create_parent="div")
    return [" ".join("".join(el.itertext()).split()).strip()
            for el in root.iter("p", "figcaption", "h2", "h3", "li", "blockquote")]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    work = tmp_path_factory.mktemp("asagumo")
    run, items = crawl(SITE, work, "--store", str(work / "store.sqlite3"))
    return work, run, items


def test_every_field_of_every_article(crawled):
    _, _, items = crawled
    by_url = {item["url"]: item for item in items}
    assert sorted(by_url) == sorted(EXPECTED)  # every article; the front and company pages not
    for url, want in EXPECTED.items():
        item = by_url[url]
        assert item["source"] == "asagumo"
        assert item["title"] == want["title"], url
        assert item["categories"] == want["categories"], url  # 防衛関連ニュース, mapped
        assert item["published"] == want["published"], url  # the date line, not the title's date
        assert item["published_precision"] == want["published_precision"], url
        assert item["author"] == want["author"], url
        assert item["summary"] == want["summary"], url  # the lead, never a caption or subhead
        assert item["partial"] is want["partial"], url
        assert [c["caption"] for c in item["images"]] == want["captions"], url
        texts = blocks(item["content_html"])
        assert texts == want["captions"] + ([want["subhead"]] if want["subhead"] else []) + [
            " ".join(p.split()) for p in want["body"]
        ], url
        for phrase in BOILERPLATE:
            assert phrase not in item["content_html"], (url, phrase)
        if want["author"]:
            assert f"({want['author']})" not in item["content_html"]


def test_places_and_credits_in_parentheses_are_not_bylines(crawled):
    _, _, items = crawled
    item = next(i for i in items if i["url"].endswith("26010702.html"))
    assert item["author"] is None
    assert blocks(item["content_html"])[-1].endswith("(4空団11飛行隊・松島)")


def test_the_unlinked_article_is_found_by_the_date_folder_probe_and_probes_are_remembered(
    crawled,
):
    work, run, items = crawled
    assert any(i["url"].endswith("/260105/26010502.html") for i in items)
    with open_store(str(work / "store.sqlite3")) as store:
        probes = store.counter_probes("asagumo")
    assert probes[2601050200][0] is True  # found
    misses = [n for n, (found, _) in probes.items() if not found]
    assert misses and len(probes) <= 60  # bounded by max_probes
    # Again with the same store: nothing new; no article fetched again, no miss asked again
    # within the week: the front page is the one page fetched (the cheap incremental source), with robots.txt.
    with StaticServer(SITE) as server:
        again = defnews(
            "crawl", "--only", "asagumo", "--base-url", server.url, "--no-throttle",
            "--store", str(work / "store.sqlite3"), cwd=work,
        )
    assert again.returncode == 0, again.stderr[-3000:]
    first = re.search(r"asagumo\s+(\d+) pages\s+(\d+) new", run.stdout)
    second = re.search(r"asagumo\s+(\d+) pages\s+(\d+) new", again.stdout)
    assert first and second, again.stdout
    assert int(first.group(2)) == len(EXPECTED)
    assert second.group(2) == "0"
    assert int(second.group(1)) == 2, again.stdout  # robots.txt and the front page


@pytest.mark.parametrize(
    ("encoding", "declare"),
    [("euc_jp", True), ("utf-8", True), ("utf-8", False), ("shift_jis", False)],
    ids=["euc-jp", "utf-8", "utf-8-undeclared", "shift_jis-undeclared"],
)
def test_charsets_read_right(tmp_path, encoding, declare):
    site = tmp_path / "site"
    build_asagumo_site.build(site, encoding=encoding, declare=declare)
    _, items = crawl(site, tmp_path)
    by_url = {item["url"]: item for item in items}
    assert sorted(by_url) == sorted(EXPECTED)
    for url, want in EXPECTED.items():
        assert by_url[url]["title"] == want["title"]
        assert by_url[url]["summary"] == want["summary"]
        assert by_url[url]["author"] == want["author"]


@pytest.fixture(scope="module")
def built(crawled):
    work, _, _ = crawled
    public = work / "public"
    run = defnews("build", "--store", str(work / "store.sqlite3"), "--public", str(public),
                  "--feed-url", "https://feeds.example.org/", cwd=work)
    assert run.returncode == 0, run.stderr[-3000:]
    return public


def test_feeds_show_the_day_without_an_invented_time_and_keep_the_site_order(built):
    source = json.loads((built / "source" / "asagumo.json").read_text("utf-8"))
    items = source["items"]
    urls = [i["url"] for i in items]
    # Two articles of 2026-01-07: the site's order (02 above 01, as on its front page).
    assert urls.index(next(u for u in urls if u.endswith("26010702.html"))) + 1 == urls.index(
        next(u for u in urls if u.endswith("26010701.html")))
    for item in items:
        assert item["date_published"].endswith("T00:00:00+09:00")  # midnight JST: the rule
        assert item["_defnews"] == {"published_precision": "day"}
    atom = (built / "source" / "asagumo.atom").read_text("utf-8")
    assert "<published>2026-01-07T00:00:00+09:00</published>" in atom
    rss = (built / "source" / "asagumo.rss").read_text("utf-8")
    assert "<pubDate>Wed, 07 Jan 2026 00:00:00 +0900</pubDate>" in rss


def test_a_partial_article_says_so_and_links_the_page(built):
    items = json.loads((built / "source" / "asagumo.json").read_text("utf-8"))["items"]
    by_url = {i["url"]: i for i in items}
    for url, want in EXPECTED.items():
        content = by_url[url]["content_html"]
        assert ("続きは朝雲のサイトで" in content) is want["partial"], url
        assert "続きを読む" not in content
        if want["partial"]:
            assert f'<a href="{url}">続きは朝雲のサイトで</a>' in content
