"""``defnews read FILE --profile KEY``: every site of the sources file is a profile, read as its
crawl reads it (README "Add a site")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from defnews.cli import main

ROOT = Path(__file__).resolve().parents[1]
ASAGUMO_PATH = "homepage/htdocs/news/newsflash/202411/241129/24112901.html"
ASAGUMO_PAGE = ROOT / "defnews" / "demo_asagumo" / ASAGUMO_PATH
ASAGUMO_URL = "https://www.asagumo-news.com/" + ASAGUMO_PATH


def _read(capsys, *args: str) -> tuple[int, dict, str]:
    status = main(["read", *args])
    out, err = capsys.readouterr()
    return status, (json.loads(out) if out.strip() else {}), err


def test_the_second_site_is_a_profile_of_the_read_command(capsys):
    status, out, _ = _read(capsys, str(ASAGUMO_PAGE), "--profile", "asagumo", "--url", ASAGUMO_URL)
    assert status == 0
    assert out["profile"] == "asagumo"
    # The Shift_JIS page read right, with the profile's date line, label and byline.
    assert out["title"].startswith("防衛装備庁が新型哨戒機の開発計画を公表")
    assert out["published_raw"] == "2024年11月29日更新"
    assert out["categories"] == ["防衛関連ニュース"]
    assert out["author"] == "寉見陽平・中尾侑"
    assert out["layers"]["title"] and out["layers"]["published"]  # the layer of each field


def test_without_the_profile_the_generic_reader_reads_it(capsys):
    status, out, _ = _read(capsys, str(ASAGUMO_PAGE), "--url", ASAGUMO_URL)
    assert status == 0 and out["profile"] == "generic" and out["title"]
    # Its date line lost its 日 ("2024年11月29更新"): still the day, not htmldate's guess from
    # the year alone (2024-01-01).
    assert out["published_raw"].startswith("2024年11月29"), out["published_raw"]


def test_an_unknown_profile_names_every_known_one(capsys):
    status, _, err = _read(capsys, str(ASAGUMO_PAGE), "--profile", "nope")
    assert status == 2
    assert "unknown profile 'nope'" in err
    assert "jdefense" in err and "asagumo" in err


def test_a_site_of_ones_own_sources_file_is_a_profile(capsys, tmp_path):
    """A third site: its [[source]] block alone makes it readable with its profile."""
    page = tmp_path / "a.html"
    page.write_text(
        "<html><head><title>Third site reports a launch | Third</title></head><body><main><h1>Third site reports a launch</h1>"
        "<p class='when'>Posted 2025/04/01</p>"
        "<p>The ministry said on Tuesday that the ship was launched at the yard, and that "
        "trials would follow through the summer before delivery next year.</p>"
        "<p>Officials added that two more hulls of the class are on order.</p></main></body></html>",
        encoding="utf-8")
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[source]]\nkey = "third"\nname = "Third"\nkind = "site"\nurl = "https://third.example/"\n'
        'language = "en"\n[source.profile]\n'
        "article_url = '^/news/\\d+\\.html$'\n"
        "dateline = '^Posted \\d{4}/\\d{2}/\\d{2}$'\n"
        '[source.discovery]\nlistings = ["/"]\n',
        encoding="utf-8")
    status, out, err = _read(capsys, str(page), "--profile", "third", "--url",
                             "https://third.example/news/1.html", "--sources", str(sources))
    assert status == 0, err
    assert out["profile"] == "third"
    assert out["title"] == "Third site reports a launch"
    assert out["published_raw"] == "Posted 2025/04/01"


def test_a_bad_sources_file_is_a_usage_error_with_its_reason(capsys, tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text("[[source]]\nkey = \n", encoding="utf-8")
    status, _, err = _read(capsys, str(ASAGUMO_PAGE), "--sources", str(sources))
    assert status == 2
    assert "defnews read: error:" in err and "sources.toml" in err


@pytest.mark.parametrize("profile", ["generic", "asagumo"])
def test_a_page_that_is_no_article_exits_1(capsys, tmp_path, profile):
    page = tmp_path / "empty.html"
    page.write_text("<html><body><nav><a href='/'>home</a></nav></body></html>", encoding="utf-8")
    status, out, _ = _read(capsys, str(page), "--profile", profile)
    assert status == 1 and out["error"]
