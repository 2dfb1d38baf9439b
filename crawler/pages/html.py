"""Site-independent helpers for page parsers: parsing, structured metadata, cleaning, text.

Nothing here knows a site: selectors of a particular site live in its own module
(``crawler/pages/jdefense.py``). No Scrapy import: page parsers are pure functions of
``(html, url)``.

- :func:`parse_html` — bytes or text to an lxml tree (bytes decoded by :mod:`crawler.charset`);
  nesting read as deep as libxml2 allows (2048 levels), deeper refused (:class:`PageTooDeep`).
- :func:`extract_jsonld`, :func:`extract_opengraph`, :func:`find_time_elements` — the
  structured-metadata layers, read without interpretation (dates stay raw strings: every date
  is parsed by ``crawler/dates.py``).
- :func:`clean_html` — a body fragment to safe, self-contained HTML for feeds: nh3 allow-list,
  absolute ``href``/``src``, empty elements dropped, deterministic.
- :func:`normalize_space`, :func:`element_text` — text helpers.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import lxml.html
import nh3
from lxml import etree

__all__ = [
    "ARTICLE_TYPES",
    "PageParseError",
    "PageTooDeep",
    "TimeElement",
    "clean_html",
    "element_text",
    "extract_jsonld",
    "extract_opengraph",
    "find_time_elements",
    "normalize_space",
    "fragment",
    "parse_document",
    "parse_html",
    "parse_html_source",
    "sanitize_html",
]


class PageParseError(ValueError):
    """The document is not what the parser was asked to read (e.g. not an article at all)."""


# libxml2 builds trees this deep with XML_PARSE_HUGE (lxml's huge_tree), 256 without.
MAX_DEPTH = 2048


class PageTooDeep(PageParseError):
    """The document nests elements deeper than libxml2 can build: it cannot be read whole
    (what lies past the limit would be cut silently)."""

    reason = f"nested deeper than {MAX_DEPTH} levels: cannot be read whole"

    def __init__(self, url: str | None = None) -> None:
        super().__init__(f"{url}: {self.reason}" if url else self.reason)


# -- parsing and text -----------------------------------------------------------------------

_SPACE = re.compile(r"\s+")  # Unicode-aware: includes U+3000 (ideographic space) and NBSP
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


def normalize_space(text: str | None) -> str:
    """Collapse every run of white space (ideographic space included) to one space; strip.

    Characters are otherwise kept verbatim: no NFKC, so full-width and half-width forms of
    the source survive (``(`` stays ``(``).
    """
    if not text:
        return ""
    # str.split() splits on exactly the characters \s matches (str.isspace), and faster.
    return " ".join(text.split())


# collect_ids=False: no hash table of the page's id attributes (nothing here looks elements up
# through it: id selectors are attribute tests), a few percent of the parse.
_PLAIN_PARSER = etree.HTMLParser(collect_ids=False)
# The same parse fed UTF-8: libxml2 reads a Python str of Japanese text as UTF-16 and
# converts it, which costs more than Python's own encoder. Comments and processing
# instructions are never read (dropped by the parser: fewer nodes to walk past).
_PLAIN_UTF8_PARSER = etree.HTMLParser(
    collect_ids=False, encoding="utf-8", remove_comments=True, remove_pis=True
)
# The same parsers for a page nested deeper than 256 levels (libxml2 stops there and drops the
# rest of the page): huge_tree lifts the limit to 2048. Used only once the plain parse hit the
# limit, so an ordinary page is read exactly as before.
_DEEP_PARSER = etree.HTMLParser(collect_ids=False, huge_tree=True)
_DEEP_UTF8_PARSER = etree.HTMLParser(
    collect_ids=False, encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True
)
# lxml.html's elements, nesting read to 2048 levels: for documents and for fragments (a body
# taken from such a page is as deep as it was there).
HTML_PARSER = lxml.html.HTMLParser(huge_tree=True)


def _too_deep(parser: Any) -> bool:
    """Whether the last parse stopped at libxml2's depth limit ("Excessive depth in
    document"): the tree holds the page up to that element and nothing after it."""
    return any(e.type_name == "ERR_RESOURCE_LIMIT" and "depth" in e.message
               for e in parser.error_log)


def fragment(markup: str) -> lxml.html.HtmlElement:
    """``lxml.html.fragment_fromstring(markup, create_parent="div")``, nesting read to 2048
    levels."""
    return lxml.html.fragment_fromstring(markup, create_parent="div", parser=HTML_PARSER)


def parse_html(
    html: str | bytes, url: str | None = None, *, plain: bool = False
) -> lxml.html.HtmlElement:
    """Parse a whole document; bytes are decoded from BOM, ``<meta charset>`` or UTF-8.

    ``plain=True`` builds plain ``lxml.etree`` elements instead of ``lxml.html`` ones: the same
    tree, without the ``HtmlElement`` methods (``text_content``, ``drop_tree``...), and much
    cheaper to walk — lxml.html looks the class of every element up in Python as it is touched.
    (Scrapy calls callbacks on one thread: one shared parser is safe.)
    """
    if plain:
        return parse_html_source(html, url)[0]
    text = _document_text(html)
    try:
        root = lxml.html.document_fromstring(text, parser=HTML_PARSER, base_url=url)
    except (etree.ParserError, etree.XMLSyntaxError) as exc:
        raise PageParseError(f"unparseable document: {exc}") from exc
    if _too_deep(HTML_PARSER):
        raise PageTooDeep(url)
    return root


def parse_html_source(html: str | bytes, url: str | None = None) -> tuple[Any, bytes | None]:
    """``parse_html(html, url, plain=True)``, and the UTF-8 text libxml2 read (its lines are
    the elements' ``sourceline``); None when it read a str (a lone surrogate in it)."""
    root, data, _deep = parse_document(html, url)
    return root, data


def parse_document(html: str | bytes, url: str | None = None) -> tuple[Any, bytes | None, bool]:
    """:func:`parse_html_source`, and whether the page is nested deeper than 256 levels.

    Such a page is parsed again with huge_tree (read whole up to 2048 levels; the library
    layers, trafilatura and htmldate, must then be given this tree: their own parser would cut
    it); deeper still raises :class:`PageTooDeep`."""
    text = _document_text(html)
    root, data = _parse_plain(text, url, _PLAIN_PARSER, _PLAIN_UTF8_PARSER)
    if root is not None:
        return root, data, False
    root, data = _parse_plain(text, url, _DEEP_PARSER, _DEEP_UTF8_PARSER)
    if root is None:
        raise PageTooDeep(url)
    return root, data, True


def _parse_plain(text: str, url: str | None, parser: Any, utf8_parser: Any) -> tuple[Any, bytes | None]:
    """The page parsed by ``parser`` (``utf8_parser`` for its UTF-8 bytes); (None, None) when
    the parse stopped at the parser's depth limit."""
    data: bytes | None
    try:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: libxml2 reads the str itself
            data = None
            used = parser
            root = etree.fromstring(text, parser, base_url=url or "")
        else:
            used = utf8_parser
            root = etree.fromstring(data, utf8_parser, base_url=url or "")
    except (etree.ParserError, etree.XMLSyntaxError) as exc:
        raise PageParseError(f"unparseable document: {exc}") from exc
    if _too_deep(used):
        return None, None
    if root is None:
        raise PageParseError("unparseable document: no elements")
    return root, data


def _document_text(html: str | bytes) -> str:
    if isinstance(html, bytes):
        from crawler.charset import decode

        text = decode(html, None, kind="html").text
    else:
        text = html.lstrip("\ufeff")
    # lxml refuses text with an XML encoding declaration; the text is decoded already.
    if text[:200].lstrip()[:5].lower() == "<?xml":  # (a regex sub would scan the whole page)
        text = _XML_DECL.sub("", text, count=1)
    if not text or text.isspace():  # (not text.strip(): no copy of the whole page)
        raise PageParseError("empty document")
    return text


# Compiled once: ``element.xpath(string)`` compiles its expression on every call (8 µs
# against 1.6 µs on a short element).
VISIBLE_TEXT: Callable[[Any], list[str]] = etree.XPath(  # type: ignore[assignment]
    ".//text()[not(ancestor::script) and not(ancestor::style)]"
)


def element_text(element: Any) -> str:
    """The visible text of ``element``, normalized (script and style contents skipped)."""
    if element is None:
        return ""
    return normalize_space("".join(VISIBLE_TEXT(element)))


# -- structured metadata --------------------------------------------------------------------

ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "BlogPosting",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "BackgroundNewsArticle",
        "OpinionNewsArticle",
        "ReviewNewsArticle",
        "LiveBlogPosting",
        "Report",
    }
)

_JSON_WRAPPERS = re.compile(r"^\s*(?:<!--|<!\[CDATA\[)|(?:-->|\]\]>)\s*$")
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def _load_json(text: str) -> Any:
    text = text.strip()
    if "<!" in text or "-->" in text or "]]>" in text:  # (else the pattern scans in vain)
        text = _JSON_WRAPPERS.sub("", text)
    try:
        return json.loads(text, strict=False)
    except RecursionError:  # arrays nested past the interpreter's stack: no metadata
        return None
    except ValueError:
        pass
    # The commonest template bug: a trailing comma before } or ]. Anything worse is skipped.
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", text), strict=False)
    except (ValueError, RecursionError):
        return None


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    # "http://schema.org/NewsArticle" and "schema:NewsArticle" count as "NewsArticle".
    return {v.rsplit("/", 1)[-1].rsplit(":", 1)[-1] for v in values if isinstance(v, str)}


def _walk_jsonld(data: Any) -> Iterator[dict[str, Any]]:
    """Every object of a JSON-LD block: top level, in lists, in ``@graph``, in document order
    (a stack, not a call per level: lists nested a thousand deep are legal JSON)."""
    stack: list[Iterator[Any]] = [iter((data,))]
    while stack:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
        elif isinstance(item, list):
            stack.append(iter(item))
        elif isinstance(item, dict):
            yield item
            if "@graph" in item:
                stack.append(iter((item["@graph"],)))


_END: Any = object()


def extract_jsonld(
    tree: lxml.html.HtmlElement,
    types: frozenset[str] | set[str] = ARTICLE_TYPES,
    *,
    scripts: Iterable[Any] | None = None,
) -> list[dict[str, Any]]:
    """Every JSON-LD object of one of ``types`` (top level, in lists or in ``@graph``).

    In document order. Blocks that are not valid JSON are skipped (a trailing comma is
    forgiven), so a broken block never hides the other layers. ``scripts``: the page's
    ``<script>`` elements when the caller has collected them already.
    """
    found: list[dict[str, Any]] = []
    # tree.iter (a C walk) rather than a //script XPath: a whole-document XPath costs a third
    # of the parse.
    ld_scripts = [
        el
        for el in (tree.iter("script") if scripts is None else scripts)
        if " ".join((el.get("type") or "").split()).lower() == "application/ld+json"
    ]
    for script in ld_scripts:
        data = _load_json(script.text or "")
        for node in _walk_jsonld(data):
            if _types(node) & set(types):
                found.append(node)
    return found


def extract_opengraph(
    tree: lxml.html.HtmlElement, *, multi: bool = False, metas: Iterable[Any] | None = None
) -> dict[str, Any]:
    """OpenGraph and ``article:`` meta properties: ``{"og:title": ..., ...}``.

    Keys are lower-cased. The first occurrence wins, or with ``multi=True`` every value is
    kept in a list (``article:section``, ``article:tag`` and ``og:image`` repeat). Some sites
    write ``name=`` instead of ``property=``; both are read. ``metas``: the page's ``<meta>``
    elements when the caller has collected them already.
    """
    values: dict[str, list[str]] = {}
    for meta in tree.iter("meta") if metas is None else metas:
        if meta.get("content") is None:
            continue
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        if not key.startswith(("og:", "article:")):
            continue
        content = meta.get("content", "").strip()
        if content:
            values.setdefault(key, []).append(content)
    if multi:
        return values
    return {key: vals[0] for key, vals in values.items()}


@dataclass(frozen=True)
class TimeElement:
    """One ``<time>`` element: its machine value, its text and what it claims to be."""

    datetime: str | None
    text: str
    role: str | None  # "published", "modified" or None (unknown)

    @property
    def value(self) -> str | None:
        """The ``datetime`` attribute, else the element's text, else None."""
        return self.datetime or self.text or None


_MODIFIED_HINT = re.compile(r"modif|updat|revis|更新", re.IGNORECASE)
_PUBLISHED_HINT = re.compile(r"publish|posted|entry-date|created|公開|掲載", re.IGNORECASE)


def find_time_elements(
    root: lxml.html.HtmlElement, *, exclude: Sequence[lxml.html.HtmlElement] = ()
) -> list[TimeElement]:
    """Every ``<time>`` under ``root`` in document order, skipping those inside ``exclude``.

    The role comes from ``itemprop``, ``class`` and ``pubdate``, and from the text just
    before the element (``更新:<time>`` is a modification date).
    """
    out = []
    for el in root.iter("time"):
        if any(ex is el or ex in el.iterancestors() for ex in exclude):
            continue
        hints = " ".join(filter(None, [el.get("itemprop"), el.get("class")]))
        parent = el.getparent()
        previous = el.getprevious()
        before = (
            previous.tail if previous is not None else parent.text if parent is not None else None
        ) or ""
        if _MODIFIED_HINT.search(hints) or _MODIFIED_HINT.search(before[-8:]):
            role: str | None = "modified"
        elif _PUBLISHED_HINT.search(hints) or el.get("pubdate") is not None:
            role = "published"
        else:
            role = None
        value = el.get("datetime")
        out.append(
            TimeElement(value.strip() if value and value.strip() else None, element_text(el), role)
        )
    return out


# -- cleaning -------------------------------------------------------------------------------

# Content tags kept in feed HTML; anything else is unwrapped (its text kept).
ALLOWED_TAGS = frozenset(
    {
        "p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd",
        "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
        "figure", "figcaption", "img", "a", "blockquote", "q", "cite",
        "strong", "em", "b", "i", "u", "s", "sub", "sup", "small", "mark",
        "br", "hr", "span", "code", "pre", "time", "abbr",
    }
)  # fmt: skip
# Removed together with their contents.
DROPPED_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "iframe", "object", "embed", "svg",
        "math", "form", "button", "select", "textarea", "canvas", "audio", "video", "head",
        "title",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "time": {"datetime"},
    "abbr": {"title"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Elements that mean something even without text.
_KEEP_EMPTY = frozenset({"img", "br", "hr", "td", "th"})


def _is_empty(el: lxml.html.HtmlElement) -> bool:
    if el.tag in _KEEP_EMPTY:
        return False
    if any(child.tag in ("img", "hr") for child in el.iter()):
        return False
    return not "".join(el.itertext()).strip()


# Elements left empty by the allow-list, in nh3's normalized output (tags lower-case, no
# comments): removed by a pattern rather than by a second parse, repeatedly (nested empties).
_EMPTY_ELEMENT = re.compile(
    r"<(p|div|span|a|b|i|u|s|em|strong|small|mark|sub|sup|code|q|cite|abbr|time|li|ul|ol|dl|"
    r"dt|dd|h[2-6]|blockquote|figure|figcaption|caption|table|thead|tbody|tfoot|tr|pre)"
    r"(?:\s[^>]*)?>(?:\s|<br>)*</\1>"
)


_MAYBE_EMPTY = re.compile(r">(?:\s|<br>)*</")
_BLOCK_GAP = re.compile(r">\s*\n\s*<")


@functools.cache
def _cleaner() -> nh3.Cleaner:
    """The allow-list of :func:`clean_html` built once (nh3.clean rebuilds it on every call,
    which costs more than the cleaning of an article body)."""
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )


def sanitize_html(markup: str) -> str:
    """The allow-list of :func:`clean_html` on markup whose links are already absolute.

    Same result as :func:`clean_html` for such markup, without its two extra parses; the
    parser of an article page resolves the links of its body blocks itself.
    """
    if not markup.strip():
        return ""
    cleaned = _cleaner().clean(markup)
    previous = None
    # (the cheap pattern first: an empty element needs a closing tag right after a start tag)
    while previous != cleaned and _MAYBE_EMPTY.search(cleaned):
        previous, cleaned = cleaned, _EMPTY_ELEMENT.sub("", cleaned)
    return _BLOCK_GAP.sub(">\n<", cleaned.strip())


def clean_html(fragment: str | lxml.html.HtmlElement, base_url: str | None) -> str:
    """Sanitize a body fragment into self-contained HTML for a feed.

    1. every ``href``/``src`` is made absolute against ``base_url`` (lxml; nh3 cannot);
    2. nh3 keeps :data:`ALLOWED_TAGS` with :data:`ALLOWED_ATTRIBUTES`, drops
       :data:`DROPPED_TAGS` with their contents, comments, classes, ids, inline styles,
       event handlers and non-http(s)/mailto URLs;
    3. elements left empty (a ``<p>`` that only held an ad) are removed, repeatedly.

    The input element is not modified. Same input, same output.
    """
    if isinstance(fragment, str):
        fragment = without_controls(fragment)
        if not fragment.strip():
            return ""
        root = lxml.html.fragment_fromstring(fragment, create_parent="div", parser=HTML_PARSER)
    else:
        root = copy.deepcopy(fragment)
    if base_url:
        root.make_links_absolute(base_url, resolve_base_href=False, handle_failures="discard")
    raw = lxml.html.tostring(root, encoding="unicode", with_tail=False)
    cleaned = _cleaner().clean(raw)  # the same allow-list, built once
    if not cleaned.strip():
        return ""
    holder = lxml.html.fragment_fromstring(cleaned, create_parent="div", parser=HTML_PARSER)
    changed = True
    while changed:
        changed = False
        for el in list(holder.iterdescendants()):
            if _is_empty(el):
                el.drop_tree()  # keeps the tail text
                changed = True
    parts = [holder.text or ""]
    parts += [lxml.html.tostring(child, encoding="unicode") for child in holder]
    text = "".join(parts).strip()
    # C0 controls (a raw one, or &#14; decoded by the parser) are never text, and no XML
    # feed may carry them: removed, the rest of the body kept.
    text = without_controls(text)
    # Blank lines and indentation between blocks carry no meaning in HTML.
    return re.sub(r">\s*\n\s*<", ">\n<", text)


# C0 controls (but tab, LF, CR) and DEL; a character reference to one (&#14;, &#x1F;) or to no
# character at all (&#xD800;, &#1114112;). lxml decodes such a reference into a string it then
# refuses to hold ("All strings must be XML compatible"), and no XML feed may carry them: they
# never were text, and go before parsing.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_BAD_CHARREF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));?")


def _no_bad_charref(m: re.Match[str]) -> str:
    value = int(m.group(1), 16) if m.group(1) else int(m.group(2))
    bad = (value < 0x20 and value not in (0x09, 0x0A, 0x0D)) or value == 0x7F
    return "" if bad or 0xD800 <= value <= 0xDFFF or value > 0x10FFFF else m.group(0)


def without_controls(text: str) -> str:
    """``text`` without control characters, raw or as character references."""
    if "&#" in text:
        text = _BAD_CHARREF.sub(_no_bad_charref, text)
    return _CONTROL_CHARS.sub("", text)
