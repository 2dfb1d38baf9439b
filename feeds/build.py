"""Build every feed from a :class:`~feeds.model.FeedData` into one static folder.

Output layout (paths relative to ``out_dir``; ``<slug>`` from :mod:`feeds.config`)::

    all.atom, all.rss                   every article, newest first
    category/<slug>.atom, .rss          one pair per label of data.categories()
    source/<source>.atom, .rss          one pair per key of data.sources()
    ranking/<source>-24h.atom, .rss     current ranking of each period, in rank order,
    ranking/<source>-1w.atom, .rss        for each of data.ranking_sources()
    ranking/<source>-1m.atom, .rss
    ranking/<source>-new.atom, .rss     "new in the ranking": one entry per entrance
    opml.xml                            OPML 2.0 list of every Atom feed
    index.html                          human page: every feed, both formats, entry counts

Every feed holds at most ``config.limit`` entries. Feed ids and self links are
``config.base_url`` + the path above.

Article entries (all, category, source feeds) use the article's canonical URL as id / RSS guid
(``isPermaLink="true"``), are sorted by published date (newest first), then id, and carry
``updated`` = the later of ``article.updated`` and ``published``. Articles without an aware
``published`` date are left out and counted in :attr:`BuildReport.skipped`. An article without
a summary gets a plain-text excerpt of its content as summary, so that RSS keeps the full HTML
in ``content:encoded`` and a short ``description``.

Ranking feeds (``-24h``, ``-1w``, ``-1m``): each entry is the ranked article itself (same id as
in the other feeds, its link, dates, summary and content when the article is stored), titled
``"<rank>位 <title>"``. A ranked article not (yet) in the store gets the ranking's title and,
as ``updated``, the moment the ranking took its current form (``RankingView.changed_at``).

"New in the ranking" (``-new``): one entry per :class:`~feeds.model.RankingEntrance`, titled
``"【24時間】<rank>位 <title>"``, dated (published and updated) ``entered_at``, linking to the
article, with id ``<article url>#ranking-<period>-<entered_at in UTC, %Y%m%dT%H%M%SZ>`` (RSS
``isPermaLink="false"``): unique per entrance, stable across builds, and still a URL of the
article.

Determinism: the same data and config give byte-identical files (see :mod:`feeds.render`);
files whose bytes do not change are not rewritten (:mod:`feeds.write`), so a second build of
unchanged data reports ``written == 0``. Stale files are removed, but only files the builder
owns: ``*.atom`` / ``*.rss`` inside ``category/``, ``source/`` and ``ranking/``, and leftover
temporary files of an interrupted write. Run one build at a time per folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
from lxml import etree

from crawler.items import PERIODS, ArticleItem
from feeds.config import FeedConfig, assign_category_slugs, assign_source_slugs, source_slug
from feeds.listing import FeedLink, render_index, render_opml
from feeds.model import FeedData, RankedArticle, RankingEntrance, RankingView
from feeds.render import (
    EMPTY_FEED_UPDATED,
    KINDS,
    EntrySpec,
    FeedSpec,
    SourceRef,
    render_feed,
)
from feeds.write import is_temp_file, write_if_changed

OWNED_DIRS = ("category", "source", "ranking")
FEED_SUFFIXES = {"atom": ".atom", "rss": ".rss"}

PERIOD_LABELS = {"24h": "24時間", "1w": "1週間", "1m": "1ヶ月"}
SUMMARY_CHARS = 200

_GROUP_ALL = "すべて"
_GROUP_CATEGORY = "カテゴリ"
_GROUP_SOURCE = "ソース"
_GROUP_RANKING = "ランキング"


@dataclass
class FeedFile:
    path: Path
    kind: str  # "atom" | "rss"
    feed: str  # "all", "category:<label>", "source:<key>", "ranking:<source>:<period>",
    #            "ranking-new:<source>"
    entries: int


@dataclass
class BuildReport:
    files: list[FeedFile]  # every feed file of this build (not opml.xml / index.html)
    written: int  # files (feeds, opml.xml, index.html) whose bytes changed
    unchanged: int  # files left untouched because their bytes were already right
    removed: list[Path] = field(default_factory=list)  # stale files deleted
    # Distinct articles left out of a feed for want of an aware published date (only those
    # that came within a feed's window are seen).
    skipped: int = 0


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


def excerpt(html: str, limit: int = SUMMARY_CHARS) -> str:
    """Plain text of an HTML fragment, whitespace collapsed, cut at ``limit`` characters."""
    if not html.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return ""
    for el in root.xpath(".//script|.//style|.//noscript"):
        el.drop_tree()
    text = re.sub(r"\s+", " ", root.text_content()).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _by_date(items: Iterable[ArticleItem]) -> list[ArticleItem]:
    """Published desc, then id (the canonical URL when the id is unset), one per URL."""
    unique: dict[str, ArticleItem] = {}
    for item in sorted(items, key=lambda a: a.id or a.url):
        unique.setdefault(item.url, item)
    return sorted(
        unique.values(), key=lambda a: _aware(a.published) or EMPTY_FEED_UPDATED, reverse=True
    )


def entrance_id(url: str, period: str, entered_at: datetime) -> str:
    """Id of one entrance into a ranking list: the article URL with a fragment naming it."""
    utc = _require_aware(entered_at, "entered_at").astimezone(UTC)
    stamp = utc.strftime("%Y%m%dT%H%M%S") + (f".{utc.microsecond:06d}" if utc.microsecond else "")
    return f"{url.split('#', 1)[0]}#ranking-{period}-{stamp}Z"


class _Builder:
    def __init__(self, data: FeedData, config: FeedConfig) -> None:
        self.data = data
        self.config = config
        self.skipped: set[str] = set()
        self.ranking_sources = sorted(set(data.ranking_sources()))
        self.source_slugs = assign_source_slugs([*data.sources(), *self.ranking_sources])

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
            content_html=article.content_html,
            source=self._source_ref(article.source),
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
        entries = [self._article_entry(a) for a in _by_date(dated)[:limit]]
        return [e for e in entries if e is not None]

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
        slugs = assign_category_slugs(self.data.categories(), self.config.category_slugs)
        for label, slug in sorted(slugs.items()):
            stem = f"category/{slug}"
            spec = self._spec(
                stem, label, f"カテゴリ「{label}」の最新記事", self._latest(category=label)
            )
            planned.append(_Planned(f"category:{label}", stem, spec, _GROUP_CATEGORY, label))
        for source in sorted(self.data.sources()):
            slug = self.source_slugs[source]
            name = self.config.source_name(source)
            stem = f"source/{slug}"
            spec = self._spec(stem, name, f"{name}の最新記事", self._latest(source=source))
            planned.append(_Planned(f"source:{source}", stem, spec, _GROUP_SOURCE, name))
        for source in self.ranking_sources:
            planned += self._plan_rankings(source)
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
                        entries.append(entry)
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


def _remove_stale(out_dir: Path, keep: set[Path]) -> list[Path]:
    removed = []
    candidates = [p for p in out_dir.iterdir() if p.is_file() and is_temp_file(p)]
    for sub in OWNED_DIRS:
        folder = out_dir / sub
        if folder.is_dir():
            candidates += [
                p
                for p in folder.iterdir()
                if p.is_file()
                and (is_temp_file(p) or (p.suffix in FEED_SUFFIXES.values() and p not in keep))
            ]
    for path in sorted(candidates):
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def build_feeds(data: FeedData, out_dir: Path, config: FeedConfig) -> BuildReport:
    """Write every feed, ``opml.xml`` and ``index.html`` into ``out_dir`` (layout above)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    builder = _Builder(data, config)
    planned = builder.plan()

    files: list[FeedFile] = []
    written = unchanged = 0
    for item in planned:
        for kind in KINDS:
            path = out_dir / (item.stem + FEED_SUFFIXES[kind])
            if write_if_changed(path, render_feed(item.spec, kind)):
                written += 1
            else:
                unchanged += 1
            files.append(FeedFile(path, kind, item.key, len(item.spec.entries)))

    links = [
        FeedLink(
            group=item.group,
            title=item.spec.title,
            name=item.name,
            atom_path=item.stem + ".atom",
            rss_path=item.stem + ".rss",
            entries=len(item.spec.entries),
        )
        for item in planned
    ]
    pages = {
        "opml.xml": render_opml(links, title=config.title, base_url=config.base_url),
        "index.html": render_index(links, title=config.title, language=config.language),
    }
    for name, content in pages.items():
        if write_if_changed(out_dir / name, content):
            written += 1
        else:
            unchanged += 1

    removed = _remove_stale(out_dir, {f.path for f in files})
    return BuildReport(
        files=files,
        written=written,
        unchanged=unchanged,
        removed=removed,
        skipped=len(builder.skipped),
    )
