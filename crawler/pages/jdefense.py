"""Jディフェンスニュース (https://j-defense.ikaros.jp/): the generic reader with its profile.

Everything J-Defense-specific is data: the ``[[source]] key = "jdefense"`` block of
``crawler/sources.toml`` (label vocabulary, date line, chrome, hints, ranking tabs, the
section labels of pages showing none, discovery). This module only binds that profile to the
page functions of :mod:`crawler.pages.site`, under the names tests, benchmarks and older code
import. No J-Defense Python is left here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from crawler.pages import site
from crawler.pages.html import PageParseError
from crawler.pages.profiles import discovery_of, profile_for, source_for
from crawler.pages.site import PROVENANCE_FIELDS

__all__ = [
    "ARTICLE_URL_RE",
    "PROFILE",
    "PROVENANCE_FIELDS",
    "SELECTORS",
    "SITE_URL",
    "PageParseError",
    "article_number",
    "article_section",
    "article_url",
    "parse_article",
    "parse_listing",
    "parse_ranking",
    "ranking_signature",
]

SOURCE = source_for("jdefense")
PROFILE = profile_for("jdefense")
DISCOVERY = discovery_of(SOURCE)
SITE_URL = SOURCE.url
ARTICLE_URL_RE = PROFILE.article_url_re


@dataclass(frozen=True)
class Selectors:
    """The profile's hints under the names of the old ``SELECTORS`` (tests read them)."""

    title: tuple[str, ...]
    categories: tuple[str, ...]
    dateline: tuple[str, ...]
    author: tuple[str, ...]
    body: tuple[str, ...]
    lead: tuple[str, ...]
    ranking: tuple[str, ...]
    ranking_title: str
    home_list: str
    listing_scope: tuple[str, ...]
    next_page: tuple[str, ...]


_h = PROFILE.hints
SELECTORS = Selectors(
    title=_h.title, categories=_h.labels, dateline=_h.dateline, author=_h.author, body=_h.body,
    lead=_h.lead, ranking=_h.ranking, ranking_title=_h.ranking_title[0], home_list=_h.listing[0],
    listing_scope=_h.listing_scope, next_page=_h.next_page,
)


def parse_article(html: str | bytes, url: str) -> dict[str, Any]:
    return site.parse_article(html, url, PROFILE)


def parse_listing(html: str | bytes, url: str) -> dict[str, Any]:
    return site.parse_listing(html, url, PROFILE)


def parse_ranking(html: str | bytes, url: str) -> dict[str, list[dict[str, Any]]] | None:
    return site.parse_ranking(html, url, PROFILE)


def ranking_signature(html: str | bytes, url: str) -> str | None:
    return site.ranking_signature(html, url, PROFILE)


def article_number(url: str) -> int | None:
    """The counter of an article URL (``/docs/mod/001933.html`` → 1933), else None."""
    return site.article_key(url, PROFILE)


def article_section(url: str) -> str | None:
    return site.article_section(url, PROFILE)


def article_url(base_url: str, section: str, number: int) -> str:
    """The URL of article ``number`` in ``section`` (the profile's id-walk template)."""
    if not 0 <= number <= 999_999:
        raise ValueError(f"article number out of range: {number}")
    if not re.fullmatch(r"[a-z][a-z0-9_-]*", section):
        raise ValueError(f"not a section slug: {section!r}")
    assert DISCOVERY.id_walk_template is not None
    return urljoin(base_url, DISCOVERY.id_walk_template.format(section=section, number=number))
