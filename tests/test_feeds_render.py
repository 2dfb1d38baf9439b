"""The feedgen wrapper: one spec in, deterministic Atom / RSS bytes out."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta, timezone

import feedparser
import pytest
from lxml import etree

from feeds.render import (
    EMPTY_FEED_UPDATED,
    GENERATOR_VERSION,
    KINDS,
    EntrySpec,
    FeedSpec,
    Kind,
    SourceRef,
    render_feed,
    xml_text,
)

NS = {
    "a": "http://www.w3.org/2005/Atom",
    "dc": "http://purl.org/dc/elements/1.1/",
    "content": "http://purl.org/rss/1.0/modules/content/",
}
JST = timezone(timedelta(hours=9))
T = datetime(2025, 3, 1, 9, 30, tzinfo=JST)
SRC = SourceRef(
    "Jディフェンスニュース", "https://f.example/source/j.atom", "https://f.example/source/j.rss"
)


def spec(*entries: EntrySpec, updated: datetime = T) -> FeedSpec:
    return FeedSpec(
        title="defnews | テスト",
        description="説明",
        home_url="https://f.example/",
        atom_url="https://f.example/t.atom",
        rss_url="https://f.example/t.rss",
        author="defnews",
        language="ja",
        updated=updated,
        entries=entries,
    )


FULL = EntrySpec(
    id="https://news.example/1",
    title="見出し",
    link="https://news.example/1",
    updated=T + timedelta(hours=1),
    published=T,
    categories=("防衛", "防衛", " ", "海自"),
    author="記者",
    summary="要約",
    content_html="<p>本文</p>",
    source=SRC,
)
BARE = EntrySpec(id="https://news.example/2", title="", link="https://news.example/2", updated=T)


@pytest.mark.parametrize("kind", KINDS)
def test_same_spec_same_bytes(kind: Kind) -> None:
    assert render_feed(spec(FULL, BARE), kind) == render_feed(spec(FULL, BARE), kind)


@pytest.mark.parametrize("kind", KINDS)
def test_entries_keep_the_given_order(kind: Kind) -> None:
    for order in [(FULL, BARE), (BARE, FULL)]:
        parsed = feedparser.parse(render_feed(spec(*order), kind))
        assert [e.id for e in parsed.entries] == [e.id for e in order]


def test_atom_entry_fields() -> None:
    root = etree.fromstring(render_feed(spec(FULL), "atom"))
    (entry,) = root.findall("a:entry", NS)
    assert entry.findtext("a:published", namespaces=NS) == "2025-03-01T09:30:00+09:00"
    assert entry.findtext("a:updated", namespaces=NS) == "2025-03-01T10:30:00+09:00"
    assert [c.get("term") for c in entry.findall("a:category", NS)] == ["防衛", "海自"]
    assert entry.findtext("a:author/a:name", namespaces=NS) == "記者"
    assert entry.find("a:content", NS).get("type") == "html"
    assert entry.find("dc:creator", NS) is None  # Atom has its own author
    source = entry.find("a:source", NS)
    assert source.findtext("a:title", namespaces=NS) == "Jディフェンスニュース"
    assert source.find("a:link", NS).attrib == {
        "rel": "self",
        "type": "application/atom+xml",
        "href": SRC.atom_url,
    }
    parsed = feedparser.parse(etree.tostring(root))
    assert parsed.entries[0].source.title == "Jディフェンスニュース"
    assert parsed.entries[0].author == "記者"


def test_rss_item_fields() -> None:
    root = etree.fromstring(render_feed(spec(FULL), "rss"))
    (item,) = root.findall("channel/item", NS)
    assert item.find("guid").attrib == {"isPermaLink": "true"}
    assert email.utils.parsedate_to_datetime(item.findtext("pubDate")) == T
    assert item.findtext("pubDate").endswith("+0900")
    assert item.findtext("dc:creator", namespaces=NS) == "記者"
    assert item.find("author") is None
    assert item.findtext("description") == "要約"
    assert item.findtext("content:encoded", namespaces=NS) == "<p>本文</p>"
    assert item.find("source").attrib == {"url": SRC.rss_url}
    parsed = feedparser.parse(etree.tostring(root))
    assert parsed.bozo == 0
    assert parsed.entries[0].author == "記者"


@pytest.mark.parametrize("kind", KINDS)
def test_bare_entry_is_valid(kind: Kind) -> None:
    """No date but updated, no author, summary, content, categories or source."""
    parsed = feedparser.parse(render_feed(spec(BARE), kind))
    assert parsed.bozo == 0
    (entry,) = parsed.entries
    assert entry.title == BARE.link  # an empty title falls back to the link
    assert "published" not in entry


def test_not_permalink_guid() -> None:
    entry = EntrySpec(
        id="https://news.example/1#ranking-24h-20250301T003000Z",
        title="【24時間】1位 見出し",
        link="https://news.example/1",
        updated=T,
        permalink=False,
    )
    root = etree.fromstring(render_feed(spec(entry), "rss"))
    assert root.find("channel/item/guid").get("isPermaLink") == "false"


@pytest.mark.parametrize("kind", KINDS)
def test_feed_dates_and_generator_are_ours(kind: Kind) -> None:
    raw = render_feed(spec(updated=EMPTY_FEED_UPDATED), kind)
    root = etree.fromstring(raw)
    if kind == "atom":
        assert datetime.fromisoformat(root.findtext("a:updated", namespaces=NS)) == datetime(
            2000, 1, 1, tzinfo=UTC
        )
        assert root.find("a:generator", NS).attrib["version"] == GENERATOR_VERSION
        assert root.findtext("a:generator", namespaces=NS) == "defnews"
    else:
        last = root.findtext("channel/lastBuildDate")
        assert email.utils.parsedate_to_datetime(last) == EMPTY_FEED_UPDATED
        assert root.findtext("channel/generator") == "defnews"
    assert b"python-feedgen" not in raw


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\x00b", "ab"),
        ("\x0bタブ\t改行\n", "タブ\t改行\n"),
        ("\ufffe x \ud800", " x "),
        ("ok", "ok"),
    ],
    ids=["nul", "vertical-tab", "non-characters", "clean"],
)
def test_xml_text(raw: str, clean: str) -> None:
    assert xml_text(raw) == clean
