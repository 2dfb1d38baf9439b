"""crawler/pages/finders.py: the block walk, the hint index and the small helpers."""

from __future__ import annotations

import pytest

from crawler.pages.finders import HintIndex, blocks, region_signature, strip_site_name
from crawler.pages.html import parse_html


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
