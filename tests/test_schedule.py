"""``defnews schedule``: runs crawl and build on an interval, survives a failing source, stops
cleanly on SIGTERM/SIGINT without building from the interrupted crawl."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixture_server import FixtureServer
from mirror import build_mirror
from support import defnews

from defnews.schedule import run_argv


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["schedule", "--every", "15m", "--store", "s"], ["run", "--store", "s"]),
        (["-q", "schedule", "--every=15m", "--jitter", "1m", "--runs", "3", "--public", "p"],
         ["-q", "run", "--public", "p"]),
    ],
    ids=["every", "all-own-options"],
)
def test_run_argv(argv, expected):
    assert run_argv(argv) == expected


def sources_with_a_broken_feed(tmp_path: Path, server_url: str) -> Path:
    packaged = (Path(__file__).resolve().parents[1] / "crawler" / "sources.toml").read_text(
        encoding="utf-8")
    categories = packaged[packaged.index("[categories]"):packaged.index("[[source]]")]
    path = tmp_path / "sources.toml"
    path.write_text(
        categories
        + '[[source]]\nkey = "jdefense"\nname = "J"\nkind = "site"\nspider = "jdefense"\n'
        'url = "https://j-defense.ikaros.jp/"\nlanguage = "ja"\n\n'
        '[[source]]\nkey = "gone"\nname = "Gone"\nkind = "feed"\n'
        f'url = "{server_url}no-such-feed.xml"\nlanguage = "en"\n',
        encoding="utf-8",
    )
    return path


def test_schedule_runs_again_after_a_failing_source(tmp_path):
    build_mirror(tmp_path / "site")
    with FixtureServer(tmp_path / "site") as server:
        sources = sources_with_a_broken_feed(tmp_path, server.url)
        result = defnews("schedule", "--every", "0.2s", "--jitter", "0.1s", "--runs", "2",
                         "--sources", str(sources), "--base-url", server.url, "--no-throttle", "--counter-walk", "0",
                         "--store", str(tmp_path / "s.sqlite3"), "--public",
                         str(tmp_path / "public"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("Crawl summary") == 2
    assert result.stdout.count("FAILED") == 2  # the broken feed, both times
    assert "ended with status 1" in result.stderr and "the next run goes ahead" in result.stderr
    assert server.counts["/no-such-feed.xml"] >= 2
    assert (tmp_path / "public" / "all.atom").is_file()  # the healthy source was built


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_schedule_stops_cleanly_and_builds_nothing_from_the_interrupted_crawl(tmp_path, signum):
    build_mirror(tmp_path / "site")
    with FixtureServer(tmp_path / "site") as server:
        server.delay = 1.0
        proc = subprocess.Popen(
            [sys.executable, "-m", "defnews", "schedule", "--every", "1h", "--only", "jdefense",
             "--base-url", server.url, "--no-throttle", "--store", str(tmp_path / "s.sqlite3"),
             "--public", str(tmp_path / "public")],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert server.requested.wait(60)
        time.sleep(0.3)
        started = time.monotonic()
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err[-3000:]  # 130 / 143, as the README says
    assert time.monotonic() - started < 30  # not the hour until the next run
    assert "interrupted by" in out and "nothing built" in out
    assert "stopped by a signal" in err and f"stopped by {signal.Signals(signum).name}" in err
    assert not (tmp_path / "public").exists()


@pytest.mark.parametrize(("every", "message"), [
    ("15", "with its unit s, m, h or d"),
    ("1", "write 1s or 1m"),
    ("30s", "the shortest interval between runs of the live sites is 60s"),
    ("45s", "the shortest interval between runs of the live sites is 60s"),
], ids=["bare-15", "bare-1", "30s-live", "45s-live"])
def test_every_needs_a_unit_and_live_sites_a_minimum(tmp_path, every, message):
    run = defnews("schedule", "--every", every, "--store", str(tmp_path / "s.sqlite3"),
                  "--public", str(tmp_path / "public"), cwd=tmp_path)
    assert run.returncode == 2
    assert message in run.stderr and every in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "s.sqlite3").exists()
