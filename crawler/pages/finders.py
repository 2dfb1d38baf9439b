"""Generic finders: read an article page by what its parts *are*, on any reasonable markup.

Nothing here knows a site. A :class:`SiteProfile` (one per site, e.g.
``crawler/pages/jdefense.py: PROFILE``) brings the site's vocabulary: its name and tagline, the
date-line pattern, label words and label links, chrome phrases, caption words and selector
hints. Each field is found by a stack of layers (``DESIGN.md``, "Reading a page")::

    hints (site selectors) ► metadata (JSON-LD, OpenGraph, <time>) ► structure ► text ► inferred

and every answer says which layer gave it (:data:`LAYERS`), so a crawl can report coverage and
notice the day a site moves from one layer to another.

How the page is seen: the document is parsed once, then walked once into a flat list of
*blocks* in reading order (:func:`blocks`), the way a reader sees it — a paragraph is a ``<p>``,
a heading, a list, a table, a figure, or a run of inline text between two blocks or two
``<br><br>`` (CSS calls these anonymous block boxes). Wrappers, class names and tag choices
disappear; what is left is the order and the text. The title is the heading matching the
metadata title (else the block just before the date line), the date line is the short block
matching the site's date pattern nearest the title, the labels are the short texts between
them, and the body is the blocks after the header until the first end marker (the footer note,
the pager, the ranking) or the end of the title's container, minus chrome.

Hand-written rather than delegated to a general extractor (trafilatura, readability): those
score text density per page and drop short blocks such as captions and one-line paragraphs,
and they are 10-30x slower; the site profile lets this walk be exact instead of probable.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

from lxml import etree
from lxml.cssselect import CSSSelector

from crawler.pages.html import element_text, normalize_space, sanitize_html
from crawler.urls import join_url, url_path

__all__ = [
    "LAYERS",
    "Block",
    "Found",
    "HintIndex",
    "Hints",
    "SiteProfile",
    "blocks",
    "PHASES",
    "Reading",
    "find_article",
    "hint_names",
    "region_signature",
    "strip_site_name",
]

# The layers of DESIGN.md, in the order they are tried.
LAYERS = ("hints", "metadata", "structure", "text", "inferred")


@dataclass(frozen=True)
class Hints:
    """CSS selectors of a site's known markup: tried first, never required."""

    title: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    dateline: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    lead: tuple[str, ...] = ()
    author: tuple[str, ...] = ()
    ranking: tuple[str, ...] = ()
    # Listings and the sidebar (read by crawler/pages/site.py, not by the block walk).
    ranking_title: tuple[str, ...] = ()
    listing: tuple[str, ...] = ()
    listing_scope: tuple[str, ...] = ("main", "body")
    next_page: tuple[str, ...] = ("a[rel~=next]", "link[rel~=next]")


@dataclass(frozen=True)
class SiteProfile:
    """What one site's pages say about themselves (vocabulary, patterns, hints)."""

    name: str
    site_name: str
    dateline_re: re.Pattern[str]
    article_url_re: re.Pattern[str]  # matched against the URL path
    label_link_re: re.Pattern[str]  # a label link's path, e.g. /docs/<section>/
    label_vocabulary: frozenset[str] = frozenset()
    chrome_phrases: frozenset[str] = frozenset()  # whole block texts that are never content
    chrome_re: re.Pattern[str] | None = None  # block texts that are never content
    end_re: re.Pattern[str] | None = None  # a block matching this ends the body
    caption_re: re.Pattern[str] | None = None  # caption-like text next to an image
    byline_re: re.Pattern[str] | None = None  # a byline just under the date line
    not_article_re: re.Pattern[str] | None = None  # titles of error and search pages
    ranking_heading: str = ""
    hints: Hints = field(default_factory=Hints)
    # (section slug, raw published date or None) → label when a page shows none.
    infer_labels: Callable[[str | None, str | None], list[str]] | None = None
    # Without a body hint, the body is the element holding most paragraph text (a site nobody
    # described: its header and body may sit in unrelated wrappers), not the title's wrapper.
    body_by_density: bool = False
    # Any short text between the title and the date line is a label (a site whose header we
    # know); else only label words and section links are (a byline sits there on most sites).
    labels_by_position: bool = True
    chrome_class_re: re.Pattern[str] | None = None  # more class/id names of chrome
    # Read by crawler/pages/site.py and crawler/pages/profile_rules.py (sources.toml fields).
    label_position: str = "below"  # where the label stands: "below" or "above" the title
    date_precision: str = "minute"  # what the date line says: "minute" or "day"
    byline_end_re: re.Pattern[str] | None = None  # a byline at a paragraph end: (?P<author>)
    not_byline_re: re.Pattern[str] | None = None  # places and credits in the same position
    truncation: tuple[str, ...] = ()  # the paywall cut: "・・・", "続きを読む"
    not_article_pages: frozenset[str] = frozenset()  # paths never read as articles
    next_article: tuple[str, ...] = ("次の記事",)
    prev_article: tuple[str, ...] = ("前の記事",)
    next_page_re: re.Pattern[str] | None = None  # link text of the next listing page
    index_page_re: re.Pattern[str] | None = None  # numbered listing pages, (?P<n>)
    ranking_tabs: Mapping[str, str] = field(default_factory=dict, hash=False)


# -- the block walk ----------------------------------------------------------------------------

INLINE_TAGS = frozenset(
    "a abbr b bdi bdo cite code data dfn em font i kbd label mark q rp rt ruby s samp small "
    "span strong sub sup time tt u var wbr br img picture source big nobr".split()
)
LEAF_TAGS = frozenset(
    "p h1 h2 h3 h4 h5 h6 ul ol dl table figure pre blockquote figcaption address hr".split()
)
HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())
SKIP_TAGS = frozenset(
    "script style noscript template iframe svg math button input select textarea head "
    "title meta link object embed canvas video audio nav aside dialog".split()
)
# ARIA roles of what is not the article: a button's label ("Box aufklappen"), the site's
# navigation, search and dialogs; an element hidden from screen readers (aria-hidden) is
# decoration or a copy shown to sighted readers only.
CHROME_ROLES = frozenset(
    "button navigation search dialog alertdialog menu menubar tablist toolbar banner "
    "complementary contentinfo".split()
)
# Skipped only when small: a search form is chrome, a <form> around the whole page (some CMS
# do that) is not. Likewise for a class that names chrome ("sidebar" in "with-sidebar").
SMALL_CHROME_TAGS = frozenset({"form"})
_CHROME_MAX_TEXT = 400
# Class or id words of chrome on most sites (ads, share buttons, sidebars...). Whole words
# only: "shared-photo" or "header" are not matched.
CHROME_CLASS_RE = re.compile(
    r"(?:^|[\s_-])(?:ads?|advert\w*|adsbygoogle|sponsor\w*|share|sns|social|banner|bnr|"
    r"pagetop|page-top|breadcrumbs?|sidebar|side-bnr|gnav|global-nav|site-search|ranking|"
    r"related|widget|pager|pagination)(?:$|[\s_-])",
    re.IGNORECASE,
)
SHARE_URL_RE = re.compile(
    r"intent/(?:tweet|post)|sharer|twitter\.com/share|facebook\.com/share|share\.php|social-plugins\.line\.me|line\.me/R/msg|b\.hatena\.ne\.jp/"
    r"(?:entry|add)|getpocket\.com/edit|pinterest\.com/pin/create",
    re.IGNORECASE,
)
_BULLET_RE = re.compile(r"^[•・●■◆▶▷►›»\-–—*]\s*")
_SEPARATORS_RE = re.compile(r"\s*(?:[,、，/|｜]|\s・\s|\s{2,}|(?=【)|(?<=】))\s*")
_TRUNCATED_RE = re.compile(r"(…|\.\.\.)$")

_DATELINE_MAX = 60  # a date line is short: "2024-10-22 18:15", "公開日:2024-10-22 18:15 更新…"
_LABEL_MAX = 20
_CAPTION_MAX = 160


class Block:
    """One block of the page in reading order: an element, or a run of inline nodes."""

    __slots__ = (
        "_chrome", "container", "el", "index", "kind", "nodes", "profile", "stripped", "text"
    )

    def __init__(
        self, kind: str, el: Any, container: Any, text: str, nodes: list[Any] | None = None
    ) -> None:
        self.kind = kind  # heading, para, run, list, table, figure, image, rule
        self.el = el  # the element (None for a run)
        self.container = container  # the element holding it (the element itself, or the run's)
        self.text = text
        self.nodes = nodes  # a run: text strings and inline elements
        self.index = -1
        self._chrome: bool | None = None
        self.profile: SiteProfile | None = None  # set by find_article: chrome is judged lazily
        self.stripped = False  # the tree has no script or style (see _text)

    @property
    def chrome(self) -> bool:
        """Whether the block is site chrome (judged on first use: most blocks never are)."""
        if self._chrome is None:
            self._chrome = self.profile is not None and _is_chrome(self, self.profile)
        return self._chrome

    @chrome.setter
    def chrome(self, value: bool) -> None:
        self._chrome = value

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<Block {self.index} {self.kind} {self.text[:40]!r}>"

    def elements(self) -> list[Any]:
        if self.el is not None:
            return [self.el]
        return [n for n in self.nodes or () if not isinstance(n, str)]

    def links(self) -> list[Any]:
        return [a for el in self.elements() for a in el.iter("a") if a.get("href") is not None]

    def pieces(self) -> list[tuple[str, str | None]]:
        """Short texts of the block (each link, list item, span, or comma-separated part)."""
        out: list[tuple[str, str | None]] = []
        if self.el is not None and self.el.tag in ("ul", "ol", "dl"):
            for li in self.el.iter("li", "dd", "dt"):
                a = next(li.iter("a"), None)
                out.append((_text(li, self.stripped), a.get("href") if a is not None else None))
            return [(t, h) for t, h in out if t]
        nodes: list[Any] = list(self.nodes) if self.nodes is not None else _child_nodes(self.el)
        # An inline element holding only inline elements is read as a run of its own, in its
        # place: a stack of runs being read rather than a call per level (spans nested 2,000
        # deep). Each piece remembers how many runs deep it was found: every run cleans the
        # bullets off the pieces it returns, so a piece from k runs down is cleaned k+1 times.
        found: list[tuple[str, str | None, int]] = []
        stack: list[Iterator[Any]] = [iter(nodes)]
        while stack:
            node: Any = next(stack[-1], _END)
            if node is _END:
                stack.pop()
                continue
            depth = len(stack) - 1
            if isinstance(node, str):
                found += [(p, None, depth) for p in _SEPARATORS_RE.split(normalize_space(node)) if p]
                continue
            a = node if node.tag == "a" else next(node.iter("a"), None)
            inner = [c for c in node if isinstance(c.tag, str) and c.tag not in ("br", "img")]
            if node.tag != "a" and inner and all(c.tag in INLINE_TAGS for c in inner):
                stack.append(iter(_child_nodes(node)))
                continue
            text = _text(node, self.stripped)
            if text and a is None and not inner and "【" in text:
                # "2005年4月1日 【防衛】" in one <font>: the bracketed label is a piece of its own
                found += [(p, None, depth) for p in _SEPARATORS_RE.split(text) if p]
            elif text:
                found.append((text, a.get("href") if a is not None else None, depth))
        cleaned = []
        for text, href, depth in found:
            for _ in range(depth + 1):
                text = _BULLET_RE.sub("", text).strip()
                if not text:
                    break
            if text:
                cleaned.append((text, href))
        return cleaned


_END: Any = object()  # (the end of an iterator, for next())


def _child_nodes(el: Any) -> list[Any]:
    nodes: list[Any] = []
    text = el.text  # (each .text or .tail read decodes a new string: read once)
    if text and text.strip():
        nodes.append(text)
    for child in el:
        tag = child.tag
        if isinstance(tag, str) and tag not in SKIP_TAGS:
            nodes.append(child)
        tail = child.tail
        if tail and tail.strip():
            nodes.append(tail)
    return nodes


# The string value of an element (its descendant text, comments skipped), as XPath string()
# gives it: libxml2's text serialization is the same walk without an XPath context per call
# (0.3 µs against 1.2 µs; the block walk asks for it on every block).
_SERIALIZED_TEXT = functools.partial(
    etree.tostring, method="text", encoding="unicode", with_tail=False
)


def _TEXT(el: Any) -> str:  # noqa: N802 - was an XPath ``string()``
    # An element without children (comments count as children) holds only its .text.
    return (el.text or "") if not len(el) else _SERIALIZED_TEXT(el)  # type: ignore[no-any-return]


NEVER_TEXT = ("script", "style", "noscript", "template")


def _text(el: Any, stripped: bool = False) -> str:
    """The visible text of ``el``; ``stripped``: the tree has no script or style left
    (:func:`clean`), so one C text serialization gives it."""
    if el is None:
        return ""
    if stripped:
        return normalize_space(_TEXT(el))
    return element_text(el)


def _has_image(el: Any) -> bool:
    return next(el.iter("img"), None) is not None


class _Walker:
    def __init__(self, skip: set[Any], index: Any = None, stripped: bool = False) -> None:
        self.profile: SiteProfile | None = None
        self.stripped = stripped
        self.lines = False  # inside a layout table: a <br> ends a block
        self.skip = skip
        self.out: list[Block] = []
        self.index = index  # a HintIndex filled on the way

    def emit(self, block: Block) -> None:
        block.index = len(self.out)
        block.profile = self.profile
        block.stripped = self.stripped
        self.out.append(block)

    def walk(self, root: Any) -> None:
        """The blocks of ``root``, in reading order. Iterative: each element being read is a
        generator on a stack of its own, which yields the child to read before it goes on (a
        page nested 2,000 levels deep is no deeper a Python stack)."""
        stack = [self._walk(root)]
        push, pop = stack.append, stack.pop
        while stack:
            child = next(stack[-1], None)
            if child is None:
                pop()
            else:
                push(self._walk(child))

    def _leaf(self, el: Any) -> Iterator[Any]:
        tag = el.tag
        if tag == "table" and layout_table(el):
            # A table that lays out the page: its cells are read as a page, each line (up to a
            # <br>) a block of its own, as old markup writes a heading or a date line.
            lines, self.lines = self.lines, True
            yield el  # (walked before this generator goes on)
            self.lines = lines
            return
        self._leaf_block(el)

    def _leaf_block(self, el: Any) -> None:
        """A leaf element (not a layout table) as one block."""
        tag = el.tag
        text = " ".join(_TEXT(el).split()) if self.stripped else _text(el)
        if tag in HEADING_TAGS:
            kind = "heading"
        elif tag == "figure":
            kind = "figure" if _has_image(el) else "para"
        elif tag in ("ul", "ol", "dl"):
            kind = "list"
        elif tag == "table":
            kind = "table"
        elif tag == "hr":
            kind = "rule"
        elif not text and _has_image(el):
            kind = "image"
        else:
            kind = "para"
        if text or kind in ("image", "figure"):
            self.emit(Block(kind, el, el, text))

    def _walk(self, el: Any) -> Iterator[Any]:
        """Read ``el``'s children; yields each child container to be walked in its place."""
        run: list[Any] = []
        last_br = False

        def flush() -> None:
            nonlocal run
            while run and (
                run[-1].tag == "br" if not isinstance(run[-1], str) else run[-1] == " "
            ):
                run.pop()
            if run:
                text = normalize_space(
                    "".join(n if isinstance(n, str) else _text(n, self.stripped) for n in run)
                )
                if text:
                    self.emit(Block("run", None, el, text, run))
            run = []

        text = el.text
        if text and text.strip():
            run.append(text)
        skip = self.skip
        index = self.index
        extra = self.profile.chrome_class_re if self.profile is not None else None
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag in SKIP_TAGS or (skip and child in skip):
                pass
            elif (
                (attrs := child.keys())
                and (
                    "hidden" in attrs
                    or ("role" in attrs and child.get("role") in CHROME_ROLES)
                    or ("aria-hidden" in attrs and child.get("aria-hidden") == "true")
                    or (
                        ("class" in attrs or "id" in attrs)
                        and _chrome(child, child.get("class"), child.get("id"), index, extra)
                    )
                    or (extra is not None and "style" in attrs and _HIDDEN_STYLE.search(
                        child.get("style") or "") is not None and _small(child))
                )
            ) or (tag in SMALL_CHROME_TAGS and _small(child)):
                pass  # (the class/id test, inlined for speed, indexes the names for hints)
            elif tag in INLINE_TAGS:
                if tag == "br":
                    if last_br or self.lines:
                        if run:
                            flush()
                        last_br = False
                    else:
                        run.append(child)
                        last_br = True
                elif _has_image(child) and not _text(child, self.stripped):
                    if run:
                        flush()
                    self.emit(Block("image", child, child, ""))
                    last_br = False
                else:
                    run.append(child)
                    last_br = False
            elif tag in LEAF_TAGS:
                if run:
                    flush()
                last_br = False
                if tag == "table":
                    yield from self._leaf(child)
                else:
                    self._leaf_block(child)
            else:
                if run:
                    flush()
                last_br = False
                yield child
            tail = child.tail
            if tail and tail.strip():
                run.append(tail)
                last_br = False
            elif tail and run and tag in INLINE_TAGS and tag != "br":
                run.append(" ")  # "<span>By Jane Doe</span> <span>Nov 18</span>": two words
        if run:
            flush()




_LAYOUT_INSIDE = frozenset(
    "table h1 h2 h3 h4 h5 h6 p div ul ol dl form blockquote article section main header "
    "footer nav iframe".split()
)
_LAYOUT_CELL_TEXT = 300  # a data cell holds a value or a sentence, not a page's paragraphs


def layout_table(el: Any) -> bool:
    """Whether a ``<table>`` lays out the page (old markup: the whole page in a table, the
    body in a cell, ``<font>`` for headings) rather than holding data. Layout: a table, a
    heading, a paragraph or a list inside it, a ``<br><br>`` paragraph break, or a cell
    longer than a data value. A data table stays one block."""
    for node in el.iterdescendants():
        tag = node.tag
        if not isinstance(tag, str):
            continue
        if tag in _LAYOUT_INSIDE:
            return True
        if tag == "br" and _break_pair(node):
            return True
        if tag in ("td", "th") and len(_TEXT(node)) > _LAYOUT_CELL_TEXT:
            return True
    return False


def _break_pair(br: Any) -> bool:
    nxt = br.getnext()
    return nxt is not None and nxt.tag == "br" and not (br.tail or "").strip()


_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def _chrome(
    el: Any, cls: str | None, ident: str | None, index: Any, extra: re.Pattern[str] | None = None
) -> bool:
    """Index the element's class and id for the hints; say whether they name chrome (a
    small element only: a layout wrapper "with-sidebar" holds the article); ``extra``: the
    profile's own chrome class names."""
    if index is not None:
        index.add(el, cls, ident)
    names = _chrome_names(cls, ident) or (
        extra is not None and bool(extra.search(f"{cls or ''} {ident or ''}"))
    )
    return names and _small(el)


def _H1_OR_ARTICLE(el: Any) -> bool:  # noqa: N802 - was an XPath ``boolean(.//h1 | ...)``
    return next(el.iterdescendants("h1", "article", "main"), None) is not None


def _small(el: Any) -> bool:
    """Little text and no page structure inside: what chrome looks like."""
    return len(_TEXT(el)) <= _CHROME_MAX_TEXT and not _H1_OR_ARTICLE(el)


def small_region(el: Any, limit: int = 4000) -> bool:
    """Whether ``el`` (a sidebar found by its heading) is a region, not the whole page: some
    text, no ``h1``, ``article`` or ``main`` inside."""
    return len(_TEXT(el)) <= limit and not _H1_OR_ARTICLE(el)


@functools.lru_cache(maxsize=4096)
def _chrome_names(cls: str | None, ident: str | None) -> bool:
    """Whether a class or id names chrome (cached: a page repeats its class names)."""
    return bool(CHROME_CLASS_RE.search(f"{cls or ''} {ident or ''}"))


def blocks(
    root: Any,
    skip: set[Any] | None = None,
    index: Any = None,
    profile: SiteProfile | None = None,
    *,
    stripped: bool = False,
) -> list[Block]:
    """The blocks of ``root`` in reading order (see the module docstring); ``index`` (a
    :class:`HintIndex`) is filled with the class and id names met on the way; ``profile``
    lets each block judge whether it is chrome; ``stripped``: ``root``'s tree has no script or
    style elements left (its texts are then read the fast way)."""
    walker = _Walker(skip or set(), index, stripped)
    walker.profile = profile
    walker.walk(root)
    return walker.out


# -- metadata ------------------------------------------------------------------------------------

_CANONICAL = etree.XPath("//link[@href][contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]/@href")
_DESCRIPTION = etree.XPath("//meta[@name='description']/@content")
_TITLE = etree.XPath("//title")


@dataclass
class Found:
    """What :func:`find_article` found: values, and the layer of each field."""

    title: str = ""
    labels: list[str] = field(default_factory=list)
    dateline: str | None = None
    dateline_layer: str | None = None
    summary: str = ""
    content_html: str = ""
    images: list[dict[str, str | None]] = field(default_factory=list)
    author: str | None = None
    header_times: list[Any] = field(default_factory=list)  # <time> elements of the header
    provenance: dict[str, str] = field(default_factory=dict)
    body: list[Block] = field(default_factory=list)
    container: Any = None  # the element the body was read from



@functools.lru_cache(maxsize=512)
def css(selector: str) -> CSSSelector:
    """A CSS selector compiled once (translating CSS to XPath costs more than using it)."""
    return CSSSelector(selector)




@functools.lru_cache(maxsize=32)
def hint_names(hints: Hints) -> frozenset[str]:
    """Every class and id name the selectors of ``hints`` use."""
    names: set[str] = set()
    for group in dataclasses.astuple(hints):
        for selector in group:
            names.update(re.findall(r"[.#]([\w-]+)", selector))
    return frozenset(names)
_STEP_RE = re.compile(r"^([a-zA-Z][\w-]*)?((?:[.#][\w-]+)*)$")


@functools.lru_cache(maxsize=512)
def _steps(selector: str) -> tuple[tuple[str | None, tuple[str, ...], str | None], ...] | None:
    """``"ul.category li"`` → ((ul, (category,), None), (li, (), None)); None if not that simple."""
    out = []
    for step in selector.split():
        m = _STEP_RE.match(step)
        if not m or not step:
            return None
        marks = re.findall(r"([.#])([\w-]+)", m.group(2))
        classes = tuple(v for k, v in marks if k == ".")
        ids = [v for k, v in marks if k == "#"]
        out.append((m.group(1), classes, ids[0] if ids else None))
    return tuple(out)


@functools.lru_cache(maxsize=512)
def _plan(
    selector: str, names: frozenset[str] | None
) -> tuple[tuple[str | None, tuple[str, ...], str | None], ...] | None:
    """The steps of ``selector`` if the index can answer it (every name indexed), else None."""
    steps = _steps(selector)
    if steps is not None and names is not None and any(
        n not in names for _, classes, ident in steps for n in (*classes, *([ident] if ident else []))
    ):
        return None
    return steps


class HintIndex:
    """Site selector hints answered from one index of the page's class and id names.

    Hand-written for speed: cssselect turns ``.x`` into an XPath string test run on every
    element, once per selector — a dozen hints cost more than parsing the page. One XPath
    collects the elements that have a class or id; descendant selectors of tags, classes and
    ids (all the hints use) are answered from it, anything else goes to cssselect.
    """

    def __init__(self, root: Any, names: frozenset[str] | None = None) -> None:
        """``names``: the class and id names the hints use (None: every name).

        Empty until :meth:`add` is called for each element (the block walk does it as it
        passes, so the index costs no extra pass over the page).
        """
        self.root = root
        self.names = names
        self.by_class: dict[str, list[Any]] = {}
        self.by_id: dict[str, list[Any]] = {}


    def add(self, el: Any, cls: str | None, ident: str | None) -> None:
        names = self.names
        if cls:
            if names is not None and cls in names:  # the common case: one class name
                self.by_class.setdefault(cls, []).append(el)
            elif names is None or " " in cls:
                for token in cls.split():
                    if names is None or token in names:
                        self.by_class.setdefault(token, []).append(el)
        if ident and (names is None or ident in names):
            self.by_id.setdefault(ident, []).append(el)

    def _candidates(self, tag: str | None, classes: tuple[str, ...], ident: str | None,
                    within: Any) -> list[Any]:
        if ident is not None or classes:
            pool = self.by_id.get(ident) if ident is not None else self.by_class.get(classes[0])
            if not pool:  # the common case: a hint this page does not use
                return []
            if ident is None and len(classes) == 1:  # the pool holds that class: no test
                found = pool[:] if tag is None else [el for el in pool if el.tag == tag]
            else:
                found = [
                    el
                    for el in pool
                    if (tag is None or el.tag == tag)
                    and all(c in (el.get("class") or "").split() for c in classes)
                ]
            if within is not None:
                found = [el for el in found if any(a is within for a in el.iterancestors())]
            return found
        scope = within if within is not None else self.root
        return [el for el in scope.iter(tag) if el is not scope]

    def select(self, selector: str) -> list[Any]:
        steps = _plan(selector, self.names)
        if steps is None:
            return cast(list[Any], css(selector)(self.root))
        found = self._candidates(*steps[0], None)
        for step in steps[1:]:
            nxt: list[Any] = []
            for el in found:
                nxt += self._candidates(*step, el)
            found = list(dict.fromkeys(nxt))
        return found

    def first(self, selectors: tuple[str, ...]) -> Any:
        for selector in selectors:
            found = self.select(selector)
            if found:
                return found[0]
        return None

    def all(self, selectors: tuple[str, ...]) -> list[Any]:
        for selector in selectors:
            found = self.select(selector)
            if found:
                return found
        return []






@functools.lru_cache(maxsize=16)
def _site_name_res(site_name: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    # The suffix pattern starts at the separator (a character class: the regex engine skips
    # to it) rather than at the white space before it, which it would try at every position;
    # that white space is stripped after the cut.
    # (ㅣ, the Hangul letter, and 丨 stand for a bar in Korean and Chinese titles)
    return (re.compile(r"[|｜ㅣ丨\-–—:：]\s*" + re.escape(site_name) + r".*$"),
            re.compile(r"^" + re.escape(site_name) + r"\s*[|｜ㅣ丨\-–—:：]\s*"))


def strip_site_name(title: str | None, site_name: str) -> str:
    """``"<title> | Site"`` or ``"Site | <title>"`` → ``"<title>"``; the bare site name → ``""``."""
    text = normalize_space(title)
    if not text or not site_name:
        return text
    if site_name in text:
        suffix, prefix = _site_name_res(site_name)
        m = suffix.search(text)
        if m:
            text = text[: m.start()].rstrip()
        text = prefix.sub("", text)
    return "" if text == site_name else text.strip()


def region_signature(el: Any, url: str, source: bytes | None = None) -> str:
    """A short hash of an element's markup (e.g. a site-wide sidebar): equal markup, equal
    hash. Relative links resolve against the page, so then the page's folder counts too.

    ``source``: the UTF-8 text the tree was parsed from. Then the hash is of the source lines
    that hold the element (from the line libxml2 gives its start tag — where the tag ends — to
    the line where the next element starts: everything inside it lies between): equal lines,
    equal element; lines that differ around it only ever cost a second reading.
    Without it, or where lines cannot be trusted (a minified page, old Mac line ends, lines
    past libxml2's 65535), the element is serialized instead, which costs four times more.
    """
    raw = _source_lines(el, source) if source is not None else None
    if raw is None:
        # UTF-8 bytes straight from libxml2: no str to build and encode again before hashing.
        raw = etree.tostring(el, encoding="utf-8", with_tail=False)
    # A change detector within a crawl, not a security boundary: CRC-32 and the length cost a
    # quarter of BLAKE2b on a 7 KB sidebar.
    key = (zlib.crc32(raw), len(raw))
    signature = f"{key[0]:08x}{key[1]:x}"
    relative = _RELATIVE.get(key)
    if relative is None:  # a page repeats the region of the last: asked once per version
        if len(_RELATIVE) > 64:
            _RELATIVE.clear()
        relative = _RELATIVE[key] = any(
            href.strip() and not href.strip().startswith(_NOT_RELATIVE)
            for href in cast(list[str], _HREFS(el))
        )
    if relative:
        signature += f"-{zlib.crc32(url.rsplit('/', 1)[0].encode('utf-8')):08x}"
    return signature


_BIG_LINE = 65535  # libxml2 stops counting lines there (without XML_PARSE_BIG_LINES)


def _source_lines(el: Any, source: bytes) -> bytes | None:
    """The lines of ``source`` from ``el``'s start tag to the start of the next element."""
    first = el.sourceline
    node, following = el, None
    while following is None and node is not None:
        following = node.getnext()
        node = node.getparent()
    last = following.sourceline if following is not None else None
    if not first or first >= _BIG_LINE or (last is not None and not first < last < _BIG_LINE):
        return None  # (the next element on the same line: a minified page)
    if b"\r" in source and source.count(b"\r") != source.count(b"\r\n"):
        return None  # libxml2 counts lines by LF only: a lone CR would shift them
    # (split in C: a Python loop over the lines to find the offsets costs more than the
    # serialization it saves)
    lines = source.split(b"\n", last or -1)
    return b"\n".join(lines[first - 1 : last])


_RELATIVE: dict[tuple[int, int], bool] = {}
_HREFS = etree.XPath("descendant-or-self::*/@href", smart_strings=False)
# What an href may start with and still not depend on the page's address.
_NOT_RELATIVE = ("/", "#", "http:", "https:", "mailto:", "javascript:", "HTTP:", "HTTPS:")


CAPTION_CLASS_RE = re.compile(r"caption|credit|cap\b|photo-?txt", re.IGNORECASE)
_BANNER_ALT_RE = re.compile(r"bnr|banner|バナー|広告", re.IGNORECASE)


def _is_chrome(b: Block, profile: SiteProfile) -> bool:
    text = b.text
    if text in profile.chrome_phrases or text == profile.site_name:
        return True
    if b.kind not in ("image", "figure") and len(text) > 80:
        return False  # chrome is short: a long text is never a menu, a credit or an ad label
    if profile.chrome_re is not None and profile.chrome_re.search(text):
        return True
    if b.kind in ("image", "figure"):
        img = next(b.el.iter("img"), None)
        return img is not None and bool(_BANNER_ALT_RE.search(img.get("alt") or ""))
    if len(text) <= 80 and b.kind in ("run", "list", "para"):
        links = b.links()
        if links and all(SHARE_URL_RE.search(a.get("href") or "") for a in links):
            return True
        # Several chrome words in one block (menu, share bar): only lists and runs have them.
        if b.kind != "para" and len(text) <= 40:
            pieces = b.pieces()
            if pieces and all(
                p in profile.chrome_phrases or p == profile.site_name for p, _ in pieces
            ):
                return True
    return False


def _loose(text: str) -> str:
    """Text compared loosely: NFKC (full/half width) and no white space."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def _is_label_piece(text: str, href: str | None, profile: SiteProfile, *, position: bool) -> bool:
    """A label: a word of the site's vocabulary, a link to a section, or (in the label
    position, between the title and the date line) any short text."""
    if not text or len(text) > _LABEL_MAX or "。" in text:
        return False
    if _BRACKET_LABEL_RE.match(text):
        return True  # 【防衛】: the bracket marks a label on old Japanese pages
    if text == profile.site_name or text in profile.chrome_phrases:
        return False
    if profile.dateline_re.search(text):
        return False
    if all(word in profile.label_vocabulary for word in text.split()):
        return True  # one label, or several in one element ("ニュース解説 特集")
    if href:
        if profile.label_link_re.match(url_path(href) or "/"):
            return True
        return position and profile.labels_by_position and not SHARE_URL_RE.search(href)
    return position and profile.labels_by_position


_BRACKET_LABEL_RE = re.compile(r"^【[^】\d]{1,12}】$")


def _inside(b: Block, container: Any) -> bool:
    c = b.container
    return (
        c is container
        or c.getparent() is container  # (most blocks: a child of the body's container)
        or any(a is container for a in c.iterancestors())
    )


def _image_of(el: Any) -> Any:
    return next(el.iter("img"), None)






def _join(base: str, origin: str, value: str) -> str:
    """``urljoin(base, value)``, with the common cases (absolute, root-relative) short-cut."""
    if value.startswith(("https://", "http://")):
        return value
    if value.startswith("/") and not value.startswith("//") and "/." not in value:
        return origin + value
    return join_url(base, value) or value  # unparseable: left as written (the sanitizer judges)


_LAZY_SRC = ("data-src", "data-original", "data-lazy-src")


def _absolutize(el: Any, base: str, origin: str) -> None:
    """``href``/``src`` under ``el`` made absolute against ``base`` (unparseable ones dropped)."""
    for node in el.iter("a", "img"):
        if node.tag == "img":  # a lazy-loaded image: the real address is in data-*
            lazy = next((node.get(a) for a in _LAZY_SRC if node.get(a)), None)
            if lazy and not lazy.startswith("data:"):
                node.set("src", lazy)
        for attr in ("href", "src"):
            value = node.get(attr)
            if value is None:
                continue
            try:
                node.set(attr, _join(base, origin, value.strip()))
            except ValueError:
                del node.attrib[attr]


def _move(holder: Any, el: Any) -> None:
    """``el`` moved under ``holder``, followed by the line break the source had after it."""
    el.tail = "\n" if el.tail and "\n" in el.tail else None
    holder.append(el)


def _move_run(holder: Any, nodes: list[Any]) -> None:
    """A run of inline nodes (strings and elements) as a new ``<p>`` under ``holder``."""
    p = etree.SubElement(holder, "p")
    p.tail = "\n"
    last = None
    for node in nodes:
        if isinstance(node, str):
            if last is None:
                p.text = (p.text or "") + node
            else:
                last.tail = (last.tail or "") + node
        else:
            node.tail = None  # its tail is the next string of the run
            p.append(node)
            last = node






@dataclass
class Reading:
    """The state of one :func:`find_article` call, handed from phase to phase (nothing is
    kept between calls: every phase reads and writes this object only)."""

    url: str
    profile: SiteProfile
    index: HintIndex
    bl: list[Block]
    title_candidates: list[str]
    declared: bool
    found: Found = field(default_factory=Found)
    by_el: dict[Any, Block] = field(default_factory=dict)
    title_block: Block | None = None
    hinted_title: Block | None = None
    date_block: Block | None = None
    header_end: int = -1
    consumed: set[int] = field(default_factory=set)
    candidates: dict[str, list[Block]] = field(default_factory=dict)  # other body readings
    containers: list[Any] = field(default_factory=list)  # the elements the readings come from
    lead: list[Block] = field(default_factory=list)  # a standfirst beside the densest element
    end_marks: set[int] = field(default_factory=set)  # blocks whose words ended a reading
    _dated: list[Block] | None = None

    @property
    def prov(self) -> dict[str, str]:
        return self.found.provenance

    def date_blocks(self) -> list[Block]:
        """The short date-pattern blocks (found on first use: a hinted date line needs none)."""
        if self._dated is None:
            dre = self.profile.dateline_re
            self._dated = [
                b for b in self.bl
                if len(b.text) <= _DATELINE_MAX and dre.search(b.text) and not b.chrome
            ]
        return self._dated

    def block_of(self, el: Any) -> Block | None:
        if el is None:
            return None
        hit = self.by_el.get(el)
        if hit is not None:
            return hit
        for anc in el.iterancestors():  # the hint is inside a block (a <time> in a <p>)
            hit = self.by_el.get(anc)
            if hit is not None:
                return hit
        return next((b for b in self.bl if b.nodes and any(n is el for n in b.nodes)), None)


def find_article(
    tree: Any,
    url: str,
    profile: SiteProfile,
    *,
    title_candidates: list[str],
    declared: bool,
    skip: set[Any] | None = None,
    index: HintIndex | None = None,
) -> Found:
    """Title, date line, labels, body, images and summary of one article page.

    ``title_candidates`` are the metadata titles (JSON-LD headline, og:title, ``<title>``
    without the site name), best first; ``declared`` says the metadata calls the page an
    article. ``skip`` holds elements never read (e.g. the ranking sidebar). Raises
    ``ValueError`` when the page is not an article (no title; an error, search or listing page).

    The tree must be the caller's own parse: it is changed (script and style elements are
    removed, body links made absolute and body blocks moved into the content). Read anything
    else you need from it first.

    The reading is a pipeline of named phases (:data:`PHASES`), each a small function of the
    :class:`Reading`: clean, segment, author, title, date line, article check, labels, body,
    images, summary, header times.
    """
    r = segment(clean(tree), url, profile, title_candidates, declared, skip, index)
    for phase in PHASES:
        phase(r)
    return r.found


def clean(tree: Any) -> Any:
    """Phase *clean*: script, style and template text is never read: gone from the tree (in
    C), so every text below is one C serialization (the caller reads JSON-LD before)."""
    etree.strip_elements(tree, *NEVER_TEXT, with_tail=False)
    return tree


def segment(
    tree: Any,
    url: str,
    profile: SiteProfile,
    title_candidates: list[str],
    declared: bool,
    skip: set[Any] | None = None,
    index: HintIndex | None = None,
) -> Reading:
    """Phase *segment*: the page as blocks in reading order (the tree is :func:`clean`)."""
    # (a loop over the root's children: find() goes through ElementPath, in Python)
    root = next((c for c in tree if c.tag == "body"), tree)
    index = index or HintIndex(tree, hint_names(profile.hints))
    bl = blocks(root, set(skip or ()), index, profile, stripped=True)
    return Reading(
        url=url, profile=profile, index=index, bl=bl, title_candidates=title_candidates,
        declared=declared, by_el={b.el: b for b in bl if b.el is not None},
    )


def find_author_hint(r: Reading) -> None:
    """Phase *author*: the byline hint (its block is then no content)."""
    author_el = r.index.first(r.profile.hints.author)
    if author_el is None:
        return
    r.found.author = _text(author_el, True) or None
    if r.found.author:
        r.prov["author"] = "hints"
    author_block = r.by_el.get(author_el)
    if author_block is not None:
        author_block.chrome = True  # the byline is no content


def find_title(r: Reading) -> None:
    """Phase *title*: the hint, else the block that says a metadata title."""
    found, bl = r.found, r.bl
    hinted = r.hinted_title = r.block_of(r.index.first(r.profile.hints.title))
    if hinted is not None and hinted.text:
        r.title_block, found.title, r.prov["title"] = hinted, hinted.text, "hints"
        return
    for cand in r.title_candidates:
        same = [b for b in bl if b.text == cand and not b.chrome]
        if same:
            r.title_block = next((b for b in same if b.kind == "heading"), same[0])
            found.title, r.prov["title"] = cand, "metadata"
            return
    if not r.title_candidates:
        return
    # No block says it exactly: the heading that says it with other spaces or widths (NFKC),
    # or that the metadata cut short (a JSON-LD headline trimmed to 110 characters) — then
    # the page's own words win.
    loose = {_loose(c): c for c in r.title_candidates}
    for b in bl:
        if b.chrome or b.kind not in ("heading", "run", "para") or len(b.text) > 200:
            continue
        key = _loose(b.text)
        if key in loose or any(len(c) >= 20 and key.startswith(c) for c in loose):
            r.title_block = b
            found.title, r.prov["title"] = b.text, "metadata"
            return
        # (h1 and h2 only: +5 Fundus titles, none lost; an h3 read so took one page's body
        # from trafilatura to a worse structural reading)
        said = (_heading_saying(b, r.title_candidates)
                if b.kind == "heading" and b.el is not None and b.el.tag in ("h1", "h2") else None)
        if said is not None:
            r.title_block = b
            found.title, r.prov["title"] = said, "metadata"
            return
    found.title, r.prov["title"] = r.title_candidates[0], "metadata"


_WORDS_RE = re.compile(r"\w+")


def _heading_saying(b: Block, candidates: list[str]) -> str | None:
    """The metadata title a heading says with a kicker run into it: the heading's text is
    the kicker's and the headline's elements read together, no separator between them
    ("MeinungWarum Kritik an...", "Technologie im Klassenzimmer Künstliche Intelligenz..."
    for the title "Technologie im Klassenzimmer: Künstliche Intelligenz..."). The headline
    is the metadata title the heading ends with, or the one of the heading's words with a
    separator the heading lacks (not one that only writes its quotes another way)."""
    words = _WORDS_RE.findall(b.text.lower())
    tail = _loose(b.text)
    for cand in candidates:
        if len(cand) < 20:
            continue
        run_in = _WORDS_RE.findall(cand.lower()) == words and _separators(cand) > _separators(b.text)
        if run_in or (tail.endswith(_loose(cand)) and len(tail) - len(_loose(cand)) <= 60):
            return cand
    return None


def _separators(text: str) -> int:
    return sum(text.count(c) for c in ":：|/–—-")


def find_dateline(r: Reading) -> None:
    """Phase *date*: the short date-pattern block nearest the title (else the hint)."""
    hinted_date = r.block_of(r.index.first(r.profile.hints.dateline))
    dre = r.profile.dateline_re
    if hinted_date is not None and dre.search(hinted_date.text):
        r.date_block, r.found.dateline_layer = hinted_date, "hints"
    elif r.title_block is not None:
        t = r.title_block.index
        after = [b for b in r.date_blocks() if 0 < b.index - t <= 12]
        before = [b for b in r.date_blocks() if 0 < t - b.index <= 3]
        r.date_block = after[0] if after else (before[-1] if before else None)
    elif r.date_blocks() and len(r.date_blocks()) < 3:
        r.date_block = r.date_blocks()[0]
    if r.date_block is not None:
        m = dre.search(r.date_block.text)
        assert m is not None
        r.found.dateline = m.group(0)
        r.found.dateline_layer = r.found.dateline_layer or "text"


def _label_list(b: Block, profile: SiteProfile) -> bool:
    """A short block whose every piece is a label word or link (not in the label position)."""
    return bool(pieces := b.pieces()) and all(
        _is_label_piece(t, h, profile, position=False) for t, h in pieces
    )


def find_title_by_structure(r: Reading) -> None:
    """Phase *title* (structure): without a title block, the block just before the date
    line (labels skipped); on a page without a date, the block just before the label list;
    last, the first heading."""
    profile, bl = r.profile, r.bl
    anchor = r.date_block
    if r.title_block is None and anchor is None:
        anchor = next(
            (b for b in bl if not b.chrome and len(b.text) <= 60 and _label_list(b, profile)),
            None,
        )
    if r.title_block is None and anchor is not None:
        # The nearest heading among the few blocks before the anchor; else the nearest block
        # that does not look like a label list (label words, or several short pieces).
        near: list[Block] = []
        for b in reversed(bl[: anchor.index]):
            if b.chrome or b.kind in ("image", "figure", "table", "rule"):
                continue
            near.append(b)
            if len(near) == 4:
                break
        r.title_block = next((b for b in near if b.kind == "heading" and len(b.text) > 4), None)
        for b in near if r.title_block is None else ():
            pieces = b.pieces() if len(b.text) <= 40 else []
            if len(b.text) <= 4 or (
                pieces
                and (
                    all(_is_label_piece(t, h, profile, position=False) for t, h in pieces)
                    or (len(pieces) > 1 and all(len(t) <= 12 for t, _ in pieces))
                )
            ):
                continue
            r.title_block = b
            break
        if r.title_block is not None and not r.found.title:
            r.found.title, r.prov["title"] = r.title_block.text, "structure"
    if r.title_block is None and not r.found.title:  # last resort: the first heading
        for tag in ("h1", "h2", "h3"):
            r.title_block = next(
                (b for b in bl if b.el is not None and b.el.tag == tag and not b.chrome), None
            )
            if r.title_block is not None:
                r.found.title, r.prov["title"] = r.title_block.text, "structure"
                break


def check_article(r: Reading) -> None:
    """Phase *check*: raise ``ValueError`` for a page that is not an article (no title; an
    error, search, section or listing page)."""
    profile, title = r.profile, r.found.title
    if not title:
        raise ValueError("no title in any layer")
    if profile.not_article_re is not None and profile.not_article_re.search(title):
        raise ValueError(f"an error or search page, not an article: {title!r}")
    if r.hinted_title is None and (title in profile.label_vocabulary or title == profile.site_name):
        raise ValueError(f"a section or home page, not an article: {title!r}")
    if r.declared or r.hinted_title is not None:
        return  # (an article URL is no listing)
    linked_headings = sum(
        1
        for b in r.bl
        if b.kind == "heading"
        and any(
            profile.article_url_re.match(url_path(a.get("href") or ""))
            and _text(a, True) == b.text
            for a in b.el.iter("a")
        )
    )
    if linked_headings >= 3:
        raise ValueError(f"a listing, not an article ({linked_headings} headings link articles)")
    if len(r.date_blocks()) >= 3:
        raise ValueError(f"a listing, not an article ({len(r.date_blocks())} date lines)")
    tb = r.title_block
    if tb is not None and tb.el is not None and any(
        a.get("href") and _text(a, True) == tb.text for a in tb.el.iter("a")
    ):
        raise ValueError("a listing, not an article (the title is a link)")
    if r.date_block is None:
        raise ValueError("no date line and nothing else says this is an article")


# Text between the title and the date line that makes the date line a trailer: two
# paragraphs' worth (Drupal's "Gespeichert von rasos am 24. Juli 2017 - 18:55", a blog's
# "Posted by ... on ..." under the post). Measured on the public corpora (bench_articles):
# two Fundus pages' body F1 0.78 -> 0.99 and 0.87 -> 0.89, one htmldate page read, none worse.
_TRAILER_AFTER = 2 * 150


def _trailing(r: Reading, date_block: Block) -> bool:
    """Whether ``date_block`` follows the article's text instead of heading it: the body
    then starts after the title, not after the date line (where it was the side column)."""
    title_block = r.title_block
    if title_block is None or date_block.index <= title_block.index:
        return False
    between = sum(len(b.text) for b in r.bl[title_block.index + 1:date_block.index]
                  if not b.chrome and b.kind in ("para", "run"))
    return between >= _TRAILER_AFTER


def find_labels(r: Reading) -> None:
    """Phase *labels*: the hint, else the short texts between the title and the date line
    (and label words or section links right after it, or right above the title)."""
    profile, title_block, date_block = r.profile, r.title_block, r.date_block
    if date_block is not None and _trailing(r, date_block):
        date_block = None  # a date line after the article's text: no part of its header
    heads = [b.index for b in (title_block, date_block) if b is not None]
    r.header_end = max(heads) if heads else -1
    hinted_labels = r.index.all(profile.hints.labels)
    labels: list[str] = []
    if hinted_labels:
        labels = [_BULLET_RE.sub("", _text(el, True)) for el in hinted_labels]
        r.prov["labels"] = "hints"
        for el in hinted_labels:
            hb = r.block_of(el)
            if hb is not None and hb.index <= r.header_end + 2:
                r.header_end = max(r.header_end, hb.index)
    elif title_block is not None:
        labels = _structure_labels(r, title_block, date_block)
        if labels:
            r.prov["labels"] = "structure"
    split: list[str] = []
    for label in labels:  # "ニュース解説 特集": two words of the vocabulary in one element
        if _BRACKET_LABEL_RE.match(label):
            label = label[1:-1]
        words = label.split()
        if len(words) > 1 and all(w in profile.label_vocabulary for w in words):
            split += words
        else:
            split.append(label)
    r.found.labels = list(dict.fromkeys(label for label in split if label))


def _structure_labels(r: Reading, title_block: Block, date_block: Block | None) -> list[str]:
    profile, bl = r.profile, r.bl
    labels: list[str] = []
    lo = title_block.index
    if date_block is not None:
        lo, hi = min(lo, date_block.index), max(lo, date_block.index)
        for b in bl[lo + 1 : hi]:
            if b.chrome or len(b.text) > 120:
                continue
            labels += [t for t, h in b.pieces() if _is_label_piece(t, h, profile, position=True)]
    else:  # no date line: the short blocks right under the title
        for b in bl[lo + 1 : lo + 4]:
            pieces = b.pieces() if not b.chrome and len(b.text) <= 60 else []
            if not pieces or not all(
                _is_label_piece(t, h, profile, position=True) for t, h in pieces
            ):
                break
            labels += [t for t, _ in pieces]
            r.header_end = max(r.header_end, b.index)
    if date_block is not None:
        labels += [
            t for t, h in date_block.pieces() if _is_label_piece(t, h, profile, position=False)
        ]
        for b in bl[date_block.index + 1 : date_block.index + 3]:
            if not b.chrome and len(b.text) <= 120 and _label_list(b, profile):
                labels += [t for t, _ in b.pieces()]
                r.header_end = max(r.header_end, b.index)
            else:
                break
    if not labels:  # some themes put the labels above the title
        for b in reversed(bl[max(0, title_block.index - 2) : title_block.index]):
            if not b.chrome and len(b.text) <= 60 and _label_list(b, profile):
                labels = [t for t, _ in b.pieces()]
                break
    return labels


def find_body(r: Reading) -> None:
    """Phase *body*: the blocks after the header, inside the body's container, until an end
    marker, minus chrome, date lines and the label list repeated at the foot."""
    profile, bl, found = r.profile, r.bl, r.found
    hinted_body = r.index.first(profile.hints.body)
    start = r.header_end + 1
    container = None
    if hinted_body is not None and (
        r.title_block is None
        or not any(a is hinted_body for a in r.title_block.container.iterancestors())
    ):
        container = hinted_body
        r.prov["body"] = "hints"
    else:
        r.prov["body"] = "structure"
    # Only the first content block matters here: chrome is judged lazily, block by block.
    first = next((b for b in bl[start:] if not b.chrome), None)
    if (
        first is not None
        and profile.byline_re is not None
        and len(first.text) <= 40
        and profile.byline_re.search(first.text)
    ):  # a byline under the date line belongs to the header
        if found.author is None:
            found.author, r.prov["author"] = first.text, "structure"
        start = first.index + 1
        first = next((b for b in bl[start:] if not b.chrome), None)
    if container is None and first is not None:
        container = body_container(r, first)
        if profile.body_by_density:  # two candidates: the caller may choose between them
            dense = densest_container(bl[start:])
            r.candidates["title wrapper"] = body_blocks(r, start, container)
            r.containers = [container]
            if dense is not None and dense is not container:
                r.lead = _lead(r.candidates["title wrapper"], body_blocks(r, start, dense),
                               container, dense)
                r.candidates["densest"] = r.lead + body_blocks(r, start, dense)
                r.containers.append(dense)
                container = dense
    dense_body = r.candidates.get("densest")
    found.body = dense_body if dense_body is not None else body_blocks(r, start, container)
    r.found.container = container


_LEAD_MIN = 80  # characters: a standfirst, not a byline, a date or a button's label


def _lead(wrapper: list[Block], dense: list[Block], outer: Any, inner: Any) -> list[Block]:
    """The lead the densest element's blocks follow in the title's wrapper: a standfirst
    between the title and the paragraphs' own element (its sibling) is the article's, where
    the share bars and bylines beside it are not."""
    if not dense or outer is None or not any(a is outer for a in inner.iterancestors()):
        return []
    first = dense[0].index
    lead: list[Block] = []
    # Walking back from the paragraphs: the standfirst is next to them, with only short
    # things (a share bar's "Share", a date) between; a figure, a caption or another text
    # block ends the lead (a video's teaser above, a photo's credit).
    for b in reversed([b for b in wrapper if b.index < first]):
        if len(b.text) < _PARA_MIN and b.kind not in ("image", "figure"):
            continue
        if (b.kind not in ("para", "run", "heading") or len(b.text) < _LEAD_MIN
                or _link_density(b) >= 0.3 or _caption(b)):
            break
        lead.insert(0, b)
    return lead


def _caption(b: Block) -> bool:
    """Whether ``b`` is an image's caption or credit: inside a figure, or in an element
    (or its parent or grandparent) whose class says so."""
    el = b.el if b.el is not None else b.container
    if el is None:
        return False
    for depth, e in enumerate((el, *el.iterancestors())):
        if e.tag in ("figure", "figcaption"):
            return True
        if depth <= 2 and CAPTION_CLASS_RE.search(e.get("class") or ""):
            return True
    return False


_PARA_MIN = 40  # a paragraph of text, not a label, a caption or a button


def _link_density(b: Block) -> float:
    if not b.text:
        return 0.0
    linked = sum(len(_text(a, b.stripped)) for a in b.links())
    return linked / len(b.text)


def _link_list(b: Block) -> bool:
    """Mostly links and not long: a list of other articles, a tag cloud, a share bar."""
    return len(b.text) < 300 and bool(b.links()) and _link_density(b) > 0.6


def densest_container(bl: list[Block]) -> Any:
    """The element holding most paragraph text: each paragraph (a block of 40 characters or
    more, mostly not links) counts for its parent, half for the grandparent (a body split in
    sibling wrappers is held by the grandparent), a quarter above — the scoring Readability
    uses, on the blocks already walked (no second pass over the tree)."""
    scores: dict[Any, float] = {}
    for b in bl:
        if b.kind not in ("para", "run") or len(b.text) < _PARA_MIN or b.chrome:
            continue
        if _link_density(b) > 0.5:
            continue
        weight = len(b.text) + 100  # (a paragraph counts, not only its length)
        node = b.el.getparent() if b.el is not None else b.container
        for share in (1.0, 0.5, 0.25):
            if node is None:
                break
            scores[node] = scores.get(node, 0.0) + weight * share
            node = node.getparent()
    if not scores:
        return None
    return max(scores, key=scores.__getitem__)


def body_container(r: Reading, first: Block) -> Any:
    """The element holding both the header and the first body block (a lead and a body in
    sibling wrappers stay together)."""
    anchor = r.title_block or r.date_block
    marks = set()
    if anchor is not None:
        marks = {anchor.container, *anchor.container.iterancestors()}
    c = first.container
    while c not in marks and c.getparent() is not None:
        c = c.getparent()
    return c


def body_blocks(r: Reading, start: int, container: Any) -> list[Block]:
    """The content blocks from ``start`` inside ``container`` until an end marker."""
    profile, dre = r.profile, r.profile.dateline_re
    body: list[Block] = []
    bl = r.bl
    for i in range(start, len(bl)):
        b = bl[i]
        if container is not None and not _inside(b, container):
            if body:
                break
            continue
        if len(b.text) <= 120 and profile.end_re is not None and profile.end_re.search(b.text):
            if profile.body_by_density and _text_goes_on(bl, i, container):
                continue  # a box of links inside the article ("Mehr zum Thema"), not its end
            if body:
                r.end_marks.add(i)
            break
        if b.chrome:
            continue
        if len(b.text) <= _DATELINE_MAX and b.kind != "heading" and dre.search(b.text):
            continue  # a date line (an update line, a repeat at the foot) is never content
        if len(b.text) <= 40 and b.kind in ("list", "run") and _label_list(b, profile):
            continue  # the label list repeated at the foot
        if profile.body_by_density and b.kind != "heading" and _link_list(b):
            continue  # teasers of other articles, a list of links
        if (profile.body_by_density and b.kind == "heading" and _length(body) >= _TEASERS_AFTER
                and _link_density(b) > 0.9):
            if _text_goes_on(bl, i, container):
                continue  # a teaser inside the article
            r.end_marks.add(i)
            break  # a heading that links another page: the teasers after the article
        body.append(b)
    return body


_GOES_ON_PARA = 200  # characters: a paragraph of the article, longer than a teaser's summary
_GOES_ON_LOOK = 12  # blocks looked at after an end marker


def _text_goes_on(bl: list[Block], i: int, container: Any) -> bool:
    """Whether the article's text goes on after block ``i`` (an end marker, a linked
    heading): a long paragraph, mostly not links, follows soon in the same container. The
    teasers after an article have headings and summaries of a sentence or two."""
    for b in bl[i + 1 : i + 1 + _GOES_ON_LOOK]:
        if container is not None and not _inside(b, container):
            return False
        if (b.kind in ("para", "run") and len(b.text) >= _GOES_ON_PARA and not b.chrome
                and _link_density(b) < 0.2):
            return True
    return False


_TEASERS_AFTER = 500  # characters of body before a linked heading is taken for a teaser


def _length(blocks: list[Block]) -> int:
    return sum(len(b.text) for b in blocks)


def find_images(r: Reading) -> None:
    """Phase *images*: body links made absolute, figures and captions paired, the body
    gathered under one element and serialized once as ``content_html``."""
    found, url, body = r.found, r.url, r.found.body
    parts_of_url = urlsplit(url)
    origin = f"{parts_of_url.scheme}://{parts_of_url.netloc}"
    for b in body:  # links made absolute where they stand (the tree is this parse's own)
        for el in b.elements():
            _absolutize(el, url, origin)
    # The body is gathered under one new element and serialized once (one tostring per block
    # cost more than the cleaning): blocks are moved there, the tree is this parse's own.
    holder = etree.Element("div")
    for i, b in enumerate(body):
        if i in r.consumed:
            continue
        if b.kind == "figure":
            _figure(holder, b, found)
        elif b.kind == "image":
            _image_block(r, holder, i)
        else:
            if b.kind in ("para", "run"):  # a photo inside a paragraph, its credit beside it
                _inline_images(r, i)
            if b.el is None:
                _move_run(holder, b.nodes or [])
            else:
                _move(holder, b.el)
    if len(holder):
        markup = etree.tostring(holder, method="html", encoding="unicode")
        found.content_html = sanitize_html(markup[5:-6])  # without the <div></div>


def _figure(holder: Any, b: Block, found: Found) -> None:
    img = _image_of(b.el)
    cap_el = next(b.el.iter("figcaption"), None)
    caption = _text(cap_el, True) if cap_el is not None else ""
    alt = normalize_space(img.get("alt")) if img is not None else ""
    if img is not None and caption and alt == caption:
        img.set("alt", "")  # the credit is shown once, by the caption
    _move(holder, b.el)
    if img is not None:
        found.images.append({"src": img.get("src"), "caption": caption or alt or None})


def _image_block(r: Reading, holder: Any, i: int) -> None:
    body, cap_re = r.found.body, r.profile.caption_re
    b = body[i]
    img = _image_of(b.el)
    alt = normalize_space(img.get("alt")) if img is not None else ""
    caption = ""
    nxt = body[i + 1] if i + 1 < len(body) else None
    if nxt is not None and nxt.kind in ("run", "para") and len(nxt.text) <= _CAPTION_MAX:
        cls = (nxt.container.get("class") or "") + " " + (nxt.container.get("id") or "")
        if (
            nxt.text == alt
            or (cap_re is not None and cap_re.search(nxt.text))
            or (nxt.el is not None and nxt.el.tag in ("figcaption", "small", "cite"))
            or (nxt.container is not r.found.container and CAPTION_CLASS_RE.search(cls))
        ):
            caption = nxt.text
            r.consumed.add(i + 1)
    shown = b.el
    if shown.tag not in ("img", "a", "picture"):
        shown = next((a for a in shown.iter("a") if _has_image(a)), img)
    if img is not None and caption and alt == caption:
        img.set("alt", "")
    figure = etree.SubElement(holder, "figure")
    figure.tail = "\n"
    if shown is not None:
        shown.tail = None
        figure.append(shown)
    if caption:
        etree.SubElement(figure, "figcaption").text = caption
    if img is not None:
        r.found.images.append({"src": img.get("src"), "caption": caption or alt or None})


def _inline_images(r: Reading, i: int) -> None:
    b, cap_re = r.found.body[i], r.profile.caption_re
    for el in b.elements():
        for img in el.iter("img"):
            alt = normalize_space(img.get("alt"))
            caption = ""
            if len(b.text) <= _CAPTION_MAX and (
                b.text == alt or (cap_re is not None and cap_re.search(b.text))
            ):
                caption = b.text
                r.consumed.add(i)  # a caption, not a paragraph of text
            r.found.images.append({"src": img.get("src"), "caption": caption or alt or None})


def find_summary(r: Reading) -> None:
    """Phase *summary*: the lead hint, else the first paragraph of the body."""
    lead = r.block_of(r.index.first(r.profile.hints.lead))
    if lead is not None and lead in r.found.body:
        r.found.summary, r.prov["summary"] = lead.text, "hints"
        return
    first_para = next(
        (
            b
            for j, b in enumerate(r.found.body)
            if b.kind in ("para", "run") and j not in r.consumed
        ),
        None,
    )
    if first_para is not None:
        r.found.summary, r.prov["summary"] = first_para.text, "structure"


def find_header_times(r: Reading) -> None:
    """Phase *header times*: ``<time>`` elements of the header (never the body's or the
    sidebar's)."""
    heads = [b for b in (r.title_block, r.date_block) if b is not None]
    if not heads:
        return
    lo = min(b.index for b in heads)
    for b in r.bl[lo : r.header_end + 1]:
        for el in b.elements():
            r.found.header_times += list(el.iter("time"))


# The phases after clean and segment, in order (each reads and writes the Reading only).
PHASES: tuple[Callable[[Reading], None], ...] = (
    find_author_hint,
    find_title,
    find_dateline,
    find_title_by_structure,
    check_article,
    find_labels,
    find_body,
    find_images,
    find_summary,
    find_header_times,
)
