"""Every file a build writes, checked the way strict readers and validators check it.

The W3C Feed Validator is not reachable offline, so its rules that concern us are written out
here, one test each, over a build from a real SQLite store that holds ordinary and hostile
articles (``<script>``, ``]]>``, ``&``, control characters, emoji, right-to-left text, a 10 MB
body) and a ranking: feedparser must parse every feed with bozo 0, every Atom feed must be
valid against RFC 4287's RELAX NG schema (tests/fixtures/schemas/atom.rng), every JSON Feed
against JSON Feed 1.1 (tests/fixtures/schemas/jsonfeed-1.1.schema.json).
"""

from __future__ import annotations

import email.utils
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import feedparser
import jsonschema
import lxml.html
import pytest
from lxml import etree

from crawler.items import ArticleItem, Image, RankingEntry, RankingItem
from crawler.store import SQLiteStore
from crawler.urls import id_for_url
from feeds.build import FEED_CONTENT_BUDGET, BuildReport, build_feeds
from feeds.config import FeedConfig
from feeds.render import _MARKUP

SCHEMAS = Path(__file__).parent / "fixtures" / "schemas"
BASE = "https://feeds.example.org/"
# Nothing listens on 127.0.0.1:9 (discard): pings are refused at once, and no traffic leaves.
HUB = "http://127.0.0.1:9/"
JST = ZoneInfo("Asia/Tokyo")
NS = {
    "a": "http://www.w3.org/2005/Atom",
    "media": "http://search.yahoo.com/mrss/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
RFC822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep"
                    r"|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$")
BIG = 10 * 1024 * 1024
RTL = "مرحبا بالعالم שלום"
EMOJI = "🚀🇯🇵"

HOSTILE = {
    "script": dict(
        title='<script>alert("t")</script>護衛艦<img src=x onerror=alert(1)>',
        summary="<script>alert(2)</script>要約 & <b>太字</b>",
        content_html='<p>本文</p><script>alert(3)</script><a href="javascript:alert(4)">x</a>'
        '<img src="/rel/a.jpg" onerror="alert(5)"><a href="../up.html">上</a>',
        author="<i>記者</i>",
    ),
    "cdata-end": dict(title="a ]]> b", summary="]]>", content_html="<p>]]&gt; and ]]></p>"),
    "ampersand": dict(title="AT&T & 三菱重工 &amp; co", summary="R&D", content_html="<p>a &amp; b</p>"),
    "control": dict(
        title="制御\x00文字\x08と\x1b[31m色\x0c",
        summary="\x01要約\x7f",
        content_html="<p>\x02本文\x1f</p>",
    ),
    "emoji-rtl": dict(title=f"{EMOJI} {RTL}", summary=RTL, content_html=f"<p dir='rtl'>{RTL}</p>"),
    "big": dict(title="10 MB の本文", summary="", content_html="<p>" + "防" * (BIG // 3) + "</p>"),
}


def _article(n: int, **fields: object) -> ArticleItem:
    url = f"https://j-defense.example.jp/docs/mod/{n:06d}.html"
    base: dict[str, object] = dict(
        url=url,
        id=id_for_url(url),
        title=f"記事 {n}",
        source="jdefense" if n % 2 else "navalnews",
        published=datetime(2025, 3, 1, 9, tzinfo=JST) + timedelta(hours=n),
        categories=["日本の防衛", "解説"] if n % 3 else ["レポート", "その他"],
        summary=f"要約 {n}",
        content_html=f'<p>本文 {n} <a href="https://example.jp/{n}">リンク</a></p>',
        images=[Image(url=f"https://img.example.jp/{n}.jpg")] if n % 2 else [],
        author="田中 太郎" if n % 4 == 0 else None,
    )
    base.update(fields)
    return ArticleItem(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildReport]:
    tmp = tmp_path_factory.mktemp("validity")
    now = datetime(2025, 3, 10, tzinfo=UTC)
    with SQLiteStore(tmp / "store.sqlite3") as store:
        items = [_article(n) for n in range(1, 13)]
        items += [_article(100 + i, **fields) for i, fields in enumerate(HOSTILE.values())]
        for item in items:
            store.upsert_article(item, now=now)
        ranked = [a for a in items if a.source == "jdefense"][:5]
        for k in range(3):
            store.add_ranking_snapshot(RankingItem(
                source="jdefense",
                captured_at=now + timedelta(hours=k),
                lists={"24h": [RankingEntry(r + 1, a.title, a.url, a.id)
                               for r, a in enumerate(ranked[k:] + ranked[:k])]},
            ))
        config = FeedConfig(base_url=BASE, category_slugs={"日本の防衛": "japan-defense"},
                            hub_url=HUB, limit=30)
        out = tmp / "public"
        report = build_feeds(store, out, config)
        # No hub listens here: pinging fails, is reported, and the build stands.
        assert report.ping_errors
    return out, report


def files(out: Path, suffix: str) -> list[str]:
    return sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob(f"*{suffix}")
        if not p.name.startswith(".")  # the build's bookkeeping
    )


def kinds(report: BuildReport, kind: str) -> list[str]:
    return sorted(f.path.name for f in report.files if f.kind == kind)


def url_of(rel: str) -> str:
    return BASE + rel


def test_category_names_are_readable(built: tuple[Path, BuildReport]) -> None:
    out, _ = built
    assert sorted(p.name for p in (out / "category").glob("*.atom")) == [
        "japan-defense.atom", "kaisetsu.atom", "repooto.atom", "sono-hoka.atom"
    ]


# -- every Atom feed ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def atom_schema() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))


def test_every_atom_feed_is_valid_rfc4287(
    built: tuple[Path, BuildReport], atom_schema: etree.RelaxNG
) -> None:
    out, _ = built
    for rel in files(out, ".atom"):
        doc = etree.parse(str(out / rel), etree.XMLParser(huge_tree=True))
        assert atom_schema.validate(doc), (rel, atom_schema.error_log.last_error)


def test_the_schema_rejects_what_rfc4287_forbids(atom_schema: etree.RelaxNG) -> None:
    """The schema is no rubber stamp: a feed without id, a bad date, an entry without title."""
    for bad in (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b"<updated>2025-01-01T00:00:00Z</updated></feed>",
        b'<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>t</title>'
        b"<updated>yesterday</updated></feed>",
        b'<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>t</title>'
        b"<updated>2025-01-01T00:00:00Z</updated><entry><id>e</id>"
        b"<updated>2025-01-01T00:00:00Z</updated></entry></feed>",
    ):
        assert not atom_schema.validate(etree.fromstring(bad))


@pytest.mark.parametrize("suffix", [".atom", ".rss"], ids=["atom", "rss"])
def test_feedparser_reads_every_feed_without_complaint(
    built: tuple[Path, BuildReport], suffix: str
) -> None:
    out, _ = built
    for rel in files(out, suffix):
        parsed = feedparser.parse((out / rel).read_bytes())
        assert parsed.bozo == 0, (rel, parsed.get("bozo_exception"))
        assert parsed.version == ("atom10" if suffix == ".atom" else "rss20")
        for entry in parsed.entries:
            assert entry.title and entry.link.startswith("https://")


def _atoms(out: Path) -> list[tuple[str, etree._Element]]:
    parser = etree.XMLParser(huge_tree=True)
    return [(rel, etree.parse(str(out / rel), parser).getroot()) for rel in files(out, ".atom")]


def _rsses(out: Path) -> list[tuple[str, etree._Element]]:
    parser = etree.XMLParser(huge_tree=True)
    return [(rel, etree.parse(str(out / rel), parser).getroot()) for rel in files(out, ".rss")]


def test_atom_source_has_updated_and_entries_have_an_author(built) -> None:
    out, _ = built
    sources = 0
    for rel, root in _atoms(out):
        feed_author = root.find("a:author/a:name", NS) is not None
        for entry in root.findall("a:entry", NS):
            assert feed_author or entry.find("a:author/a:name", NS) is not None
            for source in entry.findall("a:source", NS):
                sources += 1
                assert source.findtext("a:updated", namespaces=NS), rel
                assert source.findtext("a:id", namespaces=NS) and source.findtext(
                    "a:title", namespaces=NS
                )
    assert sources > 0


def test_self_and_hub_links(built) -> None:
    out, _ = built
    for rel, root in _atoms(out):
        links = {ln.get("rel"): ln.get("href") for ln in root.findall("a:link", NS)}
        assert links["self"] == url_of(rel) and links["hub"] == HUB
        assert root.findtext("a:id", namespaces=NS) == url_of(rel)
    for rel, root in _rsses(out):
        links = {ln.get("rel"): ln for ln in root.findall("channel/a:link", NS)}
        assert links["self"].get("href") == url_of(rel)
        assert links["self"].get("type") == "application/rss+xml"
        assert links["hub"].get("href") == HUB
    for rel in files(out, ".json"):
        feed = json.loads((out / rel).read_bytes())
        assert feed["feed_url"] == url_of(rel)
        assert feed["hubs"] == [{"type": "WebSub", "url": HUB}]


def _content_urls(html: str) -> list[str]:
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    return [v for el in root.iter() for k, v in el.attrib.items() if k in ("href", "src")]


def _assert_clean_html(html: str, where: str) -> None:
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    assert not root.xpath(".//script|.//style|.//iframe"), where
    assert not [k for el in root.iter() for k in el.attrib if k.startswith("on")], where
    for url in _content_urls(html):
        # No relative reference without xml:base; no javascript: or data: link.
        assert urlsplit(url).scheme in ("http", "https", "mailto"), (where, url)


def test_html_content_is_sanitized_with_absolute_links(built) -> None:
    out, _ = built
    checked = 0
    for rel, root in _atoms(out):
        for content in root.findall("a:entry/a:content", NS):
            assert content.get("type") == "html"
            _assert_clean_html(content.text or "", rel)
            checked += 1
    for rel, root in _rsses(out):
        for encoded in root.findall("channel/item/content:encoded", NS):
            _assert_clean_html(encoded.text or "", rel)
            checked += 1
    for rel in files(out, ".json"):
        for item in json.loads((out / rel).read_bytes())["items"]:
            _assert_clean_html(item.get("content_html", ""), rel)
    assert checked > 0
    # The relative links of the hostile body were resolved against the article's URL.
    feed = json.loads((out / "all.json").read_bytes())
    (script,) = [i for i in feed["items"] if "本文" in i.get("content_html", "")
                 and "rel/a.jpg" in i["content_html"]]
    assert "https://j-defense.example.jp/rel/a.jpg" in script["content_html"]
    assert "https://j-defense.example.jp/docs/up.html" in script["content_html"]


def test_plain_text_fields_carry_no_markup_and_no_control_characters(built) -> None:
    out, _ = built
    bad = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
    for rel, root in _atoms(out):
        for path in ("a:title", "a:entry/a:title", "a:entry/a:summary", "a:entry/a:author/a:name",
                     "a:entry/a:category"):
            for el in root.findall(path, NS):
                text = el.get("term") if path.endswith("category") else el.text or ""
                assert not _MARKUP.search(text), (rel, text)
                assert not bad.search(text), (rel, text)
    for rel, root in _rsses(out):
        for path in ("channel/item/title", "channel/item/description", "channel/item/dc:creator"):
            for el in root.findall(path, NS):
                assert not _MARKUP.search(el.text or ""), (rel, el.text)
                assert not bad.search(el.text or ""), (rel, el.text)


def test_rss_dates_are_rfc822_and_guids_follow_the_permalink_rule(built) -> None:
    out, _ = built
    for rel, root in _rsses(out):
        channel = root.find("channel")
        assert channel is not None
        for name in ("title", "link", "description"):
            assert channel.findtext(name), (rel, name)
        assert RFC822.match(channel.findtext("lastBuildDate") or ""), rel
        for item in channel.findall("item"):
            date = item.findtext("pubDate")
            assert date and RFC822.match(date), (rel, date)
            assert email.utils.parsedate_to_datetime(date).tzinfo is not None
            guid = item.find("guid")
            assert guid is not None and guid.text
            if guid.get("isPermaLink") == "true":
                assert re.match(r"^https?://", guid.text), (rel, guid.text)
            # RSS <author> must be an e-mail address: names go to dc:creator.
            assert item.find("author") is None


def test_media_thumbnail_is_the_lead_image(built) -> None:
    out, _ = built
    root = etree.parse(str(out / "all.rss"), etree.XMLParser(huge_tree=True)).getroot()
    thumbs = {
        item.findtext("link"): item.find("media:thumbnail", NS).get("url")
        for item in root.findall("channel/item")
        if item.find("media:thumbnail", NS) is not None
    }
    assert thumbs["https://j-defense.example.jp/docs/mod/000001.html"] == (
        "https://img.example.jp/1.jpg"
    )
    assert "https://j-defense.example.jp/docs/mod/000002.html" not in thumbs  # no image
    parsed = feedparser.parse((out / "all.atom").read_bytes())
    first = next(e for e in parsed.entries if e.link.endswith("000001.html"))
    assert first.media_thumbnail == [{"url": "https://img.example.jp/1.jpg"}]


# -- JSON Feed ------------------------------------------------------------------------------


def test_every_json_feed_is_valid_json_feed_1_1(built: tuple[Path, BuildReport]) -> None:
    out, report = built
    schema = json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text("utf-8"))
    atoms = files(out, ".atom")
    jsons = files(out, ".json")
    assert jsons == sorted(a.removesuffix(".atom") + ".json" for a in atoms)  # one beside each
    assert kinds(report, "json") == sorted(Path(j).name for j in jsons)
    for rel in jsons:
        jsonschema.validate(json.loads((out / rel).read_bytes()), schema)


def test_json_feed_items_carry_every_field(built) -> None:
    out, _ = built
    feed = json.loads((out / "all.json").read_bytes())
    atom = feedparser.parse((out / "all.atom").read_bytes())
    assert [i["id"] for i in feed["items"]] == [e.id for e in atom.entries]  # same entries
    item = next(i for i in feed["items"] if i["url"].endswith("/000004.html"))
    assert item["title"] == "記事 4"
    assert item["summary"] == "要約 4"
    assert item["content_html"].startswith("<p>本文 4")
    assert item["date_published"] == "2025-03-01T13:00:00+09:00"
    assert item["date_modified"] == "2025-03-01T13:00:00+09:00"
    assert item["authors"] == [{"name": "田中 太郎"}]
    assert item["tags"] == ["日本の防衛", "解説"]
    assert "image" not in item  # an article without images
    with_image = next(i for i in feed["items"] if i["url"].endswith("/000003.html"))
    assert with_image["image"] == "https://img.example.jp/3.jpg"
    assert feed["language"] == "ja" and feed["authors"] == [{"name": "defnews"}]


# -- hostile input ------------------------------------------------------------------------------


def test_hostile_text_survives_as_text(built) -> None:
    out, _ = built
    feed = json.loads((out / "all.json").read_bytes())
    titles = {i["title"] for i in feed["items"]}
    assert "護衛艦" in titles  # the script and the onerror image are gone, the words stay
    assert "a ]]> b" in titles
    # A character reference left in a title ("&amp;": the source escaped it twice) is the
    # character it names (readers showed "&amp;"; the W3C validator: "title should not
    # contain HTML"); a bare "&" is text.
    assert "AT&T & 三菱重工 & co" in titles
    assert "制御文字と[31m色" in titles  # control characters dropped, nothing else
    assert f"{EMOJI} {RTL}" in titles
    atom = feedparser.parse((out / "all.atom").read_bytes())
    assert {e.title for e in atom.entries} >= {"a ]]> b", f"{EMOJI} {RTL}"}
    rss = feedparser.parse((out / "all.rss").read_bytes())
    assert {e.title for e in rss.entries} >= {"a ]]> b", f"{EMOJI} {RTL}"}
    # RSS <description> is read as HTML (the validator: "Invalid HTML" for a bare "R&D"): the
    # plain summary is escaped, so that it shows as written; Atom's <summary> is text.
    (described,) = [e for e in rss.entries if e.title.startswith("AT&T")]
    assert described.summary_detail.type == "text/html"
    assert lxml.html.fragment_fromstring(described.summary, create_parent="p").text_content() == "R&D"
    (summarized,) = [e for e in atom.entries if e.title.startswith("AT&T")]
    assert (summarized.summary, summarized.summary_detail.type) == ("R&D", "text/plain")


def test_a_10mb_body_is_cut_to_the_feeds_budget_with_a_link_to_the_rest(built, atom_schema) -> None:
    """Published whole, the 10 MB body made feeds of 30 MB the W3C Feed Validator does not read
    ("Unable to validate, due to hardcoded resource limits (feed length > 5000000 bytes)"), nor
    would many readers. Its head is published, well-formed, and a link to the rest."""
    out, _ = built
    for path in out.rglob("*"):
        if path.suffix in (".atom", ".rss", ".json"):
            assert path.stat().st_size < 5_000_000, path
    feed = json.loads((out / "all.json").read_bytes())
    (big,) = [i for i in feed["items"] if i["title"] == "10 MB の本文"]
    content = big["content_html"]
    assert 100_000 < content.count("防") and len(content.encode()) <= FEED_CONTENT_BUDGET
    rest = lxml.html.fragment_fromstring(content, create_parent="div").findall(".//a")[-1]
    assert rest.get("href") == big["url"] and rest.text == "続きはjdefenseのサイトで"
    doc = etree.parse(str(out / "all.atom"), etree.XMLParser(huge_tree=True))
    assert atom_schema.validate(doc)
    parsed = feedparser.parse((out / "all.atom").read_bytes())
    assert not parsed.bozo
    (entry,) = [e for e in parsed.entries if e.title == "10 MB の本文"]
    assert entry.content[0].value.count("防") == content.count("防")


def test_entries_past_the_budget_keep_their_summary_and_a_link(tmp_path: Path) -> None:
    """Twelve 300 KB articles: as many whole as fit in FEED_CONTENT_BUDGET, the next cut with
    a link to the rest, the others their summary and the link; every file under 5 MB."""
    body = "<p>" + "装備の記事。" * 17_000 + "</p>"  # ~300 KB of UTF-8
    with SQLiteStore(tmp_path / "store.sqlite3") as store:
        for n in range(12):
            store.upsert_article(_article(n, content_html=body, source="jdefense"),
                                 now=datetime(2025, 3, 10, tzinfo=UTC))
        build_feeds(store, tmp_path / "public", FeedConfig(base_url=BASE, limit=30))
    atom = tmp_path / "public" / "source" / "jdefense.atom"
    assert atom.stat().st_size < 5_000_000
    entries = feedparser.parse(atom.read_bytes()).entries
    sizes = [len(e.content[0].value.encode()) for e in entries]
    whole = FEED_CONTENT_BUDGET // len(body.encode())
    assert sizes[:whole] == [len(body.encode())] * whole
    assert 64 * 1024 < sizes[whole] < len(body.encode())
    assert all(size < 200 for size in sizes[whole + 1:])
    assert all(e.summary for e in entries)
    assert all("続きはjdefenseのサイトで" in e.content[0].value for e in entries[whole:])
    assert sum(sizes) <= FEED_CONTENT_BUDGET + 12 * 200


def test_same_store_gives_byte_identical_files(built, tmp_path: Path) -> None:
    out, _ = built
    with SQLiteStore(out.parent / "store.sqlite3") as store:
        config = FeedConfig(base_url=BASE, category_slugs={"日本の防衛": "japan-defense"},
                            hub_url=HUB, limit=30)
        report = build_feeds(store, tmp_path, config)
        assert report.ping_errors  # every file is new there: each is announced
    published = [p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")]
    for path in published:
        rel = path.relative_to(out)
        assert (tmp_path / rel).read_bytes() == path.read_bytes(), rel


# -- OPML -------------------------------------------------------------------------------------


def test_opml_follows_the_validator_rules(built) -> None:
    out, _ = built
    root = etree.parse(str(out / "opml.xml")).getroot()
    assert root.get("version") == "2.0"
    head = root.find("head")
    assert head is not None
    # The head elements OPML validators know; <docs> is not one of them.
    known = {"title", "dateCreated", "dateModified", "ownerName", "ownerEmail", "expansionState",
             "vertScrollState", "windowTop", "windowLeft", "windowBottom", "windowRight"}
    assert {child.tag for child in head} <= known
    subscriptions = [o for o in root.iter("outline") if o.get("xmlUrl")]
    assert subscriptions
    for outline in subscriptions:
        assert outline.get("type") == "rss"
        assert outline.get("version") in ("RSS", "RSS1", "RSS2", "scriptingNews")
        assert outline.get("text")
        feed = out / outline.get("xmlUrl").removeprefix(BASE)
        assert etree.parse(str(feed), etree.XMLParser(huge_tree=True)).getroot().tag == "rss"
    for folder in (o for o in root.iter("outline") if not o.get("xmlUrl")):
        assert folder.get("type") is None and folder.get("text")


@pytest.mark.parametrize(("raw", "text"), [
    ("AT&amp;T &amp; co", "AT&T & co"),  # escaped once more than it should be
    ("&quot;護衛艦&quot; &#8220;いずも&#x201D;", "\"護衛艦\" “いずも”"),
    ("AT&amp;amp;T", "AT&T"),  # twice
    ("&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;護衛艦", "護衛艦"),  # markup once decoded
    ("AT&T R&D &D; &nosuch; a < b the <future>", "AT&T R&D &D; &nosuch; a < b the <future>"),
    ("制御&#1;文字", "制御文字"),
])
def test_plain_text_fields_decode_left_character_references(raw: str, text: str) -> None:
    from feeds.render import plain_text

    assert plain_text(raw) == text
