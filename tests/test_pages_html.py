"""crawler/pages/html.py: generic parsing, structured metadata and cleaning helpers."""

from __future__ import annotations

import lxml.html
import pytest

from crawler.pages.html import (
    PageParseError,
    clean_html,
    element_text,
    extract_jsonld,
    extract_opengraph,
    find_time_elements,
    normalize_space,
    parse_html,
)

BASE = "https://example.com/docs/mod/000001.html"


def tree(body: str, head: str = "") -> lxml.html.HtmlElement:
    return parse_html(f"<html lang='ja'><head>{head}</head><body>{body}</body></html>", BASE)


def ld(payload: str) -> str:
    return f'<script type="application/ld+json">{payload}</script>'


# -- text and parsing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  a \n\t b  ", "a b"),
        ("中谷\u3000元", "中谷 元"),
        ("a\u00a0\u00a0b", "a b"),
        ("(以上)", "(以上)"),  # full-width forms are kept: no NFKC
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_space(raw: str | None, expected: str) -> None:
    assert normalize_space(raw) == expected


def test_element_text_skips_script_and_style() -> None:
    el = lxml.html.fragment_fromstring(
        "<div>本文<script>var x = 1;</script><style>p{}</style> 続き</div>"
    )
    assert element_text(el) == "本文 続き"


def test_parse_html_decodes_bytes_from_meta_charset() -> None:
    html = '<html><head><meta charset="shift_jis"></head><body><p>防衛</p></body></html>'
    t = parse_html(html.encode("shift_jis"), BASE)
    assert element_text(t.find(".//p")) == "防衛"


def test_parse_html_defaults_to_utf8_and_strips_bom() -> None:
    t = parse_html("\ufeff<html><body><p>防衛</p></body></html>".encode(), BASE)
    assert element_text(t.find(".//p")) == "防衛"


def test_parse_html_accepts_text_with_xml_declaration() -> None:
    t = parse_html('<?xml version="1.0" encoding="utf-8"?><html><body><p>a</p></body></html>')
    assert element_text(t.find(".//p")) == "a"


@pytest.mark.parametrize("html", ["", "   \n", b""])
def test_parse_html_rejects_empty_documents(html: str | bytes) -> None:
    with pytest.raises(PageParseError, match="empty"):
        parse_html(html, BASE)


def test_page_parse_error_is_a_value_error() -> None:
    assert issubclass(PageParseError, ValueError)


# -- JSON-LD ------------------------------------------------------------------------------


def test_jsonld_top_level_article() -> None:
    t = tree("", ld('{"@context": "https://schema.org", "@type": "NewsArticle", "headline": "h"}'))
    assert extract_jsonld(t) == [
        {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "h"}
    ]


def test_jsonld_inside_graph_and_lists_in_document_order() -> None:
    head = ld(
        '{"@graph": [{"@type": "BreadcrumbList"}, {"@type": "BlogPosting", "headline": "a"}]}'
    ) + ld('[{"@type": "WebSite"}, {"@type": ["Article", "Thing"], "headline": "b"}]')
    assert [o["headline"] for o in extract_jsonld(tree("", head))] == ["a", "b"]


def test_jsonld_type_given_as_iri() -> None:
    t = tree("", ld('{"@type": "http://schema.org/NewsArticle", "headline": "h"}'))
    assert len(extract_jsonld(t)) == 1


def test_jsonld_other_types_are_ignored() -> None:
    t = tree("", ld('{"@type": "WebSite", "name": "x"}') + ld('{"@type": "Organization"}'))
    assert extract_jsonld(t) == []
    assert extract_jsonld(t, types={"WebSite"}) == [{"@type": "WebSite", "name": "x"}]


def test_jsonld_broken_block_is_skipped_not_fatal() -> None:
    head = ld('{"@type": "NewsArticle", "headline": "say "hi""}') + ld(
        '{"@type": "NewsArticle", "headline": "ok"}'
    )
    assert [o["headline"] for o in extract_jsonld(tree("", head))] == ["ok"]


def test_jsonld_trailing_comma_and_comment_wrapper_are_forgiven() -> None:
    t = tree("", ld('<!-- {"@type": "NewsArticle", "headline": "h",} -->'))
    assert extract_jsonld(t) == [{"@type": "NewsArticle", "headline": "h"}]


def test_jsonld_script_type_is_case_insensitive() -> None:
    t = tree("", '<script type="Application/LD+JSON">{"@type": "Article"}</script>')
    assert extract_jsonld(t) == [{"@type": "Article"}]


# -- OpenGraph ----------------------------------------------------------------------------


OG_HEAD = (
    '<meta property="og:title" content="First">'
    '<meta property="og:title" content="Second">'
    '<meta property="OG:URL" content="/x">'
    '<meta name="article:published_time" content="2025-01-02T03:04:05+09:00">'
    '<meta property="article:section" content="A">'
    '<meta property="article:section" content="B">'
    '<meta property="og:description" content="">'
    '<meta name="description" content="not og">'
)


def test_opengraph_first_value_wins_and_keys_are_lowercased() -> None:
    assert extract_opengraph(tree("", OG_HEAD)) == {
        "og:title": "First",
        "og:url": "/x",
        "article:published_time": "2025-01-02T03:04:05+09:00",
        "article:section": "A",
    }


def test_opengraph_multi_keeps_repeated_values() -> None:
    og = extract_opengraph(tree("", OG_HEAD), multi=True)
    assert og["article:section"] == ["A", "B"]
    assert og["og:title"] == ["First", "Second"]


# -- <time> -------------------------------------------------------------------------------


def test_time_elements_with_roles() -> None:
    t = tree(
        '<p><time datetime="2025-03-05T09:33:00+09:00">2025-3-5 09:33</time>'
        ' (更新:<time datetime="2025-03-06T12:00:00+09:00">2025-3-6 12:00</time>)</p>'
        '<time itemprop="datePublished" datetime=" 2024-01-01 ">x</time>'
        '<time class="entry-updated">2024-01-02</time>'
        "<time pubdate>2024-01-03</time>"
    )
    found = [(x.datetime, x.text, x.role) for x in find_time_elements(t)]
    assert found == [
        ("2025-03-05T09:33:00+09:00", "2025-3-5 09:33", None),
        ("2025-03-06T12:00:00+09:00", "2025-3-6 12:00", "modified"),
        ("2024-01-01", "x", "published"),
        (None, "2024-01-02", "modified"),
        (None, "2024-01-03", "published"),
    ]


def test_time_element_value_falls_back_to_text() -> None:
    (only,) = find_time_elements(tree("<time>2024-01-02</time>"))
    assert only.value == "2024-01-02"


def test_time_elements_can_exclude_subtrees() -> None:
    t = tree(
        '<div id="a"><time datetime="1">x</time></div><aside><time datetime="2">y</time></aside>'
    )
    (aside,) = t.xpath("//aside")
    assert [x.datetime for x in find_time_elements(t, exclude=[aside])] == ["1"]


# -- clean_html ---------------------------------------------------------------------------


def test_clean_removes_scripts_styles_and_forms_with_their_content() -> None:
    out = clean_html(
        "<p>本文</p><script>alert(1)</script><style>p {}</style>"
        "<form><input name=q><button>検索</button></form><noscript>JS</noscript>",
        BASE,
    )
    assert out == "<p>本文</p>"


def test_clean_strips_presentation_and_event_attributes() -> None:
    out = clean_html(
        '<p class="lead" id="x" style="color:red" onclick="evil()">a</p>'
        '<a href="/b" target="_blank" rel="noopener" data-x="1">b</a>',
        BASE,
    )
    assert out == '<p>a</p><a href="https://example.com/b">b</a>'


def test_clean_makes_links_and_images_absolute() -> None:
    out = clean_html(
        '<p><a href="../others/000002.html">rel</a> <a href="000003.html">same dir</a></p>'
        '<figure><img src="/images/a.png" alt="x"><figcaption>写真:統合幕僚監部</figcaption></figure>'
        '<p><img src="img/b.png"></p><p><a href="#top">frag</a></p>',
        BASE,
    )
    assert 'href="https://example.com/docs/others/000002.html"' in out
    assert 'href="https://example.com/docs/mod/000003.html"' in out
    assert 'src="https://example.com/images/a.png"' in out
    assert 'src="https://example.com/docs/mod/img/b.png"' in out
    assert 'href="https://example.com/docs/mod/000001.html#top"' in out
    assert "<figcaption>写真:統合幕僚監部</figcaption>" in out


def test_clean_drops_dangerous_urls() -> None:
    out = clean_html(
        '<p><a href="javascript:alert(1)">x</a><img src="data:image/png;base64,AA"></p>', BASE
    )
    assert "javascript" not in out and "data:" not in out
    assert "x" in out


def test_clean_drops_elements_left_empty_but_keeps_images_and_cells() -> None:
    out = clean_html(
        '<div class="ad"><p><ins class="adsbygoogle"></ins><script>x()</script></p></div>'
        "<p> </p><p><span></span></p><ul><li></li></ul>"
        '<p><img src="/a.png" alt=""></p>'
        "<table><tr><td>a</td><td></td></tr><tr><td></td><td></td></tr></table>"
        "<p>x<br>y</p>",
        BASE,
    )
    assert out == (
        '<p><img src="https://example.com/a.png" alt=""></p>'
        "<table><tbody><tr><td>a</td><td></td></tr></tbody></table>"
        "<p>x<br>y</p>"
    )


def test_clean_unwraps_unknown_tags_keeping_text() -> None:
    assert clean_html("<div><section><p>a<font>b</font></p></section></div>", BASE) == "<p>ab</p>"


def test_clean_strips_comments() -> None:
    assert clean_html("<p>a<!-- hidden --></p>", BASE) == "<p>a</p>"


def test_clean_is_deterministic_and_idempotent() -> None:
    html = '<h2>見出し</h2>\n\n  <p class="x">本文 <a href="/a">リンク</a></p>\n<p>(以上)</p>'
    once = clean_html(html, BASE)
    assert once == clean_html(html, BASE)
    assert clean_html(once, BASE) == once
    assert (
        once
        == '<h2>見出し</h2>\n<p>本文 <a href="https://example.com/a">リンク</a></p>\n<p>(以上)</p>'
    )


def test_clean_accepts_an_element_and_leaves_it_untouched() -> None:
    el = lxml.html.fragment_fromstring('<div><p><a href="/a">a</a></p><script>x</script></div>')
    before = lxml.html.tostring(el)
    assert clean_html(el, BASE) == '<p><a href="https://example.com/a">a</a></p>'
    assert lxml.html.tostring(el) == before


@pytest.mark.parametrize("html", ["", "   ", "<script>x</script>", "<p> </p>"])
def test_clean_of_nothing_is_empty(html: str) -> None:
    assert clean_html(html, BASE) == ""


def test_clean_without_base_keeps_relative_urls() -> None:
    assert clean_html('<a href="/a">a</a>', None) == '<a href="/a">a</a>'
