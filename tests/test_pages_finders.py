"""crawler/pages/finders.py: the block walk, the hint index and the small helpers."""

from __future__ import annotations

import pytest

from crawler.pages.finders import HintIndex, blocks, region_signature, strip_site_name
from crawler.pages.html import parse_html, parse_html_source


def tree(body: str):  # noqa: ANN201 - an lxml element
    return parse_html(f"<html><body>{body}</body></html>", "https://example.org/a/b.html",
                      plain=True)


def texts(body: str) -> list[tuple[str, str]]:
    return [(b.kind, b.text) for b in blocks(tree(body).find("body"))]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<div>one<br><br>two<br>still two</div>", [("run", "one"), ("run", "twostill two")]),
        ("<div>lead<p>para</p>tail</div>", [("run", "lead"), ("para", "para"), ("run", "tail")]),
        ("<div><span>日本の防衛</span><span>特集</span></div>", [("run", "日本の防衛特集")]),
        ("<h2>見出し</h2><ul><li>a</li><li>b</li></ul>", [("heading", "見出し"), ("list", "ab")]),
        ('<p><img src="x.png"></p><figure><img src="y.png"></figure>',
         [("image", ""), ("figure", "")]),
        ("<nav>menu</nav><aside>side</aside><div hidden>h</div><script>s()</script><p>x</p>",
         [("para", "x")]),
        ('<div class="share-buttons"><a href="#">ポスト</a></div><p>x</p>', [("para", "x")]),
    ],
    ids=["br-runs", "anonymous-blocks", "spans", "heading-list", "images", "skipped", "chrome-class"],
)
def test_blocks_in_reading_order(body: str, expected: list[tuple[str, str]]) -> None:
    assert texts(body) == expected


def test_run_pieces_split_links_spans_and_commas() -> None:
    (b,) = blocks(tree('<div><a href="/docs/mod/">日本の防衛</a> 特集、解説 • その他</div>').find("body"))
    assert b.pieces() == [("日本の防衛", "/docs/mod/"), ("特集", None), ("解説 • その他", None)]


def test_hint_index_answers_descendant_selectors_from_the_walk() -> None:
    t = tree('<div class="entry-header"><h1 class="entry-title x">T</h1>'
             '<ul class="category"><li>a</li><li>b</li></ul></div><p rel="author">me</p>')
    index = HintIndex(t, frozenset({"entry-header", "entry-title", "category"}))
    blocks(t.find("body"), index=index)
    assert [el.text for el in index.select("h1.entry-title")] == ["T"]
    assert [el.text for el in index.select(".entry-header h1")] == ["T"]
    assert [el.text for el in index.select("ul.category li")] == ["a", "b"]
    assert index.select("h2.entry-title") == []
    assert [el.text for el in index.select("[rel=author]")] == ["me"]  # via cssselect
    assert index.first((".missing", "h1.entry-title")).text == "T"


@pytest.mark.parametrize(
    ("title", "expected"),
    [("記事 | Site", "記事"), ("記事｜Site - 出版社", "記事"), ("Site : 記事", "記事"), ("Site", ""),
     ("記事", "記事")],
    ids=["suffix", "suffix-more", "prefix", "bare", "none"],
)
def test_strip_site_name(title: str, expected: str) -> None:
    assert strip_site_name(title, "Site") == expected


def test_region_signature_follows_the_markup() -> None:
    a = tree('<div id="r"><a href="/x.html">x</a></div>').find(".//div")
    b = tree('<div id="r"><a href="/y.html">x</a></div>').find(".//div")
    assert region_signature(a, "https://e.org/p.html") != region_signature(b, "https://e.org/p.html")
    assert region_signature(a, "https://e.org/p.html") == region_signature(a, "https://e.org/q/r.html")


def _signed(page: str, url: str = "https://e.org/docs/a/1.html") -> str:
    root, source = parse_html_source(page, url)
    return region_signature(root.find(".//aside"), url, source)


SIDEBAR = '<aside class="r">\n<ol>\n<li><a href="/x.html">X</a></li>\n<li><a href="/y.html">Y</a></li>\n</ol>\n</aside>\n'


@pytest.mark.parametrize(
    "layout",
    [
        "<html><body>\n<main>{main}</main>\n{sidebar}<div>foot</div>\n</body></html>",  # lines
        "<html><body><main>{main}</main>{sidebar}<div>foot</div></body></html>",  # minified
        "<html><body>\r<main>{main}</main>\r{sidebar}\r<div>foot</div></body></html>",  # CR only
        "<html><body>\r\n<main>{main}</main>\r\n{sidebar}</body></html>",  # last element, CRLF
    ],
    ids=["lines", "minified", "lone-cr", "crlf-last"],
)
def test_region_signature_from_source_lines_follows_the_region_only(layout: str) -> None:
    """Hashed from the page's own lines where they can be trusted, serialized otherwise: in
    every layout the same sidebar beside other content signs the same, and any change in
    the sidebar (a title, a link, a list boundary) signs differently."""
    minified = "\n" not in layout and "\r" not in layout
    page = layout.format(main="<p>one article</p>", sidebar=SIDEBAR.replace("\n", "" if minified else "\n"))
    base = _signed(page)
    root, _ = parse_html_source(page, "https://e.org/docs/a/1.html")
    serialized = region_signature(root.find(".//aside"), "https://e.org/docs/a/1.html")
    assert (base != serialized) == (layout.startswith("<html><body>\n") or "\r\n" in layout)
    other_article = layout.format(main="<p>another article, longer</p>", sidebar=SIDEBAR)
    assert _signed(other_article.replace("\n", "" if minified else "\n")) == base
    for changed in (
        SIDEBAR.replace(">Y<", ">Z<"),
        SIDEBAR.replace("/y.html", "/z.html"),
        SIDEBAR.replace("</li>\n<li>", "</li>\n</ol>\n<ol>\n<li>"),  # Y moves to a second list
    ):
        page2 = layout.format(main="<p>one article</p>", sidebar=changed)
        assert _signed(page2.replace("\n", "" if minified else "\n")) != base


def test_region_signature_of_a_region_after_line_65535_is_serialized() -> None:
    url = "https://e.org/docs/a/1.html"
    page = "<html><body>" + "<p>x</p>\n" * 70000 + SIDEBAR + "<div>f</div></body></html>"
    root, source = parse_html_source(page, url)
    aside = root.find(".//aside")
    assert region_signature(aside, url, source) == region_signature(aside, url)
