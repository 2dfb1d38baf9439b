"""defnews crawler: the Scrapy project (spiders, page parsers, pipelines, store)."""

__version__ = "0.1.0"
