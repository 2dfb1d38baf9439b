"""Helpers shared by the end-to-end tests (not a test module)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ATOM = "{http://www.w3.org/2005/Atom}"

# The Content-Type a typical server sends for each fixture feed in tests/fixtures/feeds/
# (the Shift_JIS feed as text/xml without charset, as many Japanese servers do).
FEED_CONTENT_TYPES = {
    "naval.xml": "application/rss+xml; charset=UTF-8",
    "naval-updated.xml": "application/rss+xml; charset=UTF-8",
    "wire.atom": "application/atom+xml",
    "mod-press.rdf": "application/rdf+xml",
    "sjis.xml": "text/xml",
    "eucjp.xml": "text/xml; charset=EUC-JP",
    "malformed.xml": "application/rss+xml",
    "json-feed.json": "application/feed+json",
    "error.html": "text/html; charset=UTF-8",
}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def defnews(*args: str, cwd: Path) -> Run:
    """Run the ``defnews`` command in a subprocess (a Twisted reactor runs once per process)."""
    proc = subprocess.run(
        [sys.executable, "-m", "defnews", *args],
        cwd=cwd, env=dict(os.environ), capture_output=True, text=True, timeout=300,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)
