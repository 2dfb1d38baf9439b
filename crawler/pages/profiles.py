"""A site's profile from its ``[[source]]`` block: :class:`SiteProfile` and :class:`Discovery`.

``sources.toml`` says what a site is (``crawler/site_fields.py`` checks the fields); this module
turns the checked tables into the objects the reader (:mod:`crawler.pages.site`) and the site
spider (:mod:`crawler.spiders.site`) use. A field a block leaves out takes the generic default:
a site with no profile at all is read with no vocabulary (the generic reader's layers only).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from crawler.pages.finders import Hints, SiteProfile
from crawler.sources import Source, load_sources

__all__ = ["GENERIC", "Discovery", "discovery_of", "profile_for", "profile_of"]

# Any path but the root: with no article_url pattern, every page the reader accepts.
_ANY_PATH = re.compile(r"^/.+")
_NOTHING = re.compile(r"(?!)")

GENERIC = SiteProfile(
    name="generic", site_name="", dateline_re=_NOTHING, article_url_re=_ANY_PATH,
    label_link_re=_NOTHING,
)


@dataclass(frozen=True)
class Discovery:
    """How the site spider finds a site's articles (``[source.discovery]``)."""

    listings: tuple[str, ...] = ("/",)  # the first is the front page
    sections: tuple[str, ...] = ()
    pagination: bool = True
    prev_next: bool = True
    ranking: bool = False
    id_walk_template: str | None = None  # "/docs/{section}/{number:06d}.html"
    id_walk_sections: tuple[str, ...] = ()
    date_template: str | None = None  # "/…/{date:%y%m%d}{seq:02d}.html"
    date_days: int = 14
    date_per_day: int = 10
    date_max_probes: int = 60
    date_first_seq: int = 1

    def listing_paths(self) -> list[str]:
        """The start pages, ``{section}`` expanded (front page first)."""
        paths: list[str] = []
        for path in self.listings:
            if "{section}" in path:
                paths.extend(path.replace("{section}", s) for s in self.sections)
            else:
                paths.append(path)
        return list(dict.fromkeys(paths))


def _re(value: str | None, flags: int = 0) -> re.Pattern[str] | None:
    return re.compile(value, flags) if value else None


def _section_labels(table: Mapping[str, Any]) -> Any:
    """``section_labels`` as the reader's ``infer_labels(section, published_raw)``."""
    if not table:
        return None

    def infer_labels(section: str | None, published_raw: str | None) -> list[str]:
        steps = table.get(section or "")
        if not steps:
            return []
        if len(steps) > 1 or steps[0][1] is not None:
            m = re.search(r"(\d{4})\D{1,2}(\d{1,2})\D{1,2}(\d{1,2})", published_raw or "")
            if not m:
                return []  # a label that changed over time needs the page's date
            day = date(*(int(x) for x in m.groups()))
            for label, until in steps:
                if until is None or day <= until:
                    return [label]
            return []
        return [steps[0][0]]

    return infer_labels


def profile_of(source: Source) -> SiteProfile:
    """The reader's profile of a ``kind = "site"`` source (its ``[source.profile]`` table)."""
    return _profile(source.key, source.name, _freeze(source.profile))


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


@functools.lru_cache(maxsize=64)
def _profile(key: str, name: str, frozen: tuple[tuple[str, Any], ...]) -> SiteProfile:
    p: dict[str, Any] = dict(frozen)
    hints = {k: tuple(v) for k, v in p.get("hints", ())}
    site_name = p.get("site_name") or name
    labels = frozenset(p.get("labels", ()))
    sections = {k: tuple(v) for k, v in p.get("section_labels", ())}
    return SiteProfile(
        name=key,
        site_name=site_name,
        dateline_re=_re(p.get("dateline")) or _NOTHING,
        article_url_re=_re(p.get("article_url")) or _ANY_PATH,
        label_link_re=_re(p.get("label_link")) or _NOTHING,
        label_vocabulary=labels,
        chrome_phrases=frozenset(p.get("chrome", ())),
        chrome_re=_re(p.get("chrome_pattern")),
        end_re=_re(p.get("end_pattern")),
        caption_re=_re(p.get("caption_pattern")),
        byline_re=_re(p.get("byline")),
        not_article_re=_re(p.get("not_article")),
        ranking_heading=p.get("ranking_heading", ""),
        hints=Hints(**hints),
        infer_labels=_section_labels(sections),
        label_position=p.get("label_position", "below"),
        date_precision=p.get("date_precision", "minute"),
        byline_end_re=_re(p.get("byline_end")),
        not_byline_re=_re(p.get("not_byline")),
        truncation=tuple(p.get("truncation", ())),
        not_article_pages=frozenset(p.get("not_article_pages", ())),
        next_article=tuple(p.get("next_article", ("次の記事",))),
        prev_article=tuple(p.get("prev_article", ("前の記事",))),
        next_page_re=_re(p.get("next_page")),
        index_page_re=_re(p.get("index_page")),
        ranking_tabs=dict(p.get("ranking_tabs", ())),
    )


def discovery_of(source: Source) -> Discovery:
    d = dict(source.discovery)
    walk = d.get("id_walk") or {}
    folders = d.get("date_folders") or {}
    listings = tuple(d.get("listings", ("/",)))
    return Discovery(
        listings=listings,
        sections=tuple(d.get("sections", ())),
        pagination=d.get("pagination", True),
        prev_next=d.get("prev_next", True),
        ranking=d.get("ranking", False),
        id_walk_template=walk.get("template"),
        id_walk_sections=tuple(walk.get("sections", d.get("sections", ()))),
        date_template=folders.get("template"),
        date_days=folders.get("days", 14),
        date_per_day=folders.get("per_day", 10),
        date_max_probes=folders.get("max_probes", 60),
        date_first_seq=folders.get("first_seq", 1),
    )


def source_for(key: str, sources: str | Path | None = None) -> Source:
    """The source ``key`` of a sources file (the packaged one by default)."""
    return _load(str(sources) if sources else None).get(key)


@functools.lru_cache(maxsize=8)
def _load(path: str | None) -> Any:
    return load_sources(path)


def with_bundled_profile(source: Source) -> Source:
    """``source``, or when its block says nothing of the site (no ``[source.profile]``, no
    ``[source.discovery]``) and the packaged list knows a site of that key, the packaged
    block's profile and discovery under the source's own name and URLs: a sources file
    written before profiles existed (``key = "jdefense"``, ``spider = "jdefense"``) keeps
    crawling as it did."""
    if source.profile or source.discovery:
        return source
    try:
        bundled = source_for(source.key)
    except KeyError:
        return source
    if bundled.kind != "site":
        return source
    return dataclasses.replace(source, profile=bundled.profile, discovery=bundled.discovery)


def profile_for(key: str, sources: str | Path | None = None) -> SiteProfile:
    """The profile of source ``key`` (``defnews read --profile KEY``, tests, the shim)."""
    return profile_of(source_for(key, sources))
