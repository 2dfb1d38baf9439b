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


def test_two_runs_at_once_on_a_fresh_postgresql_schema(tmp_path, pg_dsn):
    """Issue: two runs on a fresh PostgreSQL schema, one crashed with
    UniqueViolation pg_type_typname_nsp_index and printed tracebacks. Both open (and so
    create) the schema at once; then the store's lock (issue #10) lets one crawl, and the other
    either crawls after it or says who holds the lock and exits 75. Neither crashes."""
    dsn = pg_dsn
    with CountingSite() as site:
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "defnews", "run", *CRAWL[1:], "--base-url", site.url,
                 "--store", dsn, "--public", str(tmp_path / f"public{n}"),
                 "--feed-url", "https://feeds.example.org/"],
                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for n in range(2)
        ]
        outs = [r.communicate(timeout=240) for r in runs]
    for r, (_out, err) in zip(runs, outs, strict=True):
        assert r.returncode in (0, 75), err[-3000:]
        assert "Traceback" not in err and "UniqueViolation" not in err
        if r.returncode == 75:
            assert "is in use by defnews run pid=" in err
    assert 0 in [r.returncode for r in runs]
    with open_store(dsn) as s:
        stored = s.count_articles()
    news = [int(re.search(r"jdefense\s+\d+ pages\s+(\d+) new", out).group(1))
            for r, (out, _) in zip(runs, outs, strict=True) if r.returncode == 0]
    assert sum(news) == stored > 0  # each article new exactly once, across both runs
