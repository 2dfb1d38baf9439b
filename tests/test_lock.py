"""One run at a time per store: a file lock (SQLite) or an advisory lock (PostgreSQL); the
second run says who holds it and exits with status 75 without crawling."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fixture_server import FixtureServer
from mirror import build_mirror
from support import defnews

from defnews.lock import EXIT_LOCKED, LockHeld, store_lock

ROOT = Path(__file__).resolve().parents[1]


def test_second_holder_is_refused_with_who_holds_it(store_location):
    with store_lock(store_location, "run"):
        with pytest.raises(LockHeld) as info, store_lock(store_location, "crawl"):
            pass  # pragma: no cover - never entered
    message = str(info.value)
    assert f"pid={os.getpid()}" in message or f"pid {os.getpid()}" in message
    assert socket.gethostname() in message and "run" in message
    with store_lock(store_location, "crawl"):  # released: the next one gets it
        pass


def test_other_schemas_do_not_share_the_lock(store_location, tmp_path):
    other = str(tmp_path / "other.sqlite3")
    with store_lock(store_location, "run"), store_lock(other, "run"):
        pass


def test_two_concurrent_runs_do_not_both_crawl(store_location, tmp_path):
    site = tmp_path / "site"
    build_mirror(site)
    with FixtureServer(site) as server:
        # Long enough for the second run to start during the first (0.05 s was not always,
        # once a run that renders nothing stopped starting a browser).
        server.delay = 0.2
        first = subprocess.Popen(
            [sys.executable, "-m", "defnews", "run", "--only", "jdefense", "--base-url",
             server.url, "--no-throttle", "--store", store_location, "--public",
             str(tmp_path / "public"), "--counter-walk", "0"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            assert server.requested.wait(60), "the first run never reached the site"
            before = sum(server.counts.values())
            second = defnews("run", "--only", "jdefense", "--base-url", server.url,
                             "--no-throttle", "--store", store_location, "--public",
                             str(tmp_path / "public2"), cwd=tmp_path)
            started_during_first = first.poll() is None
        finally:
            out, err = first.communicate(timeout=300)
    assert started_during_first
    assert second.returncode == EXIT_LOCKED, second.stderr
    assert "in use by" in second.stderr and f"pid {first.pid}" in second.stderr.replace("=", " ")
    assert "Traceback" not in second.stderr and len(second.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "public2").exists()
    assert first.returncode == 0, err[-3000:]
    # The second run fetched nothing: every request came from the first (one robots.txt).
    assert server.counts["/robots.txt"] == 1 and sum(server.counts.values()) >= before



def test_the_lock_file_beside_a_sqlite_store_is_ignored_by_git():
    import shutil
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("not a git checkout")
    for name in ("defnews-demo.sqlite3.lock", "defnews.sqlite3.lock"):
        done = subprocess.run(["git", "check-ignore", "-q", name], cwd=root)
        assert done.returncode == 0, f"{name} is not ignored by git"
