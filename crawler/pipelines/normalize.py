"""Normalize: whitespace, canonical URLs and ids, every date through ``crawler.dates``."""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import lxml.etree
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.dates import DateParseError, find_dates, parse_date
from crawler.drops import record, record_drop, stats_key
from crawler.items import ArticleItem, DateProvenance, RankingObservation, article_id
from crawler.pages.feed import first_words
from crawler.pages.html import clean_html, fragment, without_controls
from crawler.urls import CACHE_SIZE, canonical_url, id_for_url

logger = logging.getLogger(__name__)

# Layout white space only: the ideographic space (U+3000) is part of Japanese text and kept.
_SPACE = re.compile(r"[ \t\r\n\f\v\u00a0]+")
_JST = timezone(timedelta(hours=9), "JST")  # the day yearless dates are read against


def clean_text(value: str | None) -> str:
    """Collapse runs of layout white space into one space and strip; keep U+3000 verbatim."""
    if not value:
        return ""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", value)).strip()


# C0 controls (but tab, LF, CR) and DEL: never text, and lxml refuses them.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Elements that end a word: their text is joined with a space, inline markup joins with none.
_BREAKS = ("br", "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
           "blockquote", "dd", "dt", "section", "article", "header", "footer", "ul", "ol")
# Markup escaped once or twice (&lt;script&gt;, &amp;lt;img&amp;gt;) is markup still.
_MARKUP_ROUNDS = 3


def _text_of(value: str) -> str:
    value = without_controls(value)
    try:
        root = fragment(value)
    except lxml.etree.ParserError:  # only a doctype ("<!DOCTYPE"): a browser shows nothing
        return ""
    for el in root.iter(*_BREAKS):
        el.tail = " " + (el.tail or "")
    parts = root.xpath(".//text()[not(ancestor::script) and not(ancestor::style)]")
    return "".join(parts)  # inline markup splits no words (防衛<b>省</b>)


def plain_text(value: str | None) -> str:
    """Any field a reader shows as text (title, author, summary, label): markup removed.

    An HTML parser (lxml), not a pattern: tags go, ``<script>``/``<style>`` go with their
    contents, entities are decoded; markup that was escaped (``&lt;script&gt;``) is parsed
    again, so it cannot survive as visible text either. ``<速報>`` or ``a < b`` is text.
    """
    if not value:
        return ""
    value = _CONTROLS.sub("", value)
    for _ in range(_MARKUP_ROUNDS):
        if "<" not in value and "&" not in value:
            break
        # Each round may decode a control character that was escaped (&amp;#14; -> &#14;
        # -> U+000E): removed again, or the next round's parser (and lxml's XML) refuses it.
        text = without_controls(_text_of(value))
        if text == value:
            break
        value = text
    return clean_text(value)


def _reader_title(item: ArticleItem) -> None:
    """Title a feed entry whose title, given or taken from its text, is no text once its markup
    is removed (``<script>…</script>``, an escaped ``&lt;br /&gt;``) the way readers title a
    title-less entry: its first words, else its link; recorded as inferred."""
    item.title = first_words(item.summary or plain_text(item.content_html)) or item.url
    if "title" not in item.inferred:
        item.inferred.append("title")


@functools.lru_cache(maxsize=CACHE_SIZE)
def http_url(value: str | None) -> bool:
    """Only http(s) links are published (never javascript:, data:, vbscript:, file:...).
    (Cached: every page repeats the ranking sidebar's addresses.)"""
    if not value:
        return False
    parts = urlsplit(_CONTROLS.sub("", value).strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


# crawler.dates refuses what is before its EARLIEST or too far ahead with these words: such a
# date is implausible (falls back to first_seen), not unreadable (drops the item).
_OUT_OF_BOUNDS = re.compile(r"is before \d{4}-\d\d-\d\d|implausibly far after")


class NormalizePipeline:
    """Also the gate of what comes from outside, for every source: only http(s) links
    (``_link``), no markup in text fields (``plain_text``), plausible dates
    (``DEFNEWS_DATES_EARLIEST`` .. now + ``DEFNEWS_DATES_MAX_FUTURE_HOURS``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.reference: datetime = datetime.now(UTC)
        settings = crawler.settings
        earliest = date.fromisoformat(settings.get("DEFNEWS_DATES_EARLIEST") or "1990-01-01")
        self.earliest = datetime.combine(earliest, time(), UTC)
        self.max_future = timedelta(hours=settings.getfloat("DEFNEWS_DATES_MAX_FUTURE_HOURS", 24))
        self.store_location: str = settings.get("DEFNEWS_STORE") or ""
        self._store: Any = None
        # (raw title, raw url, capture day) -> (title, url, id, title dates)
        self._ranking_entries: dict[tuple[str, str, date], tuple[str, str, str, list[datetime]]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        # Dates written without a year are read relative to the crawl.
        self.reference = datetime.now(UTC)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem):
            self._link(item)
            self._article(item)
            self._plausible_dates(item)
        elif isinstance(item, RankingObservation):
            for period, entries in item.lists.items():
                item.lists[period] = self._http_entries(entries, item.page_url)
            self._ranking(item)
        return item

    def close_spider(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- links ----------------------------------------------------------------------------
    def _link(self, item: ArticleItem) -> None:
        """An article's link must be http(s); else its guid stands in, else it is dropped."""
        if not http_url(item.url):
            bad = item.url
            if not http_url(item.guid):
                self.stats.inc_value("defnews/dropped")
                self.stats.inc_value(stats_key("dropped", "not http(s) link"))
                raise DropItem(f"{bad[:200]!r}: not an http(s) link, and no http(s) guid "
                               f"({item.guid!r:.200}) to stand in ({item.source})")
            assert item.guid is not None
            record_drop(self.stats, "not http(s) link", bad[:200],
                        f"{item.source} entry published under its guid {item.guid}",
                        level=logging.WARNING, total=False)
            item.url = item.guid.strip()
        kept = [image for image in item.images if http_url(image.url)]
        for image in item.images:
            if not http_url(image.url):
                record_drop(self.stats, "not http(s) link", image.url[:200],
                            f"image of {item.url}", total=False)
        item.images = kept

    def _http_entries(self, entries: list[Any], page_url: str) -> list[Any]:
        kept = [entry for entry in entries if http_url(entry.url)]
        for entry in entries:
            if not http_url(entry.url):
                record_drop(self.stats, "not http(s) link", entry.url[:200],
                            f"ranking entry on {page_url}", total=False)
        return kept

    # -- dates ----------------------------------------------------------------------------
    def _plausible_dates(self, item: ArticleItem) -> None:
        latest = datetime.now(UTC) + self.max_future
        for name in ("published", "updated"):
            value = getattr(item, name)
            if value is None:
                continue
            if value < self.earliest:
                why = f"before {self.earliest.date().isoformat()}"
            elif value > latest:
                why = f"more than {self.max_future} after the crawl"
            else:
                continue
            raw = getattr(item, f"{name}_raw") or value.isoformat()
            self._implausible(item, name, raw, f"{value.isoformat()} is {why}")

    def _implausible(self, item: ArticleItem, name: str, raw: str, why: str) -> None:
        """Flag the date; ``published`` falls back to the time the article was first seen."""
        record(self.stats, "flagged", "implausible date", item.url, f"{name} {raw!r}: {why}")
        note = f"implausible {name} date {raw!r} ({why})"
        if name == "published":
            item.published = self._first_seen(item)
            item.dates["published"] = DateProvenance(
                raw=raw, source="first_seen", offset_known=True,
                warnings=[f"{note}: first_seen used"],
            )
            if "published" not in item.inferred:  # dated when first seen, as an undated one
                item.inferred.append("published")
        else:
            item.updated = None
            item.dates[name] = DateProvenance(raw=raw, source="rejected", offset_known=True,
                                              warnings=[f"{note}: ignored"])

    def _first_seen(self, item: ArticleItem) -> datetime:
        """When the store first saw this article (the same value every run), else now."""
        stored = self._stored(item.id)
        if stored is not None:
            before = stored.dates.get("published")
            if before is not None and before.source == "first_seen" and stored.published:
                return stored.published  # type: ignore[no-any-return]
            if stored.first_seen is not None:
                return stored.first_seen  # type: ignore[no-any-return]
        return self.reference

    def _stored(self, article_id: str) -> Any:
        if not self.store_location or not article_id:
            return None
        if self._store is None:
            from crawler.store import open_store  # only for the rare implausible date

            try:
                self._store = open_store(self.store_location)
            except Exception as exc:  # the store pipeline reports a store it cannot open
                logger.debug("first_seen lookup: cannot open %s: %s", self.store_location, exc)
                self.store_location = ""
                return None
        return self._store.get_article(article_id)

    def _ranking(self, item: RankingObservation) -> None:
        """Every page repeats the same sidebar: each distinct entry is cleaned once per crawl
        (and per day of the capture, which yearless title dates are read against)."""
        day = item.seen_at.astimezone(_JST).date()
        for entries in item.lists.values():
            for entry in entries:
                key = (entry.title, entry.url, day)
                done = self._ranking_entries.get(key)
                if done is None:
                    title = plain_text(entry.title)
                    url = canonical_url(entry.url)
                    dates = [found.value for found in find_dates(title, reference=item.seen_at)]
                    done = self._ranking_entries[key] = (title, url, id_for_url(url), dates)
                entry.title, entry.url, entry.id = done[:3]
                entry.title_dates = list(done[3])

    def _article(self, item: ArticleItem) -> None:
        # The url stays the outlet's own link; its normalised form is only the identity key.
        item.url = item.url.strip()
        item.key = canonical_url(item.url)
        item.id = article_id(item.key)
        item.title = plain_text(item.title)
        item.summary = plain_text(item.summary)
        # One HTML policy for every source: the sanitizer the page parsers use; it also closes
        # what a malformed feed left open. What a page parser already cleaned is not parsed
        # and sanitized again (the same function, idempotent: only the cost would differ).
        if not item.content_clean:
            item.content_html = clean_html(item.content_html, item.url)
        item.author = plain_text(item.author) or None
        item.categories = list(dict.fromkeys(c for c in map(plain_text, item.categories) if c))
        if not item.title and item.published_fallback == "first_seen":
            _reader_title(item)
        for image in item.images:
            image.caption = plain_text(image.caption) or None
        for name in ("published", "updated"):
            raw = getattr(item, f"{name}_raw")
            source = getattr(item, f"{name}_source") or "unknown"
            if getattr(item, name) is not None or not raw:
                continue
            # Dates without a year are read relative to the crawl (the time they were read).
            try:
                found = parse_date(raw, reference=self.reference)
            except DateParseError as exc:
                if _OUT_OF_BOUNDS.search(str(exc)):
                    self._implausible(item, name, raw, str(exc))
                    continue
                logger.warning("%s: unreadable %s date %r (%s): %s", item.url, name, raw, source, exc)
                self.stats.inc_value(f"defnews/dates/unreadable/{name}")
                continue
            setattr(item, name, found.value)
            item.dates[name] = DateProvenance(
                raw=raw,
                source=source,
                offset_known=found.offset_known,
                warnings=list(found.warnings),
            )
            if found.warnings:
                self.stats.inc_value("defnews/dates/warnings")
        if item.published is None and item.published_fallback == "first_seen":
            self._date_first_seen(item)

    def _date_first_seen(self, item: ArticleItem) -> None:
        """An undated feed entry is dated when first seen, as feed readers show it: the crawl
        time here, replaced by the stored ``first_seen`` when the store keeps it."""
        raw = item.published_raw
        item.published = self.reference
        item.dates["published"] = DateProvenance(
            raw=raw or "first_seen",
            source="first_seen",
            offset_known=True,
            warnings=[
                f"unreadable date {raw!r}: dated when first seen" if raw
                else "no date in the entry: dated when first seen"
            ],
        )
        if "published" not in item.inferred:
            item.inferred.append("published")
        self.stats.inc_value("defnews/dates/inferred/published")
        logger.info("%s: no usable published date, dated when first seen", item.url)
