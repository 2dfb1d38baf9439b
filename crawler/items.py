"""Item types and their JSON form: the contract downstream tools rely on.

Items hold aware ``datetime`` values while they travel through the pipelines; they are
formatted (ISO 8601 with offset) only at the edge, by :func:`to_json_dict`. The published
JSON Schema is ``crawler/schema/item.schema.json``.

No Scrapy import here: the feed builder and the store use these types too.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SCHEMA_PATH = __file__.rsplit("/", 1)[0] + "/schema/item.schema.json"


def article_id(canonical_url: str) -> str:
    """Stable id derived from the canonical URL (see :mod:`crawler.urls`)."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]


@dataclass
class Image:
    url: str
    caption: str | None = None


@dataclass
class DateProvenance:
    """Where a date came from: the raw string and the layer that produced it."""

    raw: str
    source: str  # "jsonld", "opengraph", "time", "dateline", "body", "feed", ...
    offset_known: bool = True
    warnings: list[str] = field(default_factory=list)


@dataclass
class ArticleItem:
    url: str
    title: str
    source: str
    published: datetime | None = None
    updated: datetime | None = None
    categories: list[str] = field(default_factory=list)
    author: str | None = None
    summary: str = ""
    content_html: str = ""
    images: list[Image] = field(default_factory=list)
    language: str = "ja"
    id: str = ""
    first_seen: datetime | None = None
    # Raw page values kept until the normalize pipeline has read them.
    published_raw: str | None = None
    published_source: str | None = None
    updated_raw: str | None = None
    updated_source: str | None = None
    # True when content_html is already the output of crawler.pages.html.clean_html (a page
    # parser's): the normalize pipeline then does not sanitize it a second time.
    content_clean: bool = False
    # Filled by the normalize pipeline: {"published": DateProvenance, ...}
    dates: dict[str, DateProvenance] = field(default_factory=dict)
    # Feed sources: the entry's original guid, and the URL slug section of scraped sites.
    guid: str | None = None
    section: str | None = None
    type: str = "article"
    # The identity key: the normalised URL (crawler.urls.canonical_url) the id derives from.
    # ``url`` stays the outlet's own link; two spellings of one URL share this key.
    key: str = ""
    # Fields a feed left empty and defnews filled the way readers do ("title": its first
    # words or its link; "published": the time it was first seen).
    inferred: list[str] = field(default_factory=list)
    # How a missing or unreadable publication date is filled (feeds: "first_seen"); None
    # leaves it missing, and the item is dropped by the validate pipeline.
    published_fallback: str | None = None
    # Scraped pages: which layer of the parser found each field ({"title": "metadata", ...}).
    provenance: dict[str, str] = field(default_factory=dict)
    # The story: an id shared with every other source's article about the same event (the
    # id of the story's first article; an article alone is a story of one: its own id).
    # Set by the stories pipeline (crawler.stories); "" until then.
    story: str = ""
    # What the publication date says: "minute" (a time of day) or "day" (a date only, as on
    # 朝雲's "2026年1月7日更新"; ``published`` is then that day's midnight JST, never shown as a
    # time: see feeds/render.py).
    published_precision: str = "minute"
    # The body is only the public part of the article (a paywall cut it): the entry says so.
    partial: bool = False
    # The site's own order of its articles (its article id), set where the date alone cannot
    # order them (date-only items): two articles of one day keep the site's order in feeds.
    site_order: int | None = None
    # Scraped pages: the article addresses this page links and the crawl asks for, first
    # linked here (crawler/archive.py); the store pipeline writes them in the batch before
    # the article itself, so no stop leaves them linked from a stored page only.
    linked: list[str] = field(default_factory=list)


@dataclass
class RankingEntry:
    rank: int
    title: str
    url: str
    id: str = ""
    # Dates written in the title (e.g. "(12月24日)"), read relative to the capture time.
    title_dates: list[datetime] = field(default_factory=list)


@dataclass
class RankedArticle:
    """One article of a snapshot, with its rank in each list it stands in."""

    id: str
    url: str
    title: str
    ranks: dict[str, int]


PERIODS = ("24h", "1w", "1m")


def ranked_articles(lists: dict[str, list[RankingEntry]]) -> list[RankedArticle]:
    """Collapse entries repeated across the lists into one article each, with every rank."""
    by_id: dict[str, RankedArticle] = {}
    for period in PERIODS:
        for entry in lists.get(period, []):
            ranked = by_id.setdefault(entry.id, RankedArticle(entry.id, entry.url, entry.title, {}))
            ranked.ranks.setdefault(period, entry.rank)
    return list(by_id.values())


@dataclass
class RankingObservation:
    """The ranking sidebar as read on one page (many per crawl, collapsed by a pipeline)."""

    source: str
    page_url: str
    lists: dict[str, list[RankingEntry]]
    seen_at: datetime
    type: str = "ranking_observation"


@dataclass
class RankingItem:
    """One ranking snapshot per crawl and source."""

    source: str
    captured_at: datetime | None = None
    lists: dict[str, list[RankingEntry]] = field(default_factory=dict)
    # The distinct articles of the three lists, in order of first appearance.
    articles: list[RankedArticle] = field(default_factory=list)
    type: str = "ranking"


# Fields that exist only while an item travels through the pipelines.
_INTERNAL = {
    "published_raw",
    "published_source",
    "updated_raw",
    "updated_source",
    "published_fallback",
    "content_clean",
    "linked",
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime reached the JSON edge: {value!r}")
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def to_json_dict(item: Any) -> dict[str, Any]:
    """The JSON form of an item: aware datetimes as ISO 8601 with offset."""
    data = {
        f.name: getattr(item, f.name)
        for f in dataclasses.fields(item)
        if f.name not in _INTERNAL
    }
    return _jsonable(data)
