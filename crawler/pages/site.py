"""Page parsers for Jディフェンスニュース (https://j-defense.ikaros.jp/).

The article parser reads fields by what they are, not by today's class names: the generic
finders of :mod:`crawler.pages.finders` do the reading, with the site's profile
(:data:`PROFILE`: label vocabulary, date-line pattern, URL patterns, chrome phrases, caption
words, and :data:`SELECTORS` — the known class names — as first hints only). Listings and the
ranking sidebar are read here. Pure functions of ``(html, url)``: no Scrapy, no store, no clock.

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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector

from crawler.items import PERIODS
from crawler.pages.finders import (
    SKIP_TAGS,
    Found,
    HintIndex,
    Hints,
    SiteProfile,
    find_article,
    hint_names,
    region_signature,
    small_region,
    strip_site_name,
)
from crawler.pages.html import (
    PageParseError,
    TimeElement,
    element_text,
    extract_jsonld,
    extract_opengraph,
    find_time_elements,
    normalize_space,
    parse_html,
    parse_html_source,
)

__all__ = [
    "ARTICLE_URL_RE",
    "PROFILE",
    "PROVENANCE_FIELDS",
    "SELECTORS",
    "SITE_URL",
    "PageParseError",
    "Selectors",
    "article_number",
    "article_section",
    "article_url",
    "parse_article",
    "parse_listing",
    "parse_ranking",
    "ranking_signature",
]

SITE_URL = "https://j-defense.ikaros.jp/"

# /docs/<section>/<6-digit counter>.html — one counter shared by all sections.
ARTICLE_URL_RE = re.compile(r"^/docs/(?P<section>[a-z][a-z0-9_-]*)/(?P<number>\d{6})\.html$")


@dataclass(frozen=True)
class Selectors:
    """Where things are on a j-defense page (CSS selectors, tried in order)."""

    # Article page
    article: tuple[str, ...] = ("main article.entry", "article.entry", "main article", "main")
    header: tuple[str, ...] = (".entry-header",)
    title: tuple[str, ...] = ("h1.entry-title", ".entry-header h1")
    # Generic headings: read only on pages that otherwise look like an article.
    title_fallback: tuple[str, ...] = ("article h1", "main h1", "h1")
    categories: tuple[str, ...] = ("ul.category li", ".entry-header .category li")
    dateline: tuple[str, ...] = ("p.date", ".entry-header .date", ".entry-date")
    author: tuple[str, ...] = (".author", ".byline", "[rel=author]")
    body: tuple[str, ...] = (".entry-body", ".entry-content", ".article-body")
    lead: tuple[str, ...] = ("p.lead",)
    # Inside the body: never content.
    boilerplate: tuple[str, ...] = (
        ".ad", ".ads", ".adsbygoogle", ".advertisement", "ins",
        ".share-buttons", ".share", ".sns",
        ".nav-note", ".pager", ".pagination", ".breadcrumb",
        ".ranking", "aside", "nav", ".bnr", ".side-bnr", ".pagetop",
        ".tagline", ".site-search", "form",
    )  # fmt: skip
    # Without a known body container the body is the article minus these (and boilerplate).
    body_fallback_drop: tuple[str, ...] = (
        "header", "footer", ".entry-header", "h1", "ul.category", "p.date", ".author", ".byline",
    )  # fmt: skip
    # Sidebar
    ranking: tuple[str, ...] = ("aside.ranking", "#ranking", ".ranking")
    ranking_title: str = "[class*=title]"
    # Listings (home page, section indexes)
    home_list: str = "main article section div ul li div div p a"
    listing_scope: tuple[str, ...] = ("main", "body")
    next_page: tuple[str, ...] = ("a[rel~=next]", "link[rel~=next]")


SELECTORS = Selectors()

SITE_NAME = "Jディフェンスニュース"
# "<title> | Jディフェンスニュース" in <title> and sometimes og:title.
TITLE_SUFFIX_RE = re.compile(r"\s*[|｜\-–—]\s*" + re.escape(SITE_NAME) + r".*$")
# "2024-10-22 18:15", "2024-9-17 10:01": month and day not zero-padded, JST, no zone.
DATELINE_RE = re.compile(r"\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{2}")
NEXT_ARTICLE_TEXT = "次の記事"
PREV_ARTICLE_TEXT = "前の記事"
INDEX_PAGE_RE = re.compile(r"/index_(\d+)\.html$")
NEXT_PAGE_RE = re.compile(r"^(次へ|次のページ|次ページ)\s*[>＞»›]?$")
# The footer sentence under every article, wherever the template puts it.
NAV_NOTE_RE = re.compile(r"^◎?下の\[次の記事\]\[前の記事\]ボタン")
RANKING_HEADING = "読まれている記事"
# Tab labels of the ranking sidebar → period keys of crawler.items.PERIODS.
RANKING_TABS = {
    "24時間": "24h",
    "1日": "24h",
    "デイリー": "24h",
    "1週間": "1w",
    "週間": "1w",
    "1ヶ月": "1m",
    "1ケ月": "1m",
    "1か月": "1m",
    "1カ月": "1m",
    "1ヵ月": "1m",
    "月間": "1m",
}
TRUNCATED_RE = re.compile(r"(…|\.\.\.)$")

# -- the site profile: what the generic finders (crawler/pages/finders.py) need to know ---------

# Labels seen on the site (jdefense-site.md); a label the site adds later is still read when it
# stands in the label position (between the title and the date line).
LABELS = frozenset(
    {"日本の防衛", "防衛省関連", "その他", "ニュース解説", "特集", "解説", "レポート", "講演録",
     "インタビュー", "コラム", "連載"}
)  # fmt: skip
TAGLINE = "日本の防衛と安全保障の今を伝える"
# mod articles were labelled 防衛省関連 up to mid-September 2024, 日本の防衛 afterwards.
MOD_RELABELLED = (2024, 9, 15)
SECTION_LABELS = {"others": "その他", "commentary": "ニュース解説"}
PROVENANCE_FIELDS = ("title", "published", "labels", "body", "summary", "images", "author")


def infer_labels(section: str | None, published_raw: str | None) -> list[str]:
    """The label a page of ``section`` carried at its date, when the page shows none."""
    if section == "mod":
        m = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})", published_raw or "")
        if not m:
            return []
        day = tuple(int(x) for x in m.groups())
        return ["防衛省関連" if day < MOD_RELABELLED else "日本の防衛"]
    return [SECTION_LABELS[section]] if section in SECTION_LABELS else []


PROFILE = SiteProfile(
    name="jdefense",
    site_name=SITE_NAME,
    dateline_re=DATELINE_RE,
    article_url_re=ARTICLE_URL_RE,
    label_link_re=re.compile(r"^/docs/[a-z][a-z0-9_-]*/(?:index(?:_\d+)?\.html)?$"),
    label_vocabulary=LABELS,
    chrome_phrases=frozenset(
        {SITE_NAME, f"[{SITE_NAME}]", TAGLINE, "メニュー", "検索", "サイト内検索", "PR", "広告",
         "スポンサーリンク", "Advertisement", "pagetop", "PAGETOP", "ページトップ", "ページの先頭へ",
         "ポスト", "シェア", "LINEで送る", "ツイート", "はてブ", "ホーム", "TOP", "bnrname",
         "特集・解説", "この記事をシェアする", "シェアする", "ツイートする", "Tweet", "Share",
         "Facebook", "X", "LINE", "はてなブックマーク", "Pocket", "印刷", "Print", "トップへ戻る",
         "ページの先頭へ戻る", "TOPへ", "TOPへ戻る", "いいね！"}
    ),  # fmt: skip
    # (Both anchored as a whole: a search then tries the start only, not every position —
    # a third and a sixth of the time of the same alternatives each anchored on its own.)
    chrome_re=re.compile(
        r"^(?:(?:PR|広告|AD|Sponsored)$|©|&copy;|(?:タグ|Tags?)\s*[:：]|戻る$"
        r"|.*?All Rights Reserved|.*一覧[へに]戻る$)",
        re.I | re.S,
    ),
    end_re=re.compile(
        r"^(?:◎?下の\[次の記事\]\[前の記事\]ボタン|[^。]{0,12}(?:次の記事|前の記事)[^。]{0,24}$"
        r"|Ranking|.*読まれている記事$|(?:関連記事|あわせて読みたい|おすすめ記事)$)",
        re.S,
    ),
    caption_re=re.compile(r"^(?:写真|画像|資料|図|表|イラスト|出典|提供|撮影)[^。]{0,20}[:：]|^※"),
    byline_re=re.compile(
        r"^(?:(?:文|著|著者|筆者|執筆|取材|文・写真|写真・文)\s*[:：/／]\s*\S.*"
        r"|[^\s\d、。]{1,6} ?[^\s\d、。]{0,6}\s*[(（]?[A-Z][A-Za-z]+\s+[A-Z][A-Za-z]+[)）]?)$"
    ),
    not_article_re=re.compile(
        r"ページが見つかりません|お探しのページ|404 Not Found|Not Found|検索結果|Search results",
        re.IGNORECASE,
    ),
    ranking_heading=RANKING_HEADING,
    hints=Hints(
        title=("h1.entry-title", ".entry-header h1"),
        labels=("ul.category li", ".entry-header .category li"),
        dateline=("p.date", ".entry-header .date", ".entry-date"),
        body=(".entry-body", ".entry-content", ".article-body"),
        lead=("p.lead",),
        author=(".author", ".byline"),  # else JSON-LD, else a byline under the date line
        ranking=("aside.ranking", "#ranking", ".ranking"),
    ),
    infer_labels=infer_labels,
)
# Class and id names of the hints and of the ranking selectors: the only ones indexed.
_HINT_NAMES = hint_names(PROFILE.hints) | hint_names(Hints(ranking=Selectors.ranking))


# -- URLs ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)  # (a page asks it of its own URL several times)
def _match(url: str | None) -> re.Match[str] | None:
    if not url:
        return None
    return ARTICLE_URL_RE.match(urlsplit(url).path)


def article_number(url: str) -> int | None:
    """The counter of an article URL (``/docs/mod/001933.html`` → 1933), else None."""
    m = _match(url)
    return int(m.group("number")) if m else None


def article_section(url: str) -> str | None:
    """The slug of an article URL (``/docs/mod/001933.html`` → ``"mod"``), else None."""
    m = _match(url)
    return m.group("section") if m else None


def article_url(base_url: str, section: str, number: int) -> str:
    """The URL of article ``number`` in ``section`` on the site at ``base_url``."""
    if not 0 <= number <= 999_999:
        raise ValueError(f"article number out of range: {number}")
    if not re.fullmatch(r"[a-z][a-z0-9_-]*", section):
        raise ValueError(f"not a section slug: {section!r}")
    return urljoin(base_url, f"/docs/{section}/{number:06d}.html")


@functools.lru_cache(maxsize=64)
def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _absolute(base: str, href: str | None) -> str | None:
    if not href or not href.strip():
        return None
    href = href.strip()
    # Short-cuts for the common forms (urljoin costs more than reading the link did).
    if "/." not in href and "#" not in href and "\\" not in href:
        if href.startswith(("https://", "http://")):
            return href
        if href.startswith("/") and not href.startswith("//"):
            return _origin_of(base) + href
    if href.lower().startswith(("javascript:", "mailto:", "tel:", "data:")):
        return None
    return urldefrag(urljoin(base, href))[0]


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


def _strip_site_name(title: str) -> str:
    return normalize_space(TITLE_SUFFIX_RE.sub("", title))


def _jsonld_first(objects: list[dict[str, Any]], key: str) -> Any:
    for obj in objects:
        value = obj.get(key)
        if value not in (None, "", []):
            return value
    return None


def _jsonld_text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name")
    return normalize_space(value) if isinstance(value, str) and value.strip() else None


def _jsonld_author(objects: list[dict[str, Any]]) -> str | None:
    value = _jsonld_first(objects, "author")
    people = value if isinstance(value, list) else [value]
    names = []
    for person in people:
        if isinstance(person, str):
            names.append(normalize_space(person))
        elif isinstance(person, dict):
            kind = person.get("@type", "Person")
            kinds = kind if isinstance(kind, list) else [kind]
            if "Person" in kinds and isinstance(person.get("name"), str):
                names.append(normalize_space(person["name"]))
    names = _dedupe(names)
    return "、".join(names) if names else None


# -- article ---------------------------------------------------------------------------------


def _canonical_hrefs(links: Iterable[Any]) -> list[str]:
    return [
        link.get("href") or ""
        for link in links
        if link.get("href") and "canonical" in (link.get("rel") or "").lower().split()
    ]


def _pick_url(links: Iterable[Any], url: str, og: dict[str, str]) -> str:
    for href in [*_canonical_hrefs(links), og.get("og:url")]:
        absolute = _absolute(url, href)
        if absolute and _match(absolute):
            return absolute
    return urldefrag(url)[0]


def _title_candidates(
    titles: list[Any], jsonld: list[dict[str, Any]], og: dict[str, str]
) -> list[str]:
    """Metadata titles, best first: JSON-LD headline (unless cut short with …), og:title,
    ``<title>``, each without the site name."""
    out = []
    headline = _jsonld_text(_jsonld_first(jsonld, "headline"))
    # (a normalized headline holds no newline: endswith says what TRUNCATED_RE would)
    truncated = headline is not None and headline.endswith(("…", "..."))
    if headline and not truncated:
        out.append(headline)
    out.append(strip_site_name(og.get("og:title"), SITE_NAME))
    if titles:
        out.append(strip_site_name(titles[0].text, SITE_NAME))
    if headline and truncated:
        out.append(headline)  # cut short, but better than nothing
    return _dedupe(out)


def _next_prev(
    tree: lxml.html.HtmlElement,
    ranking: lxml.html.HtmlElement | None,
    url: str,
    main: lxml.html.HtmlElement | None = None,
) -> tuple[str | None, str | None]:
    """次の記事 / 前の記事 (or rel=next/prev) links anywhere outside the ranking sidebar;
    ``main``: the page's ``<main>``, searched first."""
    found: dict[str, str | None] = {"next": None, "prev": None}
    for scope in (main, tree) if main is not None else (tree,):
        # A sidebar outside <main> cannot hold its links: no ancestor test per link there.
        sidebar = ranking if ranking is None or scope is tree or any(
            p is scope for p in ranking.iterancestors()
        ) else None
        _pager_links(scope, sidebar, url, found)
        if found["next"] or found["prev"]:
            break
    return found["next"], found["prev"]


def _pager_links(
    scope: Any, ranking: lxml.html.HtmlElement | None, url: str, found: dict[str, str | None]
) -> None:
    for a in scope.iter("a"):  # cheap tests first: most links are neither
        rel_attr = a.get("rel")
        own = a.text or ""
        if "の記事" not in own and not (rel_attr and ("next" in rel_attr or "prev" in rel_attr)):
            if own.strip() or not any("の記事" in (c.text or "") for c in a):
                continue
        href = a.get("href")
        if href is None:
            continue
        text = normalize_space("".join(a.itertext()) if len(a) else own)
        if ranking is not None and any(p is ranking for p in a.iterancestors()):
            continue
        rel = (rel_attr or "").lower().split()
        key = None
        label = _PAGER_DECORATION_RE.sub("", text)  # "次の記事 »", "< 前の記事へ"
        if label == NEXT_ARTICLE_TEXT or (not text.startswith("次へ") and "next" in rel):
            key = "next"
        elif label == PREV_ARTICLE_TEXT or (not text.startswith("前へ") and "prev" in rel):
            key = "prev"
        if key and found[key] is None:
            found[key] = _absolute(url, href)


_DATE_ONLY_RE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_PAGER_DECORATION_RE = re.compile(r"[\s<>«»‹›＜＞←→◀▶|｜]+|へ$")
_PAGER_TEXTS = frozenset({NEXT_ARTICLE_TEXT, PREV_ARTICLE_TEXT})


def _published(
    jsonld: list[dict[str, Any]], og: dict[str, str], times: list[TimeElement], found: Found
) -> tuple[tuple[str | None, str | None, str | None], tuple[str | None, str | None]]:
    """(published raw, source, layer), (updated raw, source): first layer that answers."""
    published_time = next((t for t in times if t.role != "modified" and t.value), None)
    modified_time = next((t for t in times if t.role == "modified" and t.value), None)
    published: tuple[str | None, str | None, str | None] = (None, None, None)
    for raw, source, layer in (
        (_jsonld_text(_jsonld_first(jsonld, "datePublished")), "jsonld", "metadata"),
        (og.get("article:published_time"), "opengraph", "metadata"),
        (published_time.value if published_time else None, "time", "metadata"),
        (found.dateline, "dateline", found.dateline_layer),
    ):
        if raw and found.dateline and _DATE_ONLY_RE.match(raw.strip()):
            continue  # a day without its time: the date line says the minute
        if raw:
            published = (normalize_space(raw), source, layer)
            break
    updated: tuple[str | None, str | None] = (None, None)
    for raw, source in (
        (_jsonld_text(_jsonld_first(jsonld, "dateModified")), "jsonld"),
        (og.get("article:modified_time") or og.get("og:updated_time"), "opengraph"),
        (modified_time.value if modified_time else None, "time"),
    ):
        if raw:
            updated = (normalize_space(raw), source)
            break
    return published, updated


_TAGS_READ = ("meta", "title", "link", "script", "aside", "main")


def parse_article(html: str | bytes, url: str) -> dict[str, Any]:
    """One article page → plain data (see the module docstring for the layers).

    Raises :class:`PageParseError` when the page is not an article at all (no title in any
    layer; an error, search or listing page). A page with a title but no date gets
    ``published_raw = None``. The ranking sidebar is not read here (see :func:`parse_ranking`);
    ``ranking_signature`` changes whenever its markup does, so a crawl reads it once per version.
    """
    tree, source = parse_html_source(html, url)
    # The elements read by tag, gathered in one C walk of the page (each tree.iter(tag) is a
    # walk of its own: seven of them cost as much as the block walk).
    tagged: dict[str, list[Any]] = {tag: [] for tag in _TAGS_READ}
    for el in tree.iter(*_TAGS_READ):
        tagged[el.tag].append(el)
    jsonld = extract_jsonld(tree, scripts=tagged["script"])
    og_multi = extract_opengraph(tree, multi=True, metas=tagged["meta"])
    og = {key: values[0] for key, values in og_multi.items()}
    index = HintIndex(tree, _HINT_NAMES)  # filled by the block walk of find_article
    ranking = _ranking_container(tree, asides=tagged["aside"])
    signature = region_signature(ranking, url, source) if ranking is not None else None
    # An article URL, JSON-LD or og:type say "article": then a page without a date line is
    # still read (listing checks are for pages nothing vouches for).
    declared = bool(jsonld) or og.get("og:type") == "article" or _match(url) is not None
    main = tagged["main"][0] if tagged["main"] else None
    next_url, prev_url = _next_prev(tree, ranking, url, main)  # before find_article changes it
    try:
        found = find_article(
            tree,
            url,
            PROFILE,
            title_candidates=_title_candidates(tagged["title"], jsonld, og),
            declared=declared,
            # The sidebar is never read as content — unless what was found is the whole page.
            # (An <aside> is never walked anyway: no need to measure it.)
            skip={ranking}
            if ranking is not None and ranking.tag not in SKIP_TAGS and small_region(ranking)
            else None,
            index=index,
        )
    except ValueError as exc:
        raise PageParseError(f"{url}: not an article page: {exc}") from exc
    prov = found.provenance
    canonical = _pick_url(tagged["link"], url, og)
    times = [t for el in found.header_times for t in find_time_elements(el)]
    (published_raw, published_source, layer), (updated_raw, updated_source) = _published(
        jsonld, og, times, found
    )
    if layer:
        prov["published"] = layer

    section = article_section(canonical) or article_section(url)
    categories = found.labels
    if not categories:
        section_value = _jsonld_first(jsonld, "articleSection")
        values = section_value if isinstance(section_value, list) else [section_value]
        categories = _dedupe([normalize_space(v) for v in values if isinstance(v, str)])
        if not categories:
            categories = _dedupe([normalize_space(v) for v in og_multi.get("article:section", [])])
        if categories:
            prov["labels"] = "metadata"
    if not categories and PROFILE.infer_labels is not None:
        categories = PROFILE.infer_labels(section, published_raw)
        if categories:
            prov["labels"] = "inferred"

    author = _jsonld_author(jsonld)
    if author:
        prov["author"] = "metadata"
    else:
        author = found.author

    summary = found.summary
    if not summary:
        description = [
            m.get("content") or "" for m in tagged["meta"]
            if m.get("name") == "description" and m.get("content") is not None
        ]
        summary = normalize_space(
            og.get("og:description") or (description[0] if description else "")
        )
        if summary:
            prov["summary"] = "metadata"

    images: list[dict[str, str | None]] = []
    seen: set[str] = set()
    for img in found.images:
        src = _absolute(url, img["src"])
        if src and src not in seen:
            seen.add(src)
            images.append({"url": src, "caption": img["caption"]})
    if images:
        prov["images"] = prov.get("body", "structure")
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")

    return {
        "url": canonical,
        "title": found.title,
        "categories": categories,
        "published_raw": published_raw,
        "published_source": published_source,
        "updated_raw": updated_raw,
        "updated_source": updated_source,
        "author": author,
        "summary": summary,
        "content_html": found.content_html,
        "images": images,
        "language": normalize_space(lang) or "ja",
        "section": section,
        "next_url": next_url,
        "prev_url": prev_url,
        "ranking_signature": signature,
        "provenance": {k: prov[k] for k in PROVENANCE_FIELDS if k in prov},
    }


def ranking_signature(html: str | bytes, url: str) -> str | None:
    """The signature :func:`parse_article` gives the ranking sidebar of a page (None: none)."""
    tree, source = parse_html_source(html, url)
    container = _ranking_container(tree)
    return region_signature(container, url, source) if container is not None else None


# -- listings --------------------------------------------------------------------------------


def parse_listing(html: str | bytes, url: str) -> dict[str, Any]:
    """Article links of the home page or a section index, and the next index page.

    The latest-articles list (``SELECTORS.home_list``) comes first; then every other
    article link in ``<main>`` — the fallback when the list is rendered by JavaScript or
    its markup changes — except the ranking sidebar and 次の記事/前の記事 links.
    """
    tree = parse_html(html, url)
    scope = _first(tree, SELECTORS.listing_scope)
    if scope is None:
        return {"article_urls": [], "next_page": None}
    excluded = _all(tree, SELECTORS.ranking)
    if not excluded:  # no known class: the sidebar found by its heading
        container = _ranking_container(tree)
        excluded = [container] if container is not None else []
    anchors = _select(tree, SELECTORS.home_list) + list(scope.iter("a"))
    urls = []
    for a in anchors:
        if _inside(a, excluded) or element_text(a) in (NEXT_ARTICLE_TEXT, PREV_ARTICLE_TEXT):
            continue
        href = _absolute(url, a.get("href"))
        if href and _match(href):
            urls.append(href)
    return {"article_urls": _dedupe(urls), "next_page": _next_page(tree, url)}


def _next_page(tree: lxml.html.HtmlElement, url: str) -> str | None:
    for selector in SELECTORS.next_page:
        for el in _select(tree, selector):
            if element_text(el) in (NEXT_ARTICLE_TEXT, PREV_ARTICLE_TEXT):
                continue
            href = _absolute(url, el.get("href"))
            if href and not _match(href):
                return href
    for a in tree.iter("a"):
        if NEXT_PAGE_RE.match(element_text(a)):
            href = _absolute(url, a.get("href"))
            if href and href != urldefrag(url)[0]:
                return href
    # Numbered index pages without a "next" label: index.html → index_2.html → index_3.html.
    current = INDEX_PAGE_RE.search(urlsplit(url).path)
    wanted = int(current.group(1)) + 1 if current else 2
    for a in tree.iter("a"):
        href = _absolute(url, a.get("href"))
        m = INDEX_PAGE_RE.search(urlsplit(href).path) if href else None
        if href and m and int(m.group(1)) == wanted:
            return href
    return None


# -- ranking ---------------------------------------------------------------------------------


def _tab_period(text: str) -> str | None:
    return RANKING_TABS.get(unicodedata.normalize("NFKC", normalize_space(text)).replace(" ", ""))


_RANKING_HEADINGS = etree.XPath(
    "//*[not(self::script or self::style or self::title)]"
    "[text()[contains(., $heading)]"
    " or ((self::h2 or self::h3 or self::h4) and contains(string(.), $heading))]"
)


# What CSS class matching splits a class attribute on (XPath normalize-space: not U+3000).
_XML_SPACE = re.compile(r"[ \t\r\n]+")
assert SELECTORS.ranking[0] == "aside.ranking"  # the fast path of _ranking_container


def _ranking_container(
    tree: lxml.html.HtmlElement, index: HintIndex | None = None, asides: Iterable[Any] | None = None
) -> lxml.html.HtmlElement | None:
    """The ranking sidebar; ``asides``: the page's ``<aside>`` elements if collected already."""
    if index is not None:
        el = index.first(SELECTORS.ranking)
    else:  # "aside.ranking" by a C walk over the asides (its XPath tests every element)
        el = next(
            (
                a
                for a in (tree.iter("aside") if asides is None else asides)
                if "ranking" in (cls := a.get("class") or "") and "ranking" in _XML_SPACE.split(cls)
            ),
            None,
        )
        if el is None:
            el = _first(tree, SELECTORS.ranking[1:])
    if el is not None:
        return el
    # No known class or id: climb from the 読まれている記事 heading to the first ancestor
    # that also holds lists of links. (One XPath finds the candidates; most pages have few.)
    for node in cast(list[Any], _RANKING_HEADINGS(tree, heading=RANKING_HEADING)):
        own_text = normalize_space(node.text)
        if (RANKING_HEADING in own_text and len(own_text) <= 20) or (
            node.tag in ("h2", "h3", "h4") and RANKING_HEADING in element_text(node)
        ):
            for ancestor in node.iterancestors():
                if ancestor.xpath(".//li[.//a[@href]]"):
                    return ancestor
                if ancestor.tag in ("body", "main"):
                    break
    return None


def _entries(list_el: lxml.html.HtmlElement, url: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for li in list_el.iter("li"):
        a = li if li.tag == "a" else next(li.iter("a"), None)
        if a is None or not a.get("href"):
            continue
        title_el = next(iter(_select(a, SELECTORS.ranking_title)), None)
        title = element_text(title_el) or element_text(a)
        href = _absolute(url, a.get("href"))
        if title and href:
            entries.append({"rank": len(entries) + 1, "title": title, "url": href})
    return entries


def _link_lists(container: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """``ol``/``ul`` elements holding entry links (not tab lists), outermost only."""
    lists = []
    for el in container.iter("ol", "ul"):
        links = el.xpath("./li//a[@href]")
        if not links:
            continue
        if all(
            (a.get("href") or "").startswith("#") or _tab_period(element_text(a)) for a in links
        ):
            continue  # the tab bar
        lists.append(el)
    return [el for el in lists if not any(p in lists for p in el.iterancestors())]


def _tabs(container: lxml.html.HtmlElement) -> list[tuple[str, lxml.html.HtmlElement]]:
    """Tab labels (24時間 / 1週間 / 1ヶ月) in page order, innermost element per label."""
    tabs: list[tuple[str, lxml.html.HtmlElement]] = []
    for el in container.iter():
        if not isinstance(el.tag, str):
            continue
        period = _tab_period(element_text(el))
        if period and not any(_tab_period(element_text(child)) for child in el):
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


def _ranking_lists(container: lxml.html.HtmlElement) -> dict[str, lxml.html.HtmlElement]:
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
    free = _link_lists(container)
    tabs = _tabs(container) or [(p, None) for p in PERIODS]
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


def _ranking(tree: lxml.html.HtmlElement, url: str) -> dict[str, list[dict[str, Any]]] | None:
    container = _ranking_container(tree)
    if container is None:
        return None
    lists = _ranking_lists(container)
    result = {p: _entries(lists[p], url) if p in lists else [] for p in PERIODS}
    return result if any(result.values()) else None


def parse_ranking(html: str | bytes, url: str) -> dict[str, list[dict[str, Any]]] | None:
    """The ranking sidebar: ``{"24h": [{"rank", "title", "url"}, ...], "1w": ..., "1m": ...}``.

    Entries in page order, ranks counted from 1, URLs absolute. ``None`` when the page has no
    sidebar or every list is empty (it may be filled by JavaScript). Lists are found by
    ``data-period``/ids, else by the tab labels 24時間 / 1週間 / 1ヶ月, else by order.
    """
    return _ranking(parse_html(html, url), url)
