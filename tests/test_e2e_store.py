"""The batched store in a real crawl: a SIGTERM mid-crawl writes every pending batch, and the
summary's counts are what the store holds (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

from test_e2e_frontier import CRAWL, CountingSite

from crawler.store import open_store


def test_sigterm_mid_crawl_writes_the_pending_batch(store_location, tmp_path):
    with CountingSite(delay=0.1) as site:
        crawl = subprocess.Popen(
            [sys.executable, "-m", "defnews", *CRAWL, "--base-url", site.url,
             "--store", store_location,
             # Batches far larger than the crawl: only the time limit or the close writes them.
             "-s", "DEFNEWS_STORE_BATCH_SIZE=10000", "-s", "DEFNEWS_STORE_BATCH_SECONDS=2"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 60
        while sum(site.article_hits().values()) < 8 and time.monotonic() < deadline:
            time.sleep(0.02)
        crawl.send_signal(signal.SIGTERM)
        out, err = crawl.communicate(timeout=60)
    summary = re.search(r"jdefense\s+\d+ pages\s+(\d+) new", out)
    assert summary, out + err[-2000:]
    new = int(summary.group(1))
    assert new >= 1
    assert "[shutdown]" in out
    with open_store(store_location) as s:
        assert s.count_articles() == new
