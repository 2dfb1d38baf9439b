"""The Jディフェンスニュース spider: decides what to fetch next; page parsers do the reading.

Discovery never depends on one page type (the real home page list may be filled by
JavaScript): the home page, the section indexes and their pagination, the 次の記事 / 前の記事
links of every article, the ranking sidebar, and, as a last resort, a walk down the shared
6-digit article counter (``DEFNEWS_JDEFENSE_COUNTER_WALK``).

``base_url`` is where pages are fetched (the live site, or a mirror such as the demo's
fixture server); ``site_url`` is the site's own origin. Items always carry ``site_url``
addresses, so a crawl of a mirror produces the same ids as a crawl of the site.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse

from crawler.items import ArticleItem, Image, RankingEntry, RankingItem, RankingObservation
from crawler.pages import jdefense as pages
from crawler.pages.html import PageParseError

logger = logging.getLogger(__name__)

SITE_URL = "https://j-defense.ikaros.jp/"
SECTIONS = ("mod", "others", "commentary")


def _origin(url: str) -> str:
    return url if url.endswith("/") else url + "/"


class JdefenseSpider(scrapy.Spider):
    name = "jdefense"
    source_key = "jdefense"
    # From DEFNEWS_JDEFENSE_MAX_INDEX_PAGES / DEFNEWS_JDEFENSE_COUNTER_WALK in from_crawler.
    max_index_pages: int = 5
    counter_walk: int = 0

    def __init__(
        self,
        base_url: str = SITE_URL,
        site_url: str = SITE_URL,
        sections: str | tuple[str, ...] = SECTIONS,
        source: str = "jdefense",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.base_url = _origin(base_url)
        self.site_url = _origin(site_url)
        self.sections = tuple(sections.split(",")) if isinstance(sections, str) else sections
        self.source_key = source
        self.numbers_seen: set[int] = set()
        self._walked = False
        self._ranking_requested = False
        self._ranked_requested: set[str] = set()  # sidebar addresses already requested

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> JdefenseSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_index_pages = crawler.settings.getint("DEFNEWS_JDEFENSE_MAX_INDEX_PAGES")
        spider.counter_walk = crawler.settings.getint("DEFNEWS_JDEFENSE_COUNTER_WALK")
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        return spider

    # -- addresses ----------------------------------------------------------------------
    def to_site(self, url: str) -> str:
        """A fetched (mirror) address as the site's own address."""
        if self.base_url != self.site_url and url.startswith(self.base_url):
            return self.site_url + url[len(self.base_url):]
        return url

    def to_fetch(self, url: str) -> str:
        """A site address as the address to fetch (the mirror, when crawling one)."""
        if self.base_url != self.site_url and url.startswith(self.site_url):
            return self.base_url + url[len(self.site_url):]
        return url

    def _site_html(self, html: str) -> str:
        if self.base_url == self.site_url:
            return html
        return html.replace(self.base_url, self.site_url)

    # -- requests -----------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.base_url, callback=self.parse_listing, cb_kwargs={"page": 1})
        for section in self.sections:
            yield scrapy.Request(
                f"{self.base_url}docs/{section}/",
                callback=self.parse_listing,
                cb_kwargs={"page": 1},
            )

    def article_request(self, url: str, *, probe: tuple[str, ...] = ()) -> scrapy.Request:
        number = pages.article_number(url)
        if number is not None:
            self.numbers_seen.add(number)
        meta = {"handle_httpstatus_list": [404]} if probe else {}
        return scrapy.Request(
            self.to_fetch(url),
            callback=self.parse_article,
            cb_kwargs={"probe": probe},
            meta=meta,
        )

    # -- callbacks ----------------------------------------------------------------------
    def parse_listing(self, response: Response, page: int) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            self._skip(response.url, "not an HTML page")
            return
        listing = pages.parse_listing(response.text, response.url)
        self.crawler.stats.inc_value("defnews/jdefense/listing_pages")
        for url in listing["article_urls"]:
            yield self.article_request(url)
        next_page = listing.get("next_page")
        if next_page and page < self.max_index_pages:
            yield scrapy.Request(
                self.to_fetch(next_page), callback=self.parse_listing, cb_kwargs={"page": page + 1}
            )
        yield from self._ranking(response)

    def parse_article(self, response: Response, probe: tuple[str, ...] = ()) -> Iterator[Any]:
        if response.status == 404:
            # A counter-walk probe: the number may live under another section.
            if len(probe) > 1:
                number = pages.article_number(response.url)
                assert number is not None
                yield self.article_request(
                    pages.article_url(self.base_url, probe[1], number), probe=probe[1:]
                )
            else:
                self.crawler.stats.inc_value("defnews/jdefense/counter_walk_misses")
            return
        if not isinstance(response, TextResponse):
            self._skip(response.url, "not an HTML page")
            return
        try:
            data = pages.parse_article(response.text, response.url)
        except PageParseError as exc:
            self._skip(response.url, str(exc))
            return
        if probe:
            self.crawler.stats.inc_value("defnews/jdefense/counter_walk_found")
        if b"</html>" not in response.body[-4096:].lower():
            # Cut off in transfer or by the CMS: keep what could be read (a later crawl that
            # gets the whole page updates the item), but say so.
            logger.warning("%s: page looks truncated (no </html>); stored what could be read",
                           self.to_site(response.url))
            self.crawler.stats.inc_value("defnews/jdefense/truncated_pages")
        yield self._item(data)
        for key in ("next_url", "prev_url"):
            if data.get(key):
                yield self.article_request(data[key])
        yield from self._ranking(response, data.get("ranking"), parsed=True)

    def _ranking(self, response: Response, ranking: Any = None, parsed: bool = False) -> Iterator[Any]:
        if not parsed:
            ranking = pages.parse_ranking(response.text, response.url)
        if not ranking:
            self.crawler.stats.inc_value("defnews/ranking/pages_without_sidebar")
            return
        lists = {
            period: [
                RankingEntry(rank=e["rank"], title=e["title"], url=self.to_site(e["url"]))
                for e in entries
            ]
            for period, entries in ranking.items()
        }
        yield RankingObservation(
            source=self.source_key,
            page_url=self.to_site(response.url),
            lists=lists,
            seen_at=datetime.now(UTC),
        )
        # Ranked articles the crawl has not reached otherwise are fetched too, so the ranking
        # feed carries their date, category and summary. Every page repeats the sidebar: each
        # address is requested once per crawl here rather than 30 requests per page built and
        # fingerprinted only for the dupefilter to drop them.
        for entries in ranking.values():
            for entry in entries:
                url = entry["url"]
                if url not in self._ranked_requested and pages.article_number(url) is not None:
                    self._ranked_requested.add(url)
                    yield self.article_request(url)

    def _item(self, data: dict[str, Any]) -> ArticleItem:
        return ArticleItem(
            url=self.to_site(data["url"]),
            title=data["title"],
            source=self.source_key,
            categories=list(data.get("categories") or []),
            published_raw=data.get("published_raw"),
            published_source=data.get("published_source"),
            updated_raw=data.get("updated_raw"),
            updated_source=data.get("updated_source"),
            author=data.get("author"),
            summary=data.get("summary") or "",
            content_html=self._site_html(data.get("content_html") or ""),
            content_clean=True,  # parse_article's content_html is clean_html's output
            images=[
                Image(url=self.to_site(img["url"]), caption=img.get("caption"))
                for img in data.get("images") or []
            ],
            language=data.get("language") or "ja",
            section=data.get("section"),
        )

    def _skip(self, url: str, reason: str) -> None:
        logger.error("skipped %s: %s", self.to_site(url), reason)
        self.crawler.stats.inc_value("defnews/parse_errors")

    # -- end of crawl -------------------------------------------------------------------
    def on_idle(self) -> None:
        engine = self.crawler.engine
        assert engine is not None
        if not self._walked:
            self._walked = True
            requests = list(self._counter_walk())
            if requests:
                logger.info("walking the article counter: %d unseen numbers", len(requests))
                for request in requests:
                    engine.crawl(request)
                raise DontCloseSpider
        if not self._ranking_requested:
            self._ranking_requested = True
            # One ranking snapshot per crawl: the ranking pipeline fills it with the sidebar
            # collapsed from every page. A data: request brings it through the normal item path.
            engine.crawl(
                scrapy.Request("data:,", callback=self.emit_ranking, dont_filter=True)
            )
            raise DontCloseSpider

    def _counter_walk(self) -> Iterator[scrapy.Request]:
        if self.counter_walk <= 0 or not self.numbers_seen:
            return
        top = max(self.numbers_seen)
        for number in range(top - 1, max(top - self.counter_walk, 0) - 1, -1):
            if number not in self.numbers_seen:
                url = pages.article_url(self.base_url, self.sections[0], number)
                yield self.article_request(url, probe=self.sections)

    def emit_ranking(self, response: Response) -> Iterator[RankingItem]:
        yield RankingItem(source=self.source_key)
