"""A site is data (issue 20): [source.profile] / [source.discovery] fields, checked with the file,
line and reason; loaded into the reader's SiteProfile; a site with no profile still read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crawler.pages.profiles import discovery_of, profile_for, profile_of
from crawler.pages.site import article_key, parse_article
from crawler.sources import SourcesError, load_sources, parse_sources

ROOT = Path(__file__).resolve().parents[1]

HEAD = '[categories]\n"日本の防衛" = "japan-defense"\n\n'
SITE = (
    '[[source]]\nkey = "newsite"\nname = "New Site"\nkind = "site"\n'
    'url = "https://news.example/"\nlanguage = "ja"\n'
)


def _error(text: str) -> SourcesError:
    with pytest.raises(SourcesError) as info:
        parse_sources(text, path="bad.toml")
    return info.value


@pytest.mark.parametrize(
    ("block", "line_text", "reason"),
    [
        ("[source.profile]\ndateline = '(\\d{4}年'\n", "dateline = '(\\d{4}年'",
         "'profile.dateline' is not a valid regular expression"),
        ("[source.profile]\nlabel_position = \"left\"\n", 'label_position = "left"',
         "'profile.label_position' must be one of 'above', 'below' (got 'left')"),
        ("[source.profile]\ndate_precision = \"hour\"\n", 'date_precision = "hour"',
         "'profile.date_precision' must be one of 'minute', 'day'"),
        ("[source.profile]\nlabels = \"防衛\"\n", 'labels = "防衛"',
         "'profile.labels' must be a list of non-empty strings"),
        ("[source.profile]\nbyline_end = '\\((.+)\\)$'\n", "byline_end = '\\((.+)\\)$'",
         "'profile.byline_end' must have a group named (?P<author>...)"),
        ("[source.profile]\nsite_nam = \"x\"\n", 'site_nam = "x"',
         "[source.profile] unknown field 'site_nam'"),
        ("[source.profile]\nnot_article_pages = [\"index.html\"]\n",
         'not_article_pages = ["index.html"]', "'index.html' must be a path starting with /"),
        ("[source.profile.hints]\ntitel = [\"h1\"]\n", 'titel = ["h1"]', "unknown hint 'titel'"),
        ("[source.profile.hints]\ntitle = [\"h1[\"]\n", 'title = ["h1["]', "is not a CSS selector"),
        ("[source.profile.ranking_tabs]\n\"週間\" = \"1y\"\n", '"週間" = "1y"',
         "must be \"24h\", \"1w\" or \"1m\""),
        ("[source.discovery]\nlistings = [\"/\"]\npagination = \"yes\"\n", 'pagination = "yes"',
         "'discovery.pagination' must be true or false"),
        ("[source.discovery]\ndate_folders = { template = \"/n/{day}.html\" }\n",
         'date_folders = { template = "/n/{day}.html" }', "unknown field {day}"),
        ("[source.discovery]\ndate_folders = { template = \"/n/{date:%y%m%d}{seq:02d}.html\","
         " max_probes = -1 }\n",
         'date_folders = { template = "/n/{date:%y%m%d}{seq:02d}.html", max_probes = -1 }',
         "'discovery.date_folders.max_probes' must be a whole number 0..100000"),
    ],
    ids=lambda v: v[:30] if isinstance(v, str) else v,
)
def test_a_bad_profile_value_is_refused_with_file_line_and_reason(block, line_text, reason):
    text = HEAD + SITE + block
    error = _error(text)
    assert error.line is not None, str(error)
    assert text.splitlines()[error.line - 1] == line_text, str(error)
    assert str(error).startswith(f"bad.toml:{error.line}: source 'newsite': "), str(error)
    assert reason in str(error)


def test_profile_and_discovery_are_for_sites_only():
    text = HEAD + SITE.replace('kind = "site"', 'kind = "feed"') + '[source.profile]\nlabels = ["a"]\n'
    error = _error(text)
    assert '[source.profile] is for kind = "site" sources' in str(error)
    assert text.splitlines()[error.line - 1] == "[source.profile]"


def test_defnews_sources_reports_the_bad_profile_line(tmp_path):
    bad = tmp_path / "s.toml"
    text = HEAD + SITE + "[source.profile]\ndateline = '[0-9'\n"
    bad.write_text(text, encoding="utf-8")
    line = text.splitlines().index("dateline = '[0-9'") + 1
    run = subprocess.run([sys.executable, "-m", "defnews", "sources", "--sources", str(bad)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode != 0
    assert f"{bad}:{line}: source 'newsite': 'profile.dateline' is not a valid regular expression" in (
        run.stderr + run.stdout)


def test_the_bundled_profiles_load():
    config = load_sources()
    asagumo = profile_of(config.get("asagumo"))
    assert asagumo.label_position == "above" and asagumo.date_precision == "day"
    assert asagumo.truncation == ("・・・", "続きを読む")
    discovery = discovery_of(config.get("asagumo"))
    assert discovery.listings == ("/",) and discovery.date_template and not discovery.ranking
    jdefense = discovery_of(config.get("jdefense"))
    assert jdefense.listing_paths() == ["/", "/docs/mod/", "/docs/others/", "/docs/commentary/"]
    assert jdefense.id_walk_template == "/docs/{section}/{number:06d}.html"


def test_the_jdefense_section_labels_are_data():
    infer = profile_for("jdefense").infer_labels
    assert infer is not None
    assert infer("mod", "2024-09-14 10:00") == ["防衛省関連"]
    assert infer("mod", "2024-09-15 10:00") == ["日本の防衛"]
    assert infer("others", None) == ["その他"]
    assert infer("mod", None) == []


def test_date_folder_ids_are_numbers_with_their_letter():
    profile = profile_for("asagumo")
    base = "https://www.asagumo-news.com/homepage/htdocs/news/newsflash/202503/250328/"
    assert article_key(base + "25032801.html", profile) == 2503280100
    assert article_key(base + "25032801a.html", profile) == 2503280101
    assert article_key(base + "25032901.html", profile) is None  # the folder is the day
    assert article_key("https://www.asagumo-news.com/homepage/htdocs/aboutus2.html", profile) is None


def test_a_site_with_no_profile_is_read_by_the_generic_reader():
    config = parse_sources(HEAD + SITE)
    profile = profile_of(config.get("newsite"))
    page = (
        "<html><head><title>新型護衛艦が進水 | New Site</title>"
        '<meta property="og:type" content="article">'
        '<meta property="article:published_time" content="2025-06-01T10:00:00+09:00"></head>'
        "<body><nav><a href='/'>ホーム</a></nav><article><h1>新型護衛艦が進水</h1>"
        "<p>海上自衛隊の新型護衛艦が1日、進水した。式典には約500人が出席した。</p>"
        "<p>同艦は来年3月に就役する予定だ。</p></article></body></html>"
    )
    data = parse_article(page, "https://news.example/2025/06/01/ship.html", profile)
    assert data["title"] == "新型護衛艦が進水"
    assert data["published_raw"] == "2025-06-01T10:00:00+09:00"
    assert data["summary"] == "海上自衛隊の新型護衛艦が1日、進水した。式典には約500人が出席した。"
    assert "同艦は来年3月に就役する予定だ。" in data["content_html"]
