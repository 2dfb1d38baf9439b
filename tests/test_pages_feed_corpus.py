"""The feed corpus (tests/fixtures/feeds/corpus/, one feed per format and oddity) read by
defnews and by feedparser from the same bytes: nothing a reader would show is lost.

For each entry feedparser reads (JSON Feed: :mod:`json`, which feedparser 6 does not read),
the test takes what a reader shows: the entry's link (its ``link`` when http(s), else its id
when that is an http(s) URL, else its enclosure), its title, its text and its date. Every
entry with such a link must become an item whose ``url`` is that link byte for byte, whose
title is the reader's title (or, title-less, its first words or link, marked inferred), whose
text keeps every word, and whose date is the feed's (or, undated, the time first seen, marked
inferred). Entries without one are dropped with a named reason, never silently.
"""

from __future__ import annotations

import calendar
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from scrapy import Spider
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from crawler.pages.feed import EntryError, entry_to_item, parse_feed
from crawler.pipelines.normalize import NormalizePipeline, plain_text
from crawler.sources import parse_sources
from crawler.urls import canonical_url, id_for_url

CORPUS = Path(__file__).parent / "fixtures" / "feeds" / "corpus"
BASE = "http://127.0.0.1:8000/corpus/"

# Hand-written: per file, the version defnews names, how many entries become items, and the
# reasons of the others. Each oddity of the corpus is in here once.
EXPECTED: dict[str, tuple[str, int, list[str]]] = {
    "rss091.xml": ("rss091n", 2, []),
    "rss092.xml": ("rss092", 2, ["no_link"]),  # a description with no link at all
    "rss10-about.rdf": ("rss10", 2, []),  # rdf:about only
    "rss20.xml": ("rss20", 6, []),
    "atom03.xml": ("atom03", 2, []),
    "atom10.xml": ("atom10", 3, ["no_http_link"]),  # an entry with only a tag: id
    "channel.cdf": ("cdf", 2, []),
    "jsonfeed10.json": ("json1", 3, []),
    "jsonfeed11.json": ("json11", 3, []),
    "podcast.xml": ("rss20", 2, []),  # guid isPermaLink=false + audio enclosure only
    # One bad byte costs its entry (issue #18 point 8): dropped, the other entry kept.
    "invalid-utf8.xml": ("rss20", 1, ["undecodable_text"]),
    "undated.xml": ("rss20", 2, []),
    "shared-guid.xml": ("rss20", 2, []),  # one guid for every item
    "dup-a.xml": ("rss20", 1, []),
    "dup-b.atom": ("atom10", 2, []),
    "markup-titles.xml": ("rss20", 2, []),  # XHTML doctype; titles only markup
}

_HTTP = re.compile(r"^https?://[^/]")
_PARSED = ("published_parsed", "created_parsed", "updated_parsed")
_RAW = ("published", "created", "updated")
# A date with an explicit zone or offset; others (CDF's LASTMOD) are read in a default zone.
_ZONED = re.compile(r"(Z|[+-]\d\d:?\d\d|\b(GMT|UT|UTC|EST|EDT|CST|CDT|MST|MDT|PST|PDT|JST))\s*$")
# feedparser itself garbles these (it re-decodes the whole feed as a Western code page): their
# text is checked by test_invalid_byte_is_replaced_and_the_japanese_text_is_kept.
FEEDPARSER_MOJIBAKE = {"invalid-utf8.xml"}
_WORD = re.compile(r"\w+")


def test_the_table_covers_the_whole_corpus():
    files = {p.name for p in CORPUS.iterdir() if p.suffix not in (".toml", ".md")}
    assert files == set(EXPECTED)


@pytest.fixture(scope="module")
def sources():
    text = (CORPUS / "sources.toml").read_text(encoding="utf-8")
    return parse_sources(text.replace("{base_url}", BASE.removesuffix("/corpus/")))


@pytest.fixture(scope="module")
def normalize():
    crawler = get_crawler(Spider, {"DEFNEWS_STORE": ""})
    crawler.stats.open_spider()
    pipe = build_from_crawler(NormalizePipeline, crawler)
    pipe.open_spider()
    return pipe


def source_for(sources, name: str):
    [source] = [s for s in sources.sources if s.urls[0].endswith("/corpus/" + name)]
    return source


def defnews_items(name: str, sources, normalize) -> tuple[Any, list[ArticleItem], list[str]]:
    feed = parse_feed((CORPUS / name).read_bytes(), BASE + name)
    items, dropped = [], []
    for entry in feed.entries:
        try:
            items.append(normalize.process_item(entry_to_item(entry, source_for(sources, name))))
        except EntryError as exc:
            dropped.append(exc.reason)
    return feed, items, dropped


# --- what a reader shows, from feedparser (XML) or json (JSON Feed) --------------------------


def reader_entries(name: str, folder: Path = CORPUS) -> list[dict[str, Any]]:
    body = (folder / name).read_bytes()
    if name.endswith(".json"):
        return [_json_reader(item) for item in json.loads(body)["items"]]
    parsed = feedparser.parse(io.BytesIO(body), response_headers={"content-location": BASE + name})
    return [_xml_reader(e) for e in parsed.entries]


def _first_http(*candidates: Any) -> str | None:
    for value in candidates:
        if isinstance(value, str) and _HTTP.match(value.strip()):
            return value.strip()
    return None


def _xml_reader(e: Any) -> dict[str, Any]:
    enclosures = [link.get("href") for link in e.get("links", []) if link.get("rel") == "enclosure"]
    texts = [e.get("summary", "")] + [c.get("value", "") for c in e.get("content", [])]
    # dict.get: FeedParserDict.get("updated*") falls back to published with a warning.
    parsed = next((dict.get(e, k) for k in _PARSED if dict.get(e, k)), None)
    raw = next((dict.get(e, k) for k in _RAW if dict.get(e, k)), None)
    return {
        "link": _first_http(e.get("link"), e.get("id"), *enclosures),
        "title": plain_text(e.get("title", "")),
        "text": " ".join(plain_text(t) for t in texts),
        "date": datetime.fromtimestamp(calendar.timegm(parsed), UTC) if parsed else None,
        "raw_date": raw,
    }


def _json_reader(item: dict[str, Any]) -> dict[str, Any]:
    base = "https://logistics-weekly.example/feed.json"  # the corpus' one relative url
    url = item.get("url")
    if isinstance(url, str) and url.startswith("/"):
        url = base.split("/feed.json")[0] + url
    audio = [a.get("url") for a in item.get("attachments", [])]
    date = item.get("date_published") or item.get("date_modified")
    return {
        "link": _first_http(url, item.get("external_url"), item.get("id"), *audio),
        "title": item.get("title", ""),
        "text": " ".join(
            plain_text(item.get(k, "")) for k in ("content_html", "content_text", "summary")
        ),
        "date": datetime.fromisoformat(date) if date else None,
        "raw_date": date,
    }


# --- the comparison ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=sorted(EXPECTED))
def test_every_entry_a_reader_shows_becomes_an_item(name, sources, normalize):
    version, kept, reasons = EXPECTED[name]
    feed, items, dropped = defnews_items(name, sources, normalize)
    readers = reader_entries(name)
    assert feed.version == version
    assert feed.total_entries == len(readers)
    assert (len(items), sorted(dropped)) == (kept, sorted(reasons))
    by_url = {item.url: item for item in items}
    assert len(by_url) == len(items)
    shown = [r for r in readers if r["link"]]
    # The dropped ones are exactly those with no http(s) identity, and those holding bytes
    # no encoding reads (one bad byte costs that entry).
    undecodable = reasons.count("undecodable_text")
    assert len(shown) == kept + undecodable
    assert len([r for r in shown if r["link"] not in by_url]) == undecodable
    for reader in (r for r in shown if r["link"] in by_url):
        item = by_url[reader["link"]]  # byte for byte the outlet's link
        assert item.id == id_for_url(reader["link"])
        assert item.key == canonical_url(reader["link"])
        if name in FEEDPARSER_MOJIBAKE:
            pass
        elif reader["title"]:
            assert item.title == reader["title"]
            assert "title" not in item.inferred
        else:
            assert "title" in item.inferred
            assert item.title  # its first words, or its link
            assert item.title.rstrip("…") in (reader["text"] + " " + reader["link"])
        text = plain_text(item.content_html) + " " + item.summary
        missing = set(_WORD.findall(reader["text"])) - set(_WORD.findall(text))
        assert name in FEEDPARSER_MOJIBAKE or not missing, (reader["link"], missing)
        assert item.published is not None and item.published.tzinfo is not None
        provenance = item.dates["published"]
        if reader["date"] is not None:
            assert "published" not in item.inferred
            assert provenance.source == "feed"
            zoned = provenance.offset_known and _ZONED.search(reader["raw_date"])
            slack = timedelta(0) if zoned else timedelta(hours=14)
            assert abs(item.published - reader["date"]) <= slack, reader["link"]
        else:
            # Undated (or unreadably dated): dated when first seen, recorded as inferred.
            assert "published" in item.inferred
            assert provenance.source == "first_seen"
            assert provenance.warnings
            assert abs(item.published - datetime.now(UTC)) < timedelta(minutes=10)


def test_cdf_is_read_like_feedparser_reads_it(sources, normalize):
    feed, items, _ = defnews_items("channel.cdf", sources, normalize)
    assert feed.title == "Signal Corps Bulletin"
    assert [i.title for i in items] == ["New tactical radio net tested", "Antenna farm moved"]
    assert items[0].summary == "The brigade tested its new radio net in the field."


def test_invalid_byte_costs_its_entry_and_the_japanese_text_is_kept(sources, normalize):
    feed, items, dropped = defnews_items("invalid-utf8.xml", sources, normalize)
    assert feed.replaced_chars == feed.undecodable_bytes == 1
    # The entry with the bad byte is read (its text intact but for that byte) and refused;
    # the other is kept whole, in Japanese (never the whole feed re-read as a Western page).
    assert [e["title"] for e in feed.entries] == ["日本の護衛艦が寄港", "壊れた\ufffdバイトを含む記事"]
    assert [e.get("undecodable") for e in feed.entries] == [None, 1]
    assert feed.entries[1]["summary"] == "前後の日本語は正しい。"
    assert [i.title for i in items] == ["日本の護衛艦が寄港"] and dropped == ["undecodable_text"]
    assert items[0].summary == "日本の護衛艦が寄港した。"


def test_links_are_the_outlets_own_with_fragment_and_scheme(sources, normalize):
    _, rss20, _ = defnews_items("rss20.xml", sources, normalize)
    _, atom, _ = defnews_items("atom10.xml", sources, normalize)
    urls = [i.url for i in rss20 + atom]
    assert "http://www.shipyard-daily.example/2026/03/kongo-refit/?utm_source=rss#comments" in urls
    assert "https://shipyard-daily.example/blog/posts/relative-link.html" in urls  # xml:base
    # rel=alternate wins over enclosure and related links; nested xml:base applies.
    assert "https://naval-review.example/news/2026/03/taigei.html#sonar" in urls
    # A javascript: link is never the item's: its http(s) guid is.
    assert "https://shipyard-daily.example/p/992" in urls
    assert not [u for u in urls if not u.startswith(("http://", "https://"))]


def test_html_titles_are_text_and_podcast_audio_is_linked(sources, normalize):
    _, rss20, _ = defnews_items("rss20.xml", sources, normalize)
    assert rss20[0].title == "Destroyer Kongo completes refit & sea trials"
    _, podcast, _ = defnews_items("podcast.xml", sources, normalize)
    assert podcast[0].guid == "dm-episode-41"
    assert '<a href="https://cdn.defence-matters.example/ep41.mp3">' in podcast[0].content_html


def test_two_spellings_of_one_url_share_the_key_but_keep_their_links(sources, normalize):
    _, a, _ = defnews_items("dup-a.xml", sources, normalize)
    _, b, _ = defnews_items("dup-b.atom", sources, normalize)
    assert a[0].url == "http://www.kyushu-diary.example/2026/03/02/amphibious-landing/#c4788"
    assert b[0].url == (
        "https://kyushu-diary.example/2026/03/02/amphibious-landing"
        "?utm_source=wire&utm_medium=feed"
    )
    assert a[0].key == b[0].key == "https://kyushu-diary.example/2026/03/02/amphibious-landing"
    assert a[0].id == b[0].id
