"""``defnews export`` writes the whole store (or a slice) as schema-valid JSON Lines; the
crawl's ``-o`` appends as Scrapy's does and ``-O`` replaces."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from support import defnews

from crawler.store import open_store
from defnews.server import StaticServer

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "defnews" / "demo_site"
SCHEMA = json.loads((ROOT / "crawler" / "schema" / "item.schema.json").read_text(encoding="utf-8"))


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """A store crawled twice, with -o then -o then -O."""
    work = tmp_path_factory.mktemp("export")
    runs = []
    with StaticServer(SITE) as server:
        for flag in ("-o", "-o", "-O"):
            run = defnews("crawl", "--only", "jdefense", "--base-url", server.url,
                          "--no-throttle", "--store", str(work / "s.sqlite3"),
                          flag, str(work / "items.jsonl"), cwd=work)
            assert run.returncode == 0, run.stderr[-3000:]
            runs.append(len(read(work / "items.jsonl")))
    return work, runs


def test_o_appends_and_capital_o_overwrites(crawled):
    _, (first, second, third) = crawled
    assert first > 30
    assert second > first  # the second run's items after the first's
    assert third == second - first  # replaced by the last run's items only


def test_export_writes_the_whole_store_as_schema_valid_json_lines(crawled):
    work, _ = crawled
    run = defnews("export", "--store", str(work / "s.sqlite3"), "-O", str(work / "all.jsonl"),
                  cwd=work)
    assert run.returncode == 0, run.stderr
    items = read(work / "all.jsonl")
    with open_store(work / "s.sqlite3") as store:
        assert len(items) == store.count_articles() > 30
    for item in items:
        jsonschema.validate(item, SCHEMA)
    # The -o/-O files of the incremental runs held only what those runs fetched.
    assert len(items) > len(read(work / "items.jsonl"))


@pytest.mark.parametrize(("args", "expect"), [
    (("--source", "jdefense"), "all"),
    (("--source", "nosuch"), 0),
    (("--since", "2999-01-01"), 0),
    (("--since", "2000-01-01T00:00+09:00"), "all"),
], ids=["source", "other-source", "since-future", "since-past"])
def test_export_slices(crawled, args, expect):
    work, _ = crawled
    run = defnews("export", "--store", str(work / "s.sqlite3"), *args, cwd=work)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    with open_store(work / "s.sqlite3") as store:
        total = store.count_articles()
    assert len(lines) == (total if expect == "all" else expect)


def test_export_o_appends(crawled, tmp_path):
    work, _ = crawled
    out = tmp_path / "x.jsonl"
    for _ in range(2):
        assert defnews("export", "--store", str(work / "s.sqlite3"), "-o", str(out),
                       cwd=work).returncode == 0
    with open_store(work / "s.sqlite3") as store:
        assert len(read(out)) == 2 * store.count_articles()


@pytest.mark.parametrize("args", [("--since", "yesterday"), ("-o", "a", "-O", "b")],
                         ids=["bad-date", "o-and-O"])
def test_export_usage_errors(tmp_path, args):
    run = defnews("export", "--store", str(tmp_path / "none.sqlite3"), *args, cwd=tmp_path)
    assert run.returncode == 2
    assert len(run.stderr.strip().splitlines()) == 1


def test_export_of_a_missing_store_creates_none(tmp_path):
    run = defnews("export", "--store", str(tmp_path / "none.sqlite3"), cwd=tmp_path)
    assert run.returncode == 2 and "does not exist" in run.stderr
    assert not (tmp_path / "none.sqlite3").exists()
