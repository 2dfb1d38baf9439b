"""The one place that talks to feedgen: plain data in, Atom or RSS 2.0 bytes out.

:func:`render_feed` takes a :class:`FeedSpec` (already sorted, already limited) and returns the
serialized document. Everything that would make two renders of the same data differ is set
explicitly here: entry order (``order='append'``), feed ``updated`` / RSS ``lastBuildDate`` and
the generator. The same spec always gives the same bytes.

Per entry, in both formats:

- id: Atom ``<id>``; RSS ``<guid isPermaLink="true|false">`` (true for article URLs);
- dates keep their own UTC offset: Atom ``<published>`` / ``<updated>`` (RFC 3339), RSS
  ``<pubDate>`` (RFC 822, e.g. ``+0900``);
- one ``<category>`` per label;
- author: Atom ``<author><name>``; RSS ``<dc:creator>`` (RSS ``<author>`` must be an e-mail
  address; feedgen's answer is its Dublin Core extension, lkiesow/python-feedgen#57);
- summary: Atom ``<summary>``, RSS ``<description>``; full HTML: Atom ``<content type="html">``,
  RSS ``<content:encoded>``;
- the source site: Atom ``<source>`` (id, title, updated, self link of our per-source feed)
  and RSS ``<source url="…">`` (the per-source RSS feed, as RSS 2.0 defines it);
- the lead image: Media RSS ``<media:thumbnail url="…"/>`` in both formats.

Validator rules kept here (W3C Feed Validator, RFC 4287, RSS 2.0): Atom ``<source>`` carries
``<updated>`` (the entry's own, so that it does not change when other entries do); RSS has an
``atom:link rel="self"``; a hub (WebSub) is an ``atom:link rel="hub"`` in both; plain-text
fields (titles, names, summaries, categories) carry no markup and no XML-forbidden characters;
HTML content is sanitized (nh3) with every ``href``/``src`` made absolute against the entry's
link, since neither format carries an ``xml:base`` here; only http(s) URLs are used as links.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from typing import Literal

import lxml.html
import lxml.html.defs
import nh3
from feedgen.ext.base import BaseEntryExtension, BaseExtension  # type: ignore[import-untyped]
from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]
from lxml import etree

from crawler.pages.html import fragment
from feeds.uris import published_uri

Kind = Literal["atom", "rss"]
KINDS: tuple[Kind, ...] = ("atom", "rss")

# The `updated` of a feed without entries: fixed, so an empty feed is byte-stable too. Not the
# Unix epoch: validators flag dates from before syndication existed as implausible.
EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)

GENERATOR_NAME = "defnews"


def _package_metadata() -> tuple[str, str | None]:
    try:
        meta = metadata.metadata("defnews")
    except metadata.PackageNotFoundError:  # running from a bare checkout
        return "0+unknown", None
    uri = (meta.get_all("Home-page") or [None])[0]
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("homepage", "source", "repository"):
            uri = url.strip()
            break
    return meta["Version"], uri


GENERATOR_VERSION, GENERATOR_URI = _package_metadata()

# Characters XML 1.0 forbids (C0 controls but tab/newline/CR, surrogates, U+FFFE/U+FFFF):
# scraped text occasionally carries them, and lxml refuses them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    return _XML_INVALID.sub("", text)


MEDIA_NS = "http://search.yahoo.com/mrss/"
ATOM_NS = "http://www.w3.org/2005/Atom"
# An HTML tag, comment or doctype: what validators call "HTML in a text construct". A bracketed
# word that is no HTML element ("the <future>") is text and stays.
_HTML_TAGS = "|".join(sorted(lxml.html.defs.tags, key=len, reverse=True))
_MARKUP = re.compile(r"<(?:!|/?(?:" + _HTML_TAGS + r")(?=[\s/>]))", re.IGNORECASE)
# A named or numeric character reference, with its semicolon ("AT&T" and "R&D" are text).
_CHARACTER_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Line breaks and tabs become one space; other spaces (the ideographic U+3000 of Japanese
# titles) are the author's and stay.
_WHITESPACE = re.compile(r"[ \t\r\n]+")
# DEL and the C1 controls: legal in XML 1.0 but "discouraged", and never meant in a title.
_DISCOURAGED = re.compile("[\x7f-\x9f]")


def plain_text(text: str) -> str:
    """``text`` without markup or XML-forbidden characters, whitespace collapsed.

    Validators warn when a plain-text field looks like HTML, and some readers render it: a
    scraped ``<script>`` or ``<img onerror>`` must not reach a title as such. Text without a
    tag-like ``<`` is left as it is (``a < b``, ``the <future>`` and ``AT&T`` stay). A
    character reference left in the text (``&amp;``, ``&quot;``, ``&#8217;``: a source that
    escaped its titles twice) is the character it names: readers showed ``&amp;`` as such,
    and the W3C Feed Validator took it for HTML ("title should not contain HTML")."""
    for _ in range(3):  # (escaped twice or three times: "&amp;amp;")
        decoded = _CHARACTER_REFERENCE.sub(lambda m: html.unescape(m[0]), text)
        if decoded == text:
            break
        text = decoded
    text = xml_text(text)
    if _MARKUP.search(text):
        try:
            root = fragment(text)
        except (etree.ParserError, ValueError):
            return _WHITESPACE.sub(" ", text).strip()
        for el in root.xpath(".//script|.//style|.//noscript"):
            el.drop_tree()
        text = xml_text(root.text_content())
    return _WHITESPACE.sub(" ", _DISCOURAGED.sub("", text)).strip()


def is_http_url(url: str | None) -> bool:
    return bool(url) and re.match(r"(?i)^https?://[^/\s]", url or "") is not None


@lru_cache(maxsize=4096)
def safe_html(html: str, base: str) -> str:
    """Sanitized HTML with every link absolute against ``base`` (nh3, as the pipelines do;
    again here because a store may hold older or hand-written rows)."""
    if not html.strip():
        return ""
    from urllib.parse import urljoin

    def absolute(tag: str, attribute: str, value: str) -> str | None:
        if attribute in ("href", "src"):
            url = urljoin(base, value.strip())
            return url if is_http_url(url) or url.startswith("mailto:") else None
        return value

    return xml_text(nh3.clean(html, attribute_filter=absolute, link_rel=None)).strip()


@dataclass(frozen=True)
class SourceRef:
    """The site an entry comes from, and the feeds of that site we publish."""

    name: str
    atom_url: str
    rss_url: str


@dataclass(frozen=True)
class EntrySpec:
    id: str
    title: str
    link: str
    updated: datetime
    published: datetime | None = None
    permalink: bool = True  # RSS guid isPermaLink: the id is the article URL itself
    categories: tuple[str, ...] = ()
    author: str = ""
    summary: str = ""
    content_html: str = ""
    source: SourceRef | None = None
    image: str | None = None  # the lead image (Media RSS thumbnail, JSON Feed image)
    # The publication date is a day (the site gives no time): ``published`` is midnight JST
    # of that day. Atom and RSS have no date-only form (RFC 3339 date-time, RFC 822): they
    # carry that midnight, ``T00:00:00+09:00`` / ``00:00:00 +0900`` — the documented rule,
    # never another time; JSON Feed says ``"_defnews": {"published_precision": "day"}``; the
    # HTML index shows the date alone.
    date_only: bool = False


@dataclass(frozen=True)
class FeedSpec:
    title: str
    description: str
    home_url: str  # the human page (Atom alternate link, RSS <link>)
    atom_url: str  # also the Atom feed id
    rss_url: str
    author: str
    language: str
    updated: datetime
    entries: tuple[EntrySpec, ...] = field(default_factory=tuple)
    json_url: str = ""  # the JSON Feed beside the Atom feed
    hub_url: str | None = None  # WebSub hub


class _SourceExtension(BaseExtension):  # type: ignore[misc]
    """Feed half of the extension: the Media RSS namespace and, in RSS, the hub link (feedgen
    writes only ``rel="self"`` as an ``atom:link`` in RSS)."""

    def __init__(self) -> None:
        self.hub: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"media": MEDIA_NS}

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        if self.hub:
            channel = rss.find("channel")
            if channel is not None:
                etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=self.hub, rel="hub")
        return rss


class _SourceEntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """Writes the entry's ``<source>``, which feedgen can only write as one URL for both formats."""

    def __init__(self) -> None:
        self.ref: SourceRef | None = None
        self.updated: datetime | None = None
        self.image: str | None = None

    def _thumbnail(self, parent: etree._Element) -> None:
        if self.image:
            etree.SubElement(parent, f"{{{MEDIA_NS}}}thumbnail", url=self.image)

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        if self.ref is not None:
            # Unqualified like feedgen's own elements: they inherit the Atom default namespace.
            source = etree.SubElement(entry, "source")
            etree.SubElement(source, "id").text = self.ref.atom_url
            etree.SubElement(source, "title").text = plain_text(self.ref.name)
            if self.updated is not None:
                etree.SubElement(source, "updated").text = self.updated.isoformat()
            etree.SubElement(
                source, "link", rel="self", type="application/atom+xml", href=self.ref.atom_url
            )
        self._thumbnail(entry)
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        if self.ref is not None:
            source = etree.SubElement(item, "source", url=self.ref.rss_url)
            source.text = plain_text(self.ref.name)
        self._thumbnail(item)
        return item


def _unique(values: tuple[str, ...]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        value = plain_text(value)
        if value:
            seen.setdefault(value, None)
    return list(seen)


def render_feed(spec: FeedSpec, kind: Kind) -> bytes:
    """Serialize ``spec`` as an Atom 1.0 or RSS 2.0 document (UTF-8, pretty-printed)."""
    fg = FeedGenerator()
    self_url, self_type = (
        (spec.atom_url, "application/atom+xml")
        if kind == "atom"
        else (spec.rss_url, "application/rss+xml")
    )
    fg.id(spec.atom_url)
    fg.title(plain_text(spec.title))
    fg.subtitle(plain_text(spec.description))
    fg.author({"name": plain_text(spec.author)})
    # feedgen uses the last link as RSS <link>: self first, alternate last.
    fg.link(href=self_url, rel="self", type=self_type)
    if spec.hub_url and kind == "atom":
        fg.link(href=spec.hub_url, rel="hub")
    fg.link(href=spec.home_url, rel="alternate", type="text/html")
    fg.language(spec.language)
    fg.generator(GENERATOR_NAME, version=GENERATOR_VERSION, uri=GENERATOR_URI)
    fg.updated(spec.updated)  # also RSS lastBuildDate, which would default to now
    if kind == "rss":
        fg.load_extension("dc", atom=False, rss=True)
    fg.register_extension("defnews_source", _SourceExtension, _SourceEntryExtension)
    if kind == "rss":
        fg.defnews_source.hub = spec.hub_url

    for entry in spec.entries:
        fe = fg.add_entry(order="append")
        # Valid URIs (an outlet's link with a space or a bracket is not): feeds.uris.
        link = published_uri(entry.link)
        fe.guid(published_uri(entry.id), permalink=entry.permalink)  # also the Atom id
        fe.title(plain_text(entry.title) or link)
        fe.link(href=link, rel="alternate", type="text/html")
        fe.updated(entry.updated)
        if entry.published is not None:
            fe.published(entry.published)  # also RSS pubDate
        for term in _unique(entry.categories):
            fe.category(term=term)
        author = plain_text(entry.author)
        if author:
            if kind == "rss":
                fe.dc.dc_creator(author)
            else:
                fe.author({"name": author})
        summary = plain_text(entry.summary)
        content = safe_html(entry.content_html, entry.link)
        if not summary and not content and kind == "atom":
            # A feed entry of a title and a link only: its title is its summary too (the W3C
            # validator warns on an Atom entry with no textual content; RSS needs none).
            summary = plain_text(entry.title) or link
        if summary:
            # Also RSS <description>, which readers and validators read as HTML: the plain
            # text escaped ("R&D", "the <future>" shown as written, not a bare "&" or a tag).
            fe.summary(html.escape(summary, quote=False) if kind == "rss" else summary)
        if content:
            # With a description set first, feedgen writes this as RSS content:encoded.
            fe.content(content, type="html")
        fe.defnews_source.ref = entry.source
        fe.defnews_source.updated = entry.updated
        fe.defnews_source.image = (
            published_uri(entry.image) if entry.image and is_http_url(entry.image) else None
        )

    if kind == "atom":
        data: bytes = fg.atom_str(pretty=True, encoding="UTF-8")
    else:
        data = fg.rss_str(pretty=True, encoding="UTF-8")
    return data
