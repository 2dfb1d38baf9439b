"""crawler.pages.read_article: one article reader for every site (issue 19).

Corpus samples (tests/fixtures/reader/corpora, see its README for licences) are scored the
corpora's own way; the small pages below are written here, one per thing the reader must see.
"""

from __future__ import annotations

import gzip
import inspect
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import crawler.pages.finders as finders
from crawler.pages import read_article
from crawler.pages.html import PageParseError

FIXTURES = Path(__file__).parent / "fixtures" / "reader"
SAMPLES = FIXTURES / "corpora"
TRUTH: dict[str, dict[str, Any]] = json.loads((SAMPLES / "truth.json").read_text("utf-8"))
_TOKEN = re.compile(r"\w+")


def body_f1(true: str, pred: str) -> float:
    """Token 4-gram shingle F1, as the article-extraction-benchmark's evaluate.py counts."""

    def shingles(text: str) -> Counter[tuple[str, ...]]:
        t = _TOKEN.findall(text)
        return Counter(tuple(t[i : i + 4]) for i in range(max(1, len(t) - 3)) if t)

    a, b = shingles(true), shingles(pred)
    tp = sum((a & b).values())
    fp, fn = sum(b.values()) - tp, sum(a.values()) - tp
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def text_of(markup: str) -> str:
    import lxml.html

    if not markup.strip():
        return ""
    tree = lxml.html.fragment_fromstring(markup, create_parent="div")
    for el in tree.iter("p", "h2", "h3", "li", "br"):
        el.tail = "\n" + (el.tail or "")
    return tree.text_content()


def sample(name: str) -> tuple[str | bytes, dict[str, Any]]:
    data = gzip.decompress((SAMPLES / name).read_bytes())
    truth = TRUTH[name]
    # (Fundus stores its pages as UTF-8 and reads them so, whatever their <meta charset>)
    return (data.decode("utf-8") if truth["corpus"] == "fundus" else data), truth


@pytest.mark.parametrize("name", sorted(n for n in TRUTH if TRUTH[n]["corpus"] == "aeb"))
def test_article_extraction_benchmark_sample(name: str) -> None:
    html, truth = sample(name)
    item = read_article(html, truth["url"])
    assert body_f1(truth["body"], text_of(item["content_html"])) >= 0.9
    assert item["title"]
    assert item["provenance"]["body"] in ("structure", "trafilatura")


@pytest.mark.parametrize("name", sorted(n for n in TRUTH if TRUTH[n]["corpus"] == "fundus"))
def test_fundus_sample(name: str) -> None:
    html, truth = sample(name)
    item = read_article(html, truth["url"])
    assert " ".join(item["title"].split()) == " ".join(truth["title"].split())
    assert item["published_day"] == truth["day"]
    assert body_f1(truth["body"], text_of(item["content_html"])) >= 0.9


@pytest.mark.parametrize("name", sorted(n for n in TRUTH if TRUTH[n]["corpus"] == "htmldate"))
def test_htmldate_sample(name: str) -> None:
    html, truth = sample(name)
    item = read_article(html, truth["url"])
    assert item["published_day"] == truth["day"]


# -- one page per thing to see ---------------------------------------------------------------

BODY = "".join(
    f"<p>Paragraph {i} of the article says something long enough to be a paragraph of text, "
    f"with a few clauses and a full stop.</p>"
    for i in range(6)
)


def page(head: str = "", header: str = "", body: str = BODY, foot: str = "") -> str:
    return (
        f"<html lang='en'><head><title>The headline - Example News</title>{head}</head><body>"
        "<nav><a href='/'>Home</a> <a href='/world/'>World</a></nav>"
        f"<article><h1>The headline</h1>{header}<div class='text'>{body}</div>{foot}</article>"
        "<footer>© Example News</footer></body></html>"
    )


@pytest.mark.parametrize(
    ("head", "header", "raw", "source"),
    [
        ("", "<span itemprop='datePublished' content='2024-03-05T10:00:00+01:00'>5 March</span>",
         "2024-03-05T10:00:00+01:00", "microdata"),
        ("<meta name='DC.date.issued' content='2024-03-05'>", "", "2024-03-05", "meta"),
        ("<meta name='dcterms.date' content='2024-03-05'>", "", "2024-03-05", "meta"),
        ("<meta name='date' content='2024-03-05'>", "", "2024-03-05", "meta"),
    ],
)
def test_dates_in_microdata_dublin_core_and_meta_date(
    head: str, header: str, raw: str, source: str
) -> None:
    item = read_article(page(head, header), "https://news.example/world/a-story")
    assert item["published_raw"] == raw
    assert item["published_source"] == source
    assert item["provenance"]["published"] == "metadata"
    assert item["published_day"] == "2024-03-05"


def test_a_date_only_value_keeps_its_precision() -> None:
    item = read_article(page("<meta name='date' content='2024-03-05'>"), "https://news.example/a")
    assert item["published"] == "2024-03-05"
    assert item["published_precision"] == "day"


def test_an_unreadable_jsonld_date_gives_way_to_the_next_layer() -> None:
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "The headline",'
        ' "datePublished": "soon"}</script>'
    )
    item = read_article(page(head, "<p class='date'>09.08.2013</p>"), "https://news.example/de/a")
    assert item["published_day"] == "2013-08-09"
    assert item["published_source"] == "dateline"


def test_the_pages_own_offset_is_kept() -> None:
    head = "<meta property='article:published_time' content='2024-10-22T23:40:00+02:00'>"
    item = read_article(page(head), "https://news.example/a")
    assert item["published"] == "2024-10-22T23:40+02:00"
    assert item["published_day"] == "2024-10-22"


def test_nhk_yearless_date_line() -> None:
    html = (
        "<html lang='ja'><head><title>台風2号 沖縄に接近 | NHKニュース</title></head><body>"
        "<main><h1>台風2号 沖縄に接近</h1><p><time>[06月24日 11時30分]</time></p>"
        "<p>" + "台風2号は24日、沖縄の南の海上を北上しています。" * 8 + "</p>"
        "<p>" + "気象庁は暴風や高波に警戒するよう呼びかけています。" * 8 + "</p></main></body></html>"
    )
    item = read_article(html, "https://www3.nhk.or.jp/news/html/20240624/k10014489021000.html")
    assert item["published"] == "2024-06-24T11:30+09:00"
    assert item["title"] == "台風2号 沖縄に接近"


def test_title_is_the_pages_heading_without_the_site_name_and_entities_decoded() -> None:
    html = page(
        "<meta property='og:title' content='Minister says &amp;quot;no&amp;quot; - Example News'>"
        "<meta property='og:site_name' content='Example News'>"
    ).replace("<h1>The headline</h1>", '<h1>Minister says "no"</h1>')
    item = read_article(html, "https://news.example/a")
    assert item["title"] == 'Minister says "no"'


def test_japanese_site_name_is_taken_off_the_title() -> None:
    html = (
        "<html lang='ja'><head><title>防衛費、過去最大に - 毎日新聞</title>"
        "<meta property='og:site_name' content='毎日新聞'></head><body><article>"
        "<h1>防衛費、過去最大に</h1><p>2025年1月14日 10時00分</p>"
        + "".join(f"<p>政府は{i}日、来年度の防衛費を過去最大とする方針を固めた。関係者が明らかにした。</p>" for i in range(6))
        + "</article></body></html>"
    )
    item = read_article(html, "https://mainichi.jp/articles/20250114/k00/00m/010/001000c")
    assert item["title"] == "防衛費、過去最大に"
    assert item["published"] == "2025-01-14T10:00+09:00"


def test_paywall_prompts_and_related_lists_are_not_body() -> None:
    foot = (
        "<p>この記事は有料会員限定です。ログインして続きを読む</p>"
        "<h2>■関連記事</h2><ul><li><a href='/a/1'>別の記事</a></li><li><a href='/a/2'>もう一つ</a></li></ul>"
    )
    item = read_article(page(body=BODY + foot), "https://news.example/a")
    assert "会員限定" not in item["content_html"]
    assert "別の記事" not in item["content_html"]
    assert "Paragraph 5" in item["content_html"]


def test_a_byline_in_the_title_wrapper_does_not_cut_the_body_short() -> None:
    header = "<div class='meta'><span>By Jane Doe</span> <span>November 18, 2019 11:03 PM</span></div>"
    item = read_article(page(header=header), "https://news.example/a")
    for i in range(6):
        assert f"Paragraph {i}" in item["content_html"]
    assert item["published"] == "2019-11-18T23:03+00:00"


def test_table_layout_page() -> None:
    html = (FIXTURES / "table_layout.html").read_bytes()
    item = read_article(html, "http://toyo-bouei.example/news/20050401a.html")
    assert item["title"] == "防衛庁、新型護衛艦の建造計画を発表"
    assert item["published"] == "2005-04-01" and item["published_precision"] == "day"
    assert item["categories"] == ["防衛"]
    content = item["content_html"]
    assert content.startswith("<p>防衛庁は1日、")
    assert "ニュース" not in content.split("。")[0]  # no menu cell
    assert "Copyright" not in content
    assert content.count("<table>") == 1  # the data table, one block, whole
    assert "<td>基準排水量</td><td>5000トン</td>" in content
    assert content.rstrip().endswith("話している。</p>")


@pytest.mark.parametrize(
    "html",
    [
        "<html><body></body></html>",
        "<html><head><title>Example News</title></head><body><h1>Example News</h1>"
        + "".join(f"<h2><a href='/2024/story-number-{i}-with-a-long-slug'>Story {i}</a></h2>"
                  "<p>Teaser.</p>" for i in range(8))
        + "</body></html>",
        "<html><head><title>404 Not Found</title></head><body><h1>Page not found</h1></body></html>",
    ],
    ids=["empty", "listing", "error"],
)
def test_not_an_article_is_a_clear_error(html: str) -> None:
    with pytest.raises(PageParseError, match=r"https://news\.example/x"):
        read_article(html, "https://news.example/x")


def test_the_reader_is_named_phases_without_module_state() -> None:
    assert not hasattr(finders, "_scripts_gone")
    names = [phase.__name__ for phase in finders.PHASES]
    assert names[:2] == ["find_author_hint", "find_title"]
    for phase in finders.PHASES:
        assert len(inspect.getsource(phase).splitlines()) <= 60, phase.__name__
    source = inspect.getsource(finders)
    assert "global " not in source


def test_jdefense_parse_article_is_the_reader_with_the_jdefense_profile() -> None:
    from crawler.pages import jdefense

    site = Path(__file__).parent.parent / "defnews" / "demo_site"
    urls = {
        "https://j-defense.ikaros.jp/" + p.relative_to(site).as_posix(): p
        for p in sorted(site.glob("docs/*/*.html"))
    }
    articles = {u: p for u, p in urls.items() if jdefense.article_number(u) is not None}
    assert articles
    for url, path in articles.items():
        html = path.read_bytes()
        parsed = jdefense.parse_article(html, url)
        read = read_article(html, url, jdefense.PROFILE)
        for key in ("title", "categories", "published_raw", "author", "summary", "content_html"):
            assert read[key] == parsed[key], (path.name, key)


def test_the_library_layers_are_installed_and_read() -> None:
    """trafilatura and htmldate are dependencies of the reader's last layers; an ImportError
    there (trafilatura needs lxml_html_clean since lxml 5.2) silently dropped the body layer
    of every fresh install."""
    from crawler.pages import reader
    from crawler.pages.profiles import GENERIC

    paragraphs = "".join(
        f"<p>Paragraph {n} of the article says what the ministry announced about the new ship "
        "and its trials in some detail, so that an extractor keeps it.</p>" for n in range(6))
    html = (f"<html><head><title>t</title></head><body><div><h1>A headline</h1>{paragraphs}"
            "</div></body></html>")
    page = reader.Page(html=html, url="https://example.com/news/1.html", profile=GENERIC,
                       generic=True)
    out = reader._trafilatura(page)
    assert out is not None and "Paragraph 5 of the article" in out[1]


def test_trafilatura_reads_only_the_part_of_the_page_the_readings_come_from(monkeypatch) -> None:
    """Where the two body readings disagree, trafilatura arbitrates on the element that holds
    both (its cost grows with the tree it parses), not on the whole page."""
    calls = _spy_trafilatura(monkeypatch)
    sidebar = "".join(f"<p>Sidebar story {i} with a long teaser sentence of its own.</p>"
                      for i in range(30))
    html = (
        "<html lang='en'><head><title>The headline</title></head><body>"
        "<main><div class='head'><h1>The headline</h1><p>By Jane Doe</p></div>"
        f"<div class='story'>{BODY}</div></main><aside>{sidebar}</aside></body></html>"
    )
    item = read_article(html, "https://news.example/a")
    seen = [region for _, region in calls]
    assert seen and seen[0] is not None
    assert "Paragraph 5" in seen[0] and "Sidebar story" not in seen[0]
    assert all(f"Paragraph {i}" in item["content_html"] for i in range(6))
    assert "Sidebar story" not in item["content_html"]


def _spy_trafilatura(monkeypatch: Any) -> list[tuple[bool, str | None]]:
    """The reader's trafilatura calls, (fast, region) each, as they are made."""
    import crawler.pages.reader as reader

    calls: list[tuple[bool, str | None]] = []
    real = reader._trafilatura

    def spy(page: Any, fast: bool = False, region: str | None = None) -> Any:
        calls.append((fast, region))
        return real(page, fast=fast, region=region)

    monkeypatch.setattr(reader, "_trafilatura", spy)
    return calls


def _trafilatura_calls(monkeypatch: Any, paragraphs: int) -> list[bool]:
    calls = _spy_trafilatura(monkeypatch)
    body = "".join(f"<p>Paragraph {n}: the ministry said the new frigate began its sea trials "
                   "off the coast this week, ahead of schedule.</p>" for n in range(paragraphs))
    html = (f"<html lang='en'><head><title>Frigate trials</title></head><body><main>"
            f"<h1>Frigate trials</h1>{body}</main></body></html>")
    item = read_article(html, "https://news.example/frigate")
    assert f"Paragraph {paragraphs - 1}:" in item["content_html"]
    return [fast for fast, _ in calls]


def test_a_fast_reading_of_some_length_is_not_read_again_with_the_comparison(monkeypatch) -> None:
    """trafilatura's fast reading of 800-1,500 characters is kept: its readability/jusText
    comparison cost body F1 there (AEB 0.969 -> 0.963) and a second reading."""
    calls = _trafilatura_calls(monkeypatch, 10)  # about 1,050 characters: unsure, not short
    assert calls == [True]


def test_a_short_fast_reading_is_read_again_with_the_comparison(monkeypatch) -> None:
    calls = _trafilatura_calls(monkeypatch, 3)
    assert calls == [True, False]
