"""crawler.pages.feed on the fixture feeds: every format, encodings, errors, items."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from support import FEED_CONTENT_TYPES as CONTENT_TYPES

from crawler.items import ArticleItem, Image
from crawler.pages.feed import EntryError, FeedError, ParsedFeed, entry_to_item, parse_feed
from crawler.sources import Source
from crawler.urls import id_for_url

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
BASE = "https://feeds.example/feeds/"



def parse(name: str, content_type: str | None = None) -> ParsedFeed:
    headers = {"Content-Type": content_type or CONTENT_TYPES[name]}
    return parse_feed((FEEDS / name).read_bytes(), BASE + name, headers=headers)


def entry(name: str, index: int) -> dict:
    return parse(name).entries[index]


def source(**overrides) -> Source:
    fields = dict(
        key="fleetwatch",
        name="Fleetwatch",
        kind="feed",
        urls=(BASE + "naval.xml",),
        language="en",
        categories=("国際",),
        category_map={"Naval": "海上", "Shipbuilding": "防衛産業", "Japan": "日本の防衛"},
        keep_unmapped=False,
    )
    fields.update(overrides)
    return Source(**fields)


# --- feed-level fields --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "title", "link", "version", "count"),
    [
        ("naval.xml", "Fleetwatch", "http://www.fleetwatch.example/", "rss20", 3),
        (
            "wire.atom",
            "Defense Wire — Asia-Pacific",
            "https://defensewire.example/asia-pacific",
            "atom10",
            3,
        ),
        ("mod-press.rdf", "東部防衛局 報道発表", "https://tobu-dfb.example/press/", "rss10", 3),
        ("sjis.xml", "南西防衛ニュース", "https://nansei-news.example/", "rss20", 2),
        ("eucjp.xml", "北海防衛新報", "https://hokkai-bouei.example/", "rss20", 2),
        ("malformed.xml", "Pacific Defense Digest", "https://pacdigest.example/", "rss20", 2),
        ("json-feed.json", "Defense Tech Brief", "https://techbrief.example/", "json11", 2),
    ],
    ids=lambda v: v if isinstance(v, str) and "." in v and "/" not in v else None,
)
def test_feed_fields(name, title, link, version, count):
    feed = parse(name)
    assert (feed.title, feed.link, feed.version, len(feed.entries)) == (title, link, version, count)


@pytest.mark.parametrize(
    "name", ["naval.xml", "wire.atom", "mod-press.rdf", "sjis.xml", "eucjp.xml", "json-feed.json"]
)
def test_well_formed_feeds_are_not_flagged(name):
    assert parse(name).bozo_exception is None


# --- entries, field by field --------------------------------------------------------------

NAVAL_0 = {
    "guid": "http://www.fleetwatch.example/?p=48211",
    "url": "http://www.fleetwatch.example/2026/03/02/jmsdf-launches-new-frigate-nagasaki/"
    "?utm_source=rss&utm_medium=rss&utm_campaign=jmsdf-launches-new-frigate-nagasaki",
    "title": "JMSDF launches sixth upgraded Mogami-class frigate at Nagasaki",
    "summary": (
        "<p>The Japan Maritime Self-Defense Force launched the sixth ship of its upgraded "
        "Mogami-class frigate programme at the Nagasaki shipyard on 2 March. [&#8230;]</p>\n"
        '<p>The post <a href="http://www.fleetwatch.example/2026/03/02/jmsdf-launches-new-frigate-nagasaki/">'
        "JMSDF launches sixth upgraded Mogami-class frigate at Nagasaki</a> appeared first on "
        '<a href="http://www.fleetwatch.example">Fleetwatch</a>.</p>'
    ),
    "content_html": (
        "<p>The Japan Maritime Self-Defense Force launched the sixth ship of its upgraded "
        "Mogami-class frigate programme at the Nagasaki shipyard on 2 March.</p>\n"
        '<figure><img alt="Frigate launch ceremony at Nagasaki" '
        'src="https://feeds.example/wp-content/uploads/2026/03/ffm-launch.jpg" />'
        "<figcaption>The launch ceremony at Nagasaki.</figcaption></figure>\n"
        "<p>The ship will be fitted out over the next eighteen months before sea trials.</p>"
    ),
    "published_raw": "Mon, 02 Mar 2026 06:15:00 +0000",
    "updated_raw": None,
    "author": "Kenji Arai",
    "categories": ["Naval", "Shipbuilding", "Japan"],
    "images": [
        {
            "url": "http://www.fleetwatch.example/wp-content/uploads/2026/03/ffm-launch.jpg",
            "caption": None,
        }
    ],
    # Set only when the entry has no usable link (why, for the log).
    "rejected_links": [],
    "no_link_reason": "no link, permalink guid or http(s) id",
    "attachments_html": "",  # links to non-image enclosures, appended to the item's content
}

EXPECTED_ENTRIES = [
    pytest.param("naval.xml", 0, NAVAL_0, id="rss2-content-encoded"),
    pytest.param(
        "naval.xml",
        1,
        {
            "guid": "http://www.fleetwatch.example/?p=48190",
            "published_raw": "Sun, 01 Mar 2026 22:40:00 GMT",
            "images": [
                {
                    "url": "http://www.fleetwatch.example/wp-content/uploads/2026/03/gpf.jpg",
                    "caption": None,
                }
            ],
            "categories": ["Naval", "Indo-Pacific"],
        },
        id="rss2-enclosure-gmt",
    ),
    pytest.param(
        "naval.xml",
        2,
        {"content_html": None, "images": [], "categories": ["Submarines"]},
        id="rss2-description-only",
    ),
    pytest.param(
        "wire.atom",
        0,
        {
            "guid": "tag:defensewire.example,2026:wire/1187",
            "url": "https://fleetwatch.example/2026/03/02/jmsdf-launches-new-frigate-nagasaki",
            "title": "Japan launches new frigate at Nagasaki",
            "summary": "Partner story: the sixth upgraded Mogami-class frigate was launched at Nagasaki.",
            "content_html": None,
            "published_raw": "2026-03-02T15:20:00+09:00",
            "updated_raw": "2026-03-02T16:05:00+09:00",
            "author": "Defense Wire staff",
            "categories": ["naval", "japan"],
            "images": [],
        },
        id="atom-summary-only",
    ),
    pytest.param(
        "wire.atom",
        1,
        {
            "url": "https://feeds.example/asia-pacific/2026/03/asdf-second-f35b-squadron",
            "title": "ASDF stands up second F-35B squadron at Nyutabaru",
            "summary": "<p>The Air Self-Defense Force has stood up a second squadron for its short take-off F-35B fighters.</p>",
            "content_html": (
                "<p>The Air Self-Defense Force has stood up a second squadron for its short "
                "take-off F-35B fighters at Nyutabaru air base.</p><p>"
                '<img alt="F-35B at Nyutabaru" src="https://feeds.example/media/f35b-nyutabaru.jpg" /></p>'
            ),
            # Only <updated>: it stands in for the publication date.
            "published_raw": "2026-03-01T11:00:00Z",
            "updated_raw": "2026-03-01T11:00:00Z",
            "images": [
                {"url": "https://defensewire.example/media/f35b-nyutabaru.jpg", "caption": None}
            ],
        },
        id="atom-html-title-relative-link-updated-only",
    ),
    pytest.param(
        "wire.atom",
        2,
        {
            "author": "Mei Tanaka, Tom Reilly",
            "content_html": "<p>The Ground Self-Defense Force fired its stand-off missiles on the Yausubetsu range for the first time.</p>",
            "categories": ["land-forces", "exercises"],
        },
        id="atom-xhtml-two-authors",
    ),
    pytest.param(
        "mod-press.rdf",
        0,
        {
            "guid": "https://tobu-dfb.example/press/2026/0302a.html",
            "url": "https://tobu-dfb.example/press/2026/0302a.html",
            "title": "令和8年度 装備品等の調達に関する説明会の開催について",
            "summary": "装備品等の調達に関する説明会を3月19日に開催します。",
            "content_html": None,
            # RSS 1.0 has only dc:date (feedparser's "updated").
            "published_raw": "2026-03-02T17:00:00+09:00",
            "updated_raw": "2026-03-02T17:00:00+09:00",
            "author": "東部防衛局 総務部",
            "categories": ["装備"],
            "images": [],
        },
        id="rdf-dc-date",
    ),
    pytest.param(
        "mod-press.rdf",
        2,
        {"published_raw": None, "updated_raw": None, "author": None, "categories": ["お知らせ"]},
        id="rdf-no-date",
    ),
    pytest.param(
        "sjis.xml",
        0,
        {
            "guid": "https://nansei-news.example/article/2026/03/03/yonaguni-ew.html",
            "url": "https://nansei-news.example/article/2026/03/03/yonaguni-ew.html",
            "title": "与那国駐屯地に電子戦部隊を新編へ\u3000①部隊の概要",
            "summary": "<p>陸上自衛隊は与那国駐屯地に電子戦部隊を新たに配置する。㈱地元建設会社が隊庁舎の工事を請け負う。</p>",
            "published_raw": "Tue, 03 Mar 2026 09:30:00 JST",
            "author": "南西防衛ニュース編集部",
            "categories": ["陸上自衛隊"],
        },
        id="shift-jis-jst",
    ),
    pytest.param(
        "sjis.xml",
        1,
        {
            "title": "宮古島沖で中国海軍艦艇3隻を確認\u3000統合幕僚監部",
            "published_raw": "Mon, 02 Mar 2026 18:00:00 +0900",
        },
        id="shift-jis-plus0900",
    ),
    pytest.param(
        "eucjp.xml",
        0,
        {
            "title": "千歳基地でF-15J近代化改修機の配備始まる",
            "summary": "航空自衛隊千歳基地に、近代化改修を終えたF-15J戦闘機の配備が始まった。",
            "published_raw": "Mon, 02 Mar 2026 11:00:00 +0900",
            "categories": ["航空自衛隊"],
        },
        id="euc-jp",
    ),
    pytest.param(
        "malformed.xml",
        0,
        {
            "guid": "https://pacdigest.example/2026/03/02/submarine-order-split",
            "title": "Mitsubishi Heavy & Kawasaki Heavy split submarine order",
            "published_raw": "Mon, 02 Mar 2026 08:00:00 EST",
            "categories": ["Industry"],
        },
        id="malformed-raw-ampersand-est",
    ),
    pytest.param(
        "malformed.xml",
        1,
        {
            "guid": None,
            "url": "https://pacdigest.example/2026/03/01/coast-guard-navy-drill-guam",
            "title": "Coast guard & navy drill off Guam",
            "published_raw": "2026-03-01T12:00:00Z",
        },
        id="malformed-no-guid-iso-pubdate",
    ),
    pytest.param(
        "json-feed.json",
        0,
        {
            "guid": "https://techbrief.example/posts/loyal-wingman-trials",
            "url": "https://techbrief.example/posts/loyal-wingman-trials",
            "title": "Loyal-wingman drone completes first autonomous formation flight",
            "summary": "A collaborative combat aircraft flew in formation with two fighters without a pilot at the controls.",
            "content_html": (
                "<p>A collaborative combat aircraft flew in formation with two fighters "
                "<em>without</em> a pilot at the controls.</p><p>"
                '<a href="https://techbrief.example/posts/cca-explainer" rel="noopener noreferrer">'
                "What is a CCA?</a></p>"
            ),
            "published_raw": "2026-03-02T07:45:00-05:00",
            "updated_raw": "2026-03-02T09:10:00-05:00",
            "author": "Dana Whitfield",
            "categories": ["Drones", "Air"],
            "images": [{"url": "https://techbrief.example/img/cca-formation.jpg", "caption": None}],
        },
        id="json-feed-html",
    ),
    pytest.param(
        "json-feed.json",
        1,
        {
            "guid": "2026-0228-counter-drone",
            "summary": "",
            "content_html": "<p>The 50 kW laser engaged small drones from a destroyer&#x27;s deck.</p>"
            "<p>Further trials are planned for the summer.</p>",
            # Its audio attachment, listed as readers list enclosures (images go to images).
            "attachments_html": '<p><a href="https://techbrief.example/audio/brief.mp3">'
            "brief.mp3 (audio/mpeg)</a></p>",
            "published_raw": "2026-02-28T14:00:00Z",
            "updated_raw": None,
            "author": "Defense Tech Brief",  # the feed's authors
            "images": [{"url": "https://techbrief.example/img/laser.png", "caption": None}],
        },
        id="json-feed-text-attachments",
    ),
]


@pytest.mark.parametrize(("name", "index", "expected"), EXPECTED_ENTRIES)
def test_entry_fields(name, index, expected):
    got = entry(name, index)
    assert set(got) == set(NAVAL_0)  # every entry has every field
    for field, value in expected.items():
        assert got[field] == value, field


def test_rss2_pubdate_is_not_reported_as_updated():
    """feedparser's ``updated`` falls back to ``published`` (with a DeprecationWarning)."""
    assert entry("naval.xml", 0)["updated_raw"] is None


def test_feed_html_is_sanitized():
    assert "<script" not in entry("naval.xml", 0)["content_html"]
    assert "alert" not in entry("json-feed.json", 0)["content_html"]


# --- encodings ----------------------------------------------------------------------------

SJIS_TITLE = "与那国駐屯地に電子戦部隊を新編へ\u3000①部隊の概要"
EUC_TITLE = "千歳基地でF-15J近代化改修機の配備始まる"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/xml",  # the common Japanese server: RFC 3023 would say US-ASCII
        "application/rss+xml",
        "text/xml; charset=Shift_JIS",  # ① and ㈱ need cp932
        "text/xml; charset=ISO-8859-1",  # a wrong catch-all charset
        "text/html",
        None,
    ],
)
def test_shift_jis_feed_decodes(content_type):
    body = (FEEDS / "sjis.xml").read_bytes()
    headers = {"Content-Type": content_type} if content_type else {}
    feed = parse_feed(body, BASE + "sjis.xml", headers=headers)
    assert feed.entries[0]["title"] == SJIS_TITLE
    assert feed.title == "南西防衛ニュース"
    assert feed.encoding == "cp932"
    assert feed.bozo_exception is None


def test_shift_jis_fixture_is_really_shift_jis():
    body = (FEEDS / "sjis.xml").read_bytes()
    assert body.startswith(b'<?xml version="1.0" encoding="Shift_JIS"?>')
    assert "南西防衛ニュース".encode("shift_jis") in body
    assert "①".encode("cp932") in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/xml; charset=EUC-JP",
        "text/xml",
        "application/xml",
        "text/xml; charset=iso-8859-1",
        None,
    ],
)
def test_euc_jp_feed_decodes(content_type):
    body = (FEEDS / "eucjp.xml").read_bytes()
    headers = {"Content-Type": content_type} if content_type else {}
    feed = parse_feed(body, BASE + "eucjp.xml", headers=headers)
    assert [e["title"] for e in feed.entries] == [EUC_TITLE, "冬季戦技教育隊が雪中行軍訓練を公開"]
    assert feed.bozo_exception is None
    assert "北海防衛新報".encode("euc_jp") in body


def test_utf8_http_charset_wins_over_a_stale_declaration():
    """A proxy re-encoded the feed to UTF-8 and said so, but left encoding="Shift_JIS"."""
    body = (FEEDS / "sjis.xml").read_bytes().decode("cp932").encode("utf-8")
    feed = parse_feed(body, BASE + "sjis.xml", headers={"Content-Type": "text/xml; charset=UTF-8"})
    assert feed.entries[0]["title"] == SJIS_TITLE


def test_undeclared_utf8_without_content_type_is_utf8():
    body = (
        '<rss version="2.0"><channel><title>防衛</title><item><title>護衛艦</title>'
        "<link>https://a.example/1</link></item></channel></rss>"
    ).encode()
    feed = parse_feed(body, "https://a.example/feed", headers={})
    assert (feed.title, feed.entries[0]["title"]) == ("防衛", "護衛艦")


@pytest.mark.parametrize(
    ("codec", "declared", "content_type"),
    [
        ("utf-16-le", "utf-16le", "application/xml"),
        ("utf-16-be", "utf-16be", None),
        ("utf-16-le", "utf-16", "application/rss+xml"),
        ("utf-32-le", "utf-32le", "application/xml"),
        ("utf-32-be", "utf-32be", "text/xml"),
    ],
    ids=["utf16le", "utf16be-no-type", "utf16-declared-generic", "utf32le", "utf32be-text-xml"],
)
@pytest.mark.parametrize(("channel", "title"), [("Harbour", "Destroyer in port"), ("防衛", "護衛艦が寄港")],
                         ids=["ascii", "japanese"])
def test_wide_encodings_without_a_bom_are_read(codec, declared, content_type, channel, title):
    # feedparser's tests/encoding/ (utf-16le.xml, csucs4.xml...): ASCII text in UTF-16/32 is
    # valid UTF-8 too ("<" then NULs), so UTF-8 must not be forced on it.
    body = (
        f'<?xml version="1.0" encoding="{declared}"?><rss version="2.0"><channel>'
        f"<title>{channel}</title><item><title>{title}</title>"
        "<link>https://a.example/1</link></item></channel></rss>"
    ).encode(codec)
    headers = {"Content-Type": content_type} if content_type else {}
    feed = parse_feed(body, "https://a.example/feed", headers=headers)
    assert (feed.title, [e["title"] for e in feed.entries]) == (channel, [title])
    assert feed.bozo_exception is None


@pytest.mark.parametrize(
    ("bom", "codec", "declared"),
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    ],
    ids=["utf8", "utf16le", "utf16be", "utf32le", "utf32be"],
)
@pytest.mark.parametrize("content_type", ["text/xml", "application/xml", None],
                         ids=["text-xml", "application-xml", "no-type"])
def test_a_bom_decides_the_encoding(bom, codec, declared, content_type):
    # feedparser's tests/encoding/*-bom.xml; text/xml without charset would mean US-ASCII.
    body = bom + (
        f'<?xml version="1.0" encoding="{declared}"?><rss version="2.0"><channel>'
        "<title>防衛</title><item><title>Destroyer in port</title>"
        "<link>https://a.example/1</link></item></channel></rss>"
    ).encode(codec)
    headers = {"Content-Type": content_type} if content_type else {}
    feed = parse_feed(body, "https://a.example/feed", headers=headers)
    assert (feed.title, [e["title"] for e in feed.entries]) == ("防衛", ["Destroyer in port"])
    assert feed.bozo_exception is None


def _with_invalid_byte(body: bytes) -> bytes:
    """``body`` with one byte that neither Shift_JIS, EUC-JP nor UTF-8 allows (0x81 before
    a space), placed in the last item's description."""
    at = body.rindex(b"</description>")
    return body[:at] + b"\x81 " + body[at:]


@pytest.mark.parametrize(
    ("name", "content_type", "titles", "codec"),
    [
        ("sjis.xml", "text/xml", [SJIS_TITLE], "cp932"),
        ("sjis.xml", "text/xml; charset=ISO-8859-1", [SJIS_TITLE], "cp932"),
        ("eucjp.xml", "text/xml; charset=EUC-JP", [EUC_TITLE, "冬季戦技教育隊が雪中行軍訓練を公開"], "euc_jp"),
        ("eucjp.xml", None, [EUC_TITLE, "冬季戦技教育隊が雪中行軍訓練を公開"], "euc_jp"),
        ("naval.xml", "application/rss+xml; charset=UTF-8", [], "utf-8"),
        ("naval.xml", "text/xml; charset=ISO-8859-1", [], "utf-8"),  # a wrong catch-all label
    ],
    ids=["sjis", "sjis-latin1-label", "eucjp", "eucjp-unlabelled", "utf8", "utf8-latin1-label"],
)
def test_one_invalid_byte_is_replaced_never_the_whole_feed_redecoded(name, content_type, titles, codec):
    """Issue #9.7: one bad byte made feedparser re-decode a whole feed as a Western code page
    (日本 -> ć—ĽćœŹ). Only that byte becomes U+FFFD; every entry keeps its text."""
    clean = parse_feed((FEEDS / name).read_bytes(), BASE + name)
    headers = {"Content-Type": content_type} if content_type else {}
    feed = parse_feed(_with_invalid_byte((FEEDS / name).read_bytes()), BASE + name, headers=headers)
    assert feed.replaced_chars == 1
    assert feed.bozo_exception is None
    assert feed.title == clean.title
    for got, want in zip(feed.entries, clean.entries, strict=True):
        assert got["title"] == want["title"]
        assert got["url"] == want["url"]
        assert "".join(got["summary"].replace("\ufffd", "").split()) == "".join(want["summary"].split())
    assert "\ufffd" in feed.entries[-1]["summary"]
    assert [e["title"] for e in feed.entries][: len(titles)] == titles
    # The text is the document's own encoding: valid Japanese survives, nothing is Latin-1.
    assert clean.title.encode(codec)


def test_json_feed_with_an_invalid_byte_is_read_with_replacement():
    body = (FEEDS / "json-feed.json").read_bytes().replace(b"Loyal-wingman", b"Loyal\xffwingman", 1)
    feed = parse_feed(body, BASE + "json-feed.json")
    assert feed.replaced_chars == 1
    assert feed.entries[0]["title"] == "Loyal\ufffdwingman drone completes first autonomous formation flight"


def test_a_clean_feed_is_not_touched_by_the_repair():
    """U+FFFD the outlet wrote itself is its text, not a replacement."""
    body = '<rss version="2.0"><channel><title>t</title><item><title>a\ufffdb</title><link>https://a.example/1</link></item></channel></rss>'.encode()
    feed = parse_feed(body, "https://a.example/feed", headers={"Content-Type": "application/rss+xml"})
    assert (feed.replaced_chars, feed.entries[0]["title"]) == (0, "a\ufffdb")


@pytest.mark.parametrize(
    "body",
    [
        b"<!--\nDescription: a comment first\n-->\n<CHANNEL LASTMOD=\"2004-01-01T12:00\">\n</CHANNEL>",
        b'<?xml version="1.0"?>\n<CHANNEL HREF="http://www.example.org/"></CHANNEL>',
        b"<CHANNEL><ITEM><ABSTRACT>No HREF, nothing identifies it</ABSTRACT></ITEM></CHANNEL>",
    ],
    ids=["lastmod-only", "href-only", "item-without-href"],
)
def test_cdf_is_a_feed_even_with_nothing_to_publish(body):
    """feedparser reads CDF without naming a version; such a document is a feed (maybe an
    empty one), never "no RSS or Atom feed in the document"."""
    feed = parse_feed(body, "http://127.0.0.1:8000/channel.cdf", headers={"Content-Type": "application/x-cdf"})
    assert feed.version == "cdf"
    assert feed.bozo_exception is None


def test_an_ebcdic_feed_is_left_to_feedparser():
    """The repair only applies to ASCII-compatible documents it can read the declaration of."""
    text = '<?xml version="1.0" encoding="cp037"?><rss version="2.0"><channel><title>\u00e9t\u00e9</title></channel></rss>'
    feed = parse_feed(text.encode("cp037"), "https://a.example/feed", headers={})
    assert (feed.title, feed.replaced_chars) == ("\u00e9t\u00e9", 0)


def test_a_windows_1252_feed_with_an_undefined_byte_stays_windows_1252():
    body = (
        '<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>Caf\u00e9 \u20ac5</title><link>https://a.example/1</link><description>x</description></item>"
        "</channel></rss>"
    ).encode("cp1252").replace(b"<description>x", b"<description>x\x81")
    feed = parse_feed(body, "https://a.example/feed", headers={"Content-Type": "text/xml"})
    assert feed.entries[0]["title"] == "Caf\u00e9 \u20ac5"
    assert feed.replaced_chars == 1


# --- errors -------------------------------------------------------------------------------


def test_html_page_is_an_error_not_an_empty_feed():
    with pytest.raises(FeedError) as info:
        parse("error.html")
    message = str(info.value)
    assert message.startswith("an HTML page, not a feed")
    assert "text/html" in message
    assert "ただいまメンテナンス中です" in message


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>Service Unavailable</body></html>",
        b"\n\n  <!doctype HTML>\n<html><head><title>503</title></head></html>",
        b'<?xml version="1.0"?>\n<!-- cached -->\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html xmlns="http://www.w3.org/1999/xhtml"></html>',
        b"\xef\xbb\xbf<!DOCTYPE html><html></html>",
    ],
    ids=["bare-html", "doctype-after-blank-lines", "xhtml-with-prolog", "utf8-bom"],
)
def test_html_served_as_a_feed_type_is_an_error(body):
    with pytest.raises(FeedError, match="HTML page"):
        parse_feed(body, BASE + "x.xml", headers={"Content-Type": "application/rss+xml"})


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"", "application/rss+xml", "empty response body"),
        (b"  \n", None, "empty response body (no Content-Type)"),
        (b"Service Temporarily Unavailable", "text/plain", "no RSS or Atom feed in the document"),
        (
            b"<error><code>403</code></error>",
            "application/xml",
            "no RSS or Atom feed in the document",
        ),
        (b'{"status": "ok"}', "application/json", "not a JSON Feed"),
        (
            b'{"version": "https://jsonfeed.org/version/1.1", "items": 3}',
            None,
            "without an 'items' list",
        ),
        (b"{broken", "application/feed+json", "unreadable JSON"),
    ],
    ids=["empty", "blank", "plain-text", "other-xml", "plain-json", "json-items", "broken-json"],
)
def test_unusable_documents_are_errors(body, content_type, message):
    headers = {"Content-Type": content_type} if content_type else None
    with pytest.raises(FeedError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_feed(body, BASE + "x", headers=headers)


def test_feed_error_is_a_value_error():
    assert issubclass(FeedError, ValueError)


def test_malformed_feed_is_recovered_and_flagged():
    feed = parse("malformed.xml")
    assert [e["title"] for e in feed.entries] == [
        "Mitsubishi Heavy & Kawasaki Heavy split submarine order",
        "Coast guard & navy drill off Guam",
    ]
    assert feed.bozo_exception is not None
    assert feed.bozo_exception.startswith("SAXParseException: ")
    assert "not well-formed" in feed.bozo_exception


def test_a_feed_served_as_text_html_is_still_a_feed():
    feed = parse("naval.xml", "text/html; charset=UTF-8")
    assert (len(feed.entries), feed.bozo_exception) == (3, None)


@pytest.mark.parametrize(
    "doctype",
    [
        b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://site.invalid/">',
        b"<!DOCTYPE html>",
    ],
    ids=["xhtml-doctype", "html5-doctype"],
)
def test_a_feed_behind_an_html_doctype_is_still_a_feed(doctype):
    # feedparser reads these (its tests/illformed/always_strip_doctype.xml): the root decides.
    body = (
        b'<?xml version="1.0" encoding="utf-8"?>' + doctype + b"\n<!-- c -->\n<rss><channel>"
        b"<title>Found</title><item><title>Refit done</title>"
        b"<link>https://found.example/a</link></item></channel></rss>"
    )
    feed = parse_feed(body, BASE + "x.xml", headers={"Content-Type": "application/xml"})
    assert feed.title == "Found"
    assert [e["url"] for e in feed.entries] == ["https://found.example/a"]


def test_a_feed_with_no_items_is_an_empty_feed_not_an_error():
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    feed = parse_feed(body, BASE + "quiet.xml", headers={"Content-Type": "application/rss+xml"})
    assert (feed.version, feed.entries, feed.bozo_exception) == ("rss20", [], None)


# --- items --------------------------------------------------------------------------------


def test_entry_to_item_keeps_the_feeds_own_values():
    item = entry_to_item(NAVAL_0, source())
    assert item == ArticleItem(
        url=NAVAL_0["url"],  # the outlet's own link, byte for byte; the key is the identity
        title="JMSDF launches sixth upgraded Mogami-class frigate at Nagasaki",
        source="fleetwatch",
        categories=["海上", "防衛産業", "日本の防衛", "国際"],
        author="Kenji Arai",
        summary=NAVAL_0["summary"],
        content_html=NAVAL_0["content_html"],
        images=[
            Image(url="http://www.fleetwatch.example/wp-content/uploads/2026/03/ffm-launch.jpg")
        ],
        language="en",
        id=id_for_url("https://fleetwatch.example/2026/03/02/jmsdf-launches-new-frigate-nagasaki"),
        published_raw="Mon, 02 Mar 2026 06:15:00 +0000",
        published_source="feed",
        guid="http://www.fleetwatch.example/?p=48211",
        key="https://fleetwatch.example/2026/03/02/jmsdf-launches-new-frigate-nagasaki",
        published_fallback="first_seen",
    )
    assert item.published is None  # the normalize pipeline parses published_raw


def test_content_falls_back_to_the_summary_never_to_more():
    item = entry_to_item(entry("naval.xml", 2), source())
    assert (
        item.content_html
        == item.summary
        == "<p>The tender returned to the fleet two weeks early. [&#8230;]</p>"
    )


def test_entry_without_a_date_has_no_date_source():
    item = entry_to_item(entry("mod-press.rdf", 2), source(key="tobu-dfb", language="ja"))
    assert (item.published_raw, item.published_source, item.updated_raw, item.updated_source) == (
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-03", "2026-03-01T00:00:00Z"),
        ("2026", "2026-01-01T00:00:00Z"),
        (" 2026-11 ", "2026-11-01T00:00:00Z"),
        ("2026-13", "2026-13"),  # no such month: left for the date reader to refuse
        ("2026-03-02", "2026-03-02"),
    ],
    ids=["year-month", "year", "padded", "month-13", "full-date-unchanged"],
)
def test_w3cdtf_dates_of_reduced_precision_are_their_first_day(raw, expected):
    # dc:date / Atom 0.3 allow YYYY and YYYY-MM; feedparser reads them as the first day.
    body = (
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>'
        f"<item><title>x</title><link>https://a.example/1</link><dc:date>{raw}</dc:date></item>"
        "</channel></rss>"
    ).encode()
    feed = parse_feed(body, "https://a.example/feed", headers={})
    item = entry_to_item(feed.entries[0], source())
    assert item.published_raw == expected and item.published_source == "feed"


def test_entry_without_link_cannot_become_an_item():
    with pytest.raises(EntryError, match="has no link"):
        entry_to_item({"guid": "x-1", "title": "No link", "url": None}, source())


def test_entry_without_title_takes_the_start_of_its_summary():
    summary = (
        "<p>" + "The destroyer returned to Yokosuka after a five-month deployment. " * 3 + "</p>"
    )
    item = entry_to_item({"url": "https://a.example/1", "title": "", "summary": summary}, source())
    assert item.title == (
        "The destroyer returned to Yokosuka after a five-month deployment. The destroyer…"
    )


def test_same_story_in_two_feeds_has_one_id():
    """http://www. + utm_* + trailing slash in one feed, clean https in the other."""
    fleetwatch = entry_to_item(entry("naval.xml", 0), source())
    wire = entry_to_item(entry("wire.atom", 0), source(key="defensewire"))
    assert fleetwatch.url != wire.url
    assert fleetwatch.id == wire.id
    assert (fleetwatch.guid, wire.guid) == (
        "http://www.fleetwatch.example/?p=48211",
        "tag:defensewire.example,2026:wire/1187",
    )


def test_title_edit_and_https_guid_keep_the_same_id():
    before = entry_to_item(entry("naval.xml", 0), source())
    after = entry_to_item(entry("naval-updated.xml", 0), source())
    assert after.id == before.id
    assert after.guid == "https://fleetwatch.example/?p=48211" != before.guid
    assert after.title == "JMSDF launches sixth upgraded Mogami-class frigate, names her Yoshino"


def test_alternate_link_wins_and_an_enclosure_never_titles_the_entry():
    """feedparser gives this entry's enclosure as its ``link``; a reader opens the alternate."""
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry>'
        b'<link rel="enclosure" type="audio/mpeg" href="http://www.example.com/a.mp3"/>'
        b'<link rel="alternate" type="text/html">http://www.example.com/alternate</link>'
        b"</entry></feed>"
    )
    [entry] = parse_feed(body, "http://127.0.0.1:8000/f.atom").entries
    item = entry_to_item(entry, source())
    assert item.url == "http://www.example.com/alternate"
    assert (item.title, item.inferred) == ("http://www.example.com/alternate", ["title"])
    assert 'href="http://www.example.com/a.mp3"' in item.content_html


@pytest.mark.parametrize(
    "links",
    ['<link rel="related" href="http://o.example/"/>', '<link rel="self" href="http://o.example/"/>',
     "<id>urn:uuid:1</id>", "<id>tag:o.example,2026:1</id>"],
    ids=["related-only", "self-only", "urn-id", "tag-id"],
)
def test_entries_a_reader_cannot_link_are_refused_with_a_reason(links):
    body = f'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>T</title>{links}</entry></feed>'
    [entry] = parse_feed(body.encode(), "http://127.0.0.1:8000/f.atom").entries
    with pytest.raises(EntryError, match="has no link"):
        entry_to_item(entry, source())


def test_control_characters_never_reach_the_items():
    """JSON Feed strings may hold C0 controls (XML cannot); lxml downstream refuses them."""
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [{"id": "1",'
        b' "url": "https://a.example/1", "title": "a\\u0001b", "summary": "c\\u0007d <b>e</b>",'
        b' "content_html": "<p>f\\u0000g</p>", "tags": ["h\\u0002"]}]}'
    )
    [entry] = parse_feed(body, "https://a.example/feed.json").entries
    item = entry_to_item(entry, source())
    assert (item.title, item.summary, entry["categories"]) == ("ab", "cd &lt;b&gt;e&lt;/b&gt;", ["h\x02"])
    assert "\x00" not in item.content_html and "fg" in item.content_html


def test_a_guid_shared_by_different_stories_is_no_identity():
    body = (
        b'<rss version="2.0"><channel><title>t</title>'
        b'<item><title>One</title><link>https://a.example/1</link><guid isPermaLink="false">site</guid></item>'
        b'<item><title>Two</title><link>https://a.example/2</link><guid isPermaLink="false">site</guid></item>'
        b'<item><title>Three</title><link>https://a.example/3</link><guid isPermaLink="false">g-3</guid></item>'
        b'<item><title>Three again</title><link>https://a.example/3</link><guid isPermaLink="false">g-3</guid></item>'
        b"</channel></rss>"
    )
    feed = parse_feed(body, "https://a.example/feed")
    assert [e["guid"] for e in feed.entries] == [None, None, "g-3", "g-3"]


@pytest.mark.parametrize(
    "link",
    ["http://[::1/x", "http://a.example:99999/x", "http://a.example:abc/x"],
    ids=["broken-ipv6", "port-range", "port-text"],
)
def test_a_broken_link_falls_back_to_the_entrys_other_identity(link):
    body = (
        '<rss version="2.0"><channel><title>t</title><item><title>T</title>'
        f'<link>{link}</link><guid isPermaLink="false">https://a.example/g</guid>'
        '<enclosure url="http://[::1/a.mp3" type="audio/mpeg" length="1"/></item>'
        "</channel></rss>"
    ).encode()
    [entry] = parse_feed(body, "https://a.example/feed").entries
    assert entry_to_item(entry, source()).url == "https://a.example/g"
