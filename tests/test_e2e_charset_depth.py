"""Charset lies and deep nesting end to end (issue #18 points 8 and 11): a hostile mirror of the
fixture site (tests/hostile.py) whose article pages lie about their charset both ways, carry a
byte that no encoding reads, or nest their content 300 to 5,000 levels deep, and a feed with
one undecodable entry, crawled and built by ``defnews run`` in a subprocess with real Scrapy.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hostile import HostileServer, Reply
from test_e2e_hostile import SITE, SITE_URL, TEMPLATE, TEMPLATE_TITLE, home, run_defnews

from crawler.charset import looks_like_mojibake
from crawler.store import open_store

SOURCES = """
[categories]
"日本の防衛" = "japan-defense"
"国際" = "world"

[[source]]
key = "jdefense"
name = "Jディフェンスニュース"
kind = "site"
spider = "jdefense"
url = "https://j-defense.ikaros.jp/"
language = "ja"

[[source]]
key = "jpwire"
name = "JP Wire"
kind = "feed"
urls = ["{base}feeds/jpwire.xml"]
language = "ja"
categories = ["国際"]
"""

PUBLISHED = datetime(2024, 10, 22, 18, 15, tzinfo=ZoneInfo("Asia/Tokyo"))  # the date line


def article_html(number: int, title: str, depth: int = 0, meta: str = "utf-8") -> str:
    html = TEMPLATE.read_text(encoding="utf-8")
    html = html.replace("001933", f"{number:06d}").replace(TEMPLATE_TITLE, title)
    html = html.replace('<meta charset="utf-8">', f'<meta charset="{meta}">' if meta else "", 1)
    if depth:
        html = html.replace('<main id="main">', "<div>" * depth + '<main id="main">', 1) \
            .replace("</main>", "</main>" + "</div>" * depth, 1)
    return html


def served(html: str, codec: str, header: str | None, *, bad_byte: bool = False) -> Reply:
    body = html.encode(codec)
    if bad_byte:  # one byte that neither Shift_JIS, EUC-JP nor UTF-8 reads, in the body
        at = body.index("(以上)".encode(codec))
        body = body[:at] + b"\x81 " + body[at:]
    return Reply(200, body, {"Content-Type": f"text/html; charset={header}" if header else "text/html"})


# number -> (title, reply, stored?)
PAGES = {
    9301: ("シフトJISをUTF-8と偽る記事", lambda t: served(article_html(9301, t), "cp932", "utf-8"), True),
    9302: ("UTF-8をShift_JISと偽る記事", lambda t: served(article_html(9302, t, meta="Shift_JIS"), "utf-8", "Shift_JIS"), True),
    9303: ("EUC-JPをUTF-8と偽る記事①", lambda t: served(article_html(9303, t), "euc_jis_2004", "utf-8"), True),
    9304: ("UTF-8をLatin-1と偽る記事", lambda t: served(article_html(9304, t, meta=""), "utf-8", "iso-8859-1"), True),
    9305: ("ヘッダーとmetaが食い違う記事", lambda t: served(article_html(9305, t, meta="Shift_JIS"), "cp932", "utf-8"), True),
    9306: ("壊れたバイトを含む記事", lambda t: served(article_html(9306, t), "cp932", "utf-8", bad_byte=True), False),
    9311: ("300段の入れ子の記事", lambda t: served(article_html(9311, t, 300), "utf-8", "utf-8"), True),
    9312: ("1000段の入れ子の記事", lambda t: served(article_html(9312, t, 1000), "utf-8", "utf-8"), True),
    9313: ("2000段の入れ子の記事", lambda t: served(article_html(9313, t, 2000), "utf-8", "utf-8"), True),
    9314: ("5000段の入れ子の記事", lambda t: served(article_html(9314, t, 5000), "utf-8", "utf-8"), False),
}


def feed() -> Reply:
    items = "".join(
        f"<item><title>{t}</title><link>https://jpwire.example/{n}</link><description>{t}。"
        "</description><pubDate>Mon, 02 Mar 2026 09:00:00 +0900</pubDate></item>"
        for n, t in enumerate(["護衛艦が寄港", "BROKEN", "空自が訓練"]))
    body = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>JP Wire'
            f"</title><link>https://jpwire.example/</link>{items}</channel></rss>").encode()
    return Reply(200, body.replace(b"BROKEN", "壊れた".encode() + b"\xff" + "見出し".encode()),
                 {"Content-Type": "application/rss+xml; charset=UTF-8"})


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    work = tmp_path_factory.mktemp("charset-depth")
    routes = {"/": home([f"/docs/mod/{n:06d}.html" for n in PAGES], []),
              "/feeds/jpwire.xml": feed()}
    for n, (title, reply, _) in PAGES.items():
        routes[f"/docs/mod/{n:06d}.html"] = reply(title)
    with HostileServer(routes, static_root=SITE) as site:
        sources = work / "sources.toml"
        sources.write_text(SOURCES.replace("{base}", site.url), encoding="utf-8")
        code, out, err, _ = run_defnews(
            work, "run", "--sources", str(sources), "--base-url", site.url,
            "--store", str(work / "store.sqlite3"), "--public", str(work / "public"),
            "--no-throttle", "--counter-walk", "0", "--max-index-pages", "1",
            "--feed-url", "https://feeds.example.org/")
    assert "Crawl summary" in out, err[-4000:]
    with open_store(str(work / "store.sqlite3")) as store:
        articles = {a.url: a for a in store.articles()}
    return work, code, out, err, articles


def url(n: int) -> str:
    return f"{SITE_URL}docs/mod/{n:06d}.html"


def test_pages_that_lie_about_their_charset_are_published_right(crawl):
    _, _, _, err, articles = crawl
    for n, (title, _, stored) in PAGES.items():
        if stored and n < 9310:
            article = articles[url(n)]
            assert article.title == title
            assert article.categories == ["日本の防衛"]
            assert "\ufffd" not in article.content_html + article.summary
            assert not looks_like_mojibake(article.content_html)
            assert f"Flagged {url(n)}: charset not as declared (declared " in err


def test_no_junk_category_and_no_garbled_text_is_published(crawl):
    work, _, _, _, articles = crawl
    for article in articles.values():
        for value in (article.title, article.summary, *article.categories):
            assert "\ufffd" not in value and not looks_like_mojibake(value), article.url
    stems = {p.stem for p in (work / "public" / "category").glob("*.atom")}
    labels = {c for a in articles.values() for c in a.categories}
    assert "hq" not in stems and "japan-defense" in stems and "world" in stems
    assert len(stems) == len(labels)  # one feed per label, none of a garbled label


def test_deep_but_legal_nesting_is_read_whole_and_deeper_is_refused_and_named(crawl):
    _, _, out, err, articles = crawl
    for n in (9311, 9312, 9313):
        article = articles[url(n)]
        assert article.title == PAGES[n][0]
        assert article.published == PUBLISHED  # (was dropped as "missing published")
        assert "(以上)" in article.content_html
    assert url(9314) not in articles
    assert f"Failed {url(9314)}: page too deep (nested deeper than 2048 levels: cannot be read whole)" in err
    assert re.search(r"failed 1: page too deep \(see log\)", out), out
    assert not [line for line in err.splitlines() if "missing published" in line
                and any(url(n) in line for n in (9311, 9312, 9313, 9314))]


def test_a_page_with_a_byte_nothing_reads_is_not_published_but_counted_and_named(crawl):
    _, _, out, err, articles = crawl
    assert url(9306) not in articles
    line = next(ln for ln in err.splitlines() if f"Failed {url(9306)}: undecodable page" in ln)
    assert "declared utf-8 (HTTP header)" in line and "read as cp932" in line
    assert "1 invalid byte sequence(s) left" in line
    assert re.search(r"failed 1: undecodable page \(see log\)", out), out


def test_one_bad_byte_in_a_feed_costs_one_entry_and_the_totals_hold(crawl):
    _, _, out, err, articles = crawl
    wire = sorted(a.title for a in articles.values() if a.source == "jpwire")
    assert wire == ["空自が訓練", "護衛艦が寄港"]
    assert "jpwire: 3 entries read, 2 kept, 0 merged as duplicates, 1 dropped" in out
    assert "dropped 1: undecodable text" in out
    assert "Feed source jpwire:" in err and "1 entry holding them dropped, the others kept" in err


def test_sources_are_healthy_with_warnings_and_the_run_exits_0(crawl):
    _, code, out, err, _ = crawl
    assert code == 0, out + err[-3000:]
    assert re.search(r"jdefense +healthy with warnings", out), out
    assert re.search(r"jpwire +healthy with warnings", out), out
    assert "warning: 1 article page(s) not published: bytes that no encoding reads (see log)" in out
    assert "warning: 1 page(s) not published: nested deeper than 2048 levels (see log)" in out
    assert "warning: 1 feed entries not published: bytes that no encoding reads (see log)" in out
    assert "Traceback" not in err
