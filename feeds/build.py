"""Build every feed from a :class:`~feeds.model.FeedData` into one static folder.

Output layout (paths relative to ``out_dir``; ``<slug>`` from :mod:`feeds.config`)::

    all.atom, all.rss, all.json         every article, newest first
    category/<slug>.atom, .rss, .json   one set per category label
    source/<source>.atom, .rss, .json   one set per source key with articles
    ranking/<source>-24h.atom, …        current ranking of each period, in rank order,
    ranking/<source>-1w.atom, …           for each of data.ranking_sources()
    ranking/<source>-1m.atom, …
    ranking/<source>-new.atom, …        "new in the ranking": one entry per entrance
    stories.atom, .rss, .json           one entry per story with two or more sources
                                        (crawler.stories), linking every member
    opml.xml                            OPML 2.0 list of every RSS feed
    index.html                          the page people open (feeds.page)

Every Atom feed has a JSON Feed 1.1 beside it (same base name, ``.json``; feeds.jsonfeed).

Every feed holds at most ``config.limit`` entries. Feed ids and self links are
``config.base_url`` + the path above.

Article entries (all, category, source feeds) use the article's canonical URL as id / RSS guid
(``isPermaLink="true"``), are sorted by published date (newest first), then id, and carry
``updated`` = the later of ``article.updated`` and ``published``. Articles without an aware
``published`` date are left out and counted in :attr:`BuildReport.skipped`. An article without
a summary gets a plain-text excerpt of its content as summary, so that RSS keeps the full HTML
in ``content:encoded`` and a short ``description``.

Ranking feeds (``-24h``, ``-1w``, ``-1m``): each entry is the ranked article itself (same id as
in the other feeds, its link, summary and content when the article is stored), titled
``"<rank>位 <title>"``. Its dates (published and updated) follow the rank, so that readers
that sort by date keep rank order: the n-th entry is dated n-1 seconds before the moment the
ranking took its current form (``RankingView.changed_at``).

"New in the ranking" (``-new``): one entry per :class:`~feeds.model.RankingEntrance`, titled
``"【24時間】<rank>位 <title>"``, published ``entered_at`` and updated then too (a second apart
where several entered at one instant: distinct ``updated`` values), linking to the
article, with id ``<article url>#ranking-<period>-<entered_at in UTC, %Y%m%dT%H%M%SZ>`` (RSS
``isPermaLink="false"``): unique per entrance, stable across builds, and still a URL of the
article.

Determinism: the same data and config give byte-identical files (see :mod:`feeds.render`);
files whose bytes do not change are not rewritten (:mod:`feeds.write`), so a second build of
unchanged data reports ``written == 0``. Feeds this build no longer makes (their source or
category gave no item: a wrong store, a source gone) are never dropped silently: they are kept
and listed (``BuildReport.stale``), and removed only with ``FeedConfig.prune``, except those of
a source or category the sources file still names, which are never removed. Removal only
touches files the builder owns: ``*.atom`` / ``*.rss`` / ``*.json`` inside ``category/``,
``source/`` and ``ranking/``; leftover temporary files of an interrupted write always go.

Incremental: each feed's inputs are digested (its :class:`FeedSpec`, the renderer's version);
the digests and the files' sizes and mtimes are kept in ``.defnews-build.json`` in the output
folder, and a feed whose digest and files are unchanged is not rendered at all. Reads stay
constant-time: the store hands over only the newest ``limit`` articles of each feed, from an
index.

Concurrency: a build holds an exclusive lock (``.defnews-build.lock``, ``fcntl.flock``) on its
output folder for its whole run; a second build on the same folder waits for the first one,
then finds its work done. Every temporary file has a name of its own (``mkstemp``).

WebSub: with ``config.hub_url`` set, every feed carries a ``rel="hub"`` link, and each build
pings the hub (``hub.mode=publish``) for every feed whose files it changed (feeds.websub).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html import escape as escape_html
from pathlib import Path
from typing import Any

from lxml import etree

from crawler.items import PERIODS, ArticleItem
from crawler.pages.html import fragment
from feeds.config import FeedConfig, assign_category_slugs, assign_source_slugs, source_slug
from feeds.jsonfeed import render_json_feed
from feeds.listing import FeedLink, render_opml
from feeds.model import FeedData, RankedArticle, RankingEntrance, RankingView
from feeds.page import Headline, PageData, RankingChart, SourceHealth, StoryCard, render_index
from feeds.render import (
    EMPTY_FEED_UPDATED,
    GENERATOR_VERSION,
    EntrySpec,
    FeedSpec,
    SourceRef,
    is_http_url,
    render_feed,
)
from feeds.websub import publish
from feeds.write import is_temp_file, write_many

logger = logging.getLogger(__name__)

OWNED_DIRS = ("category", "source", "ranking")
FEED_SUFFIXES = {"atom": ".atom", "rss": ".rss", "json": ".json"}
FILE_KINDS = tuple(FEED_SUFFIXES)
STATE_FILE = ".defnews-build.json"
LOCK_FILE = ".defnews-build.lock"
# Bump when the output of the same inputs changes (a new element, a fixed rule), so that the
# next build renders every feed again instead of trusting the digests of the old renderer.
RENDER_VERSION = "2"
HEADLINES = 5  # per category on the index page
# Catch-all labels go last on the index page and in the OPML, whatever their name sorts as.
CATCH_ALL = frozenset({"その他", "未分類", "other", "others", "misc", "uncategorized"})

PERIOD_LABELS = {"24h": "24時間", "1w": "1週間", "1m": "1ヶ月"}
SUMMARY_CHARS = 200

_GROUP_ALL = "すべて"
_GROUP_CATEGORY = "カテゴリ"
_GROUP_SOURCE = "ソース"
_GROUP_RANKING = "ランキング"
_GROUP_STORIES = "ストーリー"
TOP_STORIES = 10  # on the index page


@dataclass
class FeedFile:
    path: Path
    kind: str  # "atom" | "rss" | "json"
    feed: str  # "all", "category:<label>", "source:<key>", "ranking:<source>:<period>",
    #            "ranking-new:<source>"
    entries: int


@dataclass
class BuildReport:
    files: list[FeedFile]  # every feed file of this build (not opml.xml / index.html)
    written: int  # files (feeds, opml.xml, index.html) whose bytes changed
    unchanged: int  # files left untouched because their bytes were already right
    removed: list[Path] = field(default_factory=list)  # stale files deleted
    stale: list[Path] = field(default_factory=list)  # feed files no longer built, kept
    # Distinct articles left out of a feed for want of an aware published date (only those
    # that came within a feed's window are seen).
    skipped: int = 0
    rendered: int = 0  # feeds rendered (0 when no input changed: nothing was serialized)
    changed_urls: list[str] = field(default_factory=list)  # public URLs of feed files written
    pinged: list[str] = field(default_factory=list)  # feed URLs the WebSub hub was told of
    ping_errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Planned:
    key: str
    stem: str  # path without extension, relative to out_dir
    spec: FeedSpec
    group: str
    name: str


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None or value.utcoffset() is None:
        return None
    return value


def _require_aware(value: datetime, what: str) -> datetime:
    if _aware(value) is None:
        raise ValueError(f"{what} must be timezone-aware, got {value!r}")
    return value


def _head_fragment(html: str, chars: int) -> Any | None:
    """The first ``chars`` characters of an HTML fragment, parsed, without scripts and styles
    (None: unparseable). Only the head is parsed: lxml refuses a single text node over 10 MB,
    which a hostile body can be."""
    try:
        root = fragment(html[:chars])
    except (etree.ParserError, ValueError):
        return None
    for el in root.xpath(".//script|.//style|.//noscript"):
        el.drop_tree()
    return root


def excerpt(html: str, limit: int = SUMMARY_CHARS) -> str:
    """Plain text of an HTML fragment, whitespace collapsed, cut at ``limit`` characters."""
    if not html.strip():
        return ""
    # The first few hundred characters of text are in the head of the HTML: parse only that.
    root = _head_fragment(html, limit * 50)
    if root is None:
        return ""
    text = re.sub(r"\s+", " ", root.text_content()).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# The entries' HTML content a feed carries in all (UTF-8 bytes): the W3C Feed Validator reads no
# feed over 5,000,000 bytes ("Unable to validate, due to hardcoded resource limits"), and
# readers and hubs refuse large feeds (FeedBurner stopped at 512 KB). Escaped in Atom and RSS,
# 2 MiB of content stays under 5 MB even when it is mostly markup; 50 J-Defense articles are
# about 400 KB.
FEED_CONTENT_BUDGET = 2 * 1024 * 1024
# Less budget than this left: an entry too big for it carries the link to its page only.
_SMALLEST_CUT = 64 * 1024


def _rest_on_the_site(url: str, source_name: str, css: str) -> str:
    """The paragraph that links the rest of an article on its site (続きは…のサイトで)."""
    note = escape_html(f"続きは{source_name}のサイトで" if source_name else "続きはサイトで")
    return f'<p class="{css}"><a href="{escape_html(url, quote=True)}">{note}</a></p>'


def _cut_html(html: str, budget: int) -> str:
    """The head of an HTML fragment, well-formed, at most ``budget`` UTF-8 bytes ("" when
    nothing fits)."""
    chars = min(budget, len(html))  # (a character is one UTF-8 byte or more)
    for _ in range(5):
        root = _head_fragment(html, chars)
        if root is None:
            return ""
        out = etree.tostring(root, encoding="unicode", method="html")[len("<div>"):-len("</div>")]
        size = len(out.encode("utf-8"))
        if size <= budget:
            return out
        chars = int(chars * budget / size * 0.95)
    return ""


def _within_budget(entries: list[EntrySpec]) -> list[EntrySpec]:
    """The entries, their content within FEED_CONTENT_BUDGET in feed order: whole while it
    fits; the first that does not, cut to what is left (at least _SMALLEST_CUT) and ending with
    a link to the rest on its site; any after that, the link alone (the summary stays)."""
    left = FEED_CONTENT_BUDGET
    out = []
    for entry in entries:
        size = len(entry.content_html.encode("utf-8"))
        if size <= left:
            left -= size
            out.append(entry)
            continue
        rest = _rest_on_the_site(entry.link, entry.source.name if entry.source else "",
                                 "defnews-cut")
        room = left - len(rest.encode("utf-8"))
        head = _cut_html(entry.content_html, room) if room >= _SMALLEST_CUT else ""
        left = max(0, room - len(head.encode("utf-8")))
        out.append(replace(entry, content_html=f"{head}\n{rest}" if head else rest))
    return out


def _distinct_updated(entries: list[EntrySpec]) -> list[EntrySpec]:
    """The entries, no two sharing an ``updated`` instant (the W3C Feed Validator warns on
    such a pair: "Two entries with the same value for atom:updated"). A weekly's articles of
    one day all carry that day's midnight; read from the bottom of the feed up, each entry
    that meets one below it is updated a second after the latest it meets. The oldest keeps
    its value and an article added later (the top of its day) takes the new second, so the
    entries already published keep theirs from build to build. ``published`` and the ids keep
    the real values (a date-only entry's published stays its midnight)."""
    used: set[datetime] = set()
    out = list(entries)
    for i in range(len(out) - 1, -1, -1):
        stamp = out[i].updated
        if stamp in used:
            while stamp in used:
                stamp += timedelta(seconds=1)
            out[i] = replace(out[i], updated=stamp)
        used.add(stamp)
    return out


def _by_date(items: Iterable[ArticleItem]) -> list[ArticleItem]:
    """Published desc, then id (the canonical URL when the id is unset), one per URL."""
    unique: dict[str, ArticleItem] = {}
    for item in sorted(items, key=lambda a: a.id or a.url):
        unique.setdefault(item.url, item)
    # Date-only items of one day: the site's own order (its ids), newest first.
    return sorted(
        unique.values(),
        key=lambda a: (_aware(a.published) or EMPTY_FEED_UPDATED, a.site_order or 0),
        reverse=True,
    )


def partial_note(article: ArticleItem, source_name: str) -> str:
    """The content of an entry; a partial article (cut by a paywall) says so and links the
    page, never padded with the site's 続きを読む prompt."""
    if not article.partial:
        return article.content_html
    return f"{article.content_html}\n{_rest_on_the_site(article.url, source_name, 'defnews-partial')}"


def _lead_image(article: ArticleItem) -> str | None:
    for image in article.images:
        if is_http_url(image.url):
            return image.url
    return None


def _labels(data: FeedData) -> list[str]:
    """Category labels, from an index when the store offers one (no count of every row)."""
    fast = getattr(data, "category_labels", None)
    return list(fast()) if callable(fast) else list(data.categories())


def _sources(data: FeedData) -> list[str]:
    fast = getattr(data, "source_keys", None)
    return list(fast()) if callable(fast) else list(data.sources())


def category_order(labels: Iterable[str], configured: Iterable[str]) -> list[str]:
    """Labels in a reading order: those of the sources file in its order, then the others by
    name, catch-all labels (その他, Other…) last."""
    labels = set(labels)
    order = {label: i for i, label in enumerate(configured)}
    return sorted(
        labels,
        key=lambda label: (
            label.strip().lower() in CATCH_ALL,
            label not in order,
            order.get(label, 0),
            label,
        ),
    )


def entrance_id(url: str, period: str, entered_at: datetime) -> str:
    """Id of one entrance into a ranking list: the article URL with a fragment naming it."""
    utc = _require_aware(entered_at, "entered_at").astimezone(UTC)
    stamp = utc.strftime("%Y%m%dT%H%M%S") + (f".{utc.microsecond:06d}" if utc.microsecond else "")
    return f"{url.split('#', 1)[0]}#ranking-{period}-{stamp}Z"


class _Builder:
    def __init__(
        self, data: FeedData, config: FeedConfig, known_slugs: dict[str, str] | None = None
    ) -> None:
        self.data = data
        self.config = config
        self.known_slugs = dict(known_slugs or {})
        self.category_slugs: dict[str, str] = {}
        self.skipped: set[str] = set()
        self.ranking_sources = sorted(set(data.ranking_sources()))
        self.sources = sorted(set(_sources(data)))
        self.source_slugs = assign_source_slugs([*self.sources, *self.ranking_sources])

    def _source_slug(self, source: str) -> str:
        # An article's source always is in data.sources(); the fallback is for a broken store.
        return self.source_slugs.get(source) or source_slug(source)

    # -- entries ---------------------------------------------------------------------------

    def _source_ref(self, source: str) -> SourceRef:
        stem = "source/" + self._source_slug(source)
        return SourceRef(
            name=self.config.source_name(source),
            atom_url=self.config.url(stem + ".atom"),
            rss_url=self.config.url(stem + ".rss"),
        )

    def _article_entry(
        self,
        article: ArticleItem,
        *,
        title: str | None = None,
        fallback_updated: datetime | None = None,
    ) -> EntrySpec | None:
        published = _aware(article.published)
        updated = _aware(article.updated)
        if published is not None:
            updated = max(published, updated) if updated is not None else published
        if updated is None:
            updated = fallback_updated
        if updated is None:
            return None
        return EntrySpec(
            # The id is the identity key (stable when an outlet re-spells its link: http to
            # https, tracking parameters); the link is the outlet's own, byte for byte.
            id=article.key or article.url,
            title=article.title if title is None else title,
            link=article.url,
            updated=updated,
            published=published,
            permalink=not article.key or article.key == article.url,
            categories=tuple(article.categories),
            author=(article.author or "").strip() or self.config.source_name(article.source),
            summary=article.summary.strip() or excerpt(article.content_html),
            content_html=partial_note(article, self.config.source_name(article.source)),
            source=self._source_ref(article.source),
            image=_lead_image(article),
            date_only=article.published_precision == "day",
        )

    def _latest(self, *, category: str | None = None, source: str | None = None) -> list[EntrySpec]:
        """The newest ``limit`` dated articles, asking the store for more when some are undated."""
        limit = self.config.limit
        ask = limit
        while True:
            batch = self.data.articles(category=category, source=source, limit=ask)
            dated = []
            for article in batch:
                if _aware(article.published) is None:
                    self.skipped.add(article.id or article.url)
                else:
                    dated.append(article)
            if len({a.url for a in dated}) >= limit or len(batch) < ask:
                break
            ask *= 4
        chosen = _by_date(dated)[:limit]
        siblings = self._siblings([a.id for a in chosen])
        entries = [self._with_siblings(self._article_entry(a), siblings.get(a.id, []))
                   for a in chosen]
        return [e for e in entries if e is not None]

    # -- stories (issue #22) ---------------------------------------------------------------

    def _siblings(self, ids: list[str]) -> dict[str, list[ArticleItem]]:
        of = getattr(self.data, "story_siblings", None)
        return of(ids) if callable(of) and ids else {}

    def _member_line(self, article: ArticleItem) -> tuple[str, str]:
        """(HTML, text) of one article of a story: outlet, language, date, linked title."""
        name = self.config.source_name(article.source)
        day = article.published.date().isoformat() if article.published else ""
        meta = ", ".join(x for x in (article.language, day) if x)
        html_line = (f'<a href="{escape_html(article.url)}">{escape_html(article.title)}</a>'
                     f" — {escape_html(name)} ({escape_html(meta)})")
        return html_line, f"{name} ({meta})"

    def _with_siblings(self, entry: EntrySpec | None,
                       others: list[ArticleItem]) -> EntrySpec | None:
        """An article's entry that says which other outlets carried its story."""
        if entry is None or not others:
            return entry
        lines = [self._member_line(a) for a in others]
        html_part = ("<p>同じ出来事を伝えた他のソース / also reported by:</p><ul>"
                     + "".join(f"<li>{h}</li>" for h, _ in lines) + "</ul>")
        text = "同じ出来事: " + "; ".join(t for _, t in lines)
        summary = f"{entry.summary} ({text})" if entry.summary else text
        content = (entry.content_html + html_part) if entry.content_html else ""
        return replace(entry, summary=summary, content_html=content)

    def _story_entries(self) -> list[EntrySpec]:
        """One entry per story with two or more sources: titled from its first article,
        linking every member with outlet, language and date."""
        of = getattr(self.data, "stories", None)
        if not callable(of):
            return []
        entries = []
        for _story, members in of(limit=self.config.limit):
            dated = [m for m in members if _aware(m.published) is not None]
            if len(dated) < 2:
                continue
            first = dated[0]
            lines = [self._member_line(a) for a in dated]
            sources = list(dict.fromkeys(self.config.source_name(a.source) for a in dated))
            stamps = [d for a in dated for d in (_aware(a.published), _aware(a.updated)) if d]
            updated = max(stamps)
            entries.append(EntrySpec(
                id=f"{first.key or first.url}#story",
                title=first.title,
                link=first.url,
                updated=updated,
                published=_aware(first.published),
                permalink=False,
                categories=tuple(dict.fromkeys(c for a in dated for c in a.categories)),
                author=", ".join(sources),
                summary=f"{len(dated)}件・{len(sources)}ソース: "
                        + "; ".join(t for _, t in lines),
                content_html="<ul>" + "".join(f"<li>{h}</li>" for h, _ in lines) + "</ul>",
                source=self._source_ref(first.source),
            ))
        entries.sort(key=lambda e: (e.updated, e.id), reverse=True)
        return entries

    def _ranked_entry(self, ranked: RankedArticle, view: RankingView) -> EntrySpec:
        prefix = f"{ranked.rank}位 "
        article = ranked.article
        if article is not None:
            title = prefix + (article.title.strip() or ranked.title)
            entry = self._article_entry(article, title=title, fallback_updated=view.changed_at)
            if entry is not None:
                return entry
        return EntrySpec(
            id=ranked.url,
            title=prefix + ranked.title,
            link=ranked.url,
            updated=view.changed_at,
            author=self.config.source_name(view.source),
            source=self._source_ref(view.source),
        )

    def _entrance_entry(self, entrance: RankingEntrance) -> EntrySpec:
        entered = _require_aware(entrance.entered_at, "RankingEntrance.entered_at")
        label = PERIOD_LABELS.get(entrance.period, entrance.period)
        article = entrance.article
        url = article.url if article is not None else entrance.url
        title = (article.title.strip() if article is not None else "") or entrance.title
        base = EntrySpec(
            id=entrance_id(url, entrance.period, entered),
            title=f"【{label}】{entrance.rank}位 {title}",
            link=url,
            updated=entered,
            published=entered,
            permalink=False,
            author=self.config.source_name(entrance.source),
            source=self._source_ref(entrance.source),
        )
        if article is None:
            return base
        return replace(
            base,
            categories=tuple(article.categories),
            author=(article.author or "").strip() or base.author,
            summary=article.summary.strip() or excerpt(article.content_html),
            content_html=article.content_html,
            source=self._source_ref(article.source),
        )

    # -- feeds -----------------------------------------------------------------------------

    def _spec(
        self,
        stem: str,
        title: str,
        description: str,
        entries: list[EntrySpec],
        *,
        updated: datetime | None = None,
    ) -> FeedSpec:
        entries = _within_budget(_distinct_updated(entries))
        stamps = [e.updated for e in entries] + ([updated] if updated is not None else [])
        return FeedSpec(
            title=f"{self.config.title} | {title}",
            description=description,
            home_url=self.config.base_url,
            atom_url=self.config.url(stem + ".atom"),
            rss_url=self.config.url(stem + ".rss"),
            author=self.config.author,
            language=self.config.language,
            updated=max(stamps) if stamps else EMPTY_FEED_UPDATED,
            entries=tuple(entries),
            json_url=self.config.url(stem + ".json"),
            hub_url=self.config.hub_url,
        )

    def plan(self) -> list[_Planned]:
        planned = [
            _Planned(
                "all",
                "all",
                self._spec("all", "すべての記事", "すべてのソースの最新記事", self._latest()),
                _GROUP_ALL,
                "すべての記事",
            )
        ]
        slugs = assign_category_slugs(
            _labels(self.data), self.config.category_slugs, self.known_slugs
        )
        self.category_slugs = slugs
        for label in category_order(slugs, self.config.category_slugs):
            slug = slugs[label]
            stem = f"category/{slug}"
            spec = self._spec(
                stem, label, f"カテゴリ「{label}」の最新記事", self._latest(category=label)
            )
            planned.append(_Planned(f"category:{label}", stem, spec, _GROUP_CATEGORY, label))
        for source in self.sources:
            slug = self.source_slugs[source]
            name = self.config.source_name(source)
            stem = f"source/{slug}"
            spec = self._spec(stem, name, f"{name}の最新記事", self._latest(source=source))
            planned.append(_Planned(f"source:{source}", stem, spec, _GROUP_SOURCE, name))
        for source in self.ranking_sources:
            planned += self._plan_rankings(source)
        if callable(getattr(self.data, "stories", None)):
            spec = self._spec("stories", "ストーリー",
                              "複数のソースが伝えた出来事: 1件に全ソースの記事", self._story_entries())
            planned.append(_Planned("stories", "stories", spec, _GROUP_STORIES, "ストーリー"))
        return planned

    def _plan_rankings(self, source: str) -> list[_Planned]:
        name = self.config.source_name(source)
        slug = self._source_slug(source)
        view = self.data.latest_ranking(source)
        changed_at = (
            _require_aware(view.changed_at, "RankingView.changed_at") if view is not None else None
        )
        planned = []
        for period in PERIODS:
            label = PERIOD_LABELS[period]
            entries: list[EntrySpec] = []
            if view is not None:
                seen: set[str] = set()
                for ranked in sorted(view.lists.get(period, []), key=lambda r: (r.rank, r.url)):
                    entry = self._ranked_entry(ranked, view)
                    if entry.id not in seen:
                        seen.add(entry.id)
                        # Dates follow the rank: readers that sort by date keep rank order.
                        stamp = view.changed_at - timedelta(seconds=len(entries))
                        entries.append(replace(entry, published=stamp, updated=stamp))
            stem = f"ranking/{slug}-{period}"
            spec = self._spec(
                stem,
                f"{name} ランキング（{label}）",
                f"{name}の{label}ランキング（順位順）",
                entries[: self.config.limit],
                updated=changed_at,
            )
            planned.append(
                _Planned(
                    f"ranking:{source}:{period}", stem, spec, _GROUP_RANKING, f"{name} {label}"
                )
            )
        order = {p: i for i, p in enumerate(PERIODS)}
        entrances = sorted(
            self.data.ranking_entrances(source, limit=self.config.limit),
            key=lambda x: (order.get(x.period, len(order)), x.period, x.rank, x.url),
        )
        # Newest first; same instant: period order, rank, URL (the stable sort above).
        entrances.sort(
            key=lambda x: _require_aware(x.entered_at, "RankingEntrance.entered_at"),
            reverse=True,
        )
        unique: dict[str, EntrySpec] = {}
        for entrance in entrances:
            entry = self._entrance_entry(entrance)
            unique.setdefault(entry.id, entry)
        # One snapshot brings many entrances at one instant; the W3C validator warns on
        # entries sharing an `updated`. Each is updated a second before the one above it when
        # they would meet (as the ranking feeds date rank order): distinct, in feed order,
        # the same every build. `published` and the id keep the real entered_at.
        stamped: list[EntrySpec] = []
        for entry in unique.values():
            if stamped and entry.updated >= stamped[-1].updated:
                stamp = stamped[-1].updated - timedelta(seconds=1)
                entry = replace(entry, updated=stamp)
            stamped.append(entry)
        unique = {e.id: e for e in stamped}
        stem = f"ranking/{slug}-new"
        spec = self._spec(
            stem,
            f"{name} ランキング新着",
            f"{name}のランキングに新しく入った記事",
            list(unique.values())[: self.config.limit],
        )
        planned.append(
            _Planned(f"ranking-new:{source}", stem, spec, _GROUP_RANKING, f"{name} 新着")
        )
        return planned


def _configured(rel: Path, config: FeedConfig) -> bool:
    """Whether a feed file belongs to a source or category the sources file names."""
    stem = rel.stem
    if rel.parent.name == "source":
        return stem in config.source_names
    if rel.parent.name == "ranking":
        return any(stem.startswith(f"{key}-") for key in config.source_names)
    if rel.parent.name == "category":
        return stem in config.category_slugs.values()
    return False


def _remove_stale(out_dir: Path, keep: set[Path],
                  config: FeedConfig) -> tuple[list[Path], list[Path]]:
    """(files removed, feed files no longer built but kept)."""
    removed, kept = [], []
    candidates = [p for p in out_dir.iterdir() if p.is_file() and is_temp_file(p)]
    for sub in OWNED_DIRS:
        folder = out_dir / sub
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            if not p.is_file():
                continue
            if is_temp_file(p):
                candidates.append(p)
            elif p.suffix in FEED_SUFFIXES.values() and p not in keep:
                if config.prune and not _configured(p.relative_to(out_dir), config):
                    candidates.append(p)
                else:
                    kept.append(p)
    for path in sorted(candidates):
        path.unlink(missing_ok=True)
        removed.append(path)
    if kept:
        logger.warning("%d feed file(s) in %s no longer built, kept%s: %s", len(kept), out_dir,
                       "" if config.prune else " (--prune removes them)",
                       ", ".join(p.relative_to(out_dir).as_posix() for p in sorted(kept)))
    return removed, sorted(kept)


@contextlib.contextmanager
def folder_lock(out_dir: Path) -> Iterator[None]:
    """Hold the build lock of ``out_dir``: a second build of the same folder waits here."""
    fd = os.open(out_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("another build is writing %s: waiting for it", out_dir)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _digest(*parts: object) -> str:
    hasher = hashlib.sha256(f"{RENDER_VERSION}|{GENERATOR_VERSION}".encode())
    for part in parts:
        hasher.update(b"\0")
        hasher.update(repr(part).encode("utf-8", "surrogatepass"))
    return hasher.hexdigest()


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _load_state(out_dir: Path) -> tuple[dict[str, dict[str, object]], dict[str, str]]:
    """(digest and file stats per feed, category label -> slug) of the last build."""
    try:
        state = json.loads((out_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return {}, {}
    if not isinstance(state, dict):
        return {}, {}
    entries, slugs = state.get("entries"), state.get("category_slugs")
    return (
        entries if isinstance(entries, dict) else {},
        {k: v for k, v in slugs.items() if isinstance(v, str)} if isinstance(slugs, dict) else {},
    )


def _up_to_date(out_dir: Path, state: dict[str, dict[str, object]], key: str, digest: str,
                names: Iterable[str]) -> bool:
    """Whether ``names`` were last written from inputs with this digest and are untouched."""
    known = state.get(key)
    if not isinstance(known, dict) or known.get("digest") != digest:
        return False
    files = known.get("files")
    if not isinstance(files, dict):
        return False
    return all(files.get(name) == _stat(out_dir / name) for name in names)


def _page_data(builder: _Builder, planned: list[_Planned]) -> PageData:
    data, config = builder.data, builder.config
    categories = [
        (
            item,
            [
                Headline(e.title, e.link, e.published or e.updated)
                for e in item.spec.entries[:HEADLINES]
            ],
        )
        for item in planned
        if item.group == _GROUP_CATEGORY
    ]
    charts: list[RankingChart] = []
    history_of = getattr(data, "ranking_history", None)
    for source in builder.ranking_sources:
        view = data.latest_ranking(source)
        if view is None:
            continue
        history = list(history_of(source)) if callable(history_of) else []
        feeds_of = {item.key: _links(item) for item in planned}
        order = {p: i for i, p in enumerate(PERIODS)}
        for period in sorted(view.lists, key=lambda p: (order.get(p, len(order)), p)):
            ranks: dict[str, list[int | None]] = {}
            stamps = sorted({h[0] for h in history})
            index = {stamp: i for i, stamp in enumerate(stamps)}
            for captured, hperiod, rank, article_id in history:
                if hperiod == period:
                    ranks.setdefault(article_id, [None] * len(stamps))[index[captured]] = rank
            rows = []
            for ranked in sorted(view.lists[period], key=lambda r: (r.rank, r.url)):
                title = (ranked.article.title if ranked.article else "") or ranked.title
                rows.append((ranked.rank, title, ranked.url, tuple(ranks.get(ranked.id, ()))))
            charts.append(
                RankingChart(
                    source=config.source_name(source),
                    period=PERIOD_LABELS.get(period, period),
                    captured_at=view.changed_at,  # stable across re-crawls of the same lists
                    rows=tuple(rows),
                    feed=feeds_of.get(f"ranking:{source}:{period}"),
                )
            )
    activity = getattr(data, "source_activity", None)
    runs_of = getattr(data, "source_runs", None)  # the health records, where the data has them
    recorded = getattr(data, "run_sources", None)
    keys = list(dict.fromkeys([*builder.sources, *(recorded() if callable(recorded) else [])]))
    seen = {
        source: (activity(source) if callable(activity) else (0, None))
        for source in keys
    }
    newest = max((last for _, last in seen.values() if last is not None), default=None)
    health = [
        source_health(config.source_name(source), count, last, newest,
                      runs=runs_of(source, limit=HEALTH_HISTORY) if callable(runs_of) else None)
        for source, (count, last) in seen.items()
    ]
    stories = tuple(
        StoryCard(e.title, e.link, e.updated, e.content_html)
        for item in planned if item.key == "stories" for e in item.spec.entries[:TOP_STORIES]
    )
    return PageData(
        title=config.title,
        language=config.language,
        categories=tuple((item.name, _links(item), tuple(h)) for item, h in categories),
        charts=tuple(charts),
        health=tuple(health),
        feeds=tuple(_links(item) for item in planned),
        stories=stories,
    )


STALE_AFTER = timedelta(days=7)
HEALTH_HISTORY = 200  # runs read back to find since when a source is in its state


def source_health(
    name: str, recent: int, last_seen: datetime | None, newest: datetime | None = None,
    runs: Sequence[Any] | None = None,
) -> SourceHealth:
    """The health line of one source, the one place that decides it.

    With health records (``runs``, newest first, as the store's ``source_runs`` gives them):
    the latest record's verdict — "ok", "failed" (with its first reason), "incomplete" (healthy,
    the archive walk not at its end) — since the run that began it. A source without any record
    is "never" when it has no article either. Without records (data that has none): "no items"
    without any article; "stale" when its newest article is more than :data:`STALE_AFTER`
    older than the newest of any source; else "ok". ``last_seen`` is the newest article's first
    sighting (the page shows it as such: the last fetch changes every run, and an unchanged
    site keeps a byte-identical page).
    """
    if runs:
        latest = runs[0]
        since = latest.started_at
        for run in runs[1:]:
            if run.healthy != latest.healthy:
                break
            since = run.started_at
        if not latest.healthy:
            reasons = latest.data.get("reasons") or []
            return SourceHealth(name, last_seen, recent, "failed",
                                str(reasons[0]) if reasons else "", since=since)
        state = "incomplete" if latest.data.get("archive_complete") is False else "ok"
        return SourceHealth(name, last_seen, recent, state, since=since)
    if runs is not None and last_seen is None:
        return SourceHealth(name, None, 0, "never")
    if last_seen is None:
        state = "no items"
    elif newest is not None and last_seen < newest - STALE_AFTER:
        state = "stale"
    else:
        state = "ok"
    return SourceHealth(name=name, last_crawl=last_seen, items=recent, state=state)


def _links(item: _Planned) -> FeedLink:
    return FeedLink(
        group=item.group,
        title=item.spec.title,
        name=item.name,
        atom_path=item.stem + ".atom",
        rss_path=item.stem + ".rss",
        entries=len(item.spec.entries),
        json_path=item.stem + ".json",
    )


def build_feeds(data: FeedData, out_dir: Path, config: FeedConfig) -> BuildReport:
    """Write every feed, ``opml.xml`` and ``index.html`` into ``out_dir`` (layout above)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with folder_lock(out_dir):
        report = _build_locked(data, out_dir, config)
    if config.hub_url:
        # The changed feeds, and those a build before could not tell the hub of.
        with folder_lock(out_dir):
            report.pinged, report.ping_errors = publish(config.hub_url, out_dir,
                                                        report.changed_urls)
    return report


def _render(spec: FeedSpec, kind: str) -> bytes:
    return render_json_feed(spec) if kind == "json" else render_feed(spec, kind)  # type: ignore[arg-type]


def _build_locked(data: FeedData, out_dir: Path, config: FeedConfig) -> BuildReport:
    state, known_slugs = _load_state(out_dir)
    builder = _Builder(data, config, known_slugs)
    planned = builder.plan()
    new_state: dict[str, dict[str, object]] = {}

    files: list[FeedFile] = []
    outputs: dict[Path, bytes] = {}
    fresh: dict[str, tuple[str, list[str]]] = {}  # key -> (digest, names) rendered this time
    unchanged = rendered = 0
    for item in planned:
        names = [item.stem + FEED_SUFFIXES[kind] for kind in FILE_KINDS]
        digest = _digest(item.spec)
        for kind, name in zip(FILE_KINDS, names, strict=True):
            files.append(FeedFile(out_dir / name, kind, item.key, len(item.spec.entries)))
        if _up_to_date(out_dir, state, item.stem, digest, names):
            unchanged += len(names)
            new_state[item.stem] = state[item.stem]
            continue
        rendered += 1
        for kind, name in zip(FILE_KINDS, names, strict=True):
            outputs[out_dir / name] = _render(item.spec, kind)
        fresh[item.stem] = (digest, names)

    links = [_links(item) for item in planned]
    page = _page_data(builder, planned)
    pages = {
        "opml.xml": (links, lambda: render_opml(links, title=config.title, base_url=config.base_url)),
        "index.html": (page, lambda: render_index(page)),
    }
    for name, (inputs, render) in pages.items():
        digest = _digest(inputs, config.base_url, config.title)
        if _up_to_date(out_dir, state, name, digest, [name]):
            unchanged += 1
            new_state[name] = state[name]
            continue
        outputs[out_dir / name] = render()
        fresh[name] = (digest, [name])

    written_paths = write_many(outputs)
    unchanged += len(outputs) - len(written_paths)
    for key, (digest, names) in fresh.items():
        new_state[key] = {"digest": digest, "files": {n: _stat(out_dir / n) for n in names}}
    feed_paths = {f.path for f in files}
    changed_urls = [
        config.url(path.relative_to(out_dir).as_posix())
        for path in outputs  # in build order
        if path in written_paths and path in feed_paths
    ]

    removed, stale = _remove_stale(out_dir, feed_paths, config)
    slugs = {**known_slugs, **builder.category_slugs}
    if new_state != state or slugs != known_slugs:
        payload = json.dumps(
            {"category_slugs": slugs, "entries": new_state}, sort_keys=True, indent=0,
            ensure_ascii=False,
        )
        write_many({out_dir / STATE_FILE: payload.encode("utf-8")})
    return BuildReport(
        files=files,
        written=len(written_paths),
        unchanged=unchanged,
        removed=removed,
        stale=stale,
        skipped=len(builder.skipped),
        rendered=rendered,
        changed_urls=changed_urls,
    )
