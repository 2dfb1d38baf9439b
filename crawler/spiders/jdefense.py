"""``scrapy crawl jdefense``: the generic site spider (:mod:`crawler.spiders.site`) with the
Jディフェンスニュース source of ``sources.toml``. Kept under this name for the docs, Scrapyd
deployments and tests; no J-Defense logic lives here."""

from __future__ import annotations

from crawler.spiders.site import JdefenseSpider, SiteSpider

__all__ = ["JdefenseSpider", "SiteSpider"]
