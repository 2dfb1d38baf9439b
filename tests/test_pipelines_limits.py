"""The category limit: labels past DEFNEWS_MAX_CATEGORIES_PER_SOURCE are dropped and counted."""

from __future__ import annotations

import pytest
from scrapy import Spider
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from crawler.pipelines.limits import CategoryLimitPipeline

SOURCES = """
[categories]
"海上" = "naval"
"国際" = "world"
"航空" = "air"

[[source]]
key = "flood"
name = "Flood"
kind = "feed"
urls = ["https://flood.example/feed.xml"]
language = "en"
categories = ["国際"]
[source.category_map]
"Ships" = "航空"
"""


@pytest.fixture
def crawler(tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES, encoding="utf-8")
    c = get_crawler(Spider, {"DEFNEWS_MAX_CATEGORIES_PER_SOURCE": 3, "DEFNEWS_SOURCES": str(sources)})
    c.stats.open_spider()
    return c


def item(source: str, *labels: str) -> ArticleItem:
    return ArticleItem(url=f"https://{source}.example/a", title="t", source=source,
                       categories=list(labels))


def test_labels_past_the_limit_are_dropped_and_counted(crawler):
    pipe = build_from_crawler(CategoryLimitPipeline, crawler)
    first = pipe.process_item(item("flood", "a", "b", "海上", "国際", "航空", "c", "d", "e"))
    # Declared labels (the [categories] table, the source's categories and map targets) are
    # always kept; of the others, the first three.
    assert first.categories == ["a", "b", "海上", "国際", "航空", "c"]
    again = pipe.process_item(item("flood", "c", "f", "a"))
    assert again.categories == ["c", "a"]  # labels already kept stay kept
    other = pipe.process_item(item("other", "x", "y", "z", "w"))
    assert other.categories == ["x", "y", "z"]  # per source
    assert crawler.stats.get_value("defnews/dropped/category_label_over_limit") == 4
    assert crawler.stats.get_value("defnews/dropped", 0) == 0  # no item was dropped


def test_zero_disables_the_limit():
    crawler = get_crawler(Spider, {"DEFNEWS_MAX_CATEGORIES_PER_SOURCE": 0})
    with pytest.raises(NotConfigured):
        build_from_crawler(CategoryLimitPipeline, crawler)


def test_labels_already_stored_count_toward_the_limit(tmp_path):
    from datetime import UTC, datetime

    from crawler.store import open_store
    from crawler.urls import id_for_url

    location = str(tmp_path / "s.sqlite3")
    with open_store(location) as store:
        for n, label in enumerate(("a", "b", "c", "海上")):
            url = f"https://flood.example/{n}"
            stored = ArticleItem(url=url, title="t", source="flood", categories=[label],
                                 id=id_for_url(url), published=datetime(2026, 3, 1, tzinfo=UTC))
            store.upsert_article(stored, now=datetime(2026, 3, 1, tzinfo=UTC))
        assert store.source_labels() == {"flood": {"a", "b", "c", "海上"}}
    crawler = get_crawler(Spider, {"DEFNEWS_MAX_CATEGORIES_PER_SOURCE": 3,
                                   "DEFNEWS_STORE": location})
    crawler.stats.open_spider()
    pipe = build_from_crawler(CategoryLimitPipeline, crawler)
    pipe.open_spider()
    # A new run cannot add three more: the source already has its three (海上 is declared).
    assert pipe.process_item(item("flood", "d", "a", "海上")).categories == ["a", "海上"]
    assert pipe.process_item(item("other", "d")).categories == ["d"]
