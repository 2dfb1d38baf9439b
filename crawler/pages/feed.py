"""Feed documents (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed) -> plain entry dicts -> items.

Pure: bytes and a URL in, plain data out; no Scrapy, no network, no store.

XML feeds go through feedparser, which also recovers malformed XML with its loose parser and
sanitizes the HTML of titles, summaries and content (scripts, event handlers and the like are
removed) — that HTML is passed on as feedparser gives it. feedparser 6.0 does not read JSON
Feed, so JSON Feed (https://jsonfeed.org/version/1.1) is read here with :mod:`json` into the
same entry dicts and its HTML is sanitized with nh3.

Dates stay raw strings (``published_raw``/``updated_raw``): feedparser's ``*_parsed`` tuples
drop the zone, and every date goes through :mod:`crawler.dates` in the normalize pipeline.
An entry's content is what the outlet put in its feed — never text fetched or made up here.
"""

from __future__ import annotations

import codecs
import html
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import feedparser
import nh3

from crawler.items import ArticleItem, Image
from crawler.sources import Source, map_categories
from crawler.urls import id_for_url

# What a feed-reading client asks for (sent by the feeds spider).
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/feed+json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)

_JSON_TYPES = ("application/feed+json", "application/json")
# Single-byte charsets that decode any byte string, so "it decoded" proves nothing.
_BYTE_TRANSPARENT = {"iso8859-1", "iso8859-2", "iso8859-15", "cp1252"}
# Shift_JIS feeds are nearly always Windows-31J (cp932): ①, Ⅱ, ㈱ are not in JIS X 0208.
_SUPERSETS = {"shift_jis": "cp932"}
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_LEADING_JUNK = re.compile(r"^(\s+|<\?xml.*?\?>|<!--.*?-->)", re.DOTALL)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t\r\n\f\v]+")  # ASCII only: keep U+3000 in Japanese titles
TITLE_FALLBACK_CHARS = 80


class FeedError(ValueError):
    """The document is not a usable feed: an HTML page, an empty body, unreadable data."""


class EntryError(ValueError):
    """One entry cannot become an item (no link to identify it)."""


@dataclass
class ParsedFeed:
    title: str
    link: str | None
    version: str  # feedparser's names: rss20, rss10, atom10, ...; JSON Feed: json1, json11
    entries: list[dict[str, Any]] = field(default_factory=list)
    bozo_exception: str | None = None  # recovered problem, for the caller to log
    encoding: str | None = None


def parse_feed(body: bytes, url: str, *, headers: Mapping[str, str] | None = None) -> ParsedFeed:
    """Parse one feed document fetched from ``url``.

    ``headers`` are the HTTP response headers (at least Content-Type: its charset matters).
    Raises :class:`FeedError` for an HTML page served in place of a feed, an empty body,
    JSON that is not a JSON Feed, and documents with no feed in them.
    """
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    content_type = headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not body or not body.strip():
        raise FeedError(f"empty response body ({_describe(content_type)})")
    if _looks_like_html(body):
        raise FeedError(f"an HTML page, not a feed ({_describe(content_type)}{_html_title(body)})")
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"{" or (media_type in _JSON_TYPES and start != b"<"):
        return _parse_json_feed(body, url)
    return _parse_xml_feed(body, url, headers)


def entry_to_item(entry: Mapping[str, Any], source: Source) -> ArticleItem:
    """The article item of one entry. Dates stay raw for the normalize pipeline."""
    url = entry.get("url")
    if not url:
        raise EntryError(f"entry {entry.get('guid') or entry.get('title')!r} has no link")
    summary = entry.get("summary") or ""
    title = entry.get("title") or _title_from(summary)
    published_raw = entry.get("published_raw")
    updated_raw = entry.get("updated_raw")
    return ArticleItem(
        url=url,
        title=title,
        source=source.key,
        categories=map_categories(source, entry.get("categories") or []),
        author=entry.get("author"),
        summary=summary,
        content_html=entry.get("content_html") or summary,
        images=[Image(url=i["url"], caption=i.get("caption")) for i in entry.get("images") or []],
        language=source.language,
        id=id_for_url(url),
        published_raw=published_raw,
        published_source="feed" if published_raw else None,
        updated_raw=updated_raw,
        updated_source="feed" if updated_raw else None,
        guid=entry.get("guid"),
    )


# --- XML feeds (feedparser) ----------------------------------------------------------------


def _parse_xml_feed(body: bytes, url: str, headers: dict[str, str]) -> ParsedFeed:
    fp_headers = dict(headers)
    # Base for relative links: feedparser resolves them against Content-Location.
    fp_headers["content-location"] = urljoin(url, headers.get("content-location", "")) or url
    encoding = _choose_xml_encoding(body, headers.get("content-type", ""))
    if encoding:
        # Hand feedparser the encoding we trust, as an XML media type it will respect.
        fp_headers["content-type"] = f"application/xml; charset={encoding}"
    # BytesIO: feedparser treats a bare str/bytes that looks like a URL or path as one.
    result = feedparser.parse(io.BytesIO(body), response_headers=fp_headers)
    version = result.get("version") or ""
    bozo = result.get("bozo_exception") if result.get("bozo") else None
    if isinstance(bozo, feedparser.NonXMLContentType):
        bozo = None  # a server's label (a feed sent as text/html), not a fault of the document
    if not version:
        reason = f": {_exception_text(bozo)}" if bozo else ""
        raise FeedError(f"no RSS or Atom feed in the document{reason}")
    base = fp_headers["content-location"]
    feed = result.get("feed", {})
    return ParsedFeed(
        title=_plain(feed.get("title", "")),
        link=_absolute(base, feed.get("link")),
        version=version,
        entries=[_xml_entry(e, base) for e in result.get("entries", [])],
        bozo_exception=_exception_text(bozo) if bozo else None,
        encoding=result.get("encoding") or None,
    )


def _xml_entry(e: Any, base: str) -> dict[str, Any]:
    link = _get(e, "link") or (_get(e, "id") if _get(e, "guidislink") else None)
    published = _get(e, "published") or _get(e, "created")
    updated = _get(e, "updated")
    return {
        "guid": _get(e, "id"),
        "url": _absolute(base, link),
        "title": _entry_title(e),
        "summary": _get(e, "summary") or "",
        "content_html": _xml_content(e),
        # A feed with one date (RSS 1.0 dc:date, Atom without <published>) gives it as
        # "updated": it is the best publication date there is.
        "published_raw": published or updated,
        "updated_raw": updated,
        "author": _authors(_get(e, "authors") or [], fallback=_get(e, "author")),
        "categories": _unique(t.get("term") or t.get("label") for t in _get(e, "tags") or []),
        "images": _xml_images(e, base),
    }


def _get(e: Any, key: str) -> Any:
    """``e[key]`` as stored, without FeedParserDict's key aliases: its ``updated`` falls
    back to ``published`` with a DeprecationWarning, which would blur the two dates."""
    value = dict.get(e, key)
    if isinstance(value, str):
        value = value.strip()
    return value if value not in (None, "") else None


def _entry_title(e: Any) -> str:
    title = _get(e, "title") or ""
    detail = _get(e, "title_detail") or {}
    if detail.get("type") in ("text/html", "application/xhtml+xml"):
        return _plain(title)
    return _SPACE.sub(" ", title).strip()


def _xml_content(e: Any) -> str | None:
    contents = _get(e, "content") or []
    for wanted in ("text/html", "application/xhtml+xml"):
        for content in contents:
            if content.get("type") == wanted and (content.get("value") or "").strip():
                return content["value"]
    for content in contents:
        value = (content.get("value") or "").strip()
        if value:
            return _text_to_html(value)
    return None


def _xml_images(e: Any, base: str) -> list[dict[str, Any]]:
    urls: list[str | None] = []
    for media in _get(e, "media_content") or []:
        kind = (media.get("medium") or media.get("type") or "image").lower()
        if kind == "image" or kind.startswith("image/"):
            urls.append(media.get("url"))
    for link in _get(e, "links") or []:
        if link.get("rel") == "enclosure" and (link.get("type") or "").startswith("image/"):
            urls.append(link.get("href"))
    if not any(urls):
        urls.extend(t.get("url") for t in _get(e, "media_thumbnail") or [])
    return [{"url": u, "caption": None} for u in _unique(_absolute(base, u) for u in urls)]


def _choose_xml_encoding(body: bytes, content_type: str) -> str | None:
    """The encoding to decode an XML feed with, when feedparser alone would get it wrong.

    feedparser follows RFC 3023: text/xml without charset means US-ASCII, and a charset in
    the header wins over the XML declaration. Japanese servers commonly send Shift_JIS or
    EUC-JP feeds as text/xml without charset, or with a wrong single-byte charset; and a
    "Shift_JIS" feed is nearly always cp932. So: the HTTP charset when it decodes the body
    (and is not a catch-all single-byte charset contradicted by the declaration), else the
    XML declaration's encoding (RFC 7303 order) when it decodes the body. None leaves the
    decision to feedparser (BOMs, undeclared documents).
    """
    if body[:3] == codecs.BOM_UTF8 or body[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return None
    http_charset = _codec(_charset_param(content_type))
    match = _XML_ENCODING.match(body[:512])
    declared = _codec(match.group(1).decode("ascii")) if match else None
    http_ok = _decoding(body, http_charset)
    declared_ok = _decoding(body, declared)
    if http_ok and not (
        http_ok in _BYTE_TRANSPARENT and declared_ok and declared_ok not in _BYTE_TRANSPARENT
    ):
        return http_ok if http_ok != http_charset else None
    if declared_ok:
        return declared_ok
    if declared is None and not http_ok:
        return _decoding(body, "utf-8")  # XML's default encoding
    return None


def _decoding(body: bytes, encoding: str | None) -> str | None:
    """``encoding`` (or its usual superset) if it decodes ``body`` strictly, else None."""
    if not encoding:
        return None
    for candidate in (encoding, _SUPERSETS.get(encoding)):
        if candidate:
            try:
                body.decode(candidate)
            except (UnicodeDecodeError, LookupError):
                continue
            return candidate
    return None


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _charset_param(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


# --- JSON Feed -----------------------------------------------------------------------------


def _parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedError(f"unreadable JSON: {exc}") from exc
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, str) or not version.startswith("https://jsonfeed.org/version/"):
        raise FeedError("a JSON document, but not a JSON Feed (no jsonfeed.org version)")
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedError("JSON Feed without an 'items' list")
    base = _absolute(url, data.get("feed_url")) or url
    feed_authors = data.get("authors") or ([data["author"]] if data.get("author") else [])
    return ParsedFeed(
        title=_plain(_string(data.get("title"))),
        link=_absolute(base, _string(data.get("home_page_url")) or None),
        version="json11" if version.rstrip("/").endswith("1.1") else "json1",
        entries=[_json_entry(i, base, feed_authors) for i in items if isinstance(i, dict)],
        encoding="utf-8",
    )


def _json_entry(item: dict[str, Any], base: str, feed_authors: list[Any]) -> dict[str, Any]:
    link = _string(item.get("url")) or _string(item.get("external_url")) or None
    url = _absolute(base, link)
    content = _string(item.get("content_html"))
    text = _string(item.get("content_text"))
    summary = _string(item.get("summary"))
    authors = item.get("authors") or ([item["author"]] if item.get("author") else feed_authors)
    images = [_string(item.get("image")), _string(item.get("banner_image"))]
    images += [
        _string(a.get("url"))
        for a in item.get("attachments") or []
        if isinstance(a, dict) and _string(a.get("mime_type")).startswith("image/")
    ]
    published = _string(item.get("date_published")) or None
    updated = _string(item.get("date_modified")) or None
    guid = item.get("id")
    content_html = None
    if content.strip():
        content_html = _clean_html(content, url or base)
    elif text.strip():
        content_html = _text_to_html(text)
    return {
        "guid": str(guid) if guid not in (None, "") else None,
        "url": url,
        "title": _plain(_string(item.get("title"))),
        # JSON Feed summaries are plain text; entries elsewhere carry HTML.
        "summary": html.escape(summary) if summary else "",
        "content_html": content_html,
        "published_raw": published or updated,
        "updated_raw": updated,
        "author": _authors([a for a in authors if isinstance(a, dict)]),
        "categories": _unique(str(t) for t in item.get("tags") or [] if isinstance(t, str)),
        "images": [
            {"url": u, "caption": None} for u in _unique(_absolute(base, i) for i in images if i)
        ],
    }


def _clean_html(fragment: str, base: str) -> str:
    """Sanitize outlet HTML as feedparser does for XML feeds, making links absolute."""

    def absolute_links(tag: str, attribute: str, value: str) -> str | None:
        if attribute in ("href", "src"):
            return urljoin(base, value)
        return value

    return nh3.clean(fragment, attribute_filter=absolute_links)


# --- small helpers -------------------------------------------------------------------------


def _looks_like_html(body: bytes) -> bool:
    head = body[:2048].decode("latin-1").lstrip("\ufeffï»¿")
    while True:
        stripped = _LEADING_JUNK.sub("", head, count=1)
        if stripped == head:
            break
        head = stripped
    head = head.lower()
    return head.startswith("<!doctype html") or head.startswith("<html")


def _html_title(body: bytes) -> str:
    match = _HTML_TITLE.search(body[:8192].decode("utf-8", "replace"))
    if not match:
        return ""
    return f', page title "{_plain(match.group(1))[:80]}"'


def _describe(content_type: str) -> str:
    return f"Content-Type {content_type}" if content_type else "no Content-Type"


def _exception_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _plain(fragment: str) -> str:
    """Text of an HTML fragment, whitespace collapsed."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub("", fragment or ""))).strip()


def _text_to_html(text: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)


def _title_from(summary_html: str) -> str:
    """A title for title-less entries (RSS allows them): the start of the outlet's summary."""
    text = _plain(summary_html)
    if len(text) <= TITLE_FALLBACK_CHARS:
        return text
    return text[:TITLE_FALLBACK_CHARS].rstrip() + "…"


def _authors(authors: Iterable[Mapping[str, Any]], fallback: str | None = None) -> str | None:
    names = _unique(_string(a.get("name")) or _string(a.get("email")) for a in authors)
    if names:
        return ", ".join(names)
    return fallback.strip() if fallback and fallback.strip() else None


def _absolute(base: str, link: str | None) -> str | None:
    if not link or not link.strip():
        return None
    return urljoin(base, link.strip())


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _unique(values: Iterable[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value and value.strip():
            seen.setdefault(value.strip(), None)
    return list(seen)
