"""Exit statuses say what happened: signals during the crawl build nothing, signals during the
build stop it, a forced stop and a crawler that cannot start are failures, not success."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from fixture_server import FixtureServer
from mirror import build_mirror
from support import defnews

from feeds.write import is_temp_file


def start_run(server: FixtureServer, work: Path, command: str = "run") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "defnews", command, "--only", "jdefense", "--base-url", server.url,
         "--no-throttle", "--store", str(work / "store.sqlite3"), "--public",
         str(work / "public")],
        cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.fixture
def slow_site(tmp_path):
    build_mirror(tmp_path / "site")
    with FixtureServer(tmp_path / "site") as server:
        # Slow enough that a graceful stop is still waiting for pages when a second signal
        # comes 0.3 s after the first.
        server.delay = 1.5
        yield server


@pytest.mark.parametrize(
    ("signals", "status"),
    [((signal.SIGINT,), 130), ((signal.SIGTERM,), 143), ((signal.SIGINT, signal.SIGINT), 130)],
    ids=["sigint", "sigterm", "double-ctrl-c"],
)
def test_signal_during_the_crawl_writes_no_feed(slow_site, tmp_path, signals, status):
    proc = start_run(slow_site, tmp_path)
    assert slow_site.requested.wait(60)
    time.sleep(0.5)  # inside the crawl: slow pages in flight
    for signum in signals:
        proc.send_signal(signum)
        time.sleep(0.3)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == status, err[-3000:]
    assert "interrupted by" in out and "nothing built" in out
    assert not (tmp_path / "public").exists()
    if len(signals) == 2:
        assert "killed" in out or "stopped by force" in out


def test_demo_interrupted_builds_nothing(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "defnews", "demo", "--store", str(tmp_path / "demo.sqlite3"),
         "--public", str(tmp_path / "public"), "-s", "DOWNLOAD_DELAY=0.5"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "demo.sqlite3").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    assert not (tmp_path / "public").exists()


def test_a_setting_value_of_the_wrong_type_is_refused_before_anything(tmp_path):
    """-s DOWNLOAD_TIMEOUT=abc printed 51 lines and left an empty store (#17 point 10)."""
    run = defnews("run", "--only", "jdefense", "--base-url", "http://127.0.0.1:9/",
                  "--store", str(tmp_path / "s.sqlite3"), "--public", str(tmp_path / "public"),
                  "-s", "DOWNLOAD_TIMEOUT=abc", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip() == ("defnews run: error: -s DOWNLOAD_TIMEOUT=abc: expected a "
                                  "whole number (default 30)")
    assert list(tmp_path.iterdir()) == []


def test_crawler_that_cannot_start_is_a_configuration_error(tmp_path):
    build_mirror(tmp_path / "site")
    with FixtureServer(tmp_path / "site") as server:
        run = defnews("run", "--only", "jdefense", "--base-url", server.url, "--no-throttle",
                      "--store", str(tmp_path / "s.sqlite3"), "--public", str(tmp_path / "public"),
                      "-s", 'EXTENSIONS={"abc.nosuch.Extension": 1}', cwd=tmp_path)
    assert run.returncode == 2, run.stderr[-3000:]
    assert "not started" in run.stdout and "abc" in run.stdout
    assert "the crawl could not start: " in run.stderr and "Traceback" not in run.stderr
    assert "Unhandled error in Deferred" not in run.stderr
    # A mistake costs nothing: no feed built from the crawl that never ran, and the source is
    # not recorded unhealthy (which health.json and health.atom would then publish).
    assert not (tmp_path / "public").exists()
    health = defnews("health", "--store", str(tmp_path / "s.sqlite3"), cwd=tmp_path)
    assert "UNHEALTHY" not in health.stdout and "abc" not in health.stdout, health.stdout


# The build phase of `run`, made to receive a signal while it writes: the script sends the
# signal itself once half the feed files are written (a real signal, delivered to the process).
BUILD_SIGNAL = textwrap.dedent("""
    import os, signal, sys, time
    import feeds.build
    from defnews.cli import main

    original = feeds.build.write_many

    def write(files):
        if len(files) < 4:  # the build's own bookkeeping
            return original(files)
        items = list(files.items())
        written = original(dict(items[: len(items) // 2]))
        os.kill(os.getpid(), getattr(signal, sys.argv[1]))
        time.sleep(10)  # a signal that is ignored lets this run on, and exit 0
        return written | original(dict(items[len(items) // 2:]))

    feeds.build.write_many = write
    sys.exit(main(sys.argv[2:]))
""")


@pytest.mark.parametrize(("name", "status"), [("SIGINT", 130), ("SIGTERM", 143)],
                         ids=["sigint", "sigterm"])
def test_signal_during_the_build_stops_it(tmp_path, name, status):
    build_mirror(tmp_path / "site")
    with FixtureServer(tmp_path / "site") as server:
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-c", BUILD_SIGNAL, name, "run", "--only", "jdefense",
             "--base-url", server.url, "--no-throttle", "--store", str(tmp_path / "s.sqlite3"),
             "--public", str(tmp_path / "public")],
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )
    assert proc.returncode == status, proc.stderr[-3000:]
    assert f"interrupted ({name})" in proc.stderr
    assert time.monotonic() - started < 60
    files = [p for p in (tmp_path / "public").rglob("*") if p.is_file()]
    assert files and not [p for p in files if is_temp_file(p)]  # no half-written file left
    from lxml import etree

    for path in files:
        if path.suffix in (".atom", ".rss"):
            etree.parse(str(path))  # every file written is whole


def test_throttled_crawl_stops_without_fetching_its_queue(tmp_path):
    """Requests waiting for their download delay are dropped at the first Ctrl-C; only the
    transfers in progress (two at most per site) are waited for."""
    build_mirror(tmp_path / "site")
    with FixtureServer(tmp_path / "site") as server:
        server.delay = 0.2
        proc = subprocess.Popen(
            [sys.executable, "-m", "defnews", "run", "--only", "jdefense", "--base-url",
             server.url, "--store", str(tmp_path / "s.sqlite3"), "--public",
             str(tmp_path / "public"), "-s", "DOWNLOAD_DELAY=1", "-s", "AUTOTHROTTLE_ENABLED=0"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 60
        while sum(server.counts.values()) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        at_signal = sum(server.counts.values())
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    assert "queued requests dropped" in err
    assert sum(server.counts.values()) <= at_signal + 2
    assert not (tmp_path / "public").exists()


@pytest.mark.parametrize(("name", "status"), [("SIGINT", 130), ("SIGTERM", 143)],
                         ids=["sigint", "sigterm"])
def test_signal_during_a_build_command_stops_it_cleanly(tmp_path, name, status):
    """`defnews build` alone (cron, systemd stopping it): SIGTERM used to kill the process
    outright, with no message, leaving the build's temporary files in the public folder."""
    public = tmp_path / "public"
    proc = subprocess.run(
        [sys.executable, "-c", BUILD_SIGNAL, name, "build", "--allow-empty",
         "--store", str(tmp_path / "s.sqlite3"), "--public", str(public)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == status, proc.stderr[-3000:]
    assert f"interrupted ({name})" in proc.stderr
    files = [p for p in public.rglob("*") if p.is_file()]
    assert files and not [p for p in files if is_temp_file(p)]
