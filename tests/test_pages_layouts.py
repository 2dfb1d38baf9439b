"""The layout-mutation suite: every demo article in generated markups reads the same.

``tests/layouts.py`` renders each article of the demo site (texts from
``scripts/demo_site_data/site.toml``) in seeded random layouts — renamed classes, other tags,
labels and dates in other elements, ``<br><br>`` bodies, caption ``div``s, metadata present or
absent, wrappers, ads and share buttons — and every variant must give the same title, labels,
published instant, body paragraphs, images, captions and summary as the original page. Pages
that are not articles (listings, search results, a 404 page) must give none.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from crawler.dates import parse_datetime
from crawler.pages.html import PageParseError, element_text
from crawler.pages.jdefense import parse_article, parse_listing, parse_ranking

sys.path.insert(0, str(Path(__file__).resolve().parent))
import layouts  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://j-defense.ikaros.jp"
SITE_DIR = ROOT / "defnews" / "demo_site"

_spec = importlib.util.spec_from_file_location("build_demo_site_layouts", ROOT / "scripts" / "build_demo_site.py")
assert _spec and _spec.loader
builder = importlib.util.module_from_spec(_spec)
sys.modules["build_demo_site_layouts"] = builder
_spec.loader.exec_module(builder)

SITE = builder.load_site()
ARTICLES = [a for a in SITE.articles if (SITE_DIR / a.path.lstrip("/")).is_file()]
LAYOUTS = layouts.ISSUE_LAYOUTS + tuple(layouts.Layout.draw(seed) for seed in range(100, 115))
LAYOUT_IDS = ["issue-opengraph", "issue-no-metadata"] + [f"seed{s}" for s in range(100, 115)]


def _blocks(content_html: str) -> list[str]:
    if not content_html:
        return []
    holder = lxml.html.fragment_fromstring(content_html, create_parent="div")
    return [re.sub(r"\s+", "", element_text(el)) for el in holder]


def essentials(page: dict[str, Any], *, body: bool = True) -> dict[str, Any]:
    raw = page["published_raw"]
    out = {
        "title": page["title"],
        "labels": page["categories"],
        "published": parse_datetime(raw) if raw else None,
        "summary": page["summary"],
    }
    if body:
        out["paragraphs"] = _blocks(page["content_html"])
        out["images"] = [(img["url"], img["caption"]) for img in page["images"]]
    return out


@cache
def original(path: str) -> dict[str, Any]:
    return parse_article((SITE_DIR / path.lstrip("/")).read_bytes(), BASE + path)


@cache
def sidebar(seed: int) -> str:
    return layouts.rename_sidebar(builder.ranking_sidebar(SITE), seed)


def test_the_layouts_cover_every_mutation() -> None:
    fields = [f.name for f in dataclasses.fields(layouts.Layout) if f.name != "seed"]
    seen = {name: {getattr(layout, name) for layout in LAYOUTS} for name in fields}
    assert seen["title_tag"] == {"h1", "h2", "h3", "div"}
    assert seen["labels"] == {"ul", "spans", "links", "comma"}
    assert seen["date"] == {"time", "div", "span", "bare"}
    assert seen["body"] == {"p", "br"} and seen["image"] == {"figure", "div", "p"}
    assert seen["metadata"] == seen["ads"] == seen["share"] == {True, False}
    assert len(seen["wrappers"]) >= 3 and len(LAYOUTS) >= 8


def test_the_generator_is_reproducible() -> None:
    a = ARTICLES[0]
    assert layouts.render(SITE, a, LAYOUTS[3], sidebar(3)) == layouts.render(
        SITE, a, layouts.Layout.draw(LAYOUTS[3].seed), sidebar(3)
    )
    assert layouts.render(SITE, a, LAYOUTS[3], sidebar(3)) != layouts.render(
        SITE, a, LAYOUTS[4], sidebar(3)
    )


@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: f"{a.section}_{a.number:06d}")
def test_every_layout_reads_like_the_original(article: Any, layout: layouts.Layout) -> None:
    html = layouts.render(SITE, article, layout, sidebar(layout.seed))
    page = parse_article(html, BASE + article.path)
    # A cut-off original page lacks the end of its body; the variants are whole.
    whole = not article.malformed
    assert essentials(page, body=whole) == essentials(original(article.path), body=whole)
    assert page["provenance"]["title"] in ("metadata", "structure")
    if whole:
        assert not any(b in page["content_html"] for b in ("PR", "広告", "ポスト", "シェア", "◎下の",
                                                           "次の記事", "pagetop", "bnrname",
                                                           SITE.tagline, "読まれている記事"))


@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
def test_the_ranking_reads_the_same_in_every_layout(layout: layouts.Layout) -> None:
    article = ARTICLES[0]
    html = layouts.render(SITE, article, layout, sidebar(layout.seed))
    expected = parse_ranking((SITE_DIR / article.path.lstrip("/")).read_bytes(), BASE + article.path)
    assert expected and parse_ranking(html, BASE + article.path) == expected


def test_the_issue_layouts_find_labels_lead_and_dates() -> None:
    """The two markups of issue #8, on every article: labels found, the summary is the lead."""
    for layout in layouts.ISSUE_LAYOUTS:
        for article in ARTICLES:
            page = parse_article(layouts.render(SITE, article, layout, sidebar(0)),
                                 BASE + article.path)
            assert page["categories"] == article.categories
            assert page["summary"] == article.lead
            assert not page["content_html"].startswith(f"<p>{SITE.name}")


@pytest.mark.parametrize("layout", LAYOUTS[:6], ids=LAYOUT_IDS[:6])
@pytest.mark.parametrize(
    ("kind", "url"),
    [("listing", BASE + "/docs/mod/"), ("search", BASE + "/search?q=防衛"),
     ("404", BASE + "/docs/mod/009999.html")],
    ids=["listing", "search", "404"],
)
def test_pages_that_are_not_articles_yield_none(kind: str, url: str, layout: layouts.Layout) -> None:
    html = layouts.listing_page(SITE, ARTICLES[:8], layout, kind)
    with pytest.raises(PageParseError):
        parse_article(html, url)


@pytest.mark.parametrize("layout", LAYOUTS[:6], ids=LAYOUT_IDS[:6])
def test_listings_in_any_markup_give_every_article_link(layout: layouts.Layout) -> None:
    html = layouts.listing_page(SITE, ARTICLES[:8], layout, "listing")
    listing = parse_listing(html, BASE + "/docs/mod/")
    assert listing["article_urls"] == [BASE + a.path for a in ARTICLES[:8]]
    assert listing["next_page"] == BASE + "/docs/mod/?page=2"


# -- hand-written markups of other CMS styles (tests/fixtures/pages/markups/) ----------------

MARKUPS = ROOT / "tests" / "fixtures" / "pages" / "markups"


def test_docs_cms_markup_date_only_metadata_and_photo_in_a_paragraph() -> None:
    """og:published_time without a time gives way to the date line; a photo and its credit
    inside one <p> are an image with its caption, not a paragraph."""
    page = parse_article((MARKUPS / "docs-cms.html").read_bytes(), BASE + "/docs/mod/001562.html")
    assert page["title"] == "中国海軍艦艇の動向について(9月12日)"
    assert page["categories"] == ["防衛省関連"]  # "・防衛省関連" in a <span>
    assert (page["published_raw"], page["provenance"]["published"]) == ("2024-9-12 17:45", "text")
    assert page["summary"].startswith("防衛省 統合幕僚監部は令和6(2024)年9月12日(木)")
    assert page["images"] == [
        {"url": BASE + "/docs/mod/001562/img01.png", "caption": "写真:統合幕僚監部"}
    ]
    text = _blocks(page["content_html"])
    assert len(text) == 5 and text[-1] == "(以上)"
    assert page["next_url"] == BASE + "/docs/mod/001601.html"


def test_bem_theme_markup_lead_and_body_in_sibling_wrappers() -> None:
    """A lead and a body in sibling <div>s, paragraphs as <div>s, a byline under the date,
    a caption <div> after the image; tags, share bar and related links never in the body."""
    page = parse_article(
        (MARKUPS / "bem-theme.html").read_bytes(), BASE + "/docs/commentary/002752.html"
    )
    assert page["title"] == "《ニュース解説》自衛隊ヘリの “巨大バケツ” 火災の森に撒く水は1度に数トン"
    assert page["categories"] == ["ニュース解説", "特集"]
    assert page["published_raw"] == "2025-3-7 07:30"
    assert page["author"] == "影本賢治 KAGEMOTO Kenji"
    assert page["summary"] == "山林火災の現場で、自衛隊のヘリコプターが吊り下げた巨大なバケツで水を撒く姿が報じられている。"
    assert page["images"] == [{"url": BASE + "/images/2025/03/002752_01.png",
                               "caption": "写真出典:防衛省 陸上自衛隊 公式X"}]
    text = _blocks(page["content_html"])
    assert len(text) == 5 and text[-1] == "(以上)"
    for chrome in ("タグ", "/tags/", "Facebook", "関連記事", "KAGEMOTO", "読まれている記事"):
        assert chrome not in page["content_html"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [(BASE + "/docs/mod/", BASE + "/docs/mod/index_2.html"),
     (BASE + "/docs/mod/index_2.html", BASE + "/docs/mod/index_3.html")],
    ids=["first", "second"],
)
def test_listing_pagination_by_numbered_index_pages(url: str, expected: str) -> None:
    links = "".join(f'<a href="/docs/mod/index_{n}.html">{n}</a> ' for n in (2, 3, 4))
    html = f"<html><body><main><h2><a href='/docs/mod/000123.html'>x</a></h2>{links}</main></body></html>"
    listing = parse_listing(html, url)
    assert listing["next_page"] == expected and listing["article_urls"] == [BASE + "/docs/mod/000123.html"]


def test_listing_skips_a_ranking_without_known_classes() -> None:
    html = layouts.listing_page(SITE, ARTICLES[:3], LAYOUTS[0], "listing").replace(
        "</main>", "<div>" + sidebar(0) + "</div></main>"
    )
    assert "ranking" not in sidebar(0) and "読まれている記事" in sidebar(0)
    assert parse_listing(html, BASE + "/docs/mod/")["article_urls"] == [BASE + a.path for a in ARTICLES[:3]]


@pytest.mark.parametrize("layout", LAYOUTS[:6], ids=LAYOUT_IDS[:6])
def test_a_short_listing_page_is_not_an_article(layout: layouts.Layout) -> None:
    """The last index page, with two entries: too few dates to look like a list, but its
    title is a section label and its headings link to articles."""
    html = layouts.listing_page(SITE, ARTICLES[:2], layout, "listing")
    with pytest.raises(PageParseError, match="section or home page|listing"):
        parse_article(html, BASE + "/docs/mod/index_3.html")


@pytest.mark.parametrize(
    ("meta", "shown"),
    [
        ("陸自、2026年1月11日に習志野で降下訓練始め(12月5日)", "陸自、2026年1月11日に習志野で降下訓練始め（12月5日）"),
        ("陸自、2026年1月11日に習志野駐屯地・演習場で令和8年降下訓練始めを実", "陸自、2026年1月11日に習志野駐屯地・演習場で令和8年降下訓練始めを実施予定(12月5日)"),
    ],
    ids=["other-widths", "metadata-cut-short"],
)
def test_the_title_is_the_page_heading_the_metadata_points_at(meta: str, shown: str) -> None:
    html = (f'<html><head><meta property="og:title" content="{meta}"></head><body><main>'
            f"<h2>{shown}</h2><div>日本の防衛</div><div>2025-12-8 14:05</div>"
            "<p>陸上自衛隊は、降下訓練始めを実施すると発表した。</p></main></body></html>")
    page = parse_article(html, BASE + "/docs/mod/004578.html")
    assert page["title"] == shown and page["categories"] == ["日本の防衛"]
    assert page["summary"] == "陸上自衛隊は、降下訓練始めを実施すると発表した。"


def test_labels_in_one_element_and_lazy_images() -> None:
    html = ("<html><body><main><h1>自衛隊ヘリの巨大バケツ</h1><div>• ニュース解説 特集</div>"
            "<div>2025-3-7 07:30</div><p>山林火災の現場で、自衛隊のヘリが水を撒いた。</p>"
            '<p><img src="data:image/gif;base64,R0lGOD" data-src="/images/a.png" alt="写真:陸自"></p>'
            "<p>写真:陸自</p></main></body></html>")
    page = parse_article(html, BASE + "/docs/commentary/002752.html")
    assert page["categories"] == ["ニュース解説", "特集"]
    assert page["images"] == [{"url": BASE + "/images/a.png", "caption": "写真:陸自"}]
    assert f'src="{BASE}/images/a.png"' in page["content_html"] and "data:" not in page["content_html"]


def test_foot_of_the_article_chrome_is_not_body() -> None:
    html = ("<html><body><main><h1>陸自、降下訓練始めを実施予定(12月5日)</h1><div>日本の防衛</div>"
            "<div>2025-12-8 14:05</div><p>陸上自衛隊は、降下訓練始めを実施すると発表した。</p>"
            "<p>(以上)</p><div>更新:2025-12-9 10:00</div><div><a href='/docs/mod/'>日本の防衛</a></div>"
            "<div><span>この記事をシェアする</span><a href='https://example.com/x'>Facebook</a>"
            "<a href='https://example.com/y'>X</a></div></main></body></html>")
    page = parse_article(html, BASE + "/docs/mod/004578.html")
    assert _blocks(page["content_html"]) == ["陸上自衛隊は、降下訓練始めを実施すると発表した。", "(以上)"]


def test_labels_above_the_title() -> None:
    html = ("<html><body><main><div><a href='/docs/commentary/'>解説</a></div>"
            "<h1>陸自オスプレイ「可動率40%」の実情を読み解く</h1><div>2025-11-7 07:00</div>"
            "<p>陸上自衛隊のV-22オスプレイの可動率が40%程度と報じられた。</p></main></body></html>")
    page = parse_article(html, BASE + "/docs/commentary/004512.html")
    assert page["categories"] == ["解説"] and page["provenance"]["labels"] == "structure"


@pytest.mark.parametrize(
    "labels",
    ["<span>宇宙</span><span>新連載</span>", "<p>宇宙、新連載</p>",
     "<a href='/tags/space/'>宇宙</a> <a href='/tags/new/'>新連載</a>"],
    ids=["spans", "comma", "links"],
)
def test_a_label_the_site_adds_later_is_read_in_the_label_position(labels: str) -> None:
    html = (f"<html><body><main><h2>宇宙作戦群の新部隊が発足(3月17日)</h2>{labels}"
            "<div>2026-3-17 10:00</div><p>航空自衛隊の宇宙作戦群に新しい部隊が発足した。</p>"
            "</main></body></html>")
    page = parse_article(html, BASE + "/docs/mod/005060.html")
    assert page["categories"] == ["宇宙", "新連載"]


def test_decorated_pager_and_back_links() -> None:
    html = ("<html><body><main><h1>陸自、降下訓練始めを実施予定(12月5日)</h1><div>日本の防衛</div>"
            "<div>2025-12-8 14:05</div><p>陸上自衛隊は、降下訓練始めを実施すると発表した。</p>"
            "<div><a href='/docs/mod/'>記事一覧へ戻る</a></div>"
            "<div><a href='/docs/mod/004577.html'>« 前の記事へ</a> | "
            "<a href='/docs/mod/004579.html'>次の記事 »</a></div><p>フッター</p></main></body></html>")
    page = parse_article(html, BASE + "/docs/mod/004578.html")
    assert _blocks(page["content_html"]) == ["陸上自衛隊は、降下訓練始めを実施すると発表した。"]
    assert (page["next_url"], page["prev_url"]) == (BASE + "/docs/mod/004579.html",
                                                    BASE + "/docs/mod/004577.html")


@pytest.mark.parametrize(
    "wrap",
    ['<form id="form1" action="/x">{}</form>', '<div class="l-body with-sidebar">{}</div>',
     '<div id="wrap">{}<div><h3>Ranking 読まれている記事</h3><p><a href="/docs/mod/000001.html">a</a></p></div></div>'],
    ids=["page-form", "chrome-word-wrapper", "ranking-heading-in-the-page-wrapper"],
)
def test_page_wide_wrappers_are_not_chrome(wrap: str) -> None:
    inner = ("<ul><li><a href='/'>ホーム</a></li></ul><h1>陸自、降下訓練始めを実施予定(12月5日)</h1>"
             "<div>日本の防衛</div><div>2025-12-8 14:05</div>"
             + "<p>陸上自衛隊は、降下訓練始めを実施すると発表した。</p>" * 20)
    page = parse_article(f"<html><body>{wrap.format(inner)}</body></html>", BASE + "/docs/mod/004578.html")
    assert page["title"] == "陸自、降下訓練始めを実施予定(12月5日)"
    assert len(_blocks(page["content_html"])) == 20
