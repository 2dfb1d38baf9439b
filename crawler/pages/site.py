"""Page parsers of every site read by a profile (``[[source]]`` blocks of ``sources.toml``).

The article parser reads fields by what they are, not by today's class names: the generic
finders of :mod:`crawler.pages.finders` do the reading, with the site's profile (a
:class:`~crawler.pages.finders.SiteProfile` built by :mod:`crawler.pages.profiles`: label
vocabulary, date-line pattern, URL patterns, chrome phrases, caption words, and the known class
names as first hints only); :mod:`crawler.pages.profile_rules` then applies what the profile
says of bylines, paywalls, captions and labels above the title. Listings and the ranking
sidebar are read here. Pure functions of ``(html, url, profile)``: no Scrapy, no store, no
clock. (Until 2026-12 this was ``crawler/pages/jdefense.py``; that module now only binds the
J-Defense profile.)

Layers of :func:`parse_article` (the first that answers wins; ``provenance`` names it):

==============  ==========================================================================
field           layers
==============  ==========================================================================
url             ``<link rel=canonical>`` → ``og:url`` → the given URL (a candidate must be
                an article URL: a canonical pointing at the home page is a CMS bug)
title           hint (``h1.entry-title``) → metadata (JSON-LD ``headline`` unless cut short,
                ``og:title``, ``<title>`` without the site name), read from the page heading
                that says it → structure: the block just before the date line
published_raw   JSON-LD ``datePublished`` → ``article:published_time`` → ``<time>`` in the
                header (a day without a time gives way to the date line) → the date line: the
                hint (``p.date``), else the short ``YYYY-M-D HH:MM`` block nearest the title.
                Never the title: its ``(10月28日)`` is an event date.
updated_raw     JSON-LD ``dateModified`` → ``article:modified_time`` → ``<time>`` marked
                as an update
categories      hint (``ul.category li``) → structure: short texts and links between the title
                and the date line (and label words or section links right after it) →
                JSON-LD ``articleSection`` / ``article:section`` → inferred: the section's
                label at the article's date
author          JSON-LD ``author`` of type Person → the byline hint → a byline under the date
summary         the lead: hint ``p.lead`` → the first paragraph of the body →
                ``og:description`` → ``<meta name=description>``
body            hint (``.entry-body``) → the blocks after the header until the footer note,
                the pager or the ranking, minus chrome (ads, share bars, banners, page-top)
==============  ==========================================================================

Dates stay raw strings with the name of their layer (``*_source``); ``crawler/dates.py``
turns them into aware datetimes. ``content_html`` is the whole article text *including* the
lead paragraph (a feed reader showing only the content shows the complete article; the lead
is also ``summary``), without any site chrome. The ranking sidebar is not read by
:func:`parse_article` (``ranking_signature`` says when it changed; :func:`parse_ranking`
reads it).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, cast
from urllib.parse import urldefrag

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector

from crawler.items import PERIODS
from crawler.pages import reader
from crawler.pages.finders import (
    SKIP_TAGS,
    HintIndex,
    SiteProfile,
    region_signature,
    small_region,
)
from crawler.pages.html import (
    PageParseError,
    element_text,
    extract_jsonld,
    extract_opengraph,
    normalize_space,
    parse_document,
    parse_html,
    parse_html_source,
)
from crawler.pages.profile_rules import apply_profile_rules
from crawler.pages.reader import PROVENANCE_FIELDS
from crawler.urls import join_url, split_url, url_path

__all__ = [
    "PROVENANCE_FIELDS",
    "PageParseError",
    "article_key",
    "article_section",
    "parse_article",
    "parse_listing",
    "parse_ranking",
    "ranking_signature",
]



# -- URLs ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)  # (a page asks it of its own URL several times)
def _match_path(pattern: re.Pattern[str], url: str) -> re.Match[str] | None:
    parts = split_url(url)
    return pattern.match(parts.path) if parts is not None else None


def _match(url: str | None, profile: SiteProfile) -> re.Match[str] | None:
    if not url:
        return None
    return _match_path(profile.article_url_re, url)


def is_article_url(url: str | None, profile: SiteProfile) -> bool:
    """Whether ``url`` is an article page of the site (its pattern, not a page never read)."""
    if not url:
        return False
    if profile.not_article_pages and (url_path(url) or "/") in profile.not_article_pages:
        return False
    return _match(url, profile) is not None


def article_key(url: str, profile: SiteProfile) -> int | None:
    """The id of an article URL as a number, else None: what incremental crawls, the id walk
    and the date-folder probe remember.

    The ``number`` group when the pattern has one (``/docs/mod/001933.html`` → 1933); else the
    digits of its ``day`` and ``seq`` groups, and a letter suffix (``(?P<suffix>)``) as two
    more digits (``/…/250328/25032801a.html`` → 2503280101).
    """
    m = _match(url, profile)
    if m is None:
        return None
    groups = m.groupdict()
    if groups.get("number") is not None:
        return int(groups["number"])
    digits = "".join(groups[g] for g in ("day", "seq") if groups.get(g))
    if not digits.isdigit():
        return None
    if "suffix" in groups:
        suffix = (groups["suffix"] or "").lower()
        return int(digits) * 100 + (ord(suffix) - 96 if suffix else 0)
    return int(digits)


def article_section(url: str, profile: SiteProfile) -> str | None:
    """The section of an article URL (``/docs/mod/001933.html`` → ``"mod"``), else None."""
    m = _match(url, profile)
    return m.groupdict().get("section") if m else None


@functools.lru_cache(maxsize=64)
def _origin_of(url: str) -> str:
    parts = split_url(url)
    return f"{parts.scheme}://{parts.netloc}" if parts is not None else ""


def _absolute(base: str, href: str | None) -> str | None:
    if not href or not href.strip():
        return None
    href = href.strip()
    # Short-cuts for the common forms (urljoin costs more than reading the link did).
    if "/." not in href and "#" not in href and "\\" not in href:
        if href.startswith(("https://", "http://")):
            return href if split_url(href) is not None else None  # ww].ikaros.jp: skipped
        if href.startswith("/") and not href.startswith("//"):
            return _origin_of(base) + href
    if href.lower().startswith(("javascript:", "mailto:", "tel:", "data:")):
        return None
    joined = join_url(base, href)  # None when it cannot be parsed: that one link is skipped
    return urldefrag(joined)[0] if joined else None


# -- small tree helpers ----------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _compiled(selector: str) -> CSSSelector:
    # Translating CSS to XPath on every call (what .cssselect() does) cost more than parsing
    # the page; the selectors are few and fixed, so each is compiled once.
    return CSSSelector(selector)


def _select(root: Any, selector: str) -> list[lxml.html.HtmlElement]:
    """The elements under ``root`` matching a CSS ``selector``."""
    return cast(list[lxml.html.HtmlElement], _compiled(selector)(root))


def _first(root: Any, selectors: tuple[str, ...]) -> lxml.html.HtmlElement | None:
    for selector in selectors:
        found = _select(root, selector)
        if found:
            return found[0]
    return None


def _all(root: Any, selectors: tuple[str, ...]) -> list[lxml.html.HtmlElement]:
    for selector in selectors:
        found = _select(root, selector)
        if found:
            return found
    return []


def _inside(el: lxml.html.HtmlElement, ancestors: list[lxml.html.HtmlElement]) -> bool:
    return any(a is el or a in el.iterancestors() for a in ancestors)


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


# -- article ---------------------------------------------------------------------------------


def _canonical_hrefs(links: Iterable[Any]) -> list[str]:
    return [
        link.get("href") or ""
        for link in links
        if link.get("href") and "canonical" in (link.get("rel") or "").lower().split()
    ]


def _pick_url(links: Iterable[Any], url: str, og: dict[str, str], profile: SiteProfile) -> str:
    for href in [*_canonical_hrefs(links), og.get("og:url")]:
        absolute = _absolute(url, href)
        if absolute and is_article_url(absolute, profile):
            return absolute
    return urldefrag(url)[0]


def _next_prev(
    tree: lxml.html.HtmlElement,
    ranking: lxml.html.HtmlElement | None,
    url: str,
    main: lxml.html.HtmlElement | None,
    profile: SiteProfile,
) -> tuple[str | None, str | None]:
    """次の記事 / 前の記事 (or rel=next/prev) links anywhere outside the ranking sidebar;
    ``main``: the page's ``<main>``, searched first."""
    found: dict[str, str | None] = {"next": None, "prev": None}
    for scope in (main, tree) if main is not None else (tree,):
        # A sidebar outside <main> cannot hold its links: no ancestor test per link there.
        sidebar = ranking if ranking is None or scope is tree or any(
            p is scope for p in ranking.iterancestors()
        ) else None
        _pager_links(scope, sidebar, url, found, profile)
        if found["next"] or found["prev"]:
            break
    return found["next"], found["prev"]


def _pager_links(
    scope: Any, ranking: lxml.html.HtmlElement | None, url: str, found: dict[str, str | None],
    profile: SiteProfile,
) -> None:
    needle = _needle_re((*profile.next_article, *profile.prev_article)).search
    for a in scope.iter("a"):  # cheap tests first: most links are neither
        own = a.text or ""
        if not needle(own):
            rel_attr = a.get("rel")
            if not (rel_attr and ("next" in rel_attr or "prev" in rel_attr)) and (
                own.strip() or not any(needle(c.text or "") for c in a)
            ):
                continue
        rel_attr = a.get("rel")
        href = a.get("href")
        if href is None:
            continue
        text = normalize_space("".join(a.itertext()) if len(a) else own)
        if ranking is not None and any(p is ranking for p in a.iterancestors()):
            continue
        rel = (rel_attr or "").lower().split()
        key = None
        label = _PAGER_DECORATION_RE.sub("", text)  # "次の記事 »", "< 前の記事へ"
        if label in profile.next_article or (not text.startswith("次へ") and "next" in rel):
            key = "next"
        elif label in profile.prev_article or (not text.startswith("前へ") and "prev" in rel):
            key = "prev"
        if key and found[key] is None:
            found[key] = _absolute(url, href)


@functools.lru_cache(maxsize=64)
def _needle_re(needles: tuple[str, ...]) -> re.Pattern[str]:
    """Whether a text holds any of ``needles`` (one C search instead of a test per needle)."""
    return re.compile("|".join(re.escape(n) for n in needles) if needles else "(?!)")


_PAGER_DECORATION_RE = re.compile(r"[\s<>«»‹›＜＞←→◀▶|｜]+|へ$")


_TAGS_READ = ("meta", "title", "link", "script", "aside", "main", "h1")


def parse_article(
    html: str | bytes, url: str, profile: SiteProfile | None = None, *, pager: bool = True
) -> dict[str, Any]:
    """One article page → plain data (see the module docstring for the layers).

    The generic reader (:func:`crawler.pages.reader.read_article`) with the site's profile,
    plus what a profiled site has: its article URLs, the 次の記事/前の記事 links, the ranking
    sidebar and the profile's own steps (:mod:`crawler.pages.profile_rules`).
    Raises :class:`PageParseError` when the page is not an article at all (no title in any
    layer; an error, search or listing page). A page with a title but no date gets
    ``published_raw = None``. The ranking sidebar is not read here (see :func:`parse_ranking`);
    ``ranking_signature`` changes whenever its markup does, so a crawl reads it once per version.
    ``pager=False``: the 次の記事/前の記事 links are not looked for (``next_url`` and
    ``prev_url`` None), for a crawl of a site whose discovery does not follow them.
    """
    if profile is None:
        from crawler.pages.profiles import GENERIC

        profile = GENERIC
    if profile.not_article_pages and (url_path(url) or "/") in profile.not_article_pages:
        raise PageParseError(f"{url}: not an article page: the site's profile says so")
    tree, source, deep = parse_document(html, url)
    # The elements read by tag, gathered in one C walk of the page (each tree.iter(tag) is a
    # walk of its own: seven of them cost as much as the block walk).
    tagged: dict[str, list[Any]] = {tag: [] for tag in _TAGS_READ}
    for el in tree.iter(*_TAGS_READ):
        tagged[el.tag].append(el)
    ranking = _ranking_container(tree, profile, asides=tagged["aside"])
    signature = region_signature(ranking, url, source) if ranking is not None else None
    og = extract_opengraph(tree, metas=tagged["meta"])
    # An article URL, JSON-LD or og:type say "article": then a page without a date line is
    # still read (listing checks are for pages nothing vouches for).
    jsonld = extract_jsonld(tree, scripts=tagged["script"])
    declared = bool(jsonld) or og.get("og:type") == "article" or _match(url, profile) is not None
    main = tagged["main"][0] if tagged["main"] else None
    next_url, prev_url = (  # before the reader changes the tree
        _next_prev(tree, ranking, url, main, profile) if pager else (None, None))
    page = reader.Page(
        html=html, url=url, profile=profile, generic=False, tree=tree, declared=declared,
        tagged=tagged, jsonld=jsonld, deep=deep,
        # The sidebar is never read as content — unless what was found is the whole page.
        # (An <aside> is never walked anyway: no need to measure it.)
        skip={ranking}
        if ranking is not None and ranking.tag not in SKIP_TAGS and small_region(ranking)
        else set(),
    )
    item = reader.fields(reader.read(page))
    canonical = _pick_url(tagged["link"], url, og, profile)
    images: list[dict[str, str | None]] = []
    seen: set[str] = set()
    for img in page.found.images:
        src = _absolute(url, img["src"])
        if src and src not in seen:
            seen.add(src)
            images.append({"url": src, "caption": img["caption"]})
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    return apply_profile_rules({
        "url": canonical,
        "title": item["title"],
        "categories": item["categories"],
        "published_raw": item["published_raw"],
        "published_source": item["published_source"],
        "updated_raw": item["updated_raw"],
        "updated_source": page.updated_source,
        "author": item["author"],
        "summary": item["summary"],
        "content_html": item["content_html"],
        "images": images,
        "language": normalize_space(lang) or "ja",
        "section": article_section(canonical, profile) or article_section(url, profile),
        "next_url": next_url,
        "prev_url": prev_url,
        "ranking_signature": signature,
        "provenance": {k: v for k, v in item["provenance"].items() if k in PROVENANCE_FIELDS},
    }, tree, profile)


def ranking_signature(html: str | bytes, url: str, profile: SiteProfile) -> str | None:
    """The signature :func:`parse_article` gives the ranking sidebar of a page (None: none)."""
    tree, source = parse_html_source(html, url)
    container = _ranking_container(tree, profile)
    return region_signature(container, url, source) if container is not None else None


# -- listings --------------------------------------------------------------------------------


def parse_listing(html: str | bytes, url: str, profile: SiteProfile) -> dict[str, Any]:
    """Article links of the home page or a section index, and the next index page.

    The latest-articles list (the ``listing`` hint) comes first; then every other
    article link in ``<main>`` — the fallback when the list is rendered by JavaScript or
    its markup changes — except the ranking sidebar and 次の記事/前の記事 links.
    """
    tree = parse_html(html, url)
    hints = profile.hints
    scope = _first(tree, hints.listing_scope)
    if scope is None:
        return {"article_urls": [], "next_page": None}
    excluded = _all(tree, hints.ranking)
    if not excluded:  # no known class: the sidebar found by its heading
        container = _ranking_container(tree, profile)
        excluded = [container] if container is not None else []
    anchors = [a for selector in hints.listing for a in _select(tree, selector)]
    anchors += list(scope.iter("a"))
    pager = (*profile.next_article, *profile.prev_article)
    urls = []
    for a in anchors:
        if _inside(a, excluded) or element_text(a) in pager:
            continue
        href = _absolute(url, a.get("href"))
        if href and is_article_url(href, profile):
            urls.append(href)
    return {"article_urls": _dedupe(urls), "next_page": _next_page(tree, url, profile)}


def _next_page(tree: lxml.html.HtmlElement, url: str, profile: SiteProfile) -> str | None:
    pager = (*profile.next_article, *profile.prev_article)
    for selector in profile.hints.next_page:
        for el in _select(tree, selector):
            if element_text(el) in pager:
                continue
            href = _absolute(url, el.get("href"))
            if href and not _match(href, profile):
                return href
    if profile.next_page_re is not None:
        for a in tree.iter("a"):
            if profile.next_page_re.match(element_text(a)):
                href = _absolute(url, a.get("href"))
                if href and href != urldefrag(url)[0]:
                    return href
    # Numbered index pages without a "next" label: index.html → index_2.html → index_3.html.
    index_re = profile.index_page_re
    if index_re is None:
        return None
    current = index_re.search(url_path(url))
    wanted = int(current.group("n")) + 1 if current else 2
    for a in tree.iter("a"):
        href = _absolute(url, a.get("href"))
        m = index_re.search(url_path(href)) if href else None
        if href and m and int(m.group("n")) == wanted:
            return href
    return None


# -- ranking ---------------------------------------------------------------------------------


def _tab_period(text: str, tabs: Mapping[str, str]) -> str | None:
    return tabs.get(unicodedata.normalize("NFKC", normalize_space(text)).replace(" ", ""))


_RANKING_HEADINGS = etree.XPath(
    "//*[not(self::script or self::style or self::title)]"
    "[text()[contains(., $heading)]"
    " or ((self::h2 or self::h3 or self::h4) and contains(string(.), $heading))]"
)


# What CSS class matching splits a class attribute on (XPath normalize-space: not U+3000).
_XML_SPACE = re.compile(r"[ \t\r\n]+")
_ASIDE_CLASS_RE = re.compile(r"^aside\.([A-Za-z_][\w-]*)$")


def _ranking_container(
    tree: lxml.html.HtmlElement, profile: SiteProfile, index: HintIndex | None = None,
    asides: Iterable[Any] | None = None,
) -> lxml.html.HtmlElement | None:
    """The ranking sidebar; ``asides``: the page's ``<aside>`` elements if collected already."""
    selectors = profile.hints.ranking
    el = None
    if index is not None:
        el = index.first(selectors)
    elif selectors:
        fast = _ASIDE_CLASS_RE.match(selectors[0])
        if fast:  # "aside.ranking" by a C walk over the asides (its XPath tests every element)
            name = fast.group(1)
            el = next(
                (
                    a
                    for a in (tree.iter("aside") if asides is None else asides)
                    if name in (cls := a.get("class") or "") and name in _XML_SPACE.split(cls)
                ),
                None,
            )
            selectors = selectors[1:]
        if el is None:
            el = _first(tree, selectors)
    if el is not None:
        return el
    heading = profile.ranking_heading
    if not heading:
        return None
    # No known class or id: climb from the 読まれている記事 heading to the first ancestor
    # that also holds lists of links. (One XPath finds the candidates; most pages have few.)
    for node in cast(list[Any], _RANKING_HEADINGS(tree, heading=heading)):
        own_text = normalize_space(node.text)
        if (heading in own_text and len(own_text) <= 20) or (
            node.tag in ("h2", "h3", "h4") and heading in element_text(node)
        ):
            for ancestor in node.iterancestors():
                if ancestor.xpath(".//li[.//a[@href]]"):
                    return ancestor
                if ancestor.tag in ("body", "main"):
                    break
    return None


def _entries(
    list_el: lxml.html.HtmlElement, url: str, profile: SiteProfile
) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for li in list_el.iter("li"):
        a = li if li.tag == "a" else next(li.iter("a"), None)
        if a is None or not a.get("href"):
            continue
        title_el = _first(a, profile.hints.ranking_title) if profile.hints.ranking_title else None
        title = element_text(title_el) or element_text(a)
        href = _absolute(url, a.get("href"))
        if title and href:
            entries.append({"rank": len(entries) + 1, "title": title, "url": href})
    return entries


def _link_lists(
    container: lxml.html.HtmlElement, tabs: Mapping[str, str]
) -> list[lxml.html.HtmlElement]:
    """``ol``/``ul`` elements holding entry links (not tab lists), outermost only."""
    lists = []
    for el in container.iter("ol", "ul"):
        links = el.xpath("./li//a[@href]")
        if not links:
            continue
        if all(
            (a.get("href") or "").startswith("#") or _tab_period(element_text(a), tabs) for a in links
        ):
            continue  # the tab bar
        lists.append(el)
    return [el for el in lists if not any(p in lists for p in el.iterancestors())]


def _tabs(
    container: lxml.html.HtmlElement, names: Mapping[str, str]
) -> list[tuple[str, lxml.html.HtmlElement]]:
    """Tab labels (24時間 / 1週間 / 1ヶ月) in page order, innermost element per label."""
    tabs: list[tuple[str, lxml.html.HtmlElement]] = []
    for el in container.iter():
        if not isinstance(el.tag, str):
            continue
        period = _tab_period(element_text(el), names)
        if period and not any(_tab_period(element_text(child), names) for child in el):
            if period not in {p for p, _ in tabs}:
                tabs.append((period, el))
    return tabs


def _tab_target(
    container: lxml.html.HtmlElement, tab: lxml.html.HtmlElement
) -> lxml.html.HtmlElement | None:
    for el in [tab, *list(tab.iterancestors())[:2]]:
        for attr_name in ("aria-controls", "data-target", "data-tab", "href"):
            value = (el.get(attr_name) or "").strip()
            if attr_name == "href" and not value.startswith("#"):
                continue
            target = value.lstrip("#")
            found = container.xpath(".//*[@id=$id]", id=target) if target else []
            if found:
                return found[0]
    return None


def _ranking_lists(
    container: lxml.html.HtmlElement, names: Mapping[str, str]
) -> dict[str, lxml.html.HtmlElement]:
    # 1. Panels that say which period they are: data-period="24h", or an id ending "-24h".
    lists: dict[str, lxml.html.HtmlElement] = {}
    for el in container.iter():
        if not isinstance(el.tag, str) or el.tag == "li":
            continue
        period = el.get("data-period")
        if period not in PERIODS:
            ident = el.get("id") or ""
            period = next((p for p in PERIODS if ident.endswith(f"-{p}")), None)
        if period and period not in lists and el.xpath(".//a[@href]"):
            lists[period] = el
    if lists:
        return lists
    # 2. Tabs by label, each pointing at its panel (aria-controls, href="#id"), else the
    #    link lists in page order.  3. No labels at all: the lists are 24h, 1w, 1m.
    free = _link_lists(container, names)
    tabs = _tabs(container, names) or [(p, None) for p in PERIODS]
    for period, tab in tabs:
        panel = _tab_target(container, tab) if tab is not None else None
        if panel is not None:
            free = [
                el
                for el in free
                if not (el is panel or panel in el.iterancestors() or el in panel.iterancestors())
            ]
        elif free:
            panel = free.pop(0)
        if panel is not None:
            lists[period] = panel
    return lists


def _ranking(
    tree: lxml.html.HtmlElement, url: str, profile: SiteProfile
) -> dict[str, list[dict[str, Any]]] | None:
    container = _ranking_container(tree, profile)
    if container is None:
        return None
    lists = _ranking_lists(container, profile.ranking_tabs)
    result = {p: _entries(lists[p], url, profile) if p in lists else [] for p in PERIODS}
    return result if any(result.values()) else None


def parse_ranking(
    html: str | bytes, url: str, profile: SiteProfile
) -> dict[str, list[dict[str, Any]]] | None:
    """The ranking sidebar: ``{"24h": [{"rank", "title", "url"}, ...], "1w": ..., "1m": ...}``.

    Entries in page order, ranks counted from 1, URLs absolute. ``None`` when the page has no
    sidebar or every list is empty (it may be filled by JavaScript). Lists are found by
    ``data-period``/ids, else by the tab labels 24時間 / 1週間 / 1ヶ月, else by order.
    """
    return _ranking(parse_html(html, url), url, profile)
