"""Retry-After parsing, and a Retry-After longer than the limit gives the page up (logged,
counted) instead of holding the crawl."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fixture_server import FixtureServer
from mirror import build_mirror
from support import defnews

from crawler.retry import retry_after_seconds

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(b"120", 120.0), ("0", 0.0), ("Thu, 01 Jan 2026 12:00:30 GMT", 30.0),
     ("Thu, 01 Jan 2026 11:00:00 GMT", 0.0), ("soon", None), (None, None), (b"", None),
     ("-5", None)],
    ids=["seconds", "zero", "http-date", "date-past", "garbage", "none", "empty", "negative"],
)
def test_retry_after_seconds(value, seconds):
    assert retry_after_seconds(value, now=NOW) == seconds


def test_retry_after_beyond_the_limit_gives_the_page_up(tmp_path):
    (new,) = build_mirror(tmp_path / "site", new=1)
    with FixtureServer(tmp_path / "site") as server:
        server.script(new, "503:3600")
        run = defnews("crawl", "--only", "jdefense", "--base-url", server.url, "--no-throttle", "--counter-walk", "0",
                      "--store", str(tmp_path / "s.sqlite3"), "-s", "DEFNEWS_RETRY_AFTER_MAX=5",
                      cwd=tmp_path)
    assert server.counts[new] == 1
    assert "asks to wait 3600 s" in run.stderr and new in run.stderr
    assert "HTTP error" in run.stdout  # counted in the summary
