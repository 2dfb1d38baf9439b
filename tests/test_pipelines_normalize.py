"""The normalize pipeline as the gate of what comes from outside: http(s) links only, no
markup in text fields, plausible dates (``tests/test_pipelines.py`` has the rest)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem, Image, RankingEntry, RankingObservation
from crawler.pipelines.normalize import NormalizePipeline, http_url, plain_text
from crawler.store import open_store
from crawler.urls import id_for_url

T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def pipe(crawler):
    p = build_from_crawler(NormalizePipeline, crawler)
    p.open_spider()
    return p


def stat(crawler, key: str) -> int:
    return crawler.stats.get_value(key, 0)


def feed_item(**overrides) -> ArticleItem:
    data = dict(url="https://fleetwatch.example/2026/03/01/story", title="Frigate launched",
                source="fleetwatch", published_raw="Sun, 01 Mar 2026 09:00:00 +0000",
                published_source="feed", language="en")
    data.update(overrides)
    return ArticleItem(**data)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<script>alert(1)</script>Frigate launched", "Frigate launched"),
        ("Frigate <img src=x onerror=alert(1)>launched", "Frigate launched"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;Frigate", "Frigate"),
        ("&amp;lt;img src=x onerror=alert(1)&amp;gt;Frigate", "Frigate"),
        ("防衛<b>省</b>", "防衛省"),
        ("<p>one</p><p>two</p>", "one two"),
        ("AT&amp;T and R&D", "AT&T and R&D"),
        ("<速報>防衛省", "<速報>防衛省"),
        ("x < y > z", "x < y > z"),
        ("bell\x07 and nul\x00 removed", "bell and nul removed"),
        ("<style>p{}</style>Title<!-- note -->", "Title"),
        ("", ""),
        (" <!DOCTYPE ", ""),
        ("<!DOCTYPE html>Frigate", "Frigate"),
    ],
    ids=["script", "img-onerror", "escaped-script", "double-escaped", "inline", "blocks",
         "entities", "japanese-brackets", "less-than", "controls", "style-comment", "empty",
         "bare-doctype", "doctype-then-text"],
)
def test_plain_text_strips_markup(raw, expected):
    assert plain_text(raw) == expected


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.org/a", True),
        ("HTTP://example.org/a", True),
        ("javascript:alert(1)", False),
        (" JavaScript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("data:text/html,<b>x</b>", False),
        ("vbscript:msgbox(1)", False),
        ("file:///etc/passwd", False),
        ("mailto:desk@example.org", False),
        ("//example.org/a", False),
        ("https:///nohost", False),
        (None, False),
    ],
    ids=["https", "upper", "javascript", "spaced", "tab-split", "data", "vbscript", "file",
         "mailto", "scheme-relative", "no-host", "none"],
)
def test_http_url(url, ok):
    assert http_url(url) is ok


def test_non_http_link_falls_back_to_the_guid(pipe, crawler):
    item = pipe.process_item(feed_item(url="javascript:alert(1)", guid="https://fleetwatch.example/p/1"))
    assert item.url == "https://fleetwatch.example/p/1"
    assert stat(crawler, "defnews/dropped/not_http(s)_link") == 1
    assert stat(crawler, "defnews/dropped") == 0  # the item is kept


@pytest.mark.parametrize("guid", [None, "tag:fleetwatch,2026:1", "data:text/html,x"],
                         ids=["no-guid", "tag-guid", "data-guid"])
def test_non_http_link_without_http_guid_drops_the_item(pipe, crawler, guid):
    with pytest.raises(DropItem, match="not an http\\(s\\) link"):
        pipe.process_item(feed_item(url="vbscript:msgbox(1)", guid=guid))
    assert stat(crawler, "defnews/dropped") == 1
    assert stat(crawler, "defnews/dropped/not_http(s)_link") == 1


def test_non_http_images_and_ranking_entries_are_dropped(pipe, crawler):
    item = pipe.process_item(feed_item(images=[Image("data:image/png;base64,AAAA"),
                                               Image("https://fleetwatch.example/a.jpg")]))
    assert [i.url for i in item.images] == ["https://fleetwatch.example/a.jpg"]
    observation = RankingObservation(
        source="jdefense", page_url="https://j-defense.ikaros.jp/", seen_at=T0,
        lists={"24h": [RankingEntry(1, "<b>罠</b>", "javascript:alert(1)"),
                       RankingEntry(2, "記事<script>x</script>", "https://j-defense.ikaros.jp/docs/mod/000001.html")]},
    )
    pipe.process_item(observation)
    assert [(e.rank, e.title) for e in observation.lists["24h"]] == [(2, "記事")]
    assert stat(crawler, "defnews/dropped/not_http(s)_link") == 2


def test_markup_is_stripped_from_every_text_field(pipe):
    item = pipe.process_item(feed_item(
        title="<script>alert(1)</script>Frigate",
        author="<img src=x onerror=alert(1)>Ann",
        summary="&lt;script&gt;x&lt;/script&gt;Body",
        categories=["<b>Naval</b>", "&lt;img onerror=x&gt;"],
        images=[Image("https://fleetwatch.example/a.jpg", caption="<i>Ship</i>")],
    ))
    assert (item.title, item.author, item.summary) == ("Frigate", "Ann", "Body")
    assert item.categories == ["Naval"]
    assert item.images[0].caption == "Ship"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("Mon, 01 Jan 0001 00:00:00 +0000", "0001"),
        ("1989-12-31T23:59:59+00:00", "before 1990-01-01"),
        ("FUTURE+2d", "after the crawl"),
        ("FUTURE+800d", "implausibly far"),
    ],
    ids=["year-0001", "before-1990", "two-days-ahead", "beyond-dates-module-bound"],
)
def test_implausible_published_falls_back_to_first_seen(pipe, crawler, raw, why):
    if raw.startswith("FUTURE+"):
        raw = (datetime.now(UTC) + timedelta(days=int(raw[7:-1]))).isoformat()
    item = pipe.process_item(feed_item(published_raw=raw))
    assert item.published == pipe.reference
    provenance = item.dates["published"]
    assert (provenance.raw, provenance.source) == (raw, "first_seen")
    assert why in provenance.warnings[0] and "first_seen used" in provenance.warnings[0]
    assert stat(crawler, "defnews/flagged/implausible_date") == 1
    assert "published" in item.inferred  # recorded as inferred, as an undated entry is


def test_a_date_within_a_day_ahead_is_kept(pipe, crawler):
    raw = (datetime.now(UTC) + timedelta(hours=20)).isoformat()
    item = pipe.process_item(feed_item(published_raw=raw))
    assert item.dates["published"].source == "feed"
    assert stat(crawler, "defnews/flagged/implausible_date") == 0


def test_bounds_are_settings(tmp_path):
    crawler = get_crawler(Spider, {"DEFNEWS_DATES_EARLIEST": "2020-01-01",
                                   "DEFNEWS_DATES_MAX_FUTURE_HOURS": 1})
    crawler.stats.open_spider()
    pipe = build_from_crawler(NormalizePipeline, crawler)
    old = pipe.process_item(feed_item(published_raw="2019-05-01T00:00:00Z"))
    soon = pipe.process_item(feed_item(
        published_raw=(datetime.now(UTC) + timedelta(hours=3)).isoformat()))
    assert old.dates["published"].source == soon.dates["published"].source == "first_seen"


def test_implausible_updated_is_dropped_not_substituted(pipe, crawler):
    item = pipe.process_item(feed_item(updated_raw="1970-01-01T00:00:00Z", updated_source="feed"))
    assert item.updated is None
    assert item.dates["updated"].source == "rejected"
    assert item.dates["published"].source == "feed"


def test_fallback_is_the_stored_first_seen_so_reruns_change_nothing(pipe, crawler, tmp_path):
    seen = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    first = pipe.process_item(feed_item(published_raw="0001-01-01"))
    with open_store(str(tmp_path / "s.sqlite3")) as store:
        store.upsert_article(first, now=seen)
    pipe.close_spider()
    again = build_from_crawler(NormalizePipeline, crawler)
    again.open_spider()
    second = again.process_item(feed_item(published_raw="0001-01-01"))
    assert second.published == first.published  # the value stored on the first run
    # An article stored with a real date that later turns implausible: its first_seen.
    with open_store(str(tmp_path / "s.sqlite3")) as store:
        store.upsert_article(feed_item(url="https://fleetwatch.example/b", published=T0,
                                       id=id_for_url("https://fleetwatch.example/b")), now=seen)
    third = again.process_item(feed_item(url="https://fleetwatch.example/b", published_raw="0001-01-01"))
    assert third.published == seen
    again.close_spider()


@pytest.mark.parametrize(
    ("title", "summary", "content_html", "expected"),
    [
        ("<script>alert(1)</script>", "Frigate launched at Nagasaki", "",
         "Frigate launched at Nagasaki"),
        ("<img src=x onerror=alert(1)>", "", "<p>Destroyer refit <b>done</b></p>",
         "Destroyer refit done"),
        ("&lt;br /&gt;", "<code>&lt;br /></code>", "", "https://fleetwatch.example/2026/03/01/story"),
        ("", "<script>alert(1)</script>", "", "https://fleetwatch.example/2026/03/01/story"),
    ],
    ids=["script-title-text", "img-title-content", "escaped-markup-only", "no-text-at-all"],
)
def test_feed_entry_whose_title_is_only_markup_is_titled_as_readers_do(
    pipe, title, summary, content_html, expected
):
    item = pipe.process_item(feed_item(
        title=title, summary=summary, content_html=content_html, published_fallback="first_seen",
    ))
    assert item.title == expected
    assert "title" in item.inferred
    assert "<" not in item.title and "alert" not in item.title


def test_site_article_whose_title_is_only_markup_keeps_no_title(pipe):
    # Scraped pages are not titled by their text: the validate pipeline drops them, named.
    item = pipe.process_item(feed_item(title="<script>x</script>", summary="Some text"))
    assert item.title == "" and "title" not in item.inferred
