"""Scrapyd: the egg scrapyd-deploy builds carries the code, its data files and the settings."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_scrapyd_deploy_builds_a_complete_egg(tmp_path):
    deploy = Path(sys.executable).with_name("scrapyd-deploy")
    if not deploy.exists():
        pytest.skip("scrapyd-client is not installed (pip install -e '.[scrapyd]')")
    # A copy of the project: building writes build/ and *.egg-info beside setup.py.
    for name in ("pyproject.toml", "setup.py", "scrapy.cfg", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tmp_path / name)
    for package in ("crawler", "feeds", "defnews"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    egg = tmp_path / "defnews.egg"
    run = subprocess.run([str(deploy), "--build-egg", str(egg)], cwd=tmp_path,
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
