"""Normalize: whitespace, canonical URLs and ids, every date through ``crawler.dates``."""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import lxml.html
from scrapy.crawler import Crawler

from crawler.dates import DateParseError, find_dates, parse_date
from crawler.items import ArticleItem, DateProvenance, RankingObservation
from crawler.pages.html import clean_html
from crawler.urls import canonical_url, id_for_url

logger = logging.getLogger(__name__)

# Layout white space only: the ideographic space (U+3000) is part of Japanese text and kept.
_SPACE = re.compile(r"[ \t\r\n\f\v\u00a0]+")
_JST = timezone(timedelta(hours=9), "JST")  # the day yearless dates are read against


def clean_text(value: str | None) -> str:
    """Collapse runs of layout white space into one space and strip; keep U+3000 verbatim."""
    if not value:
        return ""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", value)).strip()


def plain_text(value: str | None) -> str:
    """A summary as plain text: feeds often put HTML in it, feed readers show it as text."""
    if not value or "<" not in value:
        return clean_text(value)
    root = lxml.html.fragment_fromstring(value, create_parent="div")
    parts = root.xpath(".//text()[not(ancestor::script) and not(ancestor::style)]")
    return clean_text("".join(parts))  # inline markup splits no words (防衛<b>省</b>)


class NormalizePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.reference: datetime = datetime.now(UTC)
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
            self._article(item)
        elif isinstance(item, RankingObservation):
            self._ranking(item)
        return item

    def _ranking(self, item: RankingObservation) -> None:
        """Every page repeats the same sidebar: each distinct entry is cleaned once per crawl
        (and per day of the capture, which yearless title dates are read against)."""
        day = item.seen_at.astimezone(_JST).date()
        for entries in item.lists.values():
            for entry in entries:
                key = (entry.title, entry.url, day)
                done = self._ranking_entries.get(key)
                if done is None:
                    title = clean_text(entry.title)
                    url = canonical_url(entry.url)
                    dates = [found.value for found in find_dates(title, reference=item.seen_at)]
                    done = self._ranking_entries[key] = (title, url, id_for_url(url), dates)
                entry.title, entry.url, entry.id = done[:3]
                entry.title_dates = list(done[3])

    def _article(self, item: ArticleItem) -> None:
        item.url = canonical_url(item.url)
        item.id = id_for_url(item.url)
        item.title = clean_text(item.title)
        item.summary = plain_text(item.summary)
        # One HTML policy for every source: the sanitizer the page parsers use; it also closes
        # what a malformed feed left open. What a page parser already cleaned is not parsed
        # and sanitized again (the same function, idempotent: only the cost would differ).
        if not item.content_clean:
            item.content_html = clean_html(item.content_html, item.url)
        item.author = clean_text(item.author) or None
        item.categories = list(dict.fromkeys(c for c in map(clean_text, item.categories) if c))
        for image in item.images:
            image.caption = clean_text(image.caption) or None
        for name in ("published", "updated"):
            raw = getattr(item, f"{name}_raw")
            source = getattr(item, f"{name}_source") or "unknown"
            if getattr(item, name) is not None or not raw:
                continue
            # Dates without a year are read relative to the crawl (the time they were read).
            try:
                found = parse_date(raw, reference=self.reference)
            except DateParseError as exc:
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
