"""The crawl summary names every drop, flag and ignored value with its count."""

from __future__ import annotations

import io

from defnews.commands import print_crawl_report
from defnews.runner import CrawlerResult, CrawlReport


def test_summary_counts_drops_flags_and_ignored_values():
    stats = {
        "response_received_count": 7, "item_scraped_count": 3, "defnews/dropped": 3,
        "defnews/dropped/off-site_link": 2, "defnews/dropped/robots.txt": 1,
        "defnews/dropped/category_label_over_limit": 2900,
        "defnews/flagged/implausible_date": 4, "defnews/ignored/off-site_canonical_URL": 1,
    }
    out = io.StringIO()
    print_crawl_report(CrawlReport([CrawlerResult("jdefense", "jdefense", "finished", stats)]), out)
    text = out.getvalue()
    for line in ("skipped 2: off-site link", "skipped 1: robots.txt",
                 "skipped 2900: category label over limit", "flagged 4: implausible date",
                 "ignored 1: off-site canonical URL"):
        assert line in text, text
