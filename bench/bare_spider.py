"""The reference of the crawl benchmark: the spider a Scrapy user would write for the site in
an afternoon. It follows the same links as defnews's ``jdefense`` spider (home page list,
section indexes and their pagination, 次の記事 / 前の記事, the ranking sidebar) and extracts
the article fields with CSS selectors into plain dicts, written by Scrapy's own JSON Lines
feed exporter. No normalization, validation, deduplication or store.

Run by ``bench_crawl_peer.py`` with the same settings as the defnews crawl.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response

ARTICLE = re.compile(r"/docs/[a-z]+/\d{6}\.html$")


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, base_url: str, sections: str = "mod,others,commentary", **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/") + "/"
        self.sections = sections.split(",")

    async def start(self) -> Any:
        yield scrapy.Request(self.base_url, callback=self.parse_listing)
        for section in self.sections:
            yield scrapy.Request(f"{self.base_url}docs/{section}/", callback=self.parse_listing)

    def _articles(self, response: Response, hrefs: list[str]) -> Iterator[scrapy.Request]:
        for href in hrefs:
            url = response.urljoin(href)
            if ARTICLE.search(url):
                yield scrapy.Request(url, callback=self.parse_article)

    def parse_listing(self, response: Response) -> Iterator[Any]:
        yield from self._articles(
            response, response.css("main .item-title a::attr(href), main .pickup-card::attr(href)").getall()
        )
        next_page = response.css("a[rel=next]::attr(href)").get()
        if next_page:
            yield response.follow(next_page, callback=self.parse_listing)
        yield from self._articles(response, response.css(".ranking-list a::attr(href)").getall())

    def parse_article(self, response: Response) -> Iterator[Any]:
        entry = response.css("article.entry")
        yield {
            "url": response.url,
            "title": entry.css("h1.entry-title::text").get("").strip(),
            "date": entry.css(".date time::attr(datetime), p.date::text, .entry-meta span::text").get(),
            "categories": entry.css("ul.category a::text").getall(),
            "author": entry.css("p.author::text").get(),
            "summary": response.css("meta[name=description]::attr(content)").get(""),
            "content_html": entry.css("div.entry-body").get(""),
            "images": [response.urljoin(src) for src in entry.css(".entry-body img::attr(src)").getall()],
        }
        yield from self._articles(response, entry.css(".pager a::attr(href)").getall())
        yield from self._articles(response, response.css(".ranking-list a::attr(href)").getall())
