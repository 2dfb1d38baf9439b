"""Scrapyd: the egg scrapyd-deploy builds carries the code, its data files and the settings;
deployed to a real Scrapyd and scheduled as the README says, both spiders fill the store."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fixture_server import FixtureServer
from mirror import build_mirror

from crawler.sources import load_sources
from crawler.store import open_store

ROOT = Path(__file__).resolve().parents[1]
FEED_FIXTURES = Path(__file__).parent / "fixtures" / "feeds"


def copy_project(dest: Path) -> Path:
    """A copy of the checkout's project files: building writes build/ and *.egg-info beside
    setup.py."""
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "setup.py", "scrapy.cfg", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, dest / name)
    for package in ("crawler", "feeds", "defnews"):
        shutil.copytree(ROOT / package, dest / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_scrapyd_deploy_builds_a_complete_egg(tmp_path):
    deploy = Path(sys.executable).with_name("scrapyd-deploy")
    if not deploy.exists():
        pytest.skip("scrapyd-client is not installed (pip install -e '.[scrapyd]')")
    project = copy_project(tmp_path / "checkout")
    egg = tmp_path / "defnews.egg"
    run = subprocess.run([str(deploy), "--build-egg", str(egg)], cwd=project,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    with zipfile.ZipFile(egg) as z:
        names = set(z.namelist())
        entry_points = z.read("EGG-INFO/entry_points.txt").decode()
    assert {"crawler/spiders/jdefense.py", "crawler/frontier_scheduler.py", "crawler/render.py",
            "crawler/sources.toml", "crawler/schema/item.schema.json"} <= names
    assert "settings = crawler.settings" in entry_points
    cfg = (ROOT / "scrapy.cfg").read_text()
    assert "[deploy]" in cfg and "project = defnews" in cfg and "url = " in cfg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - 127.0.0.1 only
        return json.loads(response.read())


@pytest.fixture
def scrapyd(tmp_path):
    """A real Scrapyd on 127.0.0.1 (a free port), its eggs, logs and queue in a temp dir."""
    try:
        import scrapyd as _  # noqa: F401
    except ImportError:
        pytest.skip("scrapyd is not installed (pip install -e '.[dev]' brings it)")
    home = tmp_path / "scrapyd"
    home.mkdir()
    port = _free_port()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        f"eggs_dir = {home / 'eggs'}\nlogs_dir = {home / 'logs'}\nitems_dir =\n"
        f"dbs_dir = {home / 'dbs'}\njobs_to_keep = 5\nmax_proc = 2\npoll_interval = 0.5\n",
        encoding="utf-8")
    log = (home / "scrapyd.out").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=home, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(url + "daemonstatus.json").get("status") == "ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.skip("scrapyd did not start on 127.0.0.1: "
                            + (home / "scrapyd.out").read_text()[-1500:])
            time.sleep(0.2)
        yield url, home
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_scrapyd_deploys_and_runs_both_spiders_as_the_readme_says(scrapyd, tmp_path):
    """README, Beyond one machine: `scrapyd-deploy TARGET` from the checkout, then
    `scrapyd-client schedule` (the site spider against a mirror: `base_url`) and a plain
    POST to schedule.json (the feeds spider with `sources`, the store as a setting); both
    write their items and a health record per source into the store."""
    url, home = scrapyd
    bindir = Path(sys.executable).parent
    if not (bindir / "scrapyd-deploy").exists():
        pytest.skip("scrapyd-client is not installed (pip install -e '.[dev]')")
    project = copy_project(tmp_path / "checkout")
    with (project / "scrapy.cfg").open("a", encoding="utf-8") as cfg:
        # No trailing slash: scrapyd-client appends "/schedule.json" to the url as written.
        cfg.write(f"\n[deploy:test]\nurl = {url.rstrip('/')}\nproject = defnews\n")
    deploy = subprocess.run([str(bindir / "scrapyd-deploy"), "test"], cwd=project,
                            capture_output=True, text=True, timeout=300)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr[-3000:]
    assert '"status": "ok"' in deploy.stdout, deploy.stdout
    assert set(_get(url + "listspiders.json?project=defnews")["spiders"]) >= {"jdefense", "feeds"}

    work = tmp_path / "work"
    build_mirror(work / "site")
    shutil.copytree(FEED_FIXTURES, work / "site" / "feeds")
    store = work / "store.sqlite3"
    with FixtureServer(work / "site") as server:
        sources = work / "sources.toml"
        sources.write_text((FEED_FIXTURES / "sources.toml").read_text(encoding="utf-8")
                           .replace("{base_url}", server.url.rstrip("/")), encoding="utf-8")
        fast = ["setting=DOWNLOAD_DELAY=0", "setting=AUTOTHROTTLE_ENABLED=False",
                f"setting=DEFNEWS_STORE={store}"]
        schedule = subprocess.run(
            [str(bindir / "scrapyd-client"), "schedule", "-t", "test", "-p", "defnews",
             "--arg", f"base_url={server.url}", *(a for s in fast for a in ("--arg", s)),
             "jdefense"],
            cwd=project, capture_output=True, text=True, timeout=60)
        assert schedule.returncode == 0, schedule.stdout + schedule.stderr
        data = urllib.parse.urlencode(
            [("project", "defnews"), ("spider", "feeds"), ("sources", str(sources)),
             *(tuple(s.split("=", 1)) for s in fast)]).encode()
        with urllib.request.urlopen(url + "schedule.json", data, timeout=10) as response:  # noqa: S310
            feeds_job = json.loads(response.read())
        assert feeds_job["status"] == "ok", feeds_job
        deadline = time.monotonic() + 300
        while True:
            jobs = _get(url + "listjobs.json?project=defnews")
            if len(jobs["finished"]) >= 2:
                break
            assert time.monotonic() < deadline, jobs
            time.sleep(1)
    logs = "\n".join(p.read_text(errors="replace")[-3000:]
                     for p in sorted((home / "logs").rglob("*.log")))
    with open_store(store) as opened:
        owned = opened.sources()
        runs = {r.source: r for r in opened.source_runs()}
    expected_feeds = {s.key for s in load_sources(sources).feed_sources()}
    # The mirror's articles, and every fixture feed source with items (not the packaged list).
    assert owned.get("jdefense", 0) > 40, (owned, logs)
    assert {"fleetwatch", "defensewire", "tobu-dfb"} <= set(owned), (owned, logs)
    assert set(owned) <= expected_feeds | {"jdefense"}, owned
    # One health record per source, each feed source its own (the failed one named as such).
    assert set(runs) == expected_feeds | {"jdefense"}, (set(runs), logs)
    assert runs["jdefense"].healthy, runs["jdefense"].data
    assert runs["fleetwatch"].healthy, runs["fleetwatch"].data
    assert [k for k, r in runs.items() if not r.healthy], runs  # the maintenance page
