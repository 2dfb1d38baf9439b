"""crawler/pages/jdefense.py on the demo site (defnews/demo_site) and its build script.

Golden files: ``tests/fixtures/pages/expected/<section>_<number>.json``, one per article page,
one test per page and field. Regenerate them with
``.venv/bin/python tests/fixtures/pages/regenerate.py`` and review the diff.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import lxml.html
import pytest

from crawler.items import PERIODS
from crawler.pages.html import PageParseError, element_text
from crawler.pages.jdefense import (
    ARTICLE_URL_RE,
    SELECTORS,
    article_number,
    article_section,
    article_url,
    parse_article,
    parse_listing,
    parse_ranking,
    ranking_signature,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "pages"
REFERENCE = FIXTURES / "reference" / "000_5cffca07efb75fc2.txt"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


golden = _load("pages_golden_regenerate", FIXTURES / "regenerate.py")
builder = _load("build_demo_site", ROOT / "scripts" / "build_demo_site.py")

SITE = golden.SITE_DIR
BASE = golden.BASE_URL
PAGES = golden.article_pages()
FIELDS = (
    "url", "title", "categories", "published_raw", "published_source", "updated_raw",
    "updated_source", "author", "summary", "content_html", "images", "language", "section",
    "next_url", "prev_url", "ranking_signature", "provenance",
)  # fmt: skip


def read(path: str) -> bytes:
    return (SITE / path).read_bytes()


def article(path: str) -> dict[str, Any]:
    return parse_article(read(path), BASE + path)


def blocks(content_html: str) -> list[str]:
    """The text of each top-level block of a content fragment."""
    holder = lxml.html.fragment_fromstring(content_html, create_parent="div")
    return [element_text(el) for el in holder]


def reference_lines() -> list[str]:
    return REFERENCE.read_text(encoding="utf-8").split("\n")


def reference_ranking() -> dict[str, list[str]]:
    """Titles of the reference capture's sidebar: 30 lines after the three tab labels."""
    lines = reference_lines()
    start = lines.index("- 1ヶ月") + 1
    titles = [line[2:] for line in lines[start:] if line.startswith("- ")]
    assert len(titles) == 30
    return {p: titles[i * 10 : (i + 1) * 10] for i, p in enumerate(PERIODS)}


# -- golden files -------------------------------------------------------------------------


def test_every_article_page_has_a_golden_file_and_no_golden_file_is_stale() -> None:
    expected = sorted(p.name for p in golden.EXPECTED_DIR.glob("*.json"))
    assert expected == sorted(golden.expected_path(p).name for p in PAGES)


def test_the_site_has_enough_pages_to_be_a_test() -> None:
    sections = {article_section("/" + p) for p in PAGES}
    assert len(PAGES) >= 30 and sections == {"mod", "others", "commentary"}


@pytest.fixture(scope="module")
def parsed() -> dict[str, dict[str, Any]]:
    return {p: golden.parse_page(p) for p in PAGES}


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("path", PAGES, ids=golden.page_id)
def test_golden(path: str, field: str, parsed: dict[str, dict[str, Any]]) -> None:
    expected = json.loads(golden.expected_path(path).read_text(encoding="utf-8"))
    # Through JSON, as stored: tuples and lists compare alike.
    actual = json.loads(json.dumps(parsed[path], ensure_ascii=False))
    assert set(actual) == set(FIELDS)
    assert actual[field] == expected[field]


# -- boilerplate never reaches content ----------------------------------------------------

BOILERPLATE = (
    "読まれている記事", "Ranking", "次の記事", "前の記事", "pagetop", "bnrname",
    "日本の防衛と安全保障の今を伝える", "◎下の", "ボタンで", "サイト内検索", "キーワードを入力",
    "メニュー", "ポスト", "シェア", "LINEで送る", "広告", "adsbygoogle", "<script", "<style",
    "dataLayer", "googletag", "div-gpt", "24時間", "1週間", "1ヶ月", "class=", "IKAROS",
)  # fmt: skip


@pytest.mark.parametrize("path", PAGES, ids=golden.page_id)
def test_no_boilerplate_in_content_or_summary(path: str, parsed: dict[str, dict[str, Any]]) -> None:
    page = parsed[path]
    for text in (page["content_html"], page["summary"], page["title"]):
        leaked = [b for b in BOILERPLATE if b in text]
        assert not leaked, f"boilerplate in {path}: {leaked}"


@pytest.mark.parametrize("path", PAGES, ids=golden.page_id)
def test_content_urls_are_absolute(path: str, parsed: dict[str, dict[str, Any]]) -> None:
    page = parsed[path]
    refs = re.findall(r'(?:href|src)="([^"]*)"', page["content_html"])
    assert all(r.startswith(("https://", "http://", "mailto:")) for r in refs), refs
    assert all(img["url"].startswith(BASE) for img in page["images"])


@pytest.mark.parametrize("path", PAGES, ids=golden.page_id)
def test_content_starts_with_the_lead(path: str, parsed: dict[str, dict[str, Any]]) -> None:
    page = parsed[path]
    assert page["summary"] and blocks(page["content_html"])[0] == page["summary"]


# -- the reference article (a real page, copied verbatim) ---------------------------------

REF = "docs/mod/001933.html"


@pytest.fixture(scope="module")
def ref() -> dict[str, Any]:
    return article(REF)


def test_reference_title(ref: dict[str, Any]) -> None:
    assert ref["title"] == reference_lines()[0]
    assert ref["title"] == "中谷防衛大臣、NATO国防相会合及び各国国防大臣との会談等に出席(10月17日)"


def test_reference_categories(ref: dict[str, Any]) -> None:
    assert ref["categories"] == ["日本の防衛"]


def test_reference_date(ref: dict[str, Any]) -> None:
    assert (ref["published_raw"], ref["published_source"]) == ("2024-10-22 18:15", "dateline")
    assert (ref["updated_raw"], ref["updated_source"]) == (None, None)


def test_reference_body_equals_the_reference_lines(ref: dict[str, Any]) -> None:
    lines = reference_lines()
    body = lines[lines.index("2024-10-22 18:15") + 1 : lines.index("(以上)") + 1]
    assert len(body) == 25 and body[-1] == "(以上)"
    assert blocks(ref["content_html"]) == body


def test_reference_lead(ref: dict[str, Any]) -> None:
    lines = reference_lines()
    assert ref["summary"] == lines[lines.index("2024-10-22 18:15") + 1]


def test_reference_body_structure(ref: dict[str, Any]) -> None:
    html = ref["content_html"]
    assert (
        "<h2>中谷防衛大臣のNATO国防相会合出席及び各国国防大臣との会談等について(概要)</h2>" in html
    )
    assert "<h3>NATO国防相会合</h3>" in html
    assert html.endswith("<p>(以上)</p>")


def test_reference_url_and_section(ref: dict[str, Any]) -> None:
    assert ref["url"] == BASE + REF
    assert (ref["section"], ref["language"], ref["author"]) == ("mod", "ja", None)
    assert ref["images"] == []


def test_reference_next_and_previous_stay_in_the_section(ref: dict[str, Any]) -> None:
    assert ref["next_url"] == BASE + "docs/mod/002205.html"
    assert ref["prev_url"] == BASE + "docs/mod/001601.html"


def test_pager_links_not_looked_for_by_a_crawl_that_does_not_follow_them(ref) -> None:
    from crawler.pages import site
    from crawler.pages.jdefense import PROFILE

    page = site.parse_article(read(REF), BASE + REF, PROFILE, pager=False)
    assert (page["next_url"], page["prev_url"]) == (None, None)
    assert {k: v for k, v in page.items() if k not in ("next_url", "prev_url")} == {
        k: v for k, v in ref.items() if k not in ("next_url", "prev_url")}


# -- ranking ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ranking() -> dict[str, list[dict[str, Any]]]:
    result = parse_ranking(read(REF), BASE + REF)
    assert result is not None
    return result


def test_ranking_has_three_lists_of_ten(ranking: dict[str, list[dict[str, Any]]]) -> None:
    assert list(ranking) == list(PERIODS)
    assert [len(ranking[p]) for p in PERIODS] == [10, 10, 10]


def test_ranking_titles_and_order_match_the_reference(ranking: dict[str, Any]) -> None:
    assert {p: [e["title"] for e in ranking[p]] for p in PERIODS} == reference_ranking()
    assert all([e["rank"] for e in ranking[p]] == list(range(1, 11)) for p in PERIODS)


def test_ranking_has_21_distinct_urls_that_resolve(ranking: dict[str, Any]) -> None:
    entries = [e for p in PERIODS for e in ranking[p]]
    urls = {e["url"] for e in entries}
    assert len(entries) == 30 and len(urls) == 21
    for url in urls:
        assert ARTICLE_URL_RE.match(url.removeprefix(BASE[:-1])), url
        assert (SITE / url.removeprefix(BASE)).is_file(), url
    # A title always points at the same URL, and the page there carries that title.
    by_title = {e["title"]: e["url"] for e in entries}
    assert len(by_title) == 21
    for title, url in by_title.items():
        assert article(url.removeprefix(BASE))["title"] == title


def test_ranked_sections_follow_the_title_conventions(ranking: dict[str, Any]) -> None:
    for entry in (e for p in PERIODS for e in ranking[p]):
        section = article_section(entry["url"])
        if entry["title"].startswith("人事発令"):
            assert section == "mod", entry
        if entry["title"].startswith(("《特集》", "《ニュース解説》", "《解説》")):
            assert section == "commentary", entry
        if entry["title"].startswith("【講演録】"):
            assert section in ("commentary", "others"), entry


@pytest.mark.parametrize(
    "path",
    [
        "index.html",
        "docs/mod/index.html",
        "docs/mod/index_3.html",
        "docs/others/index.html",
        "docs/commentary/index.html",
        "docs/commentary/002752.html",
        "docs/others/003702.html",
        "docs/mod/005041.html",
    ],
)
def test_the_same_sidebar_is_on_every_page(path: str, ranking: dict[str, Any]) -> None:
    assert parse_ranking(read(path), BASE + path) == ranking


def test_article_parse_skips_the_ranking_but_signs_it(ref: dict[str, Any]) -> None:
    """parse_article does not read the sidebar; its signature says when it must be read."""
    assert "ranking" not in ref
    assert ref["ranking_signature"] == ranking_signature(read(REF), BASE + REF)
    # Same sidebar on another page: same signature; another sidebar: another one.
    assert article("docs/mod/002205.html")["ranking_signature"] == ref["ranking_signature"]
    changed = read(REF).replace("1佐昇任人事".encode(), "1佐昇任".encode(), 1)
    assert ranking_signature(changed, BASE + REF) != ref["ranking_signature"]
    assert parse_article(changed, BASE + REF)["title"] == ref["title"]


def test_ranking_signature_counts_the_page_folder_for_relative_links() -> None:
    html = read(REF).replace(b'href="/docs/mod/004690.html"', b'href="004690.html"')
    assert ranking_signature(html, BASE + REF) != ranking_signature(
        html, BASE + "docs/others/000990.html"
    )
    assert ranking_signature(read(REF), BASE + REF) == ranking_signature(
        read(REF), BASE + "docs/others/000990.html"
    )


def _strip_markers(html: bytes) -> lxml.html.HtmlElement:
    """The reference page with every id, class, role, aria-* and data-* removed."""
    t = lxml.html.document_fromstring(html)
    for el in t.iter():
        if isinstance(el.tag, str):
            for name in list(el.attrib):
                if name in ("id", "class", "role", "hidden") or name.startswith(("aria-", "data-")):
                    del el.attrib[name]
    for aside in t.iter("aside"):
        aside.tag = "div"
    return t


def test_ranking_found_by_heading_and_tab_labels_alone(ranking: dict[str, Any]) -> None:
    bare = lxml.html.tostring(_strip_markers(read(REF)), encoding="unicode")
    assert parse_ranking(bare, BASE + REF) == ranking


def test_ranking_tabs_linking_to_panels_in_another_order(ranking: dict[str, Any]) -> None:
    html = """<html><body><main></main><div class="side"><h2>Ranking<span>読まれている記事</span></h2>
    <ul><li><a href="#p3">1ヶ月</a></li><li><a href="#p1">24時間</a></li><li><a href="#p2">1週間</a></li></ul>
    <div id="p1"><ol><li><a href="/docs/mod/000001.html">a</a></li></ol></div>
    <div id="p2"><ol><li><a href="/docs/mod/000002.html">b</a></li></ol></div>
    <div id="p3"><ol><li><a href="/docs/mod/000003.html">c</a></li></ol></div></div></body></html>"""
    result = parse_ranking(html, BASE)
    assert result is not None
    assert {p: [e["title"] for e in result[p]] for p in PERIODS} == {
        "24h": ["a"], "1w": ["b"], "1m": ["c"]
    }  # fmt: skip


def test_ranking_missing_is_none() -> None:
    t = lxml.html.document_fromstring(read(REF))
    for aside in t.cssselect(SELECTORS.ranking[0]):
        aside.drop_tree()
    assert parse_ranking(lxml.html.tostring(t), BASE + REF) is None
    assert parse_article(lxml.html.tostring(t), BASE + REF)["ranking_signature"] is None


def test_ranking_empty_is_none(tmp_path: Path) -> None:
    builder.build_site(tmp_path, ranking={})
    html = (tmp_path / REF).read_bytes()
    assert b'class="ranking"' in html
    assert parse_ranking(html, BASE + REF) is None


def test_ranking_rank_is_page_order_and_urls_are_absolute(ranking: dict[str, Any]) -> None:
    first = ranking["24h"][0]
    assert first == {
        "rank": 1,
        "title": "《特集》ジェット戦闘機の「世代」とは? ──ステルス機は第5世代、今後現れる第6世代",
        "url": BASE + "docs/commentary/003950.html",
    }


# -- awkward articles ---------------------------------------------------------------------


def test_several_categories_in_page_order() -> None:
    page = article("docs/commentary/002752.html")
    assert page["categories"] == ["ニュース解説", "特集"]
    assert page["section"] == "commentary"


def test_byline_on_commentary() -> None:
    assert article("docs/commentary/004512.html")["author"] == "影本賢治 KAGEMOTO Kenji"  # <p>
    assert article("docs/commentary/002752.html")["author"] == "影本賢治 KAGEMOTO Kenji"  # JSON-LD


def test_organization_author_is_not_a_byline() -> None:
    assert article("docs/mod/000921.html")["author"] is None


def test_captions_doubled_by_alt_text_are_kept_once() -> None:
    page = article("docs/mod/001562.html")
    assert page["images"] == [
        {"url": BASE + "docs/mod/001562/img01.png", "caption": "写真:統合幕僚監部"},
        {"url": BASE + "docs/mod/001562/img02.png", "caption": "写真:統合幕僚監部"},
    ]
    assert page["content_html"].count("写真:統合幕僚監部") == 2  # once per photo
    assert 'alt=""' in page["content_html"]


def test_caption_without_alt_and_alt_without_caption() -> None:
    assert article("docs/mod/003480.html")["images"][0]["caption"] == "画像出典:防衛省"
    photo = article("docs/mod/001347.html")
    assert photo["images"][0]["caption"] == "写真:統合幕僚監部"
    assert 'alt="Y-9情報収集機"' in photo["content_html"]


def test_click_to_enlarge_image_keeps_its_link() -> None:
    page = article("docs/others/002130.html")
    assert page["images"] == [
        {
            "url": BASE + "images/2024/11/002130_01.png",
            "caption": "資料出典:防衛省 ※クリックすると拡大表示できます。",
        }
    ]
    assert f'href="{BASE}images/2024/11/002130_01_l.png"' in page["content_html"]


def test_article_without_photo() -> None:
    assert article("docs/mod/004592.html")["images"] == []


def test_relative_links_in_body_become_absolute() -> None:
    html = article("docs/commentary/004695.html")["content_html"]
    assert f'<a href="{BASE}docs/mod/004592.html">関連記事</a>' in html
    assert f'<a href="{BASE}docs/commentary/004512.html">こちらの解説</a>' in html
    assert '<a href="https://www.mod.go.jp/j/budget/">' in html


def test_article_without_any_date() -> None:
    page = article("docs/others/003702.html")
    assert page["title"] == "自衛隊音楽まつりの観覧者募集について"
    assert (page["published_raw"], page["published_source"]) == (None, None)
    assert (page["updated_raw"], page["updated_source"]) == (None, None)


def test_malformed_page_still_yields_what_it_has() -> None:
    page = article("docs/mod/004120.html")
    assert page["title"] == "海自、令和7年度遠洋練習航海部隊が出国(6月2日)"
    assert page["published_raw"] == "2025-6-3 14:20"
    assert blocks(page["content_html"])[-1].endswith("親善訓練を予定して")
    assert (page["next_url"], page["prev_url"], page["ranking_signature"]) == (None, None, None)
    assert not read("docs/mod/004120.html").rstrip().endswith(b"</html>")


def test_canonical_pointing_at_the_home_page_is_ignored() -> None:
    assert b'<link rel="canonical" href="/">' in read("docs/mod/003480.html")
    assert article("docs/mod/003480.html")["url"] == BASE + "docs/mod/003480.html"


def test_without_canonical_or_og_url_the_page_url_is_the_url() -> None:
    assert b'rel="canonical"' not in read("docs/commentary/004760.html")
    page = parse_article(
        read("docs/commentary/004760.html"), BASE + "docs/commentary/004760.html#x"
    )
    assert page["url"] == BASE + "docs/commentary/004760.html"


def test_canonical_is_resolved_against_the_page_url() -> None:
    page = parse_article(read(REF), "http://127.0.0.1:8123/docs/mod/001933.html?utm_source=x#top")
    assert page["url"] == "http://127.0.0.1:8123/docs/mod/001933.html"


def test_broken_jsonld_falls_back_to_the_date_line() -> None:
    page = article("docs/others/003815.html")
    assert (page["published_raw"], page["published_source"]) == ("2025-5-30 10:45", "dateline")


def test_date_line_without_class_is_found_by_its_pattern() -> None:
    assert b'class="date"' not in read("docs/mod/002205.html")
    page = article("docs/mod/002205.html")
    assert (page["published_raw"], page["published_source"]) == ("2024-12-4 15:27", "dateline")


def test_truncated_jsonld_headline_gives_way_to_the_h1() -> None:
    page = article("docs/commentary/004015.html")
    assert page["title"] == "《特集》5つの艦種で構成される海自の主力艦 基礎から分かる「護衛艦」概論"
    assert page["published_source"] == "jsonld"


@pytest.mark.parametrize(
    ("path", "published", "source", "updated", "updated_source"),
    [
        (
            "docs/mod/000921.html",
            "2024-07-12T11:05:00+09:00",
            "jsonld",
            "2024-07-12T13:40:00+09:00",
            "jsonld",
        ),
        (
            "docs/mod/004401.html",
            "2025-10-17T15:02:00+09:00",
            "jsonld",
            "2025-10-17T15:02:00+09:00",
            "jsonld",
        ),
        (
            "docs/mod/001562.html",
            "2024-09-12T17:45:00+09:00",
            "opengraph",
            "2024-09-13T10:02:00+09:00",
            "opengraph",
        ),
        (
            "docs/mod/003105.html",
            "2025-03-05T09:33:00+09:00",
            "time",
            "2025-03-06T12:00:00+09:00",
            "time",
        ),
        ("docs/mod/001601.html", "2024-9-17 10:01", "dateline", None, None),
    ],
    ids=["jsonld", "jsonld-graph", "opengraph", "time", "dateline"],
)
def test_date_layers(path: str, published: str, source: str, updated: str | None,
                     updated_source: str | None) -> None:  # fmt: skip
    page = article(path)
    assert (page["published_raw"], page["published_source"]) == (published, source)
    assert (page["updated_raw"], page["updated_source"]) == (updated, updated_source)


def test_published_date_never_comes_from_the_title() -> None:
    page = article("docs/mod/001347.html")  # (8月26日、長崎県男女群島沖), published the 27th
    assert page["title"].endswith("(8月26日、長崎県男女群島沖)")
    assert page["published_raw"] == "2024-08-27T09:12:00+09:00"
    # A date-looking title on a dateless page stays a title.
    dateless = lxml.html.document_fromstring(read("docs/others/003702.html"))
    dateless.cssselect("h1")[0].text = "募集について 2025-5-20 12:00"
    page = parse_article(lxml.html.tostring(dateless), BASE + "docs/others/003702.html")
    assert (page["title"], page["published_raw"]) == ("募集について 2025-5-20 12:00", None)


def test_labels_belong_to_the_article_not_the_section() -> None:
    assert article("docs/mod/001562.html")["categories"] == ["防衛省関連"]  # 2024-9-12
    assert article("docs/mod/001601.html")["categories"] == ["日本の防衛"]  # 2024-9-17
    assert article("docs/others/002085.html")["categories"] == ["その他"]


def test_text_is_kept_verbatim_weekday_typo_and_press_conference() -> None:
    lead = article("docs/mod/004401.html")["summary"]
    assert lead.startswith("令和7年10月17日(木)11時~11時38分")  # 17 Oct 2025 was a Friday
    press = blocks(article("docs/mod/004480.html")["content_html"])
    assert press[0].startswith("令和7(2025)年10月28日(火)08時57分~09時28分、")
    assert "大臣からの発表事項" in press and "記者との質疑応答" in press
    assert any(b.startswith("記者:") for b in press) and any(b.startswith("大臣:") for b in press)
    assert "■大臣からの発表事項" in blocks(article("docs/mod/004401.html")["content_html"])


@pytest.mark.parametrize("path", [REF, "docs/mod/002205.html", "docs/mod/001562.html"])
def test_body_found_without_its_container_class(path: str) -> None:
    """If the body container is renamed, the article minus its header is the body."""
    html = read(path).replace(b'class="entry-body"', b'class="renamed"')
    html = html.replace(b'class="lead"', b"")
    expected, actual = article(path), parse_article(html, BASE + path)
    for field in ("content_html", "summary", "images", "published_raw", "title"):
        assert actual[field] == expected[field], field


def test_article_in_unknown_markup_falls_back_layer_by_layer() -> None:
    html = """<html><head><title>記事のタイトル(5月16日①) | Jディフェンスニュース</title></head>
    <body><header><p>日本の防衛と安全保障の今を伝える</p></header>
    <main><div><h1>記事のタイトル(5月16日①)</h1>2025-5-17 10:00
    <div class="c"><p>リード文。</p><p>本文<script>track()</script>です。</p></div></div></main>
    <div class="nav"><a href="/docs/mod/000002.html">次の記事</a></div></body></html>"""
    page = parse_article(html, BASE + "docs/mod/000001.html")
    assert page["title"] == "記事のタイトル(5月16日①)"
    assert (page["published_raw"], page["published_source"]) == ("2025-5-17 10:00", "dateline")
    assert page["summary"] == "リード文。"
    assert page["content_html"] == "<p>リード文。</p><p>本文です。</p>"
    assert page["next_url"] == BASE + "docs/mod/000002.html"
    # No label on the page: the section's label at the article's date, said to be inferred.
    assert (page["categories"], page["section"], page["language"]) == (["日本の防衛"], "mod", "ja")
    assert page["provenance"]["labels"] == "inferred"
    assert page["ranking_signature"] is None


def test_table_in_body() -> None:
    html = article("docs/mod/004610.html")["content_html"]
    assert "<table>" in html and "<th>新職</th>" in html
    assert "<td>陸将補 高橋 健</td>" in html


def test_language_defaults_to_japanese() -> None:
    html = read(REF).replace(b'<html lang="ja">', b"<html>")
    assert parse_article(html, BASE + REF)["language"] == "ja"
    html = read(REF).replace(b'<html lang="ja">', b'<html lang="en">')
    assert parse_article(html, BASE + REF)["language"] == "en"


def test_article_from_text_or_bytes_is_the_same() -> None:
    assert parse_article(read(REF).decode("utf-8"), BASE + REF) == article(REF)


@pytest.mark.parametrize(
    ("html", "url"),
    [
        ("", BASE + REF),
        ("<html><body><p>no title here</p></body></html>", BASE + REF),
        (None, BASE),  # the home page
        (None, BASE + "docs/mod/"),  # a section index
    ],
    ids=["empty", "no-title", "home", "index"],
)
def test_not_an_article_raises(html: str | None, url: str) -> None:
    if html is None:
        path = url.removeprefix(BASE) or "index.html"
        html = read(path if path.endswith(".html") else path + "index.html").decode()
    with pytest.raises(PageParseError):
        parse_article(html, url)


def test_counter_walk_only_article_is_linked_from_nowhere() -> None:
    hidden = "docs/mod/005041.html"
    assert hidden in PAGES
    for page in SITE.rglob("*.html"):
        if page != SITE / hidden:
            assert b"/docs/mod/005041.html" not in page.read_bytes(), page
            assert b"005041.html" not in page.read_bytes(), page
    # ...but it lies between two linked mod articles, so walking the counter finds it.
    numbers = sorted(article_number("/" + p) for p in PAGES if p.startswith("docs/mod/"))
    i = numbers.index(5041)
    low, high = numbers[i - 1], numbers[i + 1]
    walk = [article_url(BASE, "mod", n) for n in range(low + 1, high)]
    assert [u for u in walk if (SITE / u.removeprefix(BASE)).is_file()] == [BASE + hidden]
    page = article(hidden)
    assert page["published_raw"] == "2025-12-16 18:10"
    # Its own pager points at its neighbours in date order (drafted late, published earlier:
    # numbers follow draft order), which do not link back to it.
    assert (page["prev_url"], page["next_url"]) == (
        article_url(BASE, "mod", 4624),
        article_url(BASE, "mod", 4633),
    )


# -- listings -----------------------------------------------------------------------------


def test_home_page_latest_list_then_fallback_links() -> None:
    listing = parse_listing(read("index.html"), BASE)
    urls = listing["article_urls"]
    t = lxml.html.document_fromstring(read("index.html"))
    primary = [BASE + a.get("href").lstrip("/") for a in t.cssselect(SELECTORS.home_list)]
    assert len(primary) == 12
    assert urls[:12] == primary
    assert urls[12:] == [BASE + "docs/commentary/004512.html"]  # the pick-up block
    assert listing["next_page"] is None
    assert len(urls) < len(PAGES)  # the rest is found by indexes, next/prev and the ranking


def test_home_page_fallback_when_the_list_is_not_rendered() -> None:
    t = lxml.html.document_fromstring(read("index.html"))
    for div in t.cssselect(".latest-list"):
        div.drop_tree()
    urls = parse_listing(lxml.html.tostring(t), BASE)["article_urls"]
    assert urls == [
        BASE + "docs/commentary/004760.html",
        BASE + "docs/commentary/004695.html",
        BASE + "docs/commentary/004512.html",
    ]


def test_listing_ignores_the_ranking_and_non_article_links() -> None:
    urls = parse_listing(read("docs/others/index.html"), BASE + "docs/others/")["article_urls"]
    assert all(article_section(u) == "others" for u in urls)
    assert len(urls) == 7


def test_section_index_pagination_walk() -> None:
    url: str | None = BASE + "docs/mod/"
    seen_pages, urls = [], []
    while url:
        path = url.removeprefix(BASE)
        listing = parse_listing(read(path + "index.html" if path.endswith("/") else path), url)
        seen_pages.append(url)
        urls += listing["article_urls"]
        url = listing["next_page"]
    assert seen_pages == [
        BASE + "docs/mod/", BASE + "docs/mod/index_2.html", BASE + "docs/mod/index_3.html"
    ]  # fmt: skip
    assert len(urls) == len(set(urls)) == 27
    mod = {BASE + p for p in PAGES if p.startswith("docs/mod/")}
    # Missing from the index: the counter-walk-only article and the oldest (next/prev only).
    assert mod - set(urls) == {BASE + "docs/mod/005041.html", BASE + "docs/mod/000652.html"}


def test_oldest_mod_article_is_reached_through_previous_links() -> None:
    assert article("docs/mod/000921.html")["prev_url"] == BASE + "docs/mod/000652.html"
    assert article("docs/mod/000652.html")["prev_url"] is None


@pytest.mark.parametrize("label", ["次へ", "次のページ", "次へ ›"])
def test_next_page_by_label_without_rel(label: str) -> None:
    html = f'<html><body><main><a href="index_3.html">{label}</a><a href="/">次の記事</a></main></body></html>'
    assert parse_listing(html, BASE + "docs/mod/index_2.html")["next_page"] == (
        BASE + "docs/mod/index_3.html"
    )


def test_listing_of_an_empty_page() -> None:
    assert parse_listing("<html><body></body></html>", BASE) == {
        "article_urls": [],
        "next_page": None,
    }


# -- URL helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "number", "section"),
    [
        (BASE + "docs/mod/001933.html", 1933, "mod"),
        ("/docs/commentary/002752.html", 2752, "commentary"),
        ("http://127.0.0.1:8000/docs/others/000990.html?x=1#y", 990, "others"),
        (BASE + "docs/mod/1933.html", None, None),
        (BASE + "docs/mod/", None, None),
        (BASE + "docs/mod/001933.htm", None, None),
        (BASE, None, None),
    ],
)
def test_article_number_and_section(url: str, number: int | None, section: str | None) -> None:
    assert article_number(url) == number
    assert article_section(url) == section


def test_article_url() -> None:
    assert article_url(BASE, "mod", 616) == BASE + "docs/mod/000616.html"
    assert article_url("http://127.0.0.1:8000/docs/x/", "others", 5052) == (
        "http://127.0.0.1:8000/docs/others/005052.html"
    )
    with pytest.raises(ValueError):
        article_url(BASE, "mod", 1_000_000)
    with pytest.raises(ValueError):
        article_url(BASE, "../etc", 1)


# -- the build script ---------------------------------------------------------------------


def test_build_script_reproduces_the_committed_site(tmp_path: Path) -> None:
    written = builder.build_site(tmp_path)
    committed = sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*") if p.is_file())
    assert written == sorted(written)
    assert written == committed
    for rel in written:
        assert (tmp_path / rel).read_bytes() == (SITE / rel).read_bytes(), rel


def test_build_site_with_another_ranking_changes_only_the_sidebar(tmp_path: Path) -> None:
    entrants = {
        "24h": ["人事発令 令和7年12月17日付け、1佐職人事(空自3名)"],  # the counter-only one
        "1w": [("外部の記事", "/docs/mod/000616.html")],
    }
    builder.build_site(tmp_path, ranking=entrants)
    result = parse_ranking((tmp_path / REF).read_bytes(), BASE + REF)
    assert result == {
        "24h": [{"rank": 1, "title": "人事発令 令和7年12月17日付け、1佐職人事(空自3名)",
                 "url": BASE + "docs/mod/005041.html"}],
        "1w": [{"rank": 1, "title": "外部の記事", "url": BASE + "docs/mod/000616.html"}],
        "1m": [],
    }  # fmt: skip
    # Everything but the sidebar is unchanged.
    original = copy.deepcopy(article(REF))
    changed = parse_article((tmp_path / REF).read_bytes(), BASE + REF)
    assert changed.pop("ranking_signature") != original.pop("ranking_signature")
    assert changed == original


def test_build_site_rejects_unknown_ranking_titles(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        builder.build_site(tmp_path, ranking={"24h": ["no such article"]})


def test_ranking_data_is_the_reference_capture() -> None:
    site = builder.load_site()
    assert {p: [t for t, _ in site.ranking[p]] for p in PERIODS} == reference_ranking()
