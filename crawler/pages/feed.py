"""Feed documents (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, CDF, JSON Feed 1.0/1.1) -> entry dicts -> items.

Pure: bytes and a URL in, plain data out; no Scrapy, no network, no store.

XML feeds go through feedparser, which also recovers malformed XML with its loose parser and
sanitizes the HTML of titles, summaries and content (scripts, event handlers and the like are
removed) — that HTML is passed on as feedparser gives it. feedparser 6.0 does not read JSON
Feed, so JSON Feed (https://jsonfeed.org/version/1.1) is read here with :mod:`json` into the
same entry dicts and its HTML is sanitized with nh3.

Dates stay raw strings (``published_raw``/``updated_raw``): feedparser's ``*_parsed`` tuples
drop the zone, and every date goes through :mod:`crawler.dates` in the normalize pipeline.
An entry's content is what the outlet put in its feed — never text fetched or made up here.

An entry is kept when it has an identity and something to show, as a feed reader would show
it. Its identity (the item ``url``) is the outlet's own link, byte for byte: the first http(s)
of its alternate link, its ``<link>`` (or permalink guid), an http(s) id (RSS 1.0
``rdf:about``, an Atom ``<id>``, a guid with ``isPermaLink="false"``), and last its enclosure
(a podcast episode with nothing else). The normalised form of that URL is only the identity
key (``crawler.urls.canonical_url``), never the published link. A title-less entry is titled
by its first words of text or its link, and an undated one is dated when first seen; both are
recorded in the item's ``inferred`` list.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import feedparser
import nh3
from w3lib.encoding import read_bom

from crawler.charset import MARK, Decoded, decode, looks_like_mojibake, resolve, wide_pattern
from crawler.items import ArticleItem, Image
from crawler.sources import Source, map_categories
from crawler.urls import canonical_url, id_for_url, join_url, split_url, url_path

# What a feed-reading client asks for (sent by the feeds spider).
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/feed+json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)

_JSON_TYPES = ("application/feed+json", "application/json")
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_XML_DECLARED = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])[A-Za-z0-9._:-]+(["'])""")
_LEADING_JUNK = re.compile(r"^(\s+|<\?xml.*?\?>|<!--.*?-->)", re.DOTALL)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t\r\n\f\v]+")  # ASCII only: keep U+3000 in Japanese titles
TITLE_FALLBACK_CHARS = 80
# Root elements (local name, lower case) of the feed formats feedparser reads.
_FEED_ROOTS = {"channel": "cdf", "rss": "rss", "rdf": "rss10", "feed": "atom"}
_XML_PROLOG = re.compile(
    r"^(\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(\[.*?\])?\s*>)", re.DOTALL | re.IGNORECASE
)
_ROOT_TAG = re.compile(r"^<([A-Za-z_][\w.:-]*)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_HTTP = re.compile(r"^https?://", re.IGNORECASE)


class FeedError(ValueError):
    """The document is not a usable feed: an HTML page, an empty body, unreadable data."""


class EntryError(ValueError):
    """One entry cannot become an item (no link to identify it).

    ``reason`` is a short stable name for counting (``no_link``, ``no_http_link``)."""

    def __init__(self, message: str, reason: str = "no_link") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class ParsedFeed:
    title: str
    link: str | None
    version: str  # feedparser's names: rss20, rss10, atom10, ...; JSON Feed: json1, json11
    entries: list[dict[str, Any]] = field(default_factory=list)
    bozo_exception: str | None = None  # recovered problem, for the caller to log
    encoding: str | None = None
    # Entries in the document (``entries`` holds at most ``max_entries`` of them).
    total_entries: int = 0
    # Byte sequences that no encoding tried reads (crawler.charset), decoded as U+FFFD, and
    # references to no character (&#xD800;): how many replacement characters that made. The
    # entries holding the undecodable bytes carry ``undecodable`` (entry_to_item drops them).
    replaced_chars: int = 0
    # What the feed declared and what read it (crawler.charset.Decoded.describe), and whether
    # the declared charset was overridden (for the caller to log); None: feedparser decided.
    charset: str | None = None
    charset_overridden: bool = False
    # Of replaced_chars, the byte sequences no encoding reads (not the references).
    undecodable_bytes: int = 0
    # Entries the reader could not turn into a dict (a bug to report): each one's reason. They
    # count among total_entries and are the caller's to count as failed.
    failed_entries: list[str] = field(default_factory=list)
    # Values ignored, each with where and why (a JSON Feed "tags": true): the caller logs them.
    warnings: list[str] = field(default_factory=list)


def parse_feed(
    body: bytes,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    max_entries: int | None = None,
) -> ParsedFeed:
    """Parse one feed document fetched from ``url``.

    ``headers`` are the HTTP response headers (at least Content-Type: its charset matters).
    ``max_entries`` bounds the entries turned into dicts (the first ones, in document order);
    ``total_entries`` says how many the document had.
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
        return _parse_json_feed(body, url, max_entries, content_type)
    return _parse_xml_feed(body, url, headers, max_entries)


def entry_to_item(entry: Mapping[str, Any], source: Source) -> ArticleItem:
    """The article item of one entry. Dates stay raw for the normalize pipeline.

    Raises :class:`EntryError` for an entry without an identity (no http(s) link or id).
    """
    url = entry.get("url")
    if not url:
        raise EntryError(
            f"entry {_describe_entry(entry)} has no link: {entry.get('no_link_reason') or 'none'}",
            reason="no_http_link" if entry.get("rejected_links") else "no_link",
        )
    if entry.get("undecodable"):
        # One bad byte costs this entry: its text would be published with U+FFFD in it.
        raise EntryError(
            f"entry {_describe_entry(entry)} has {entry['undecodable']} byte sequence(s) that "
            "no encoding reads", reason="undecodable_text")
    garbled = [name for name in ("title", "summary", "content_html", "author")
               if looks_like_mojibake(entry.get(name) or "")]
    if garbled or any(looks_like_mojibake(c) for c in entry.get("categories") or []
                      if isinstance(c, str)):
        raise EntryError(
            f"entry {_describe_entry(entry)} is mojibake in its "
            f"{', '.join(garbled) or 'categories'} (UTF-8 read as a Western code page)",
            reason="mojibake_text")
    entry = _without_controls(entry)
    summary = entry.get("summary") or ""
    content_html = entry.get("content_html") or summary
    inferred: list[str] = []
    title = entry.get("title") or ""
    if not title:
        # Titled the way readers do: the first words of its text, else its link.
        title = _title_from(summary) or _title_from(content_html) or url
        inferred.append("title")
    # Links to its non-image enclosures (a podcast's audio), after its text, as readers list
    # them; never a title.
    content_html += entry.get("attachments_html") or ""
    published_raw = _w3cdtf_day(entry.get("published_raw"))
    updated_raw = _w3cdtf_day(entry.get("updated_raw"))
    return ArticleItem(
        url=url,
        title=title,
        source=source.key,
        categories=map_categories(source, entry.get("categories") or []),
        author=entry.get("author"),
        summary=summary,
        content_html=content_html,
        images=[Image(url=i["url"], caption=i.get("caption")) for i in entry.get("images") or []],
        language=source.language,
        id=id_for_url(url),
        key=canonical_url(url),
        published_raw=published_raw,
        published_source="feed" if published_raw else None,
        updated_raw=updated_raw,
        updated_source="feed" if updated_raw else None,
        guid=entry.get("guid"),
        inferred=inferred,
        # Undated (or unreadably dated) entries are dated when first seen, as readers do.
        published_fallback="first_seen",
    )


_W3CDTF_REDUCED = re.compile(r"^\s*(\d{4})(?:-(\d{2}))?\s*$")


def _w3cdtf_day(raw: Any) -> Any:
    """A W3CDTF date of reduced precision (``2026``, ``2026-03``: valid in ``dc:date`` and
    Atom 0.3) as its first day, UTC, as feedparser and readers read it; others unchanged."""
    match = _W3CDTF_REDUCED.match(raw) if isinstance(raw, str) else None
    if not match or not 1 <= int(match.group(2) or 1) <= 12:
        return raw
    return f"{match.group(1)}-{match.group(2) or '01'}-01T00:00:00Z"


def _without_controls(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry with C0 control characters (but tab and newlines) removed from its text:
    XML 1.0 forbids them, yet JSON Feed strings and recovered feeds carry them, and the
    HTML tools downstream (lxml) refuse them."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return _CONTROL.sub("", value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    return {key: clean(value) for key, value in entry.items()}


def _describe_entry(entry: Mapping[str, Any]) -> str:
    name = entry.get("guid") or entry.get("title") or _title_from(entry.get("summary") or "")
    return repr(name) if name else "(no id, no title)"


# --- XML feeds (feedparser) ----------------------------------------------------------------


# A numeric character reference to no character: a UTF-16 surrogate (&#xD800;) or past
# U+10FFFF (&#1114112;). feedparser's loose parser calls chr() on it and raises out of
# feedparser.parse (UnicodeEncodeError, ValueError), losing the whole feed; XML forbids both.
_CHARREF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")


def _no_bad_charrefs(body: bytes) -> tuple[bytes, int]:
    """``body`` with every reference to no character replaced by ``&#xFFFD;``, and how many."""
    count = 0

    def fix(m: re.Match[bytes]) -> bytes:
        nonlocal count
        value = int(m.group(1), 16) if m.group(1) else int(m.group(2))
        if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:
            count += 1
            return b"&#xFFFD;"
        return m.group(0)

    if b"&#" not in body:
        return body, 0
    return _CHARREF.sub(fix, body), count


def _parse_xml_feed(
    body: bytes, url: str, headers: dict[str, str], max_entries: int | None = None
) -> ParsedFeed:
    body, bad_refs = _no_bad_charrefs(body)
    fp_headers = dict(headers)
    # Base for relative links: feedparser resolves them against Content-Location.
    fp_headers["content-location"] = join_url(url, headers.get("content-location", "")) or url
    # The encoding chosen here (crawler.charset), never feedparser's: it follows RFC 3023
    # (text/xml without charset is US-ASCII, the header beats the declaration) and re-decodes
    # a whole feed with one bad byte as a Western code page (日本 -> ć—ĽćœŹ). feedparser is
    # handed the text as UTF-8, its declaration saying so; bytes that no encoding reads are
    # MARK, found again in the entries that hold them.
    decoded = _decode_xml(body, headers.get("content-type", ""))
    replaced = 0
    if decoded is not None:
        text = _XML_DECLARED.sub(r"\1utf-8\2", decoded.text, count=1)
        body = text.encode("utf-8")
        replaced = decoded.invalid
        fp_headers["content-type"] = "application/xml; charset=utf-8"
    # BytesIO: feedparser treats a bare str/bytes that looks like a URL or path as one.
    try:
        result = feedparser.parse(io.BytesIO(body), response_headers=fp_headers)
    except Exception as exc:  # noqa: BLE001 - feedparser's own bugs: the feed, not the crawl
        raise FeedError(f"feedparser could not read the document: {_exception_text(exc)}") from exc
    version = result.get("version") or ""
    bozo = result.get("bozo_exception") if result.get("bozo") else None
    if isinstance(bozo, feedparser.NonXMLContentType):
        bozo = None  # a server's label (a feed sent as text/html), not a fault of the document
    if isinstance(bozo, feedparser.CharacterEncodingOverride) and replaced:
        bozo = None  # our own override, reported as replaced_chars
    feed = result.get("feed", {})
    all_entries = result.get("entries", [])
    if not version:
        # feedparser reads CDF (a <CHANNEL> root) without naming a version, and so some
        # RSS/Atom dialects: a feed all the same, even with no entries.
        root = _root_name(body)
        if root not in _FEED_ROOTS and not (all_entries and root is None):
            reason = f": {_exception_text(bozo)}" if bozo else ""
            raise FeedError(f"no RSS or Atom feed in the document{reason}")
        version = _FEED_ROOTS.get(root or "", "unknown")
    base = fp_headers["content-location"]
    kept = all_entries if max_entries is None else all_entries[: max(max_entries, 0)]
    entries, failed = _each_entry(kept, lambda e: _xml_entry(e, base))
    title, _ = _unmark(_plain(_string(feed.get("title", ""))))
    return ParsedFeed(
        title=title,
        link=_absolute(base, _string(feed.get("link"))),
        version=version,
        entries=_distinct_guids(_marked(entries)),
        bozo_exception=_exception_text(bozo) if bozo else None,
        encoding=decoded.encoding if decoded is not None else result.get("encoding") or None,
        total_entries=len(all_entries),
        replaced_chars=replaced + bad_refs,
        failed_entries=failed,
        charset=decoded.describe() if decoded is not None else None,
        charset_overridden=decoded is not None and decoded.overridden,
        undecodable_bytes=replaced,
    )


def _each_entry(raw: Iterable[Any], read: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """``read`` each raw entry; one that raises costs that entry only (its reason kept)."""
    entries: list[dict[str, Any]] = []
    failed: list[str] = []
    for n, e in enumerate(raw, 1):
        try:
            entries.append(read(e))
        except Exception as exc:  # noqa: BLE001 - contained at the entry: counted, named
            failed.append(f"entry {n}: {_exception_text(exc)}")
    return entries, failed


def _xml_entry(e: Any, base: str) -> dict[str, Any]:
    links = [link for link in _get(e, "links") or [] if isinstance(link, Mapping)]
    alternates = [
        link.get("href")
        for link in links
        if (link.get("rel") or "alternate") == "alternate"
        and (link.get("type") or "text/html") in ("text/html", "application/xhtml+xml")
    ]
    alternates += [link.get("href") for link in links if link.get("rel") == "alternate"]
    enclosures = [link for link in links if link.get("rel") == "enclosure" and link.get("href")]
    guid = _get(e, "id")
    # In order: the entry's page (alternate link, <link>, permalink guid), an http(s) id
    # (RSS 1.0 rdf:about, Atom <id>, a guid with isPermaLink="false"), its enclosure.
    candidates = [*alternates, _get(e, "link"), guid, *(link["href"] for link in enclosures)]
    url, rejected = _identity(base, candidates, relative_ok=len(alternates) + 1)
    published = _get(e, "published") or _get(e, "created")
    updated = _get(e, "updated")
    content = _xml_content(e)
    return {
        "guid": guid,
        "url": url,
        "rejected_links": rejected,
        "no_link_reason": _no_link_reason(rejected),
        "title": _entry_title(e),
        "summary": _get(e, "summary") or "",
        "content_html": content,
        "attachments_html": _attachments_html(
            [(link["href"], link.get("type")) for link in enclosures], base, skip_images=True
        ),
        # A feed with one date (RSS 1.0 dc:date, Atom without <published>) gives it as
        # "updated": it is the best publication date there is.
        "published_raw": published or updated,
        "updated_raw": updated,
        "author": _authors(_get(e, "authors") or [], fallback=_get(e, "author")),
        "categories": _unique(t.get("term") or t.get("label") for t in _get(e, "tags") or []),
        "images": _xml_images(e, base),
    }


def _distinct_guids(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries whose guid other entries of the same document share with another link lose
    it: a CMS that gives every item one guid (the site's URL, "1") must not make the store
    fold distinct stories into one item (it updates an article by its source and guid)."""
    links: dict[str, set[str | None]] = {}
    for entry in entries:
        if entry.get("guid"):
            links.setdefault(entry["guid"], set()).add(entry.get("url"))
    for entry in entries:
        if entry.get("guid") and len(links[entry["guid"]]) > 1:
            entry["guid"] = None
    return entries


def _identity(
    base: str, candidates: Iterable[Any], *, relative_ok: int = 0
) -> tuple[str | None, list[str]]:
    """The first http(s) candidate, as the outlet wrote it, and the ones refused.

    The first ``relative_ok`` candidates are links (relative ones resolve against ``base``);
    the others are ids and count only when they already are absolute http(s) URLs."""
    rejected: list[str] = []
    for n, candidate in enumerate(candidates):
        if not isinstance(candidate, str) or not candidate.strip():
            continue
        value = candidate.strip()
        if _SCHEME.match(value):
            absolute = value  # byte for byte what the outlet wrote: no urljoin clean-up
        elif n < relative_ok:
            absolute = join_url(base, value) or value  # unparseable: refused just below
        else:
            continue  # an id that is no URL at all ("x-1"): no identity, nothing refused
        if _HTTP.match(absolute) and _usable(absolute):
            return absolute, []
        rejected.append(value)
    return None, list(dict.fromkeys(rejected))


def _usable(url: str) -> bool:
    """An http(s) URL with a host that the identity key can be made of (no bad port, no
    broken IPv6 literal)."""
    parts = split_url(url)
    try:
        return parts is not None and bool(parts.hostname) and bool(canonical_url(url))
    except ValueError:
        return False


def _no_link_reason(rejected: list[str]) -> str | None:
    if not rejected:
        return "no link, permalink guid or http(s) id"
    shown = ", ".join(repr(r[:80]) for r in rejected[:3])
    return f"no http(s) link or id (only {shown})"


def _attachments_html(
    attachments: Iterable[tuple[str | None, str | None]], base: str, *, skip_images: bool
) -> str:
    """Links to an entry's non-image enclosures (a podcast's audio), as readers list them."""
    parts = []
    for href, kind in attachments:
        url = _absolute(base, href)
        if not url or not _HTTP.match(url):
            continue
        kind = (kind or "").strip()
        if skip_images and kind.startswith("image/"):
            continue
        name = url_path(url).rsplit("/", 1)[-1] or url
        label = f"{html.escape(name)}" + (f" ({html.escape(kind)})" if kind else "")
        parts.append(f'<p><a href="{html.escape(url, quote=True)}">{label}</a></p>')
    return "".join(dict.fromkeys(parts))


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

def _decode_xml(body: bytes, content_type: str) -> Decoded | None:
    """The feed's text by :func:`crawler.charset.decode` (BOM, then the HTTP charset and the
    XML declaration when they read the bytes, UTF-8, the detector), invalid byte sequences as
    :data:`~crawler.charset.MARK`; None leaves the document to feedparser's own detection
    (not ASCII-compatible without a BOM, such as EBCDIC, or an encoding Python does not know)."""
    if read_bom(body)[0] is None and wide_pattern(body) is None:
        start = body.lstrip(b" \t\r\n")[:1]
        if start != b"<":
            return None  # EBCDIC and the like: feedparser's job
        match = _XML_ENCODING.match(body[:512])
        if match and resolve(match.group(1).decode("ascii")) is None:
            return None  # an encoding Python does not know: feedparser's fallbacks decide
    return decode(body, content_type, kind="xml", replacement=MARK)


def _unmark(value: Any) -> tuple[Any, int]:
    """``value`` (a string, or lists and dicts of them) with each :data:`MARK` back to U+FFFD,
    and how many there were."""
    if isinstance(value, str):
        n = value.count(MARK)
        return (value.replace(MARK, "\ufffd"), n) if n else (value, 0)
    if isinstance(value, list):
        pairs = [_unmark(v) for v in value]
        return [v for v, _ in pairs], sum(n for _, n in pairs)
    if isinstance(value, dict):
        total = 0
        out = {}
        for key, item in value.items():
            out[key], n = _unmark(item)
            total += n
        return out, total
    return value, 0


def _marked(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each entry holding bytes no encoding read gets ``undecodable`` (how many sequences);
    its text keeps U+FFFD in their place (:func:`entry_to_item` refuses such an entry)."""
    out = []
    for entry in entries:
        entry, n = _unmark(entry)
        if n:
            entry["undecodable"] = n
        out.append(entry)
    return out


# --- JSON Feed -----------------------------------------------------------------------------


class _Typed:
    """JSON Feed values by the type the spec gives them: a value of another type (``"tags":
    true``, ``"title": 3``) is ignored, with a warning naming the field, never an exception."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def get(self, obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str,
            default: Any = None) -> Any:
        value = obj.get(key)
        if value is None:
            return default
        if isinstance(value, kind) and not isinstance(value, bool) or kind is bool:
            return value
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        self.warnings.append(f"{where}: {key!r} is {type(value).__name__}, not {names}: ignored")
        return default

    def text(self, obj: Mapping[str, Any], key: str, where: str) -> str:
        return self.get(obj, key, str, where, "")

    def items(self, obj: Mapping[str, Any], key: str, kind: type, where: str) -> list[Any]:
        """A list of ``kind`` (a wrong element is ignored with a warning, the rest kept)."""
        values = self.get(obj, key, list, where, [])
        kept = [v for v in values if isinstance(v, kind) and not isinstance(v, bool)]
        if len(kept) != len(values):
            self.warnings.append(f"{where}: {len(values) - len(kept)} value(s) of {key!r} "
                                 f"not {kind.__name__}: ignored")
        return kept


def _parse_json_feed(body: bytes, url: str, max_entries: int | None = None,
                     content_type: str = "") -> ParsedFeed:
    # JSON is UTF-8 (RFC 8259), unless a BOM or the HTTP charset says otherwise and reads the
    # bytes (crawler.charset); bytes no encoding reads are MARK until the entries are read.
    decoded = decode(body, content_type, kind="json", replacement=MARK)
    text, replaced = decoded.text, decoded.invalid
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise FeedError(f"unreadable JSON: {exc}") from exc
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, str) or "jsonfeed.org/version/" not in version:
        raise FeedError("a JSON document, but not a JSON Feed (no jsonfeed.org version)")
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedError("JSON Feed without an 'items' list")
    typed = _Typed()
    base = _absolute(url, typed.text(data, "feed_url", "feed") or None) or url
    not_objects = sum(1 for i in items if not isinstance(i, dict))
    if not_objects:
        typed.warnings.append(f"feed: {not_objects} item(s) not an object: ignored")
    items = [i for i in items if isinstance(i, dict)]  # anything else is no entry at all
    limit = len(items) if max_entries is None else max(max_entries, 0)
    feed_authors = typed.items(data, "authors", dict, "feed") or [
        a for a in [typed.get(data, "author", dict, "feed")] if a]
    entries, failed = _each_entry(
        enumerate(items[:limit], 1),
        lambda pair: _json_entry(pair[1], base, feed_authors, typed, f"item {pair[0]}"))
    title, _ = _unmark(_plain(typed.text(data, "title", "feed")))
    return ParsedFeed(
        title=title,
        link=_absolute(base, typed.text(data, "home_page_url", "feed") or None),
        version="json11" if version.rstrip("/").endswith("1.1") else "json1",
        entries=_distinct_guids(_marked(entries)),
        encoding=decoded.encoding,
        total_entries=len(items),
        replaced_chars=replaced,
        failed_entries=failed,
        warnings=typed.warnings,
        charset=decoded.describe(),
        charset_overridden=decoded.overridden,
        undecodable_bytes=replaced,
    )


def _json_entry(item: dict[str, Any], base: str, feed_authors: list[Any],
                typed: _Typed | None = None, where: str = "item") -> dict[str, Any]:
    t = typed or _Typed()
    attachments = t.items(item, "attachments", dict, where)
    media = [
        (_string(a.get("url")), _string(a.get("mime_type")))
        for a in attachments
        if _string(a.get("url")) and not _string(a.get("mime_type")).startswith("image/")
    ]
    # url, external_url, an http(s) id, a non-image attachment (JSON Feed podcasts).
    guid = t.get(item, "id", (str, int, float), where)
    candidates = [t.text(item, "url", where) or None, t.text(item, "external_url", where) or None,
                  guid if isinstance(guid, str) else None, *(m[0] for m in media)]
    url, rejected = _identity(base, candidates, relative_ok=2)
    content = t.text(item, "content_html", where)
    text = t.text(item, "content_text", where)
    summary = t.text(item, "summary", where)
    authors = t.items(item, "authors", dict, where) or [
        a for a in [t.get(item, "author", dict, where)] if a] or feed_authors
    images = [t.text(item, "image", where), t.text(item, "banner_image", where)]
    images += [
        _string(a.get("url"))
        for a in attachments
        if _string(a.get("mime_type")).startswith("image/")
    ]
    published = t.text(item, "date_published", where) or None
    updated = t.text(item, "date_modified", where) or None
    content_html = None
    if content.strip():
        content_html = _clean_html(content, url or base)
    elif text.strip():
        content_html = _text_to_html(text)
    return {
        "guid": str(guid) if guid not in (None, "") else None,
        "url": url,
        "rejected_links": rejected,
        "no_link_reason": _no_link_reason(rejected),
        "title": _plain(t.text(item, "title", where)),
        # JSON Feed summaries are plain text; entries elsewhere carry HTML.
        "summary": html.escape(summary) if summary else "",
        "content_html": content_html,
        "attachments_html": _attachments_html(media, base, skip_images=True),
        "published_raw": published or updated,
        "updated_raw": updated,
        "author": _authors(authors),
        "categories": _unique(t.items(item, "tags", str, where)),
        "images": [
            {"url": u, "caption": None} for u in _unique(_absolute(base, i) for i in images if i)
        ],
    }


def _clean_html(fragment: str, base: str) -> str:
    """Sanitize outlet HTML as feedparser does for XML feeds, making links absolute."""

    def absolute_links(tag: str, attribute: str, value: str) -> str | None:
        if attribute in ("href", "src"):
            return join_url(base, value)  # None: an unparseable link is removed
        return value

    return nh3.clean(fragment, attribute_filter=absolute_links)


# --- small helpers -------------------------------------------------------------------------


def _head(body: bytes, size: int, junk: re.Pattern[str]) -> str:
    """The start of ``body`` (as Latin-1, enough for markup) after what ``junk`` matches."""
    head = body[:size].decode("latin-1").lstrip("\ufeffï»¿")
    while True:
        stripped = junk.sub("", head, count=1)
        if stripped == head:
            return head
        head = stripped


def _root_name(body: bytes) -> str | None:
    """The local name of the document's root element, lower case (None if not found)."""
    match = _ROOT_TAG.match(_head(body, 65536, _XML_PROLOG))
    return match.group(1).rsplit(":", 1)[-1].lower() if match else None


def _looks_like_html(body: bytes) -> bool:
    head = _head(body, 2048, _LEADING_JUNK).lower()
    if head.startswith("<!doctype html"):
        # Some feeds carry an (X)HTML doctype before their <rss>: the root element decides.
        return _root_name(body) not in _FEED_ROOTS
    return head.startswith("<html")


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
    return first_words(_plain(summary_html))


def first_words(text: str) -> str:
    """The start of ``text`` as a title: whole words up to TITLE_FALLBACK_CHARS, then "…"."""
    text = text.strip()
    if len(text) <= TITLE_FALLBACK_CHARS:
        return text
    cut = text[: TITLE_FALLBACK_CHARS + 1]
    # Whole words where the text has spaces (not in Japanese, which is cut anywhere).
    space = cut.rfind(" ", TITLE_FALLBACK_CHARS // 2)
    return (cut[:space] if space > 0 else cut[:TITLE_FALLBACK_CHARS]).rstrip() + "…"


def _authors(authors: Iterable[Mapping[str, Any]], fallback: str | None = None) -> str | None:
    names = _unique(_string(a.get("name")) or _string(a.get("email")) for a in authors)
    if names:
        return ", ".join(names)
    return fallback.strip() if fallback and fallback.strip() else None


def _absolute(base: str, link: str | None) -> str | None:
    if not link or not link.strip():
        return None
    return join_url(base, link.strip())  # None: a broken IPv6 literal and the like


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _unique(values: Iterable[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value and value.strip():
            seen.setdefault(value.strip(), None)
    return list(seen)
