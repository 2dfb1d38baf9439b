"""Charset lies (issue #18 point 8): Shift_JIS bytes declared UTF-8 were published as mojibake
(a junk category from the garbled label), and a feed's replacement characters went out with
one warning, the source "healthy".

crawler.charset picks the encoding that reads the bytes (BOM, the declarations that read them,
UTF-8, a detector), logs which won, and says how many bytes nothing reads. Variations are
generated: several encodings, declared in the header, the <meta> (or XML declaration), both,
neither, truthfully, falsely, contradicting each other.
"""

from __future__ import annotations

import codecs
import itertools
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from crawler import charset
from crawler.items import ArticleItem
from crawler.pages.feed import EntryError, entry_to_item, parse_feed
from crawler.pages.profile_rules import decode_page
from crawler.sources import parse_sources
from crawler.spiders.feeds import FeedsSpider
from crawler.spiders.jdefense import JdefenseSpider
from crawler.store import SQLiteStore
from defnews.health import judge
from defnews.runner import CrawlerResult

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = (ROOT / "defnews" / "demo_site" / "docs" / "mod" / "001933.html").read_text(encoding="utf-8")
TITLE = "中谷防衛大臣、NATO国防相会合及び各国国防大臣との会談等に出席(10月17日)"
MIRROR = "http://127.0.0.1:8999/"
SITE_URL = "https://j-defense.ikaros.jp/docs/mod/001933.html"

JAPANESE = TEMPLATE  # (holds ①: cp932, and euc_jis_2004 for EUC-JP)
FRENCH = ("<!DOCTYPE html><html lang=fr><head><meta charset=\"utf-8\"><title>Frégate</title></head>"
          "<body><p>L'été dernier, la Marine nationale a lancé une frégate à Brest — « très » "
          "réussie. Ça coûte 5 € : où, déjà ?</p></body></html>")

# (name, text, python codec of the bytes, the label a truthful server writes, lies told of it)
ENCODINGS = [
    ("shift_jis", JAPANESE, "cp932", "Shift_JIS", ["utf-8"]),
    ("euc-jp", JAPANESE, "euc_jis_2004", "EUC-JP", ["utf-8"]),
    ("utf-8-ja", JAPANESE, "utf-8", "utf-8", ["Shift_JIS", "iso-8859-1", "windows-1252", "EUC-JP"]),
    ("utf-8-fr", FRENCH, "utf-8", "utf-8", ["iso-8859-1", "windows-1252", "Shift_JIS"]),
    ("cp1252-fr", FRENCH, "cp1252", "windows-1252", ["utf-8"]),
]


def html_bytes(text: str, codec: str, meta: str | None) -> bytes:
    tag = f'<meta charset="{meta}">' if meta else ""
    html = text.replace('<meta charset="utf-8">', tag, 1)
    return html.encode(codec)


def expected(text: str, meta: str | None) -> str:
    return text.replace('<meta charset="utf-8">', f'<meta charset="{meta}">' if meta else "", 1)


def variations():
    """(id, body, Content-Type, the text it must read as, whether a label lies)."""
    for name, text, codec, truth, lies in ENCODINGS:
        labels = [None, truth, *lies]
        for header, meta in itertools.product(labels, labels):
            body = html_bytes(text, codec, meta)
            content_type = f"text/html; charset={header}" if header else "text/html"
            lie = any(label not in (None, truth) for label in (header, meta))
            where = f"header={header or '-'},meta={meta or '-'}"
            yield pytest.param(body, content_type, expected(text, meta), lie, id=f"{name}:{where}")


@pytest.mark.parametrize(("body", "content_type", "text", "lie"), list(variations()))
def test_every_declaration_true_false_or_missing_reads_the_text_right(body, content_type, text, lie):
    decoded = charset.decode(body, content_type)
    assert decoded.text == text
    assert decoded.invalid == 0 and decoded.mojibake == 0
    # Said when what a browser would use (the header's, else the meta's) did not read it.
    first = decoded.first_declared
    assert decoded.overridden == (first is not None and decoded.encoding not in charset.family(first))
    if not lie:
        assert not decoded.overridden


def test_a_lie_is_said_with_what_was_declared_and_what_read_it():
    body = html_bytes(JAPANESE, "cp932", "utf-8")
    decoded = charset.decode(body, "text/html; charset=UTF-8")
    assert decoded.overridden and decoded.encoding == "cp932"
    assert decoded.describe() == (
        "declared utf-8 (HTTP header), utf-8 (meta), read as cp932 (detector)")
    # Header and meta contradict each other: the one that reads the bytes wins.
    decoded = charset.decode(html_bytes(JAPANESE, "cp932", "Shift_JIS"), "text/html; charset=utf-8")
    assert (decoded.encoding, decoded.source, decoded.overridden) == ("cp932", "meta", True)
    decoded = charset.decode(html_bytes(JAPANESE, "utf-8", "utf-8"), "text/html; charset=Shift_JIS")
    assert (decoded.encoding, decoded.source, decoded.overridden) == ("utf-8", "meta", True)
    # Told the truth: nothing to say.
    assert not charset.decode(html_bytes(JAPANESE, "cp932", "Shift_JIS"), "text/html").overridden


@pytest.mark.parametrize(
    ("bom", "codec"),
    [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")],
    ids=["utf8", "utf16le", "utf16be"])
@pytest.mark.parametrize("declared", ["Shift_JIS", "iso-8859-1", None])
def test_a_bom_decides_over_every_declaration(bom, codec, declared):
    body = bom + JAPANESE.encode(codec)
    decoded = charset.decode(body, f"text/html; charset={declared}" if declared else None)
    assert decoded.text == JAPANESE and decoded.source == "BOM" and decoded.invalid == 0


def test_a_single_byte_code_page_never_wins_over_a_multibyte_reading():
    # latin-1 decodes any bytes; UTF-8 with one stray byte in it is still read as UTF-8,
    # only that byte replaced, never the whole page made mojibake (æ—¥æœ¬).
    body = JAPANESE.encode("utf-8").replace("防衛省は".encode(), b"\xff" + "防衛省は".encode(), 1)
    decoded = charset.decode(body, "text/html; charset=iso-8859-1")
    assert decoded.encoding == "utf-8" and decoded.invalid == 1
    assert decoded.text.count("\ufffd") == 1 and TITLE in decoded.text
    assert decoded.mojibake == 0


def test_bytes_that_nothing_reads_are_counted_and_the_rest_read_in_the_right_encoding():
    at = JAPANESE.index("(以上)")
    body = JAPANESE[:at].encode("cp932") + b"\x81 " + JAPANESE[at:].encode("cp932")
    decoded = charset.decode(body, "text/html; charset=utf-8")
    assert (decoded.encoding, decoded.invalid) == ("cp932", 1)
    assert TITLE in decoded.text and decoded.text.count("\ufffd") == 1
    assert charset.decode(body, "text/html", replacement=charset.MARK).text.count(charset.MARK) == 1


@pytest.mark.parametrize(
    ("text", "mojibake"),
    [
        ("日本の防衛".encode().decode("cp1252", "replace"), True),
        ("São Paulo".encode().decode("latin-1"), True),
        ("It’s done".encode().decode("cp1252"), True),
        ("ひらがな".encode().decode("latin-1"), True),
        ("L'été dernier, à Brest — « très » réussie", False),
        ("Die Bundeswehr übernimmt größere Verantwortung", False),
        ("日本の防衛", False),
        ("", False),
    ])
def test_mojibake_markers(text, mojibake):
    assert charset.looks_like_mojibake(text) is mojibake
    assert (charset.mojibake_markers(text) > 0) is mojibake


# -- site pages through the spider ---------------------------------------------------------


def crawl(body: bytes, content_type: str):
    crawler = get_crawler(JdefenseSpider, {})
    spider = JdefenseSpider.from_crawler(crawler, base_url=MIRROR)
    crawler.stats.open_spider()
    url = MIRROR + "docs/mod/001933.html"
    response = HtmlResponse(url, body=body, headers={"Content-Type": content_type},
                            request=Request(url))
    out = list(spider.parse_article(response))
    return spider.crawler.stats, [o for o in out if isinstance(o, ArticleItem)]


@pytest.mark.parametrize(
    ("codec", "meta", "header"),
    [("cp932", "utf-8", "utf-8"), ("cp932", None, "utf-8"), ("cp932", "utf-8", None),
     ("cp932", "Shift_JIS", "utf-8"), ("euc_jis_2004", "utf-8", "utf-8"),
     ("utf-8", "Shift_JIS", "Shift_JIS"), ("utf-8", "utf-8", "iso-8859-1"),
     ("utf-8", "windows-1252", None)],
    ids=["sjis-as-utf8-both", "sjis-as-utf8-header", "sjis-as-utf8-meta", "sjis-contradicting",
         "eucjp-as-utf8", "utf8-as-sjis", "utf8-as-latin1-header", "utf8-as-cp1252-meta"])
def test_a_lying_page_is_published_right_and_the_lie_logged(codec, meta, header, caplog):
    with caplog.at_level(logging.WARNING):
        stats, items = crawl(html_bytes(JAPANESE, codec, meta),
                             f"text/html; charset={header}" if header else "text/html")
    (item,) = items
    assert item.title == TITLE
    assert item.categories == ["日本の防衛"]  # (not the garbled label of a junk category)
    assert "\ufffd" not in item.content_html + item.summary and not charset.looks_like_mojibake(item.content_html)
    assert stats.get_value("defnews/flagged/charset_not_as_declared") == 1
    (line,) = [r.getMessage() for r in caplog.records if "charset not as declared" in r.getMessage()]
    assert line.startswith(f"Flagged {SITE_URL}: charset not as declared (declared ")
    assert f"read as {codec if codec != 'euc_jis_2004' else 'euc_jis_2004'}" in line
    assert caplog.records[-1].levelno >= logging.WARNING


def test_a_page_whose_bytes_nothing_reads_is_not_published_but_counted_and_named(caplog):
    at = JAPANESE.index("(以上)")
    body = JAPANESE[:at].encode("cp932") + b"\x81 " + JAPANESE[at:].encode("cp932")
    with caplog.at_level(logging.ERROR, logger="defnews.failed"):
        stats, items = crawl(body, "text/html; charset=utf-8")
    assert items == []
    assert stats.get_value("defnews/failed") == stats.get_value("defnews/failed/undecodable_page") == 1
    assert f"Failed {SITE_URL}: undecodable page (declared utf-8 (HTTP header)" in caplog.text
    assert "1 invalid byte sequence(s) left" in caplog.text


def test_a_page_of_mojibake_text_is_not_published_as_clean(caplog):
    # The page's own bytes are valid UTF-8 of mojibake (UTF-8 read once as cp1252, saved).
    garbled = JAPANESE.encode("utf-8").decode("cp1252", "replace").replace("\ufffd", "?")
    with caplog.at_level(logging.ERROR, logger="defnews.failed"):
        stats, items = crawl(garbled.encode("utf-8"), "text/html; charset=utf-8")
    assert items == []
    assert stats.get_value("defnews/failed/mojibake_text") == 1
    assert f"Failed {SITE_URL}: mojibake text (in its title" in caplog.text


def test_a_rendered_page_is_read_in_the_encoding_it_was_given():
    response = HtmlResponse(MIRROR, body=JAPANESE.encode("cp932"), encoding="cp932",
                            headers={"Content-Type": "text/html; charset=utf-8"})
    decoded = decode_page(response)
    assert decoded.text == JAPANESE and not decoded.overridden


# -- feeds ---------------------------------------------------------------------------------

SOURCES_TEXT = """
[[source]]
key = "jp"
name = "JP"
kind = "feed"
urls = ["http://127.0.0.1:8123/jp.xml"]
language = "ja"
"""
SOURCES = parse_sources(SOURCES_TEXT)


def rss(titles: list[str], declared: str | None) -> str:
    decl = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
    items = "".join(f"<item><title>{t}</title><link>https://jp.example/{n}</link>"
                    f"<description>{t}の本文。</description>"
                    "<pubDate>Mon, 02 Mar 2026 09:00:00 +0900</pubDate></item>"
                    for n, t in enumerate(titles))
    return f"{decl}<rss version=\"2.0\"><channel><title>防衛ニュース</title><link>https://jp.example/</link>{items}</channel></rss>"


FEED_TITLES = ["護衛艦が寄港", "①部隊の概要", "空自が訓練"]


@pytest.mark.parametrize(
    ("codec", "declared", "header"),
    [("cp932", "UTF-8", "application/rss+xml; charset=UTF-8"),
     ("cp932", "UTF-8", "text/xml"),
     ("cp932", None, "text/xml; charset=utf-8"),
     ("cp932", "Shift_JIS", "text/xml; charset=utf-8"),
     ("euc_jis_2004", "UTF-8", "text/xml"),
     ("utf-8", "Shift_JIS", "text/xml; charset=Shift_JIS"),
     ("utf-8", "ISO-8859-1", "text/xml; charset=ISO-8859-1"),
     ("utf-8", "windows-1252", None)],
    ids=["sjis-as-utf8", "sjis-decl-utf8", "sjis-header-utf8", "sjis-contradicting",
         "eucjp-as-utf8", "utf8-as-sjis", "utf8-as-latin1", "utf8-as-cp1252"])
def test_a_lying_feed_is_read_right(codec, declared, header):
    body = rss(FEED_TITLES, declared).encode(codec)
    feed = parse_feed(body, "http://127.0.0.1:8123/jp.xml",
                      headers={"Content-Type": header} if header else {})
    assert feed.title == "防衛ニュース"
    assert [e["title"] for e in feed.entries] == FEED_TITLES
    assert feed.replaced_chars == 0 and feed.charset_overridden
    assert feed.encoding in charset.family(codec)


def test_a_json_feed_in_shift_jis_labelled_so_is_read():
    body = ('{"version": "https://jsonfeed.org/version/1.1", "title": "防衛", "items": '
            '[{"id": "1", "url": "https://jp.example/1", "title": "①部隊", "content_text": "本文"}]}'
            ).encode("cp932")
    feed = parse_feed(body, "http://127.0.0.1:8123/jp.json",
                      headers={"Content-Type": "application/feed+json; charset=Shift_JIS"})
    assert [e["title"] for e in feed.entries] == ["①部隊"] and feed.replaced_chars == 0


def bad_feed() -> bytes:
    body = rss(FEED_TITLES, "UTF-8").encode("utf-8")
    return body.replace("①部隊".encode(), b"\xff\xfe" + "部隊".encode(), 1)


def test_one_bad_byte_costs_one_entry_the_others_are_kept():
    feed = parse_feed(bad_feed(), "http://127.0.0.1:8123/jp.xml",
                      headers={"Content-Type": "application/rss+xml; charset=UTF-8"})
    assert feed.undecodable_bytes == 2
    assert [e.get("undecodable") for e in feed.entries] == [None, 2, None]
    source = SOURCES.get("jp")
    kept = [entry_to_item(e, source).title for e in feed.entries if not e.get("undecodable")]
    assert kept == ["護衛艦が寄港", "空自が訓練"]
    with pytest.raises(EntryError) as info:
        entry_to_item(feed.entries[1], source)
    assert info.value.reason == "undecodable_text"


def test_a_mojibake_entry_is_dropped_not_published():
    garbled = "護衛艦".encode().decode("cp1252", "replace").replace("\ufffd", "?")
    body = rss([garbled, "空自が訓練"], "UTF-8").encode("utf-8")
    feed = parse_feed(body, "http://127.0.0.1:8123/jp.xml", headers={})
    with pytest.raises(EntryError) as info:
        entry_to_item(feed.entries[0], SOURCES.get("jp"))
    assert info.value.reason == "mojibake_text"
    assert entry_to_item(feed.entries[1], SOURCES.get("jp")).title == "空自が訓練"


def test_the_feeds_spider_drops_counts_and_names_the_undecodable_entry(tmp_path, caplog):
    path = tmp_path / "sources.toml"
    path.write_text(SOURCES_TEXT, encoding="utf-8")
    spider = FeedsSpider.from_crawler(get_crawler(FeedsSpider), sources=str(path))
    spider.crawler.stats.open_spider()
    url = "http://127.0.0.1:8123/jp.xml"
    response = Response(url, body=bad_feed(), request=Request(url, cb_kwargs={"source_key": "jp"}),
                        headers={"Content-Type": "application/rss+xml; charset=UTF-8"})
    with caplog.at_level(logging.WARNING):
        items = [o for o in spider.parse(response, "jp") if isinstance(o, ArticleItem)]
    assert [i.title for i in items] == ["護衛艦が寄港", "空自が訓練"]
    stats = spider.crawler.stats.get_stats()
    assert stats["defnews/feeds/source/jp/read"] == 3
    assert stats["defnews/feeds/source/jp/dropped"] == 1
    assert stats["defnews/feeds/source/jp/dropped/undecodable text"] == 1
    assert stats["defnews/dropped/undecodable_text"] == 1
    assert f"Feed source jp: {url} has 2 byte sequence(s) that no encoding reads" in caplog.text
    assert "1 entry holding them dropped, the others kept" in caplog.text
    assert (f"Feed source jp: {url}: entry dropped: entry '\ufffd\ufffd部隊の概要' has 2 byte "
            "sequence(s) that no encoding reads") in caplog.text



def test_health_a_source_with_refused_items_is_healthy_with_warnings_not_clean(tmp_path):
    now = datetime.now(UTC)
    stats = {"item_scraped_count": 2, "response_received_count": 1, "finish_time": now,
             "defnews/feeds/entries": 2, "defnews/dropped/undecodable text": 1}
    with SQLiteStore(tmp_path / "s.sqlite3") as store:
        verdict = judge(CrawlerResult("feeds", "jp", "finished", stats), store.source_runs("jp"),
                        {}, 2)
        site = judge(CrawlerResult("jdefense", "jdefense", "finished",
                                   {"item_scraped_count": 5, "defnews/failed/undecodable_page": 2,
                                    "defnews/failed/page_too_deep": 1}),
                     store.source_runs("jdefense"), {}, 2)
    assert verdict.healthy and verdict.reasons == []
    assert verdict.warnings == ["1 feed entries not published: bytes that no encoding reads (see log)"]
    assert verdict.record["warnings"] == verdict.warnings
    assert site.healthy and site.warnings == [
        "2 article page(s) not published: bytes that no encoding reads (see log)",
        "1 page(s) not published: nested deeper than 2048 levels (see log)"]


def test_a_stray_bad_byte_in_short_utf8_text_is_a_slip_not_a_lie():
    # The detector reads this feed as cp1251 (Cyrillic mojibake of the Japanese): a declaration
    # that leaves a stray byte or two is kept, those bytes alone replaced.
    items = "".join(
        f"<item><title>{t}</title><link>https://jpwire.example/{n}</link><description>{t}。"
        "</description><pubDate>Mon, 02 Mar 2026 09:00:00 +0900</pubDate></item>"
        for n, t in enumerate(["護衛艦が寄港", "BROKEN", "空自が訓練"]))
    body = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>JP Wire'
            f"</title><link>https://jpwire.example/</link>{items}</channel></rss>").encode()
    body = body.replace(b"BROKEN", "壊れた".encode() + b"\xff" + "見出し".encode())
    decoded = charset.decode(body, "application/rss+xml; charset=UTF-8", kind="xml")
    assert decoded.encoding == "utf-8" and 1 <= decoded.invalid <= 2
    assert "護衛艦が寄港" in decoded.text and "見出し" in decoded.text
