"""Links in built feeds are valid URIs: the outlet's own where valid, browser-encoded where not
(feeds/uris.py), in Atom, RSS and JSON Feed."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from feeds.jsonfeed import render_json_feed
from feeds.render import EntrySpec, FeedSpec, render_feed
from feeds.uris import published_uri

SCHEMA = Path(__file__).parent / "fixtures" / "schemas" / "atom.rng"
T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# RFC 3986 URI characters: what the W3C Feed Validator accepts in a link.
URI = re.compile(r"^https?://[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%\[\]]+$", re.IGNORECASE)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://www.kylev.com/2005/03/29/rsync-and-vfat/#c4788",
         "http://www.kylev.com/2005/03/29/rsync-and-vfat/#c4788"),
        ("HTTPS://News.Example/A?b=1&c=%2F", "HTTPS://News.Example/A?b=1&c=%2F"),
        ("https://[::1]:8443/a", "https://[::1]:8443/a"),
        ("https://news.example/a b.html", "https://news.example/a%20b.html"),
        ("https://news.example/q\"x\"[1]{2}|3^4`5", "https://news.example/q%22x%22%5B1%5D%7B2%7D%7C3%5E4%605"),
        ("https://news.example/ニュース?q=防衛#見出し",
         "https://news.example/%E3%83%8B%E3%83%A5%E3%83%BC%E3%82%B9?q=%E9%98%B2%E8%A1%9B"
         "#%E8%A6%8B%E5%87%BA%E3%81%97"),
        ("https://ドメイン.example/news", "https://xn--eckwd4c7c.example/news"),
        ("https://news.example\\path\\x?a=\\", "https://news.example/path/x?a=%5C"),
        ("  https://news.example/padded  ", "https://news.example/padded"),
    ],
    ids=["valid-kept-byte-for-byte", "case-and-escapes-kept", "ipv6-host", "space", "quotes-brackets",
         "japanese-path", "idn-host", "backslashes", "padded"],
)
def test_published_uri(url: str, expected: str) -> None:
    assert published_uri(url) == expected
    assert published_uri(expected) == expected  # idempotent


ODD = "https://news.example/2026/03/a b[1]|\"x\"/記事"


def _spec() -> FeedSpec:
    entry = EntrySpec(id=ODD, title="Odd link", link=ODD, updated=T, published=T,
                      image="https://news.example/img/a b.jpg")
    return FeedSpec(
        title="t", description="d", author="defnews", language="ja",
        atom_url="https://feeds.example/all.atom", rss_url="https://feeds.example/all.rss",
        json_url="https://feeds.example/all.json", home_url="https://feeds.example/",
        updated=T, entries=(entry,),
    )


def test_an_outlets_invalid_link_is_published_as_a_valid_uri() -> None:
    atom = render_feed(_spec(), "atom")
    rss = render_feed(_spec(), "rss")
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    assert schema.validate(etree.fromstring(atom)), schema.error_log
    expected = published_uri(ODD)
    for body in (atom, rss):
        parsed = feedparser.parse(body)
        assert parsed.bozo == 0
        [entry] = parsed.entries
        assert entry.link == expected and URI.match(entry.link)
        assert entry.id == expected
    root = etree.fromstring(rss)
    assert URI.match(root.findtext("channel/item/link") or "")
    assert URI.match(root.findtext("channel/item/guid") or "")
    thumb = root.find("channel/item/{http://search.yahoo.com/mrss/}thumbnail")
    assert thumb is not None and thumb.get("url") == "https://news.example/img/a%20b.jpg"
    [item] = json.loads(render_json_feed(_spec()))["items"]
    assert item["url"] == item["id"] == expected
    assert item["image"] == "https://news.example/img/a%20b.jpg"
