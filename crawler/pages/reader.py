"""The article reader of every site: ``read_article(html, url, profile=None)``.

One pipeline of named phases, each a small function of one :class:`Page` (no module state)::

    parse ► metadata ► find (finders: clean, segment, title, date line, labels, body, images,
    summary) ► title ► date ► author ► body check ► fields

A :class:`~crawler.pages.finders.SiteProfile` (J-Defense's, or a site's from ``sources.toml``)
brings vocabulary, patterns and hints; without one the reader uses :data:`GENERIC` and the
metadata the page gives (its site name, its language). Each field says which layer gave it
(``provenance``):

==========  ===================================================================================
field       layers, best evidence first
==========  ===================================================================================
title       the page's heading that says a metadata title (hint, ``h1``) → metadata (JSON-LD
            headline, ``og:title``, ``<title>``, each without the site name) → structure
published   JSON-LD ``datePublished`` → ``article:published_time`` → microdata
            ``itemprop=datePublished`` → Dublin Core / ``<meta name=date>`` and kin →
            ``<time>`` of the header → the date line (hint, text) → a date the text labels
            as the publication ("Veröffentlicht am ...", text) → the place and day the
            first paragraph opens with ("Berlin, 28.10.2021 –", text) → htmldate (last: it reads
            the whole page again); a day without its time gives way to a date line that has it
body        the finders' body (hint, structure) → trafilatura where the finders' body is
            unsure (a body much shorter than the page's main text: see :func:`check_body`)
            → the page's script data, where the markup holds no text (:func:`script_body`)
==========  ===================================================================================

The libraries run only where the fast path is unsure: trafilatura reads a page in 10-30 ms
where the finders take 1-3 ms, so running it everywhere would cost the crawl its speed.
"""

from __future__ import annotations

import html as html_lib
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import lxml.html
from lxml import etree

from crawler.dates import DateParseError, PageDate, read_page_date
from crawler.pages import finders
from crawler.pages.finders import Found, Hints, SiteProfile, strip_site_name
from crawler.pages.html import (
    ARTICLE_TYPES,
    PageParseError,
    TimeElement,
    clean_html,
    extract_jsonld,
    find_time_elements,
    normalize_space,
    parse_document,
    parse_html,
    sanitize_html,
)
from crawler.urls import join_url, url_host, url_path

__all__ = ["GENERIC", "Page", "PageParseError", "read", "read_article"]

logger = logging.getLogger(__name__)

_MONTHS = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|januar|februar|märz|mai|juni|juli|"
    r"oktober|dezember|janvier|février|mars|avril|juin|juillet|août|septembre|octobre|"
    r"novembre|décembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|"
    r"noviembre|diciembre|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|"
    r"dicembre)[a-zé]*\.?"
)
# A date line of any site: ISO-like, day-first dotted, month names, Japanese, NHK's yearless.
_CLOCK = r"(?:,?\s*(?:um|à|at|a las|alle|-|\|)?\s*\d{1,2}[:.h]\d{2}(?::\d{2})?(?:\s*[AaPp]\.?[Mm]\.?)?(?:\s*(?:Uhr|[A-Z]{2,5}\b))?)?"
# A date line of any site: ISO-like, day-first dotted, month names, Japanese, NHK's yearless;
# each with its time (and zone) when the line gives one.
GENERIC_DATELINE_RE = re.compile(
    rf"(?:\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}|\d{{1,2}}[./]\d{{1,2}}[./]\d{{4}}"
    rf"|\b\d{{1,2}}\.?\s+{_MONTHS}\s+\d{{4}}|\b{_MONTHS}\s+\d{{1,2}},?\s+\d{{4}}){_CLOCK}"
    # (a 日 lost before 更新 still ends the day: "2024年11月29更新", seen on 朝雲; dates.py reads it)
    r"|(?:\d{4}年\s*)?\d{1,2}月\s*\d{1,2}(?:日|(?=更新|公開|掲載|配信))(?:\s*[(（][^)）]{1,4}[)）])?"
    r"(?:\s*(?:午前|午後)?\s*\d{1,2}(?:時(?:\s*\d{1,2}分)?|:\d{2}))?",
    re.IGNORECASE,
)

#: The profile of a site nobody described: words and patterns common to news sites.
GENERIC = SiteProfile(
    name="generic",
    site_name="",
    dateline_re=GENERIC_DATELINE_RE,
    # A listing's headings link articles: paths with a number or a long slug.
    article_url_re=re.compile(r"^/.*(?:\d{4,}|[\w-]{24,})"),
    label_link_re=re.compile(
        r"^/(?:[\w-]+/)?(?:category|categories|tag|tags|topics?|section|sections|themen|"
        r"thema|rubrik|ressort|genre|list|keyword)/",
        re.IGNORECASE,
    ),
    chrome_phrases=frozenset(
        {"Advertisement", "Anzeige", "Werbung", "Publicité", "Publicidad", "Pubblicità", "広告",
         "PR", "スポンサーリンク", "Share", "Tweet", "Facebook", "X", "LINE", "Print", "Email",
         "E-Mail", "Teilen", "Partager", "Compartir", "シェア", "ツイート", "印刷",
         "Skip to content", "Zum Inhalt springen", "Menu", "Menü", "メニュー", "Search", "検索"}
    ),  # fmt: skip
    chrome_re=re.compile(
        r"^(?:©|&copy;|Copyright|.*?All Rights Reserved|(?:Tags?|タグ|Schlagworte)\s*[:：]"
        r"|この記事は(?:有料)?会員限定|.*ログインして続きを読む|.*続きを読むには"
        r"|(?:Subscribe|Sign up|Log in) to (?:continue|read))",
        re.IGNORECASE | re.S,
    ),
    end_re=re.compile(
        r"^(?:[■●◆【\[]?(?:関連記事|関連ニュース|あわせて読みたい|おすすめ記事)[】\]]?"
        r"|Related(?: articles| stories| coverage| content)?|Read more|More on this|"
        r"Mehr zum Thema|Lesen Sie auch|Weitere Artikel|À lire aussi|Lire aussi|Leia também|"
        r"Más información|Leggi anche|Relaterade artiklar|Les også|"
        # what sites show under the article: the most read, recommendations, more on the topic
        r"(?:Most )?Popular(?: now| stories| articles)?|Most (?:read|viewed|shared)|Trending(?: now)?|"
        r"Recommended(?: for you| stories)?|You (?:may|might) also like|Read next|Also read|"
        r"Ähnliche (?:Beiträge|Artikel)|Das könnte Sie auch interessieren|Meistgelesen|"
        r"Weitere Nachrichten|Lo más (?:leído|visto)|Más leídas|Les plus lus|À voir aussi|"
        r"Vous aimerez aussi|Potrebbe interessarti|I più letti|人気記事|よく読まれている記事|"
        r"(?:Mehr zum Thema|Mehr aus|More (?:on|from|about)|Plus sur|Más sobre)\s.{1,60})\s*[:：]?$",
        re.IGNORECASE | re.S,
    ),
    caption_re=re.compile(r"^(?:写真|画像|Foto|Photo|Bild|Image)\s*[:：]|^\(?(?:Photo|Foto):"),
    byline_re=re.compile(
        r"^(?:By|Von|Par|Por|Di|Door|Av|Af|Od|Från)\s+[A-ZÀ-Ý][^\n]{1,60}$"
        r"|^(?:文|著|筆者|執筆|取材)\s*[:：/／]\s*\S.*$"
    ),
    not_article_re=re.compile(
        r"ページが見つかりません|お探しのページ|404 Not Found|Page not found|Seite nicht gefunden",
        re.IGNORECASE,
    ),
    hints=Hints(),
    body_by_density=True,
    labels_by_position=False,
    # Boxes inside articles on most news sites: newsletters, consent walls for embeds,
    # recommendations, comments, author boxes, "read more" and paywall prompts.
    chrome_class_re=re.compile(
        r"(?:^|[\s_-])(?:newsletter|consent|cookie|paywall|promo|teaser|recommend\w*|outbrain|"
        r"taboola|more-stories|read-?more|readmore|author-?bio|comments?|disqus|subscribe|"
        r"signup|embed-wrapper|print-only|visually-hidden|sr-only|screen-reader\w*|hidden|d-none|"
        r"is-hidden|hide)(?:$|[\s_-])",
        re.IGNORECASE,
    ),
)

# <meta name=...> that give a page's publication date (Dublin Core, citation, CMS and
# analytics conventions), best first.
_DATE_META = (
    "article:published_time", "og:published_time", "datepublished", "dc.date.issued",
    "dcterms.issued", "dc.date", "dcterms.date", "dc.date.created", "dcterms.created",
    "citation_publication_date", "citation_date", "parsely-pub-date", "sailthru.date",
    "publishdate", "publish-date", "publish_date", "pubdate", "date", "article.published",
    "article_date_original", "original-publish-date", "cxenseparse:recs:publishtime",
)  # fmt: skip
_DATE_META_RANK = {name: i for i, name in enumerate(_DATE_META)}
_MODIFIED_META = ("article:modified_time", "og:updated_time", "dcterms.modified", "dc.date.modified",
                  "lastmod", "last-modified")  # fmt: skip
_AUTHOR_META = ("author", "article:author", "dc.creator", "dcterms.creator", "parsely-author",
                "sailthru.author", "byl")  # fmt: skip
_SITE_NAME_SPLIT = re.compile(r"\s+[|｜\-–—:：·•»]\s+|[|｜]")
_DATE_ONLY_RE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_TAGS_READ = ("meta", "title", "link", "script", "h1")
_ITEMPROPS = etree.XPath(
    "//*[@itemprop='datePublished' or @itemprop='dateModified' or @itemprop='headline' or "
    "@itemprop='author']"
)
PROVENANCE_FIELDS = ("title", "published", "labels", "body", "summary", "images", "author")


@dataclass
class Meta:
    """What the page says about itself in markup meant for machines."""

    jsonld: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, list[str]] = field(default_factory=dict)  # name/property (lower) → values
    itemprops: dict[str, list[str]] = field(default_factory=dict)  # microdata
    titles: list[str] = field(default_factory=list)  # <title>
    h1: list[str] = field(default_factory=list)
    canonical: str | None = None
    lang: str = ""

    def first(self, *names: str) -> str | None:
        for name in names:
            for value in self.meta.get(name, ()):
                if value.strip():
                    return value.strip()
        return None


@dataclass
class Page:
    """One reading: the input, the parse, and what each phase found."""

    html: str | bytes
    url: str
    profile: SiteProfile
    generic: bool
    tree: Any = None
    meta: Meta = field(default_factory=Meta)
    found: Found = field(default_factory=Found)
    site_name: str = ""
    title: str = ""
    published: PageDate | None = None
    shown_day: date | None = None  # the local day the date line shows for a UTC instant
    published_raw: str | None = None
    published_source: str | None = None
    updated_raw: str | None = None
    updated_source: str | None = None
    author: str | None = None
    content_html: str = ""
    text_length: int = 0
    prov: dict[str, str] = field(default_factory=dict)
    # Set by a site module that parsed the page already (crawler/pages/jdefense.py): the
    # elements never read (its ranking sidebar), and whether the page is known as an article.
    skip: set[Any] | None = None
    declared: bool | None = None
    tagged: dict[str, list[Any]] | None = None  # elements by tag (_TAGS_READ at least)
    jsonld: list[dict[str, Any]] | None = None  # the page's JSON-LD articles
    # Nested deeper than 256 levels (read with huge_tree): the library layers are given a
    # tree read the same way (their own parser would cut the page at level 256).
    deep: bool = False
    scripts: list[Any] = field(default_factory=list)  # the page's <script> elements
    titles: list[str] = field(default_factory=list)  # the metadata titles, best first

    @property
    def japanese(self) -> bool:
        lang = self.meta.lang.lower()
        return lang.startswith("ja") or (not lang and self.profile.name == "jdefense")


# -- phases -----------------------------------------------------------------------------------


def parse(page: Page) -> None:
    """Phase *parse*: the tree (unless the caller parsed it)."""
    if page.tree is None:
        page.tree, _, page.deep = parse_document(page.html, page.url)


def _library_input(page: Page) -> Any:
    """What a library layer reads: the page's text, or for a deep page a tree of its own
    (lxml.html, huge_tree: trafilatura and htmldate change the tree they are given)."""
    if page.deep:
        return parse_html(page.html, page.url)
    return _page_text(page)


def _page_text(page: Page) -> str:
    return page.html if isinstance(page.html, str) else page.html.decode("utf-8", "replace")


def read_metadata(page: Page) -> None:
    """Phase *metadata*: JSON-LD, OpenGraph and ``<meta>`` (Dublin Core...), microdata.

    Hand-written rather than extruct: extruct parses the page again with its own parser (one
    more parse of the whole page, 5-15 ms) for what one walk over the tags already read gives.
    """
    tree, meta = page.tree, page.meta
    tagged = page.tagged
    if tagged is None:
        tagged = {tag: [] for tag in _TAGS_READ}
        for el in tree.iter(*_TAGS_READ):  # (one C walk for every tag read)
            tagged[el.tag].append(el)
    if page.jsonld is None:
        page.jsonld = extract_jsonld(tree, scripts=tagged["script"])
    meta.jsonld = page.jsonld
    page.scripts = tagged["script"]  # (kept: the tree loses them in the finders' clean)
    for m in tagged["meta"]:
        key = (m.get("property") or m.get("name") or m.get("itemprop") or "").strip().lower()
        content = m.get("content")
        if key and content is not None:
            # (a generic page's entities written twice, "&amp;quot;", are decoded once more)
            meta.meta.setdefault(key, []).append(
                html_lib.unescape(content) if page.generic else content
            )
        if m.get("http-equiv", "").lower() == "content-language" and content:
            meta.lang = meta.lang or content.strip()
    source = page.html
    marker: Any = "itemprop" if isinstance(source, str) else b"itemprop"
    # (a whole-document XPath costs a third of the parse: only on pages that have microdata)
    for el in cast(list[Any], _ITEMPROPS(tree)) if marker in source else ():
        value = el.get("content") or el.get("datetime") or _abbr_title(el) or normalize_space(
            "".join(el.itertext())
        )
        if value:
            meta.itemprops.setdefault(el.get("itemprop") or "", []).append(value)
    meta.titles = [normalize_space("".join(t.itertext())) for t in tagged["title"][:1]]
    if page.generic:  # (a profile's title comes from its hints and metadata)
        meta.h1 = [normalize_space("".join(h.itertext())) for h in tagged["h1"]]
    for link in tagged["link"]:
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            # (a canonical that cannot be parsed, "https://ww].ikaros.jp/", is skipped)
            meta.canonical = join_url(page.url, link.get("href").strip())
            if meta.canonical:
                break
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    meta.lang = normalize_space(lang) or meta.lang or (meta.first("og:locale") or "")
    page.site_name = _site_name(page)


def _abbr_title(el: Any) -> str | None:
    """The value of an ``<abbr>`` in its ``title`` (the microformats' abbr pattern, Blogger's
    ``<abbr itemprop=datePublished title=2017-09-09T10:52:00+02:00>10:52</abbr>``): the text
    shows a short form (the time only), the title says the whole value."""
    return el.get("title") if el.tag == "abbr" else None


def _site_name(page: Page) -> str:
    if not page.generic:
        return page.profile.site_name
    name = page.meta.first("og:site_name")
    if not name:
        # ``application-name`` names a web application, and some sites set it to each page's
        # own title (msn.com: an article refused as "a home page" because its title was taken
        # for the site's name). A value equal to the page's title names the site only on the
        # site's root.
        name = page.meta.first("application-name")
        if name and not _is_site_root(page.url) and _loose(name) in {
                _loose(t) for t in (page.meta.first("og:title"), *page.meta.titles) if t}:
            name = None
    if not name:
        name = page.meta.first("twitter:site")
    if not name:
        for obj in page.meta.jsonld:
            publisher = obj.get("publisher")
            if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
                name = publisher["name"]
                break
    return normalize_space(name).lstrip("@")


def title_candidates(page: Page) -> list[str]:
    """Metadata titles, best first, without the site name and with entities decoded."""
    out: list[str] = []
    headline = _jsonld_text(_jsonld_first(page.meta.jsonld, "headline"))
    truncated = headline is not None and headline.endswith(("…", "..."))
    og = page.meta.first("og:title", "twitter:title")
    raw = [headline if not truncated else None, og, *page.meta.titles]
    if not page.generic:  # a profile's site name is exact
        out = [strip_site_name(v, page.site_name) if v is not headline else v for v in raw if v]
        return list(dict.fromkeys(t for t in [*out, *([headline] if truncated else [])] if t))
    raw += page.meta.itemprops.get("headline", [])[:1]
    for value in raw:
        if not value:
            continue
        text = normalize_space(html_lib.unescape(value))
        out.append(_strip_site(text, page.site_name, url_host(page.url), _sections(page)))
    if headline and truncated:
        out.append(headline)
    # Then each without its last part ("Title - Name of a site we cannot tell"): the page's
    # heading decides whether that part was the site's name.
    out += [normalize_space(" - ".join(parts[:-1])) for t in list(out)
            if len(parts := _SITE_NAME_SPLIT.split(t)) > 1]
    return list(dict.fromkeys(t for t in out if t))


def _strip_site(title: str, site_name: str, host: str = "", sections: tuple[str, ...] = ()) -> str:
    """``"Title - Site"`` → ``"Title"``: the site name as the page gives it, or an end (or
    start) part that names the site another way (``政治ㅣ한국일보`` for hankookilbo.com: a part
    whose letters the host name holds, or that holds the host's name). A section the page
    names in its metadata, left at the end once the site is cut (``Title-정치ㅣ한국일보``),
    goes too."""
    if site_name:
        stripped = strip_site_name(title, site_name)
        if stripped and stripped != title:
            for section in sections:
                if stripped.endswith(section) and len(stripped) > len(section) + 8:
                    head = stripped[: -len(section)].rstrip()
                    if head and head[-1] in "-–—|｜ㅣ丨:：/":
                        return head[:-1].rstrip()
            return stripped
    parts = [p for p in _SITE_NAME_SPLIT.split(title) if p.strip()]
    if len(parts) > 1:
        names = {_loose(site_name)} | ({_host_word(host)} if host else set())
        names.discard("")
        for i in (-1, 0):
            key = _loose(parts[i])
            if key and any(n in key or key in n for n in names if len(n) >= 3):
                rest = parts[:-1] if i == -1 else parts[1:]
                return normalize_space(" - ".join(rest))
    return title


_SECTION_META = ("article:section", "content_category", "category", "section")


def _sections(page: Page) -> tuple[str, ...]:
    """The section names the page's metadata gives (``article:section``, JSON-LD's
    ``articleSection``...)."""
    names = [v for n in _SECTION_META for v in page.meta.meta.get(n, ())]
    section = _jsonld_first(page.meta.jsonld, "articleSection")
    names += section if isinstance(section, list) else [section]
    return tuple(dict.fromkeys(normalize_space(v) for v in names if isinstance(v, str) and v.strip()))


def _is_site_root(url: str | None) -> bool:
    """``https://example.com/``, ``/index.html``, ``/en/``: a path of at most one short part."""
    parts = [p for p in url_path(url or "").split("/") if p]
    return not parts or (len(parts) == 1 and (len(parts[0]) <= 5 or parts[0].startswith("index")))


def _host_word(host: str) -> str:
    """``www.spiegel.de`` → ``spiegel``."""
    labels = [p for p in host.lower().split(".") if p not in ("www", "m", "amp", "edition")]
    return labels[-2] if len(labels) >= 2 else (labels[0] if labels else "")


def find(page: Page) -> None:
    """Phase *find*: the finders' pipeline (crawler/pages/finders.py) with the profile."""
    profile = page.profile
    if page.generic and page.site_name:
        profile = _with_site_name(profile, page.site_name)
    declared = _declared(page) if page.declared is None else page.declared
    skip = _skip(page) if page.skip is None else page.skip
    try:
        page.titles = title_candidates(page)
        r = finders.segment(
            finders.clean(page.tree), page.url, profile, page.titles, declared, skip
        )
        for step in finders.PHASES:
            if step is finders.find_images:
                choose_body(page, r)  # before the chosen blocks are moved into the content
            step(r)
    except ValueError as exc:
        raise PageParseError(f"{page.url}: not an article page: {exc}") from exc
    page.found = r.found
    page.prov.update(page.found.provenance)


def _with_site_name(profile: SiteProfile, site_name: str) -> SiteProfile:
    import dataclasses

    return dataclasses.replace(
        profile, site_name=site_name, chrome_phrases=profile.chrome_phrases | {site_name}
    )


def _declared(page: Page) -> bool:
    """Whether the page's metadata vouches for an article (then no listing checks)."""
    m = page.meta
    if page.generic:
        return True  # judged after the body is read (check_generic)
    if m.jsonld or (m.first("og:type") or "").lower() == "article":
        return True
    if page.profile.article_url_re.match(url_path(page.url)) and not page.generic:
        return True
    return any(m.first(n) for n in _DATE_META[:6]) or bool(m.itemprops.get("datePublished"))


def _skip(page: Page) -> set[Any] | None:
    """The profile's ranking sidebar is never content."""
    hints = page.profile.hints.ranking
    if not hints:
        return None
    from crawler.pages.finders import css, small_region

    for selector in hints:
        hit = cast(list[Any], css(selector)(page.tree))
        if hit and small_region(hit[0]):
            return {hit[0]}
    return None


def choose_title(page: Page) -> None:
    """Phase *title*: the finders' title; a generic page's ``h1`` wins over an SEO headline
    that says more after it than the page shows (the page's heading is what a reader sees),
    and ``og:title`` decides whether a kicker belongs to the headline."""
    title = page.found.title
    if page.generic and page.prov.get("title") == "metadata":
        # (a metadata title that says more *before* the h1 has a kicker: see _kicker_title)
        h1s = [h for h in page.meta.h1 if 4 < len(h) <= 300]
        if len(h1s) == 1 and h1s[0] != title and _loose(title).startswith(_loose(h1s[0])):
            title = h1s[0]
            page.prov["title"] = "structure"
    if page.generic:
        # A heading whose parts run together ("Nationale DemoDer 9. Juli": a kicker in an
        # element of its own, set apart by the style sheet) is written with its separator
        # by the metadata title of the same letters.
        letters = _LETTERS_RE.sub("", title.lower())
        for candidate in page.titles:
            if (candidate != title and candidate.count(" ") > title.count(" ")
                    and _LETTERS_RE.sub("", candidate.lower()) == letters):
                title = candidate
                break
        title = _short_title(page, _kicker_title(page, title))
    page.title = title
    if page.generic:
        host = url_host(page.url)
        page.title = _strip_site(normalize_space(html_lib.unescape(title)), page.site_name, host,
                                 _sections(page))


_LETTERS_RE = re.compile(r"[\W_]+")
# A kicker: a few words before the headline, parted from it by a colon or a dash
# ("SVP-Sonderparteitag zur Migration: Chiesa ruft...", "Minderheit in Syrien - Drusen...").
_KICKER_END_RE = re.compile(r"(?:\s?[:：]|\s[-–—])$")
_KICKER_MAX = 60


def _kicker_title(page: Page, title: str) -> str:
    """The page's ``og:title`` where it is ``title`` (or the page's ``h1``) with or without a
    kicker before it.

    The kicker is set apart on the page (a line of its own above the heading, or a span in
    the ``h1``), so the heading cannot say whether it belongs to the headline; ``og:title``,
    the headline the publisher writes as one line to be shown alone, does. On Fundus's pages
    where the h1 (or the title chosen from it) and ``og:title`` differ by a kicker only, the
    golden title is ``og:title`` on 11 of 13 (the kicker in either one of them); where each
    has a kicker of its own, the headline they share (1 page).
    """
    og = _og_title(page)
    if not og:
        return title
    h1s = [h for h in page.meta.h1 if 4 < len(h) <= 300]
    headings = (title, *h1s[:1])
    if any(_has_kicker(og, h) or _has_kicker(h, og) for h in headings):
        return og
    for heading in headings:  # each with a kicker of its own before the same headline
        shared = _common_tail(og, heading)
        kickers = {_LETTERS_RE.sub("", t[: -len(shared)].lower()) for t in (og, heading)}
        if len(kickers) == 2 and _has_kicker(og, shared) and _has_kicker(heading, shared):
            return shared
    return title


def _common_tail(a: str, b: str) -> str:
    """The words ``a`` and ``b`` end with."""
    wa, wb = a.split(" "), b.split(" ")
    n = 0
    while n < min(len(wa), len(wb)) and wa[-1 - n] == wb[-1 - n]:
        n += 1
    return " ".join(wa[len(wa) - n:])


def _og_title(page: Page) -> str:
    """``og:title`` (else ``twitter:title``) without the site name, entities decoded."""
    og = page.meta.first("og:title", "twitter:title")
    if not og:
        return ""
    return _strip_site(normalize_space(html_lib.unescape(og)), page.site_name,
                       url_host(page.url), _sections(page))


def _short_title(page: Page, title: str) -> str:
    """``og:title`` where the ``h1`` chosen as the title is ``og:title`` with words added at
    its end.

    The mirror of the h1's own rule (a metadata title that says more after the h1 gives way
    to it): of two titles one of which is the other and a tail, the shorter is the headline,
    the tail a subtitle, a site or a date. On Fundus's pages where the h1 and ``og:title``
    are so related, the golden title is the shorter on 13 of 14 (3 of 3 where ``og:title``
    is the shorter; a 15th page's ``og:title`` is cut mid-phrase, golden neither, and its
    title is not the h1).
    """
    og = _og_title(page)
    if (len(og) >= 20 and title in page.meta.h1 and title.startswith(og + " ")
            and 2 * len(og) >= len(title)):
        return og
    return title


def _has_kicker(longer: str, shorter: str) -> bool:
    """``longer`` is ``shorter`` with a kicker before it (``"Kicker: shorter"``)."""
    if len(shorter) < 12 or len(longer) <= len(shorter) or not longer.endswith(shorter):
        return False
    head = longer[: -len(shorter)].rstrip()
    return len(head) <= _KICKER_MAX and bool(_KICKER_END_RE.search(head))


def _loose(text: str) -> str:
    return "".join(text.lower().split())


def choose_date(page: Page) -> None:
    """Phase *date*: the first layer whose value reads as a date (see the module table)."""
    m, found = page.meta, page.found
    times = [t for el in found.header_times for t in find_time_elements(el)]
    published_time = next((t for t in times if t.role != "modified" and t.value), None)
    meta_dates = sorted(
        ((name, v) for name in m.meta if name in _DATE_META_RANK for v in m.meta[name][:1]),
        key=lambda nv: _DATE_META_RANK[nv[0]],
    )
    candidates: list[tuple[str | None, str, str]] = [
        (_jsonld_text(_jsonld_first(m.jsonld, "datePublished")), "jsonld", "metadata"),
        *((v, "opengraph" if n.startswith("article:") else "meta", "metadata")
          for n, v in meta_dates[:1] if n == "article:published_time"),
        (next(iter(m.itemprops.get("datePublished", [])), None), "microdata", "metadata"),
        *((v, "meta", "metadata") for n, v in meta_dates if n != "article:published_time"),
        (_shown_time(published_time, m.lang, page.japanese), "time", "metadata"),
        (found.dateline, "dateline", found.dateline_layer or "text"),
    ]
    japanese = page.japanese
    reference = _url_reference(page.url)  # for a date line without its year (NHK's)
    line: PageDate | None = None
    if found.dateline:
        try:
            line = read_page_date(normalize_space(found.dateline), lang=m.lang,
                                  japanese=japanese, reference=reference)
        except DateParseError:
            pass
    deferred = False  # a day without its time gave way to the date line
    for raw, source, layer in candidates:
        if not raw:
            continue
        raw = normalize_space(raw)
        if source == "dateline":
            if line is None:
                continue
            value = line
        else:
            if found.dateline and _DATE_ONLY_RE.match(raw):
                deferred = True
                continue  # a day without its time: the date line says the minute
            try:
                value = read_page_date(raw, lang=m.lang, japanese=japanese, reference=reference)
            except DateParseError:
                continue  # unreadable: the next layer
            if line is not None:
                value = _reading_of_the_line(raw, value, line, japanese)
            if deferred and line is not None and value.value.date() != line.value.date():
                # a better layer gave its day to the date line: a weaker one that says
                # another day does not overrule the two
                continue
        page.published, page.published_raw, page.published_source = value, raw, source
        page.prov["published"] = layer
        break
    if page.published is not None and page.published_source != "dateline" and line is not None:
        page.shown_day = _local_day(page.published, line)
    if page.published is None and page.generic:
        _labelled_date(page)
    if page.published is None and page.generic:
        _opening_dateline(page)
    if page.published is None and page.generic:
        _htmldate(page)
        if line is None and found.dateline and page.published is not None:
            _yearless_line(page, found.dateline)
    modified = next((t for t in times if t.role == "modified" and t.value), None)
    for raw, source in (
        (_jsonld_text(_jsonld_first(m.jsonld, "dateModified")), "jsonld"),
        (m.first(*_MODIFIED_META[:2]), "opengraph"),
        (m.first(*_MODIFIED_META[2:]), "meta"),
        (next(iter(m.itemprops.get("dateModified", [])), None), "microdata"),
        (modified.value if modified else None, "time"),
    ):
        if raw:
            page.updated_raw, page.updated_source = normalize_space(raw), source
            break


_SLASHED_RE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/\d{4}(?!\d)")


def _reading_of_the_line(raw: str, value: PageDate, line: PageDate, japanese: bool) -> PageDate:
    """A value written ``a/b/yyyy`` whose two readings are both dates (``11/01/2023``: 11
    January or, month first, 1 November): the reading whose day the date line shows
    ("Erstellt am: 01.11.2023"), where the page's language chose the other."""
    m = _SLASHED_RE.search(raw)
    if m is None or value.value.date() == line.value.date():
        return value
    if int(m.group(1)) > 12 or int(m.group(2)) > 12 or m.group(1) == m.group(2):
        return value  # one reading only
    for lang in ("en-US", "de"):  # month first, day first
        try:
            other = read_page_date(raw, lang=lang, japanese=japanese)
        except DateParseError:
            continue
        if other.value.date() == line.value.date():
            return other
    return value


def _shown_time(t: TimeElement | None, lang: str, japanese: bool) -> str | None:
    """A ``<time>``'s ``datetime``, unless its text shows a whole date (with its year) two days
    or more from it: then the text, the day the reader sees (``<time datetime=2019-07-03T10:18Z>
    Publié le 29 juin 2019</time>``: a CMS that writes the last change into the attribute). A
    day apart is the page's local day of a UTC instant (see :func:`_local_day`)."""
    if t is None:
        return None
    m = GENERIC_DATELINE_RE.search(t.text or "")
    if not t.datetime or m is None or not _YEAR_RE.search(m.group(0)):
        return t.value
    try:
        shown = read_page_date(normalize_space(m.group(0)), lang=lang, japanese=japanese)
        value = read_page_date(normalize_space(t.datetime), lang=lang, japanese=japanese)
    except DateParseError:
        return t.value
    if abs((shown.value.date() - value.value.date()).days) > 1:
        return normalize_space(m.group(0))
    return t.value


_YEAR_RE = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")


# How far from UTC the zones of news sites are, in hours (Hawaii -10, Sydney +10/+11).
_ZONE_REACH = 10


def _zone_turns(value: datetime, day: date) -> bool:
    """Whether a UTC instant is ``day`` in a zone within :data:`_ZONE_REACH` hours of UTC: the
    next day east of UTC late in the UTC day (23:00Z is the next morning in Berlin), the day
    before west of it early in the UTC day (02:00Z is the evening before in Boston); 13:00Z is
    the same day almost everywhere."""
    turn = (day - value.date()).days
    return (turn == 1 and value.hour >= 24 - _ZONE_REACH) or (turn == -1 and value.hour < _ZONE_REACH)


def _local_day(published: PageDate, line: PageDate) -> date | None:
    """The day the page's date line shows for a metadata instant given in UTC, where it is
    the page's local day: ``2021-11-04T23:00Z`` under a date line "5. November 2021" is the
    5th in Berlin, ``2023-11-09T02:11Z`` under "November 8, 2023" the 8th in Boston.

    Only a day a zone can turn the instant to (:func:`_zone_turns`: a date line a day after
    13:00Z is an update); a date line with a time must show the instant itself, a whole or
    half hour from UTC (a line at 21:18 under 14:03Z is another moment, the update). A value
    with its own offset, or none (a wall time), is the page's local time already."""
    value = published.value
    if published.precision == "day" or not published.offset_known or value.utcoffset():
        return None
    if not _zone_turns(value, line.value.date()):
        return None
    if line.precision != "day":
        shift = (line.value.replace(tzinfo=None) - value.replace(tzinfo=None)).total_seconds() / 60
        if abs(shift) > 14 * 60 or min(shift % 30, -shift % 30) > 2:
            return None
    return line.value.date()


def _url_reference(url: str) -> datetime | None:
    """The day a URL is dated (``/20240624/``), at noon UTC: the year of a yearless date."""
    m = _URL_DAY_RE.search(url)
    if not m:
        return None
    try:
        return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), 12, tzinfo=UTC)
    except ValueError:
        return None


# A date the page's text says is its publication ("Veröffentlicht am 16.08.2019", "Publié le
# 29 juin 2019", "Posted on May 3, 2020", "公開日：2024年5月3日"; German's verb-final "am 3.
# Dezember 2011 ... veröffentlicht"), wherever it stands: a blog's post footer, a podcast's
# episode notes. (Written here: htmldate's text search weighs every date of the page by how
# often it occurs and does not read these words.)
_PUBLISHED_WORDS = (
    r"(?<![^\W\d_])(?:veröffentlicht|erschienen|erstellt|publiziert|published|posted|"
    r"publication date|date de publication|publié|mis en ligne|pubblicato|publicado|"
    r"gepubliceerd|publicerad|公開日|掲載日|配信日|投稿日)"
)
_LABELLED_DATE_RE = re.compile(
    rf"{_PUBLISHED_WORDS}[^\d<>.]{{0,30}}?(?P<date>{GENERIC_DATELINE_RE.pattern})"
    rf"|(?<![^\W\d_])am\s+[^\d<>.]{{0,20}}?(?P<date2>{GENERIC_DATELINE_RE.pattern})"
    r"[^.<>]{0,40}?veröffentlicht",
    re.IGNORECASE,
)

_NOT_TEXT_RE = re.compile(r"<(script|style|template)\b.*?</\1\s*>|<!--.*?-->", re.I | re.S)
_TAG_RE = re.compile(r"<[^>]*>")


def _labelled_date(page: Page) -> None:
    """The layer before htmldate: the first date the page's text labels as its publication
    (:data:`_LABELLED_DATE_RE`); a page without metadata or a date line near its title often
    says it in a footer line."""
    # (the page's own text, in document order: by now the tree has given its body blocks to
    # the content; comments, scripts and styles are no text)
    markup = _NOT_TEXT_RE.sub(" ", _page_text(page))
    text = " ".join(html_lib.unescape(_TAG_RE.sub(" ", markup)).split())
    for m in _LABELLED_DATE_RE.finditer(text):
        raw = m.group("date") or m.group("date2")
        try:
            page.published = read_page_date(raw, lang=page.meta.lang, japanese=page.japanese,
                                            reference=_url_reference(page.url))
        except DateParseError:
            continue
        page.published_raw, page.published_source = raw, "labelled"
        page.prov["published"] = "text"
        return


# The dateline a press release or an agency story opens with: a place, then the day
# ("Karlsruhe, (12.11.2021). Traditionell...", "Berlin, 28.10.2021 – Das...").
_OPENING_DATELINE_RE = re.compile(
    rf"^[A-ZÄÖÜ][\w.\-/ ]{{1,30}},\s*\(?(?P<date>(?i:{GENERIC_DATELINE_RE.pattern}))\)?\s*[.:–—-]"
)


def _opening_dateline(page: Page) -> None:
    """The layer after the labelled date: the day the article's first paragraph opens with,
    after its place and a comma (:data:`_OPENING_DATELINE_RE`); a sentence that opens with
    a day ("Am 12.11.2021 trafen sich...") is no dateline."""
    first = next((b for b in page.found.body if b.kind in ("para", "run")), None)
    m = _OPENING_DATELINE_RE.match(first.text) if first is not None else None
    if m is None:
        return
    try:
        page.published = read_page_date(normalize_space(m.group("date")), lang=page.meta.lang,
                                        japanese=page.japanese)
    except DateParseError:
        return
    page.published_raw, page.published_source = m.group("date"), "opening"
    page.prov["published"] = "text"


def _htmldate(page: Page) -> None:
    """The last date layer: htmldate reads the page again (10-30 ms) for the dates no markup
    names (a date in the URL, in free text, in comments)."""
    try:
        from htmldate import find_date  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - an optional layer
        return
    try:
        raw = find_date(_library_input(page), url=page.url, original_date=True,
                        extensive_search=True)
    except Exception as exc:  # noqa: BLE001 - a library layer never fails the reading
        logger.debug("htmldate failed on %s: %s", page.url, exc)
        return
    if raw and raw.endswith("-01-01") and not _shows_new_year(page, int(raw[:4])):
        # htmldate's answer when it found only a year (a copyright line, a year in the URL or
        # an itemprop copyrightYear) is that year's 1 January: a day the page never shows.
        # (htmldate corpus: all 6 such answers wrong.) No date is better than an invented one.
        logger.debug("htmldate gave only a year on %s (%s): no date", page.url, raw)
        return
    if raw:
        try:
            page.published = read_page_date(raw, japanese=page.japanese)
        except DateParseError:
            return
        page.published_raw, page.published_source = raw, "htmldate"
        page.prov["published"] = "htmldate"


def _yearless_line(page: Page, dateline: str) -> None:
    """A date line without its year (NHK's "06月24日 11時30分") on a page whose URL is not
    dated: the day it shows, in the year nearest htmldate's date (which htmldate took from
    another date of the page, one with its year: an earlier version's, a related story's)."""
    assert page.published is not None
    try:
        value = read_page_date(normalize_space(dateline), lang=page.meta.lang,
                               japanese=page.japanese, reference=page.published.value)
    except DateParseError:
        return
    page.published, page.published_raw, page.published_source = value, dateline, "dateline"
    page.prov["published"] = page.found.dateline_layer or "text"


def _shows_new_year(page: Page, year: int) -> bool:
    """Whether the page writes 1 January ``year`` as a day (2020-01-01, 2020/1/1, 01.01.2020,
    2020年1月1日, January 1, 2020, 1. Januar 2020, 1er janvier 2020, 1 de enero de 2020), not
    only the year."""
    html = f"{page.url} {_page_text(page)}"  # (a URL dated /2020/01/01/ shows the day too)
    y = str(year)
    return re.search(
        rf"{y}[-/.]0?1[-/.]0?1(?!\d)|(?<!\d)0?1[./-]0?1[./-]{y}|{y}年0?1月0?1日"
        rf"|(?i:jan\w*\.?\s+0?1(?:st)?,?\s+{y}|(?<!\d)0?1(?:st|er)?\.?\s+(?:de\s+)?jan\w*\.?,?\s+"
        rf"(?:de\s+)?{y}|(?<!\d)0?1(?:st|er)?\.?\s+(?:de\s+)?enero\s+(?:de\s+)?{y})",
        html,
    ) is not None


def choose_author(page: Page) -> None:
    """Phase *author*: JSON-LD people → microdata → ``<meta name=author>`` → the byline."""
    names: list[str] = []
    value = _jsonld_first(page.meta.jsonld, "author")
    for person in value if isinstance(value, list) else [value]:
        if isinstance(person, str):
            names.append(normalize_space(person))
        elif isinstance(person, dict) and isinstance(person.get("name"), str):
            kind = person.get("@type", "Person")
            if "Person" in (kind if isinstance(kind, list) else [kind]):
                names.append(normalize_space(person["name"]))
    names = [n for n in dict.fromkeys(names) if n]
    if names:
        page.author, page.prov["author"] = "、".join(names) if page.japanese else ", ".join(
            names
        ), "metadata"
        return
    if page.generic:
        meta_author = page.meta.first(*_AUTHOR_META)
        if meta_author and not meta_author.startswith("http"):
            page.author, page.prov["author"] = normalize_space(meta_author), "metadata"
            return
    page.author = page.found.author


_SURE_LENGTH = 1500  # characters: a body this long, of several blocks, is an article's
# trafilatura's fast reading (no readability/jusText comparison) shorter than this is read
# again with the comparison. Measured (bench/bench_articles.py, 2026-12-04): at 1,500 (the
# sure length, as before) AEB body F1 0.963, Fundus 0.9529; at 800, 0.969 and 0.9530 (the
# comparison took boilerplate into readings of 800-1,500 characters), and fewer second calls;
# at 500 or never, Fundus falls to 0.9517 (the comparison rescues the short readings).
_FULL_BELOW = 800


def choose_body(page: Page, r: finders.Reading) -> None:
    """Phase *body choice* (generic pages): the finders give two readings of the body (the
    blocks of the title's wrapper, and of the element holding most paragraph text). Where they
    agree and the body is long, that is the body; else the fast path is unsure and
    trafilatura arbitrates: the reading nearest its text wins, or its own body when it finds
    much more text than both."""
    found = r.found
    length = _length(found.body)
    if not page.generic or found.provenance.get("body") == "hints":
        return
    lengths = [_length(c) for c in r.candidates.values()]
    agree = len(lengths) < 2 or 0.8 <= (lengths[0] + 1) / (lengths[1] + 1) <= 1.25
    if agree and length >= _SURE_LENGTH and len(found.body) >= 4:
        return  # one long body of several blocks: the finders are sure
    full = None
    region = _region(r)
    alternative = _trafilatura(page, fast=True, region=region)
    if alternative is None or len(alternative[1]) < _FULL_BELOW:
        alternative = full = _trafilatura(page, region=region) or alternative
    if alternative is None:
        return
    alt_html, alt_text = alternative
    alt_tokens = _tokens(alt_text)
    readings = list(r.candidates.values()) or [found.body]
    best = max(readings, key=lambda c: _overlap(_tokens(" ".join(b.text for b in c)), alt_tokens))
    best_length = _length(best)
    # trafilatura's body replaces the finders' when it has much more text, unless the finders
    # ended theirs at words that say the article is over ("Most read", "Related"): its extra
    # text is then what follows them.
    if len(alt_text) > max(1.5 * best_length, best_length + 200) and not r.end_marks:
        full = full or _trafilatura(page, region=region)
        if full is None or len(full[1]) <= max(1.5 * best_length, best_length + 200):
            return _keep_shared(found, best, alt_tokens if full is None else _tokens(full[1]),
                                r.lead)
        alt_html, alt_text = full
        found.body = best
        page.content_html = alt_html
        page.text_length = len(alt_text)
        found.provenance["body"] = "trafilatura"
        return
    # The blocks of the reading that trafilatura's text also has (it dropped the others as
    # boilerplate); figures stay (trafilatura leaves images out, defnews keeps them), and so do
    # data tables (a layout table is read as blocks of its own, never as a "table" block;
    # trafilatura often drops a table whose cells are numbers).
    _keep_shared(found, best, alt_tokens, r.lead)


def _keep_shared(found: Found, best: list[finders.Block], alt_tokens: Counter[str],
                 lead: list[finders.Block]) -> None:
    words = set(alt_tokens)
    # (the standfirst the finders found beside the paragraphs stays: trafilatura often drops
    # a lead that is a heading or a bare <div>)
    kept = [b for b in best
            if b.kind in ("image", "figure", "table") or any(b is x for x in lead)
            or _shared(b.text, words) >= 0.5]
    found.body = kept if _length(kept) >= 0.5 * _length(best) else best


def _shared(text: str, words: set[str]) -> float:
    """The share of ``text``'s words found in ``words``."""
    tokens = _WORD_RE.findall(text.lower())
    return sum(t in words for t in tokens) / len(tokens) if tokens else 1.0


def _length(blocks: list[finders.Block]) -> int:
    return sum(len(b.text) for b in blocks)


_WORD_RE = re.compile(r"\w+")


def _tokens(text: str) -> Counter[str]:
    return Counter(_WORD_RE.findall(text.lower()))


def _overlap(a: Counter[str], b: Counter[str]) -> float:
    """Token F1 of two texts (bags of words)."""
    common = sum((a & b).values())
    total = sum(a.values()) + sum(b.values())
    return 2 * common / total if total else 0.0


def check_body(page: Page) -> None:
    """Phase *body*: the content the finders serialized, unless trafilatura's body won."""
    if page.prov.get("body") != "trafilatura":
        page.content_html = page.found.content_html
        page.text_length = _length(page.found.body)


_SCRIPT_BODY_UNDER = 200  # characters: a body this short may be filled in by a script


def script_body(page: Page) -> None:
    """Phase *script body*: a page whose markup holds no article text, while its data does
    (a Next.js or React page hydrated by script, the body as an HTML string in a ``<script>``;
    a JSON-LD ``articleBody``), is read from that data: a browser would show that text.

    Hand-written: no library reads an HTML body out of a framework's state. The string is
    found by what it is (the longest JSON string literal of a script holding paragraphs), not
    by a framework's variable names.
    """
    if _length(page.found.body) >= _SCRIPT_BODY_UNDER or page.prov.get("body") == "hints":
        return
    # (trafilatura's body of such a page is often that same data, JSON-LD's articleBody, its
    # paragraphs run together: the data read here wins unless trafilatura found much more)
    best_html, best_length = "", int(0.8 * page.text_length)
    for text in _script_html(page.scripts):
        try:
            fragment = lxml.html.fragment_fromstring(text, create_parent="div")
        except (etree.LxmlError, ValueError):
            continue
        etree.strip_elements(fragment, *finders.NEVER_TEXT, with_tail=False)
        length = len(normalize_space(fragment.text_content()))
        if length > max(best_length, _SCRIPT_BODY_UNDER):
            best_html, best_length = _figures(fragment), length
    body = _jsonld_first(page.meta.jsonld, "articleBody")
    if isinstance(body, list):
        body = "\n".join(v for v in body if isinstance(v, str))
    if isinstance(body, str) and len(normalize_space(body)) > max(best_length, _SCRIPT_BODY_UNDER):
        if _PARAGRAPH_RE.search(body):  # (some sites write HTML there)
            best_html = body
        else:
            paragraphs = [normalize_space(p) for p in body.splitlines() if p.strip()]
            best_html = "".join(f"<p>{html_lib.escape(p)}</p>" for p in paragraphs)
        best_length = len(normalize_space(body))
    if not best_html:
        return
    page.content_html = clean_html(best_html, page.url)
    page.text_length = best_length
    page.prov["body"] = "script"


_PLACEHOLDER_RE = re.compile(r"\$\$[A-Z][A-Z0-9_]*\$\$|\{\{\s*[A-Za-z_][\w.]*\s*\}\}")


def _figures(fragment: Any) -> str:
    """The fragment's markup, an image and its caption (an element whose class says
    caption or credit) made a ``<figure>``, a template's placeholders (``$$ARTICLEAD$$``,
    ``{{ad}}``: where the page's script puts an ad) left out."""
    for el in list(fragment.iter()):
        if not isinstance(el.tag, str) or el.tag == "figcaption":
            continue
        parent = el.getparent()
        if (parent is not None and parent is not fragment
                and finders.CAPTION_CLASS_RE.search(el.get("class") or "")
                and next(parent.iter("img"), None) is not None):
            parent.tag, el.tag = "figure", "figcaption"
    markup = "".join(etree.tostring(c, method="html", encoding="unicode") for c in fragment)
    return _PLACEHOLDER_RE.sub("", (fragment.text or "") + markup)


# A JSON string literal of 300 characters or more that holds a paragraph's start tag, raw or
# escaped as JSON writes it ("\u003cp").
_SCRIPT_STRING_RE = re.compile(r'"((?:[^"\\]|\\.){300,}?)"')
_PARAGRAPH_RE = re.compile(r"<p[\s>]", re.IGNORECASE)


def _script_html(scripts: list[Any]) -> list[str]:
    """The HTML strings in the page's scripts that hold two paragraphs or more."""
    import json

    found: list[str] = []
    for script in scripts:
        code = script.text or ""
        if (script.get("type") or "").lower() == "application/ld+json":
            continue
        if "\\u003cp" not in code.lower() and "<p" not in code.lower():
            continue
        for m in _SCRIPT_STRING_RE.finditer(code):
            raw = m.group(1)
            if "u003cp" not in raw.lower() and "<p" not in raw.lower():
                continue
            try:
                value = json.loads(f'"{raw}"')
            except ValueError:
                continue
            if len(_PARAGRAPH_RE.findall(value)) >= 2:
                found.append(value)
    return found


def _region(r: finders.Reading) -> str | None:
    """The part of the page both body readings come from, as a document of its own (None:
    the whole page): trafilatura's cost grows with the tree it is given."""
    if not r.containers:
        return None
    marks = [r.containers[0], *r.containers[0].iterancestors()]
    common = r.containers[0]
    for other in r.containers[1:]:
        chain = {other, *other.iterancestors()}
        common = next((m for m in marks if m in chain), None)
    if common is None or common.tag in ("html", "body") or common.getparent() is None:
        return None
    inner = etree.tostring(common, method="html", encoding="unicode", with_tail=False)
    return f"<html><head></head><body>{inner}</body></html>"


# trafilatura's HTML output, read as deep as the page was.
_TRAFILATURA_OUT = etree.HTMLParser(huge_tree=True)


def _trafilatura(page: Page, fast: bool = False, region: str | None = None) -> tuple[str, str] | None:
    """trafilatura's body of the page (or of ``region``, the part the readings come from):
    its HTML and its text. ``fast``: without its readability/jusText comparison (half the
    cost). Called as ``extract`` does, without the content fingerprint ``extract`` adds (7 ms
    a page, 9% of the call, for a value nothing here reads)."""
    try:
        import trafilatura  # type: ignore[import-untyped]
        from trafilatura.core import determine_returnstring  # type: ignore[import-untyped]
        from trafilatura.settings import Extractor  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - an optional layer
        return None
    try:
        options = Extractor(output_format="html", fast=fast, comments=False, tables=True,
                            images=False, url=page.url)
        document = trafilatura.bare_extraction(
            _library_input(page) if region is None or page.deep else region,
            options=options, as_dict=False,
        )
        out = determine_returnstring(cast(Any, document), options) if document is not None else None
    except Exception as exc:  # noqa: BLE001 - a library layer never fails the reading
        logger.debug("trafilatura failed on %s: %s", page.url, exc)
        return None
    if not out:
        return None
    tree = etree.fromstring(out, _TRAFILATURA_OUT)
    body = tree.find(".//body") if tree is not None else None
    if body is None:
        return None
    text = normalize_space(" ".join(cast(list[str], list(body.itertext()))))
    inner = "".join(etree.tostring(c, method="html", encoding="unicode") for c in body)
    return sanitize_html(inner), text


def fields(page: Page) -> dict[str, Any]:
    """Phase *fields*: the item's fields as plain data."""
    found, prov = page.found, page.prov
    summary = found.summary
    if not summary:
        summary = normalize_space(page.meta.first("og:description", "description") or "")
        if summary:
            prov["summary"] = "metadata"
    labels = found.labels
    if not labels:
        section = _jsonld_first(page.meta.jsonld, "articleSection")
        values = section if isinstance(section, list) else [section]
        labels = list(dict.fromkeys(normalize_space(v) for v in values if isinstance(v, str)))
        labels = labels or list(
            dict.fromkeys(normalize_space(v) for v in page.meta.meta.get("article:section", []))
        )
        labels = [v for v in labels if v]
        if labels:
            prov["labels"] = "metadata"
    if not labels and page.profile.infer_labels is not None:
        labels = page.profile.infer_labels(url_section(page), page.published_raw)
        if labels:
            prov["labels"] = "inferred"
    images = []
    seen: set[str] = set()
    for img in found.images:
        src = join_url(page.url, img["src"]) if img["src"] else None
        if src and src not in seen and not src.startswith("data:"):
            seen.add(src)
            images.append({"url": src, "caption": img["caption"]})
    if images:
        prov["images"] = prov.get("body", "structure")
    published = page.published
    return {
        "url": page.meta.canonical or page.url,
        "title": page.title,
        "published": published.iso() if published else None,
        "published_day": page_day(page),
        "published_precision": published.precision if published else None,
        "published_raw": page.published_raw,
        "published_source": page.published_source,
        "updated_raw": page.updated_raw,
        "updated_source": page.updated_source,
        "author": page.author,
        "categories": labels,
        "summary": summary,
        "content_html": page.content_html,
        "images": images,
        "language": page.meta.lang or ("ja" if page.japanese else None),
        "site_name": page.site_name or None,
        "provenance": {k: prov[k] for k in PROVENANCE_FIELDS if k in prov},
    }


def check_generic(page: Page) -> None:
    """Phase *check* (generic pages): a page with neither article text nor any date, or whose
    headings link other articles while its own text is short, is not an article."""
    if not page.generic:
        return
    length = page.text_length
    if length < 150 and page.published is None:
        raise PageParseError(f"{page.url}: not an article page: no article text and no date")
    linked = sum(
        1 for b in page.found.body if b.kind == "heading" and b.el is not None
        and next(b.el.iter("a"), None) is not None
    )
    if linked >= 5 and length < 300 * linked:
        raise PageParseError(
            f"{page.url}: not an article page: a listing ({linked} headings link elsewhere)"
        )


def page_day(page: Page) -> str | None:
    """The day the page shows: the local day its date line shows for a UTC value (see
    :func:`_local_day`), else the local day the URL is dated for a UTC value a zone turns to
    it (``/2020/02/24/`` and ``2020-02-25T02:25Z``: an evening in the Americas;
    ``/2019/01/01/`` and ``2018-12-31T23:11Z``: past midnight in Europe), else the published
    value's own day."""
    if page.published is None:
        return None
    if page.shown_day is not None:
        return page.shown_day.isoformat()
    value = page.published.value
    day = value.date()
    m = _URL_DAY_RE.search(page.url)
    if m and page.published.precision != "day" and value.utcoffset() == timedelta(0):
        try:
            url_day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return day.isoformat()
        if _zone_turns(value, url_day):
            return url_day.isoformat()
    return day.isoformat()


_URL_DAY_RE = re.compile(r"/((?:19|20)\d{2})[/-]?(0[1-9]|1[0-2])[/-]?(0[1-9]|[12]\d|3[01])(?:/|$|[-_])")

def url_section(page: Page) -> str | None:
    """The section slug the profile's article URL pattern names (``(?P<section>...)``)."""
    for url in (page.meta.canonical, page.url):
        m = page.profile.article_url_re.match(url_path(url))
        if m and "section" in m.groupdict():
            return m.group("section")
    return None


PHASES = (
    parse, read_metadata, find, choose_title, choose_date, choose_author, check_body,
    script_body, check_generic,
)


def read_article(
    html: str | bytes, url: str, profile: SiteProfile | None = None
) -> dict[str, Any]:
    """One article page of any site → its fields (see the module docstring).

    ``profile``: the site's vocabulary, patterns and hints (None: :data:`GENERIC`). Raises
    :class:`PageParseError` with the reason for a page that is not an article; no other
    exception escapes for any markup.
    """
    page = Page(html=html, url=url, profile=profile or GENERIC, generic=profile is None)
    return fields(read(page))


def read(page: Page) -> Page:
    """Run the phases on ``page`` (a site module may have set its tree, skip and declared)."""
    try:
        for phase in PHASES:
            phase(page)
    except PageParseError:
        raise
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, etree.LxmlError) as exc:
        # A bug met on some markup: reported as an unreadable page, with its reason.
        logger.warning("reader failed on %s: %r", page.url, exc)
        raise PageParseError(f"{page.url}: unreadable page ({type(exc).__name__}: {exc})") from exc
    return page


def _jsonld_first(objects: list[dict[str, Any]], key: str) -> Any:
    article = [o for o in objects if _types(o) & ARTICLE_TYPES] or objects
    for obj in article:
        value = obj.get(key)
        if value not in (None, "", []):
            return value
    return None


def _types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type")
    return set(kind) if isinstance(kind, list) else {kind} if isinstance(kind, str) else set()


def _jsonld_text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name")
    return normalize_space(value) if isinstance(value, str) and value.strip() else None
