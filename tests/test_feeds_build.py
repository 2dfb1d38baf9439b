"""The feed builder end to end, from an in-memory FeedData to files on disk.

Assertions read the produced XML with lxml and namespaces; every produced feed is also parsed
with feedparser. Golden files (``tests/fixtures/feeds_golden/``) pin the exact bytes; rebuild
them with ``DEFNEWS_UPDATE_GOLDEN=1 pytest tests/test_feeds_build.py`` and review the diff.
"""

from __future__ import annotations

import dataclasses
import email.utils
import hashlib
import json
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import lxml.html
import pytest
from lxml import etree

import feeds.config
import feeds.render
import feeds.write
from crawler.items import ArticleItem
from feeds.build import (
    BuildReport,
    FeedFile,
    build_feeds,
    category_order,
    entrance_id,
    excerpt,
    source_health,
)
from feeds.config import FeedConfig
from feeds.model import RankedArticle, RankingEntrance, RankingView
from feeds.render import EMPTY_FEED_UPDATED

NS = {
    "a": "http://www.w3.org/2005/Atom",
    "dc": "http://purl.org/dc/elements/1.1/",
    "content": "http://purl.org/rss/1.0/modules/content/",
}
TOKYO = ZoneInfo("Asia/Tokyo")
GOLDEN = Path(__file__).parent / "fixtures" / "feeds_golden"
BASE = "https://feeds.example.org/defnews/"


def jst(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=TOKYO)


def sha_slug(label: str) -> str:
    return "c-" + hashlib.sha1(label.encode("utf-8")).hexdigest()[:10]


# -- the in-memory store ----------------------------------------------------------------------


@dataclass
class FakeFeedData:
    """FeedData over plain lists, ordered as the protocol says (undated articles last)."""

    items: list[ArticleItem]
    extra_categories: dict[str, int] = field(default_factory=dict)
    rankings: dict[str, RankingView] = field(default_factory=dict)
    entrances: dict[str, list[RankingEntrance]] = field(default_factory=dict)
    undated_first: bool = False  # a store that sorts NULL dates first must work too
    calls: list[dict[str, object]] = field(default_factory=list)
    # The optional reads of the index page (rank history, per-source activity).
    history: dict[str, list[tuple[datetime, str, int, str]]] = field(default_factory=dict)
    activity: dict[str, tuple[int, datetime | None]] = field(default_factory=dict)

    def ranking_history(self, source: str) -> list[tuple[datetime, str, int, str]]:
        return self.history.get(source, [])

    def source_activity(self, source: str) -> tuple[int, datetime | None]:
        return self.activity.get(source, (sum(a.source == source for a in self.items), None))

    def articles(
        self,
        *,
        category: str | None = None,
        source: str | None = None,
        limit: int | None = None,
    ) -> list[ArticleItem]:
        self.calls.append({"category": category, "source": source, "limit": limit})
        chosen = [
            a
            for a in self.items
            if (category is None or category in a.categories)
            and (source is None or a.source == source)
        ]
        chosen.sort(key=lambda a: a.id)
        dated = [a for a in chosen if a.published is not None and a.published.tzinfo]
        undated = [a for a in chosen if a not in dated]
        dated.sort(key=lambda a: a.published, reverse=True)
        ordered = undated + dated if self.undated_first else dated + undated
        return ordered if limit is None else ordered[:limit]

    def categories(self) -> dict[str, int]:
        counts = dict(self.extra_categories)
        for a in self.items:
            for label in a.categories:
                counts[label] = counts.get(label, 0) + 1
        return counts

    def sources(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for a in self.items:
            counts[a.source] = counts.get(a.source, 0) + 1
        return counts

    def latest_ranking(self, source: str) -> RankingView | None:
        return self.rankings.get(source)

    def ranking_sources(self) -> list[str]:
        return sorted(set(self.rankings) | set(self.entrances))

    def ranking_entrances(self, source: str, *, limit: int | None = None) -> list[RankingEntrance]:
        found = sorted(self.entrances.get(source, []), key=lambda e: e.entered_at, reverse=True)
        return found if limit is None else found[:limit]


def article(key: str, **fields: object) -> ArticleItem:
    url = f"https://j-defense.example.jp/news/{key}"
    defaults: dict[str, object] = dict(
        url=url,
        id=key,
        title=f"記事 {key}",
        source="jdefense",
        summary=f"{key} の要約",
        content_html=f"<p>{key} の本文</p>",
    )
    defaults.update(fields)
    return ArticleItem(**defaults)  # type: ignore[arg-type]


def sample() -> FakeFeedData:
    a1 = article(
        "a1",
        title="護衛艦「もがみ」型12番艦が進水",
        published=jst(10, 9),
        updated=jst(10, 15, 30),
        categories=["日本の防衛", "海上自衛隊"],
        author="田中 太郎",
        content_html='<p>進水式が<a href="https://example.jp/">行われた</a>。</p>',
    )
    a2 = article(
        "b2",
        title="F-35B の配備先が決定",
        published=jst(11, 8),
        categories=["日本の防衛"],
        summary="",
        content_html="<p>航空自衛隊は<b>新田原基地</b>に配備する。</p><script>x()</script>",
    )
    a3 = article(
        "n3",
        url="https://navalnews.example.com/2025/03/type-26",
        title="Type 26 frigate & the <future>",
        source="navalnews",
        published=datetime(2025, 3, 11, 0, 0, tzinfo=UTC),
        categories=["Naval News"],
        summary="English summary",
        content_html="<p>Body</p>",
        language="en",
    )
    a4 = article("a4", published=jst(11, 8), categories=["海上自衛隊"])  # same instant as b2
    undated = article("z9", categories=["日本の防衛"])
    unknown_url = "https://j-defense.example.jp/news/999"
    view = RankingView(
        source="jdefense",
        captured_at=jst(12, 6),
        changed_at=jst(12, 5),
        lists={
            "24h": [
                RankedArticle("24h", 2, "護衛艦「もがみ」型…", a1.url, a1.id, a1),
                RankedArticle("24h", 1, "F-35B…", a2.url, a2.id, a2),
                RankedArticle("24h", 3, "未取得の記事", unknown_url, "999"),
            ],
            "1w": [RankedArticle("1w", 1, "護衛艦", a1.url, a1.id, a1)],
        },
    )
    entrances = [
        RankingEntrance("jdefense", "24h", 1, jst(12, 5), "F-35B…", a2.url, a2.id, a2),
        RankingEntrance("jdefense", "24h", 3, jst(12, 5), "未取得の記事", unknown_url, "999"),
        RankingEntrance("jdefense", "1w", 1, jst(11, 20), "護衛艦", a1.url, a1.id, a1),
        RankingEntrance("jdefense", "24h", 2, jst(11, 20), "護衛艦", a1.url, a1.id, a1),
    ]
    return FakeFeedData(
        items=[a1, a2, a3, a4, undated],
        rankings={"jdefense": view},
        entrances={"jdefense": entrances},
    )


CONFIG = FeedConfig(
    base_url=BASE,
    category_slugs={"日本の防衛": "japan-defense"},
    source_names={"jdefense": "Jディフェンスニュース"},
)

FEEDS = {
    "all": "all",
    "category:日本の防衛": "category/japan-defense",
    "category:海上自衛隊": "category/kaijoujieitai",  # romanised, never hashed
    "category:Naval News": "category/naval-news",
    "source:jdefense": "source/jdefense",
    "source:navalnews": "source/navalnews",
    "ranking:jdefense:24h": "ranking/jdefense-24h",
    "ranking:jdefense:1w": "ranking/jdefense-1w",
    "ranking:jdefense:1m": "ranking/jdefense-1m",
    "ranking-new:jdefense": "ranking/jdefense-new",
}
FEED_FILES = sorted(f"{stem}.{kind}" for stem in FEEDS.values() for kind in ("atom", "rss"))
JSON_FILES = sorted(f"{stem}.json" for stem in FEEDS.values())  # JSON Feed beside each Atom
ALL_FILES = sorted([*FEED_FILES, *JSON_FILES, "opml.xml", "index.html"])
# The build's own bookkeeping: its lock and the digests of what it rendered (hidden files that
# `defnews serve` refuses to serve).
BOOKKEEPING = (".defnews-build.json", ".defnews-build.lock")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildReport]:
    out = tmp_path_factory.mktemp("public")
    return out, build_feeds(sample(), out, CONFIG)


def tree(out: Path) -> list[str]:
    """The published files (the build's hidden bookkeeping left out)."""
    return sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and p.name not in BOOKKEEPING
    )


def xml(out: Path, rel: str) -> etree._Element:
    return etree.fromstring((out / rel).read_bytes())


def atom_entries(out: Path, rel: str) -> list[etree._Element]:
    return xml(out, rel).findall("a:entry", NS)


def rss_items(out: Path, rel: str) -> list[etree._Element]:
    return xml(out, rel).findall("channel/item")


def atom_ids(out: Path, rel: str) -> list[str]:
    return [e.findtext("a:id", namespaces=NS) for e in atom_entries(out, rel)]


def url(key: str) -> str:
    return f"https://j-defense.example.jp/news/{key}"


# -- layout and report ------------------------------------------------------------------------


def test_layout_is_exactly_the_documented_one(built: tuple[Path, BuildReport]) -> None:
    out, _ = built
    assert tree(out) == ALL_FILES
    assert all((out / name).is_file() for name in BOOKKEEPING)


def test_report_lists_every_feed_file(built: tuple[Path, BuildReport]) -> None:
    out, report = built
    assert {(f.feed, f.kind, f.path.relative_to(out).as_posix()) for f in report.files} == {
        (key, kind, f"{stem}.{kind}")
        for key, stem in FEEDS.items()
        for kind in ("atom", "rss", "json")
    }
    assert all(isinstance(f, FeedFile) for f in report.files)
    assert report.written == len(FEED_FILES) + len(JSON_FILES) + 2  # + opml.xml, index.html
    assert report.rendered == len(FEEDS)
    assert report.unchanged == 0
    assert report.removed == []
    assert report.skipped == 1  # z9 has no published date


@pytest.mark.parametrize(
    ("feed", "entries"),
    [
        ("all", 4),
        ("category:日本の防衛", 2),
        ("category:海上自衛隊", 2),
        ("category:Naval News", 1),
        ("source:jdefense", 3),
        ("source:navalnews", 1),
        ("ranking:jdefense:24h", 3),
        ("ranking:jdefense:1w", 1),
        ("ranking:jdefense:1m", 0),
        ("ranking-new:jdefense", 4),
    ],
    ids=lambda v: str(v),
)
def test_entry_counts(built: tuple[Path, BuildReport], feed: str, entries: int) -> None:
    out, report = built
    counted = {f.kind: f.entries for f in report.files if f.feed == feed}
    assert counted == {"atom": entries, "rss": entries, "json": entries}
    stem = FEEDS[feed]
    assert len(atom_entries(out, f"{stem}.atom")) == entries
    assert len(rss_items(out, f"{stem}.rss")) == entries
    assert len(json.loads((out / f"{stem}.json").read_bytes())["items"]) == entries


@pytest.mark.parametrize("rel", FEED_FILES, ids=FEED_FILES)
def test_every_feed_is_well_formed_for_feedparser(
    built: tuple[Path, BuildReport], rel: str
) -> None:
    out, _ = built
    parsed = feedparser.parse((out / rel).read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == ("atom10" if rel.endswith(".atom") else "rss20")
    for entry in parsed.entries:
        assert entry.id and entry.title and entry.link


@pytest.mark.parametrize("rel", FEED_FILES, ids=FEED_FILES)
def test_feed_metadata(built: tuple[Path, BuildReport], rel: str) -> None:
    out, _ = built
    root = xml(out, rel)
    stem = rel.rsplit(".", 1)[0]
    if rel.endswith(".atom"):
        assert root.tag == "{http://www.w3.org/2005/Atom}feed"
        assert root.findtext("a:id", namespaces=NS) == BASE + rel
        assert root.find("a:link[@rel='self']", NS).get("href") == BASE + rel
        generator = root.find("a:generator", NS)
        assert generator.text == "defnews"
        assert generator.get("version") == feeds.render.GENERATOR_VERSION
        assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "ja"
        assert root.findtext("a:title", namespaces=NS).startswith("defnews | ")
    else:
        channel = root.find("channel")
        assert root.get("version") == "2.0"
        assert channel.find("a:link[@rel='self']", NS).get("href") == BASE + stem + ".rss"
        assert channel.findtext("generator") == "defnews"
        assert channel.findtext("language") == "ja"
        assert channel.findtext("link") == BASE
        assert channel.findtext("title").startswith("defnews | ")
    assert b"python-feedgen" not in (out / rel).read_bytes()


# -- article entries --------------------------------------------------------------------------


def test_all_feed_is_newest_first_then_by_id(built: tuple[Path, BuildReport]) -> None:
    out, _ = built
    # n3 (00:00Z = 09:00 JST on the 11th), then b2 and a4 at the same instant (by id), then a1.
    expected = ["https://navalnews.example.com/2025/03/type-26", url("a4"), url("b2"), url("a1")]
    assert atom_ids(out, "all.atom") == expected
    assert [i.findtext("guid") for i in rss_items(out, "all.rss")] == expected


def test_atom_article_entry(built: tuple[Path, BuildReport]) -> None:
    out, _ = built
    (entry,) = [
        e for e in atom_entries(out, "all.atom") if e.findtext("a:id", namespaces=NS) == url("a1")
    ]
    assert entry.findtext("a:title", namespaces=NS) == "護衛艦「もがみ」型12番艦が進水"
    assert entry.find("a:link", NS).get("href") == url("a1")
    assert entry.findtext("a:published", namespaces=NS) == "2025-03-10T09:00:00+09:00"
    assert entry.findtext("a:updated", namespaces=NS) == "2025-03-10T15:30:00+09:00"
    assert [c.get("term") for c in entry.findall("a:category", NS)] == ["日本の防衛", "海上自衛隊"]
    assert entry.findtext("a:author/a:name", namespaces=NS) == "田中 太郎"
    assert entry.findtext("a:summary", namespaces=NS) == "a1 の要約"
    content = entry.find("a:content", NS)
    assert content.get("type") == "html"
    assert content.text == '<p>進水式が<a href="https://example.jp/">行われた</a>。</p>'
    assert entry.findtext("a:source/a:title", namespaces=NS) == "Jディフェンスニュース"
    assert entry.findtext("a:source/a:id", namespaces=NS) == BASE + "source/jdefense.atom"


def test_rss_article_item(built: tuple[Path, BuildReport]) -> None:
    out, _ = built
    (item,) = [i for i in rss_items(out, "all.rss") if i.findtext("guid") == url("a1")]
    assert item.find("guid").get("isPermaLink") == "true"
    assert item.findtext("link") == url("a1")
    assert item.findtext("pubDate") == "Mon, 10 Mar 2025 09:00:00 +0900"
    assert email.utils.parsedate_to_datetime(item.findtext("pubDate")) == jst(10, 9)
    assert [c.text for c in item.findall("category")] == ["日本の防衛", "海上自衛隊"]
    assert item.findtext("dc:creator", namespaces=NS) == "田中 太郎"
    assert item.find("author") is None  # RSS <author> must be an e-mail address
    assert item.findtext("description") == "a1 の要約"
    assert item.findtext("content:encoded", namespaces=NS).startswith("<p>進水式が")
    source = item.find("source")
    assert (source.text, source.get("url")) == (
        "Jディフェンスニュース",
        BASE + "source/jdefense.rss",
    )


def test_author_falls_back_to_the_source_name(built: tuple[Path, BuildReport]) -> None:
    out, _ = built
    atom = {e.findtext("a:id", namespaces=NS): e for e in atom_entries(out, "all.atom")}
    rss = {i.findtext("guid"): i for i in rss_items(out, "all.rss")}
    assert atom[url("b2")].findtext("a:author/a:name", namespaces=NS) == "Jディフェンスニュース"
    assert rss[url("b2")].findtext("dc:creator", namespaces=NS) == "Jディフェンスニュース"
    # A source without a configured display name is named by its key.
    n3 = "https://navalnews.example.com/2025/03/type-26"
    assert atom[n3].findtext("a:author/a:name", namespaces=NS) == "navalnews"
    assert atom[n3].findtext("a:source/a:title", namespaces=NS) == "navalnews"


def test_missing_summary_is_an_excerpt_and_content_stays_full(
    built: tuple[Path, BuildReport],
) -> None:
    out, _ = built
    (item,) = [i for i in rss_items(out, "all.rss") if i.findtext("guid") == url("b2")]
    assert item.findtext("description") == "航空自衛隊は新田原基地に配備する。"  # no script text
    assert "<b>新田原基地</b>" in item.findtext("content:encoded", namespaces=NS)


def test_dates_keep_their_own_offset(built: tuple[Path, BuildReport]) -> None:
    out, _ = built
    atom = {e.findtext("a:id", namespaces=NS): e for e in atom_entries(out, "all.atom")}
    n3 = atom["https://navalnews.example.com/2025/03/type-26"]
    assert n3.findtext("a:published", namespaces=NS) == "2025-03-11T00:00:00+00:00"
    assert atom[url("b2")].findtext("a:published", namespaces=NS) == "2025-03-11T08:00:00+09:00"
    # updated defaults to published
    assert atom[url("b2")].findtext("a:updated", namespaces=NS) == "2025-03-11T08:00:00+09:00"


def test_titles_are_escaped_text(built: tuple[Path, BuildReport]) -> None:
    out, _ = built
    titles = [
        e.findtext("a:title", namespaces=NS) for e in atom_entries(out, "category/naval-news.atom")
    ]
    assert titles == ["Type 26 frigate & the <future>"]


@pytest.mark.parametrize(
    ("rel", "updated"),
    [
        ("all.atom", "2025-03-11T00:00:00+00:00"),  # n3, in its own offset
        ("category/japan-defense.atom", "2025-03-11T08:00:00+09:00"),
        ("ranking/jdefense-24h.atom", "2025-03-12T05:00:00+09:00"),  # changed_at
        ("ranking/jdefense-1m.atom", "2025-03-12T05:00:00+09:00"),  # empty, but a ranking exists
        ("ranking/jdefense-new.atom", "2025-03-12T05:00:00+09:00"),
    ],
    ids=["all", "category", "ranking", "ranking-empty", "ranking-new"],
)
def test_feed_updated_comes_from_the_data(
    built: tuple[Path, BuildReport], rel: str, updated: str
) -> None:
    out, _ = built
    root = xml(out, rel)
    found = datetime.fromisoformat(root.findtext("a:updated", namespaces=NS))
    assert found == datetime.fromisoformat(updated)
    rss = xml(out, rel.replace(".atom", ".rss"))
    assert email.utils.parsedate_to_datetime(rss.findtext("channel/lastBuildDate")) == found


def test_empty_feed_has_the_fixed_epoch(tmp_path: Path) -> None:
    data = sample()
    data.extra_categories = {"空のカテゴリ": 0}
    build_feeds(data, tmp_path, CONFIG)
    rel = "category/sora-no-kategori"
    assert atom_entries(tmp_path, rel + ".atom") == []
    updated = xml(tmp_path, rel + ".atom").findtext("a:updated", namespaces=NS)
    assert datetime.fromisoformat(updated) == EMPTY_FEED_UPDATED
    last = xml(tmp_path, rel + ".rss").findtext("channel/lastBuildDate")
    assert email.utils.parsedate_to_datetime(last) == EMPTY_FEED_UPDATED
    assert feedparser.parse((tmp_path / (rel + ".rss")).read_bytes()).bozo == 0


def test_updated_before_published_is_clamped(tmp_path: Path) -> None:
    data = FakeFeedData([article("x", published=jst(5, 12), updated=jst(5, 11))])
    build_feeds(data, tmp_path, CONFIG)
    (entry,) = atom_entries(tmp_path, "all.atom")
    assert entry.findtext("a:updated", namespaces=NS) == "2025-03-05T12:00:00+09:00"


@pytest.mark.parametrize("undated_first", [False, True], ids=["nulls-last", "nulls-first"])
def test_limit_keeps_the_newest_dated_articles(tmp_path: Path, undated_first: bool) -> None:
    items = [article(f"d{n}", published=jst(1 + n, 9)) for n in range(5)]
    items += [article(f"u{n}") for n in range(3)]
    items.append(article("naive", published=datetime(2025, 3, 20, 9)))  # naive: not a date
    data = FakeFeedData(items, undated_first=undated_first)
    report = build_feeds(data, tmp_path, replace(CONFIG, limit=2))
    assert atom_ids(tmp_path, "all.atom") == [url("d4"), url("d3")]
    assert atom_ids(tmp_path, "source/jdefense.atom") == [url("d4"), url("d3")]
    if undated_first:
        assert report.skipped == 4  # every undated one was seen while asking for more
    else:
        assert report.skipped == 0  # never reached: the newest dated ones filled the feed
    assert all(call["limit"] is not None for call in data.calls)  # never a full scan here


def test_every_undated_article_is_skipped(tmp_path: Path) -> None:
    data = FakeFeedData([article("u1"), article("u2", published=datetime(2025, 3, 1, 9))])
    report = build_feeds(data, tmp_path, CONFIG)
    assert report.skipped == 2
    assert atom_entries(tmp_path, "all.atom") == []
    assert rss_items(tmp_path, "source/jdefense.rss") == []


def test_control_characters_are_dropped(tmp_path: Path) -> None:
    data = FakeFeedData(
        [
            article(
                "c",
                published=jst(1, 9),
                title="見出し\x0b\x01",
                summary="要\x1f約",
                categories=["防衛\x08"],
            )
        ]
    )
    build_feeds(data, tmp_path, CONFIG)
    (entry,) = atom_entries(tmp_path, "all.atom")
    assert entry.findtext("a:title", namespaces=NS) == "見出し"
    assert entry.findtext("a:summary", namespaces=NS) == "要約"
    assert entry.find("a:category", NS).get("term") == "防衛"
    assert feedparser.parse((tmp_path / "all.rss").read_bytes()).bozo == 0


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>一段落目。</p>\n\n<p>二段落目。</p>", "一段落目。 二段落目。"),
        ("<p>本文</p><script>track()</script><style>p{}</style>", "本文"),
        ("<p>" + "あ" * 300 + "</p>", "あ" * 199 + "…"),
        ("   ", ""),
        ("<!-- only a comment -->", ""),
        ("plain text &amp; more", "plain text & more"),
    ],
    ids=["paragraphs", "script-style", "long", "blank", "comment", "text"],
)
def test_excerpt(html: str, text: str) -> None:
    assert excerpt(html) == text


# -- rankings ---------------------------------------------------------------------------------


def test_ranking_feed_is_in_rank_order(built: tuple[Path, BuildReport]) -> None:
    out, _ = built
    entries = atom_entries(out, "ranking/jdefense-24h.atom")
    assert [e.findtext("a:title", namespaces=NS) for e in entries] == [
        "1位 F-35B の配備先が決定",
        "2位 護衛艦「もがみ」型12番艦が進水",
        "3位 未取得の記事",
    ]
    assert [e.findtext("a:id", namespaces=NS) for e in entries] == [
        url("b2"),
        url("a1"),
        url("999"),
    ]
    items = rss_items(out, "ranking/jdefense-24h.rss")
    assert [i.findtext("title") for i in items][0] == "1位 F-35B の配備先が決定"


def test_ranked_article_is_the_article_itself(built: tuple[Path, BuildReport]) -> None:
    out, _ = built
    known, unknown = atom_entries(out, "ranking/jdefense-24h.atom")[1:]
    assert known.findtext("a:id", namespaces=NS) == url("a1")
    assert known.findtext("a:summary", namespaces=NS) == "a1 の要約"
    assert known.find("a:content", NS) is not None
    # Not in the store: no content.
    assert unknown.find("a:content", NS) is None
    assert unknown.findtext("a:author/a:name", namespaces=NS) == "Jディフェンスニュース"


def test_ranking_dates_follow_the_rank(built: tuple[Path, BuildReport]) -> None:
    """A reader that sorts by date keeps rank order: the n-th entry is dated n-1 seconds
    before the ranking took its current form (changed_at, 05:00 JST on the 12th)."""
    out, _ = built
    entries = atom_entries(out, "ranking/jdefense-24h.atom")
    stamps = [
        (e.findtext("a:published", namespaces=NS), e.findtext("a:updated", namespaces=NS))
        for e in entries
    ]
    assert stamps == [
        ("2025-03-12T05:00:00+09:00", "2025-03-12T05:00:00+09:00"),
        ("2025-03-12T04:59:59+09:00", "2025-03-12T04:59:59+09:00"),
        ("2025-03-12T04:59:58+09:00", "2025-03-12T04:59:58+09:00"),
    ]
    for rel in ("ranking/jdefense-24h.atom", "ranking/jdefense-24h.rss"):
        parsed = feedparser.parse((out / rel).read_bytes())
        by_date = sorted(parsed.entries, key=lambda e: e.published_parsed, reverse=True)
        assert [e.title.split("位")[0] for e in by_date] == ["1", "2", "3"], rel
    items = json.loads((out / "ranking/jdefense-24h.json").read_bytes())["items"]
    by_date = sorted(items, key=lambda i: datetime.fromisoformat(i["date_published"]), reverse=True)
    assert [i["title"].split("位")[0] for i in by_date] == ["1", "2", "3"]


def test_entrance_feed(built: tuple[Path, BuildReport]) -> None:
    out, _ = built
    entries = atom_entries(out, "ranking/jdefense-new.atom")
    assert [e.findtext("a:title", namespaces=NS) for e in entries] == [
        "【24時間】1位 F-35B の配備先が決定",
        "【24時間】3位 未取得の記事",
        "【24時間】2位 護衛艦「もがみ」型12番艦が進水",
        "【1週間】1位 護衛艦「もがみ」型12番艦が進水",
    ]
    ids = [e.findtext("a:id", namespaces=NS) for e in entries]
    assert ids == [
        url("b2") + "#ranking-24h-20250311T200000Z",
        url("999") + "#ranking-24h-20250311T200000Z",
        url("a1") + "#ranking-24h-20250311T110000Z",
        url("a1") + "#ranking-1w-20250311T110000Z",
    ]
    assert [e.find("a:link", NS).get("href") for e in entries] == [
        url("b2"),
        url("999"),
        url("a1"),
        url("a1"),
    ]
    assert [e.findtext("a:published", namespaces=NS) for e in entries] == [
        "2025-03-12T05:00:00+09:00",
        "2025-03-12T05:00:00+09:00",
        "2025-03-11T20:00:00+09:00",
        "2025-03-11T20:00:00+09:00",
    ]
    # Entrances of one snapshot: updated a second apart (distinct, the W3C validator warns
    # otherwise), never after they were published.
    assert [e.findtext("a:updated", namespaces=NS) for e in entries] == [
        "2025-03-12T05:00:00+09:00",
        "2025-03-12T04:59:59+09:00",
        "2025-03-11T20:00:00+09:00",
        "2025-03-11T19:59:59+09:00",
    ]
    items = rss_items(out, "ranking/jdefense-new.rss")
    assert [i.findtext("guid") for i in items] == ids
    assert {i.find("guid").get("isPermaLink") for i in items} == {"false"}


def test_entrance_id_is_stable_across_offsets() -> None:
    a = entrance_id(url("a1"), "24h", jst(12, 5))
    b = entrance_id(url("a1"), "24h", jst(12, 5).astimezone(UTC))
    assert a == b == url("a1") + "#ranking-24h-20250311T200000Z"
    assert entrance_id(url("a1"), "1w", jst(12, 5)) != a
    with pytest.raises(ValueError, match="timezone-aware"):
        entrance_id(url("a1"), "24h", datetime(2025, 3, 12, 5))


def test_ranking_source_without_ranking_gets_empty_feeds(tmp_path: Path) -> None:
    data = FakeFeedData([article("x", published=jst(1, 9))], entrances={"jdefense": []})
    build_feeds(data, tmp_path, CONFIG)
    for period in ("24h", "1w", "1m", "new"):
        root = xml(tmp_path, f"ranking/jdefense-{period}.atom")
        assert root.findall("a:entry", NS) == []
        assert (
            datetime.fromisoformat(root.findtext("a:updated", namespaces=NS)) == EMPTY_FEED_UPDATED
        )


# -- OPML and index.html ----------------------------------------------------------------------


def test_opml_lists_every_rss_feed(built: tuple[Path, BuildReport]) -> None:
    out, _ = built
    root = xml(out, "opml.xml")
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "defnews"
    # W3C validator rules: only head elements it knows (no <docs>); subscriptions are
    # type="rss" with an RSS version value, so they point at the RSS 2.0 feeds.
    assert [child.tag for child in root.find("head")] == ["title"]
    urls = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
    assert sorted(urls) == sorted(BASE + rel for rel in FEED_FILES if rel.endswith(".rss"))
    for o in root.iter("outline"):
        if o.get("xmlUrl"):
            assert (o.get("type"), o.get("version")) == ("rss", "RSS")
            assert o.get("text") and o.get("htmlUrl") == BASE
        else:  # a folder: text only
            assert dict(o.attrib) == {"text": o.get("text")}
    assert [o.get("text") for o in root.findall("body/outline")] == [
        "すべて",
        "カテゴリ",
        "ソース",
        "ランキング",
    ]


def test_index_links_every_feed_in_every_format(built: tuple[Path, BuildReport]) -> None:
    out, report = built
    page = lxml.html.fromstring((out / "index.html").read_bytes())
    alternates = {
        (link.get("type"), link.get("href")) for link in page.xpath("//head/link[@rel='alternate']")
    }
    types = {"atom": "application/atom+xml", "rss": "application/rss+xml",
             "json": "application/feed+json"}
    # Autodiscovery names the feed of every article once per format (#17 point 13: one link
    # per feed file, 78 of them, was noise); every feed is linked in the page's table.
    assert alternates == {
        (types[f.kind], f.path.relative_to(out).as_posix()) for f in report.files
        if f.path.relative_to(out).as_posix().startswith("all.")
    }
    assert len(alternates) == 3
    table = {
        tr.xpath("td[1]/text()")[0]: (
            sorted(tr.xpath("td[3]//a/@href")), int(tr.xpath("td[4]/text()")[0])
        )
        for tr in page.xpath("//section[@id='feeds']//tbody/tr")
    }
    assert sorted(h for hrefs, _ in table.values() for h in hrefs) == sorted(
        FEED_FILES + JSON_FILES
    )
    assert table["海上自衛隊"] == (
        sorted(f"category/kaijoujieitai.{k}" for k in ("atom", "json", "rss")), 2
    )
    # No external asset: nothing loaded from anywhere, no script.
    assert page.xpath("//script|//img|//iframe|//link[@rel='stylesheet']") == []
    assert not [h for h in page.xpath("//@href|//@src") if h.startswith("//")]


def test_index_shows_each_category_with_headlines_and_dates(
    built: tuple[Path, BuildReport],
) -> None:
    out, _ = built
    page = lxml.html.fromstring((out / "index.html").read_bytes())
    cards = page.xpath("//section[@id='categories']//article")
    names = [c.xpath("string(h3/span[1])") for c in cards]
    # Configured labels first (sources file order), then the others by name.
    assert names == ["日本の防衛", "Naval News", "海上自衛隊"]
    first = cards[0]
    assert first.xpath("h3//a/@href") == [
        "category/japan-defense.atom", "category/japan-defense.rss", "category/japan-defense.json"
    ]
    assert [a.text for a in first.xpath(".//li/a")] == [
        "F-35B の配備先が決定",
        "護衛艦「もがみ」型12番艦が進水",
    ]
    assert first.xpath(".//li/time/@datetime") == [
        "2025-03-11T08:00:00+09:00", "2025-03-10T09:00:00+09:00"
    ]
    # Japan time, said so (#17 point 13); no year: that of the newest headline.
    assert first.xpath(".//li/time/text()") == ["03/11 08:00 JST", "03/10 09:00 JST"]


def test_catch_all_category_comes_last() -> None:
    order = category_order(["その他", "陸上", "航空", "Naval News", "Other"], ["航空", "その他"])
    assert order == ["航空", "Naval News", "陸上", "その他", "Other"]


def test_index_shows_rankings_with_rank_history_charts(tmp_path: Path) -> None:
    data = sample()
    a1, a2 = data.items[0], data.items[1]
    history = [
        (jst(10, 5), "24h", 3, a1.id),
        (jst(11, 5), "24h", 1, a1.id),
        (jst(11, 5), "24h", 2, a2.id),
        (jst(12, 5), "24h", 2, a1.id),
        (jst(12, 5), "24h", 1, a2.id),
    ]
    data.history = {"jdefense": history}
    build_feeds(data, tmp_path, CONFIG)
    page = lxml.html.fromstring((tmp_path / "index.html").read_bytes())
    cards = page.xpath("//section[@id='ranking']//article")
    assert [c.xpath("string(h3/span[1])") for c in cards] == [
        "Jディフェンスニュース 24時間", "Jディフェンスニュース 1週間"
    ]
    rows = cards[0].xpath(".//li")
    assert [r.xpath("string(span[@class='rank'])") for r in rows] == ["1位", "2位", "3位"]
    charts = [r.xpath("svg") for r in rows]
    # a2: not ranked, 2, 1; a1: 3, 1, 2; the unknown article has no history (no chart).
    assert charts[0][0].xpath("string(title)") == "順位の推移: 圏外→2位→1位"
    assert charts[1][0].xpath("string(title)") == "順位の推移: 3位→1位→2位"
    assert charts[2] == []
    points = charts[1][0].xpath("polyline/@points")[0].split()
    ys = [float(p.split(",")[1]) for p in points]
    assert ys[1] < ys[2] < ys[0]  # rank 1 highest


def test_index_shows_source_health(tmp_path: Path) -> None:
    data = sample()
    data.activity = {
        "jdefense": (1234, jst(12, 6)),
        "navalnews": (0, None),
    }
    build_feeds(data, tmp_path, CONFIG)
    page = lxml.html.fromstring((tmp_path / "index.html").read_bytes())
    lines = [li.text_content() for li in page.xpath("//section[@id='sources']//li")]
    # The newest article's sighting is labelled as such (#17 point 3: it was called the last
    # fetch), the state first, times in JST (#17 point 13).
    assert lines == [
        "Jディフェンスニュース 正常 ・ 最後の新着 2025-03-12 06:00 JST ・ 24時間の新着 1,234 件",
        "navalnews 記事なし ・ 最後の新着 なし ・ 24時間の新着 0 件",
    ]


@pytest.mark.parametrize(
    ("last", "newest", "state"),
    [
        (jst(10, 1), jst(10, 1), "ok"),
        (jst(3, 1), jst(10, 1), "ok"),  # exactly 7 days behind
        (jst(2, 23), jst(10, 1), "stale"),
        (None, jst(10, 1), "no items"),
    ],
    ids=["newest", "a-week-behind", "stale", "nothing"],
)
def test_source_health_line_is_one_function(last, newest, state) -> None:
    health = source_health("X", 3, last, newest)
    assert (health.items, health.state, health.last_crawl) == (3, state, last)


def test_index_escapes_labels(tmp_path: Path) -> None:
    label = 'alert("x") & co <b>'
    data = FakeFeedData([article("x", published=jst(1, 9), categories=[label])])
    build_feeds(data, tmp_path, replace(CONFIG, title="defnews <test>"))
    raw = (tmp_path / "index.html").read_text("utf-8")
    page = lxml.html.fromstring(raw)
    assert page.xpath("//script|//b") == []
    assert 'alert("x") & co' in page.text_content()
    assert page.findtext(".//title").startswith("defnews <test>")
    assert feedparser.parse((tmp_path / "category/alert-x-co-b.atom").read_bytes()).bozo == 0


# -- determinism, change-only writes, atomicity, stale files ----------------------------------


def test_same_data_gives_byte_identical_files(
    built: tuple[Path, BuildReport], tmp_path: Path
) -> None:
    out, _ = built
    build_feeds(sample(), tmp_path, CONFIG)
    assert tree(tmp_path) == tree(out)
    for rel in tree(out):
        assert (tmp_path / rel).read_bytes() == (out / rel).read_bytes(), rel


def test_second_build_writes_nothing(tmp_path: Path) -> None:
    first = build_feeds(sample(), tmp_path, CONFIG)
    stamps = {rel: (tmp_path / rel).stat().st_mtime_ns for rel in tree(tmp_path)}
    second = build_feeds(sample(), tmp_path, CONFIG)
    assert first.written == len(ALL_FILES)
    assert (second.written, second.unchanged, second.removed) == (0, len(ALL_FILES), [])
    assert {rel: (tmp_path / rel).stat().st_mtime_ns for rel in tree(tmp_path)} == stamps


def test_a_new_article_rewrites_only_the_feeds_it_is_in(tmp_path: Path) -> None:
    build_feeds(sample(), tmp_path, CONFIG)
    before = {rel: (tmp_path / rel).read_bytes() for rel in tree(tmp_path)}
    data = sample()
    data.items.append(
        article("new", source="navalnews", published=jst(13, 9), categories=["Naval News"])
    )
    report = build_feeds(data, tmp_path, CONFIG)
    changed = sorted(rel for rel in tree(tmp_path) if (tmp_path / rel).read_bytes() != before[rel])
    assert changed == sorted(
        [
            "all.atom",
            "all.rss",
            "category/naval-news.atom",
            "category/naval-news.rss",
            "source/navalnews.atom",
            "source/navalnews.rss",
            "all.json",
            "category/naval-news.json",
            "source/navalnews.json",
            "index.html",
        ]
    )
    assert report.written == len(changed)
    assert report.rendered == 3  # all, the category, the source: nothing else was serialized


def test_vanished_feeds_are_removed_with_prune_and_nothing_else(tmp_path: Path) -> None:
    build_feeds(sample(), tmp_path, CONFIG)
    (tmp_path / "category" / "README.txt").write_text("operator's note")
    (tmp_path / "robots.txt").write_text("User-agent: *")
    (tmp_path / "old.atom").write_text("not ours: top-level")
    leftover = tmp_path / "source" / ".defnews-abc123.tmp"
    leftover.write_bytes(b"<half")
    data = sample()
    data.items = [a for a in data.items if a.source != "navalnews"]  # Naval News vanishes
    report = build_feeds(data, tmp_path, dataclasses.replace(CONFIG, prune=True))
    gone = [
        "category/naval-news.atom",
        "category/naval-news.rss",
        "category/naval-news.json",
        "source/navalnews.atom",
        "source/navalnews.rss",
        "source/navalnews.json",
    ]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in report.removed) == sorted(
        [*gone, "source/.defnews-abc123.tmp"]
    )
    files = tree(tmp_path)
    assert not set(gone) & set(files)
    assert {"category/README.txt", "robots.txt", "old.atom"} <= set(files)
    assert not leftover.exists()


def test_failed_write_keeps_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_feeds(sample(), tmp_path, CONFIG)
    before = {rel: (tmp_path / rel).read_bytes() for rel in tree(tmp_path)}
    data = sample()
    data.items.append(article("new", published=jst(13, 9), categories=["日本の防衛"]))

    def broken_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(feeds.write.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        build_feeds(data, tmp_path, CONFIG)
    assert {rel: (tmp_path / rel).read_bytes() for rel in tree(tmp_path)} == before


# -- golden files -----------------------------------------------------------------------------


def test_golden_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feeds.render, "GENERATOR_VERSION", "0.0.0-golden")
    monkeypatch.setattr(feeds.render, "GENERATOR_URI", "https://example.org/defnews-project")
    build_feeds(sample(), tmp_path, CONFIG)
    if os.environ.get("DEFNEWS_UPDATE_GOLDEN"):
        for rel in tree(tmp_path):
            target = GOLDEN / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((tmp_path / rel).read_bytes())
        for rel in set(tree(GOLDEN)) - set(tree(tmp_path)):
            (GOLDEN / rel).unlink()
        pytest.skip("golden files rewritten; review the diff")
    assert tree(GOLDEN) == tree(tmp_path)
    for rel in tree(tmp_path):
        assert (tmp_path / rel).read_bytes() == (GOLDEN / rel).read_bytes(), rel


def test_a_label_keeps_its_file_name_across_builds(tmp_path: Path, monkeypatch) -> None:
    first = FakeFeedData([article("x", published=jst(1, 9), categories=["naval news", "解説"])])
    build_feeds(first, tmp_path, CONFIG)
    assert (tmp_path / "category/naval-news.atom").exists()
    # A label that sorts first and slugifies the same arrives: without the names kept in the
    # folder it would take "naval-news" and move the older feed's URL.
    monkeypatch.setattr(feeds.config, "_kakasi", lambda: pytest.fail("romaniser reloaded"))
    second = FakeFeedData(first.items + [
        article("y", published=jst(2, 9), categories=["Naval News"])
    ])
    report = build_feeds(second, tmp_path, CONFIG)
    by_feed = {f.feed: f.path.name for f in report.files if f.kind == "atom"}
    assert by_feed["category:naval news"] == "naval-news.atom"
    assert by_feed["category:解説"] == "kaisetsu.atom"
    assert by_feed["category:Naval News"].startswith("naval-news-")


@pytest.mark.parametrize("feed", ["ranking/jdefense-new.atom", "ranking/jdefense-24h.atom"],
                         ids=["new", "24h"])
def test_ranking_feed_entries_have_distinct_updated_values(tmp_path: Path, feed: str) -> None:
    """Entrances of one snapshot shared one `updated` (the W3C validator warns)."""
    build_feeds(sample(), tmp_path, CONFIG)
    root = etree.parse(str(tmp_path / feed)).getroot()
    atom = "{http://www.w3.org/2005/Atom}"
    stamps = [e.findtext(f"{atom}updated") for e in root.iter(f"{atom}entry")]
    assert len(stamps) > 1
    assert len(set(stamps)) == len(stamps)
    instants = [datetime.fromisoformat(s) for s in stamps]  # type: ignore[arg-type]
    assert instants == sorted(instants, reverse=True)


def _atom_entries(path: Path) -> dict[str, tuple[str, str]]:
    atom = "{http://www.w3.org/2005/Atom}"
    root = etree.parse(str(path)).getroot()
    return {str(e.findtext(f"{atom}id")).rsplit("/", 1)[-1]:
            (str(e.findtext(f"{atom}updated")), str(e.findtext(f"{atom}published")))
            for e in root.iter(f"{atom}entry")}


def test_date_only_articles_of_one_day_have_distinct_updated_values(tmp_path: Path) -> None:
    """A weekly's articles of one day all carried that day's midnight as `updated` (the W3C
    Feed Validator: "Two entries with the same value for atom:updated"). Each is a second
    after the one below it; `published` stays the midnight; an article added later takes the
    next second and those published before keep theirs."""
    midnight = datetime(2026, 1, 7, tzinfo=TOKYO)

    def weekly(n: int) -> ArticleItem:
        return article(f"w{n}", source="asagumo", published=midnight, site_order=n,
                       published_precision="day")

    data = sample()
    data.items += [weekly(1), weekly(2)]
    build_feeds(data, tmp_path, CONFIG)
    first = _atom_entries(tmp_path / "all.atom")
    assert first["w1"] == ("2026-01-07T00:00:00+09:00", "2026-01-07T00:00:00+09:00")
    assert first["w2"] == ("2026-01-07T00:00:01+09:00", "2026-01-07T00:00:00+09:00")
    for feed in tmp_path.rglob("*.atom"):
        stamps = [u for u, _ in _atom_entries(feed).values()]
        assert len(set(stamps)) == len(stamps), feed
    data.items.append(weekly(3))
    build_feeds(data, tmp_path, CONFIG)
    second = _atom_entries(tmp_path / "all.atom")
    assert second["w1"] == first["w1"] and second["w2"] == first["w2"]
    assert second["w3"] == ("2026-01-07T00:00:02+09:00", "2026-01-07T00:00:00+09:00")
    # JSON Feed: the same instants; the date-only marker stays.
    items = {i["id"].rsplit("/", 1)[-1]: i
             for i in json.loads((tmp_path / "all.json").read_text())["items"]}
    assert items["w2"]["date_modified"] == "2026-01-07T00:00:01+09:00"
    assert items["w2"]["date_published"] == "2026-01-07T00:00:00+09:00"


def test_a_title_only_entry_has_its_title_as_atom_summary(tmp_path: Path) -> None:
    """A feed entry of a title and a link only (feeds that give no description) made an Atom
    entry with no textual content: the W3C Feed Validator warns ("Missing textual content")."""
    data = sample()
    data.items.append(article("bare", title="入札公告 第12号", summary="", content_html="",
                              published=jst(12, 9)))
    build_feeds(data, tmp_path, CONFIG)
    atom = "{http://www.w3.org/2005/Atom}"
    root = etree.parse(str(tmp_path / "all.atom")).getroot()
    (entry,) = [e for e in root.iter(f"{atom}entry") if e.findtext(f"{atom}id").endswith("/bare")]
    assert entry.findtext(f"{atom}summary") == "入札公告 第12号"
    assert entry.find(f"{atom}content") is None
    rss = etree.parse(str(tmp_path / "all.rss")).getroot()
    (item,) = [i for i in rss.iter("item") if i.findtext("link").endswith("/bare")]
    assert item.find("description") is None  # RSS needs a title or a description, not both


VANISHED = ["category/naval-news.atom", "category/naval-news.json", "category/naval-news.rss",
            "source/navalnews.atom", "source/navalnews.json", "source/navalnews.rss"]


def test_a_build_keeps_and_lists_the_feeds_it_no_longer_makes(tmp_path: Path) -> None:
    """A wrong but non-empty store took public/ from 84 files to 45, silently."""
    build_feeds(sample(), tmp_path, CONFIG)
    data = sample()
    data.items = [a for a in data.items if a.source != "navalnews"]
    report = build_feeds(data, tmp_path, CONFIG)
    assert [p.relative_to(tmp_path).as_posix() for p in report.stale] == VANISHED
    assert report.removed == []
    assert set(VANISHED) <= set(tree(tmp_path))


@pytest.mark.parametrize("configured", ["source", "category"])
def test_prune_never_removes_the_feeds_of_a_configured_source_or_category(
        tmp_path: Path, configured: str) -> None:
    build_feeds(sample(), tmp_path, CONFIG)
    data = sample()
    data.items = [a for a in data.items if a.source != "navalnews"]
    config = dataclasses.replace(
        CONFIG, prune=True,
        source_names={**CONFIG.source_names, "navalnews": "Naval News"}
        if configured == "source" else CONFIG.source_names,
        category_slugs={**CONFIG.category_slugs, "Naval News": "naval-news"}
        if configured == "category" else CONFIG.category_slugs)
    report = build_feeds(data, tmp_path, config)
    kept = [v for v in VANISHED if v.startswith(configured)]
    assert [p.relative_to(tmp_path).as_posix() for p in report.stale] == kept
    assert set(kept) <= set(tree(tmp_path))
    assert not (set(VANISHED) - set(kept)) & set(tree(tmp_path))


def test_index_source_states_come_from_the_health_records(tmp_path: Path) -> None:
    """#17 point 3: the state is the latest health record's, not the articles' age: a source
    whose last run failed shows 異常 with its reason although its articles are fresh; a source
    with records but no item is listed; a healthy one since its first healthy run in a row."""
    from crawler.store import SQLiteStore

    with SQLiteStore(tmp_path / "store.sqlite3") as store:
        now = datetime.now(UTC)
        store.upsert_articles([article("a1", published=now), article("a2", published=now),
                               article("f1", source="fleetwatch", published=now)], now=now)

        def run(source: str, day: int, healthy: bool, **data: object) -> None:
            at = datetime(2026, 11, day, 3, 0, tzinfo=UTC)
            store.add_source_run(source, started_at=at, finished_at=at, finish_reason="finished",
                                 healthy=healthy, data=data)

        run("jdefense", 1, True, reasons=[])
        run("jdefense", 2, False, reasons=["parsed 10% of article pages (< 80%)"])
        run("fleetwatch", 1, False, reasons=["feed error"])
        run("fleetwatch", 2, True, reasons=[])
        run("fleetwatch", 3, True, reasons=[])
        run("maintenance", 3, False,
            reasons=["http://127.0.0.1:1/feeds/error.html: not a usable feed"])
        build_feeds(store, tmp_path / "public", CONFIG)
    page = lxml.html.fromstring((tmp_path / "public" / "index.html").read_bytes())
    items = page.xpath("//section[@id='sources']//li")
    lines = {li.findtext("strong"): li.text_content() for li in items}
    assert set(lines) == {"Jディフェンスニュース", "fleetwatch", "maintenance"}
    jd = lines["Jディフェンスニュース"]
    assert "異常（2026-11-02 12:00 JST から）：parsed 10% of article pages (< 80%)" in jd, jd
    assert "24時間の新着 2 件" in jd
    assert "正常（2026-11-02 12:00 JST から）" in lines["fleetwatch"], lines["fleetwatch"]
    maintenance = lines["maintenance"]
    assert "異常" in maintenance and "error.html: not a usable feed" in maintenance
    assert "最後の新着 なし" in maintenance and "24時間の新着 0 件" in maintenance
    assert [li.xpath("span/@class")[0] for li in items if li.findtext("strong") == "maintenance"
            ] == ["state-bad"]
