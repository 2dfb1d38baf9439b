"""scripts/check_feed_corpus.py: a folder of feeds served, crawled, built and compared with
feedparser's reading; losses, failed sources and the files with no entry are reported."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent / "scripts" / "check_feed_corpus.py"
CORPUS = Path(__file__).parent / "fixtures" / "feeds" / "corpus"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("check_feed_corpus", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_a_folder_of_good_feeds_passes(script, tmp_path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    for name in ("rss20.xml", "atom10.xml", "channel.cdf", "markup-titles.xml", "jsonfeed11.json"):
        shutil.copy(CORPUS / name, folder / name)
    (folder / "channel-only.xml").write_text(
        "<!--\nDescription: channel title only\nExpect: feed['title'] == 'x'\n-->\n"
        "<rss version='2.0'><channel><title>x</title></channel></rss>"
    )
    out = tmp_path / "report.json"
    assert script.main([str(folder), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["files"] == 6 and report["files_no_entry"] == 1
    assert report["losses"] == [] and report["invalid_built_feeds"] == []
    assert report["entries_with_identity"] >= 15
    assert report["arrived_in_store"] == report["arrived_in_built_feeds"] == report[
        "entries_with_identity"
    ]
    assert report["tracebacks"] == 0 and report["exit_status"] == 0


def test_a_source_that_fails_and_a_lost_entry_are_reported(script, tmp_path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "page.xml").write_text("<!DOCTYPE html><html><title>Not a feed</title></html>")
    # --limit 1 leaves the older entry out of the source's built feed: a loss.
    (folder / "two.xml").write_text(
        "<rss version='2.0'><channel><title>t</title>"
        "<item><title>One</title><link>https://two.example/1</link>"
        "<pubDate>Mon, 02 Mar 2026 09:00:00 +0000</pubDate></item>"
        "<item><title>Two</title><link>https://two.example/2</link>"
        "<pubDate>Mon, 02 Mar 2026 08:00:00 +0000</pubDate></item></channel></rss>"
    )
    out = tmp_path / "report.json"
    assert script.main([str(folder), "--limit", "1", "--json", str(out)]) == 1
    report = json.loads(out.read_text())
    assert report["failed_sources"] and report["exit_status"] != 0
    [loss] = report["losses"]
    assert loss["file"] == "feeds/two.xml"
    assert loss["lost_in_built"] == ["https://two.example/2 (not in source/feeds-two-xml.atom)"]
