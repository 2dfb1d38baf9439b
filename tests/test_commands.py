"""The crawl summary's per-feed-source lines (``defnews.commands.print_crawl_report``)."""

from __future__ import annotations

import io

from defnews.commands import print_crawl_report
from defnews.runner import CrawlerResult, CrawlReport


def test_summary_says_per_feed_source_what_was_read_kept_merged_and_dropped():
    stats = {
        "item_scraped_count": 7,
        "defnews/feeds/source/wire/read": 10,
        "defnews/feeds/source/wire/kept": 6,
        "defnews/feeds/source/wire/merged": 1,
        "defnews/feeds/source/wire/dropped": 3,
        "defnews/feeds/source/wire/dropped/no link": 1,
        "defnews/feeds/source/wire/dropped/over DEFNEWS_FEED_MAX_ENTRIES": 2,
        "defnews/feeds/source/wire/inferred/title": 2,
        "defnews/feeds/source/wire/inferred/published": 4,
        "defnews/feeds/source/jp/read": 1,
        "defnews/feeds/source/jp/kept": 1,
        "defnews/feeds/source/jp/replaced_chars": 1,
    }
    out = io.StringIO()
    print_crawl_report(CrawlReport([CrawlerResult("feeds", "feeds", "finished", stats)]), out)
    lines = [line.strip() for line in out.getvalue().splitlines()]
    assert (
        "jp: 1 entries read, 1 kept, 0 merged as duplicates, 0 dropped "
        "(1 invalid byte(s) replaced)"
    ) in lines
    assert (
        "wire: 10 entries read, 6 kept, 1 merged as duplicates, 3 dropped "
        "(4 published inferred, 2 title inferred)"
    ) in lines
    assert "dropped 1: no link" in lines
    assert "dropped 2: over DEFNEWS_FEED_MAX_ENTRIES" in lines
    assert lines.index("dropped 1: no link") > lines.index(next(x for x in lines if x.startswith("wire:")))
