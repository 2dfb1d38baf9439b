"""Where a generic page's article starts and ends (issue 19, body precision).

Each rule is tested on markups generated here in several shapes (tags, wrappers, languages),
never on one site's class names: buttons and hidden copies, teasers after the article, a box
of links inside it, a standfirst beside the paragraphs' own element, and a body that only a
script's data holds.
"""

from __future__ import annotations

import json

import pytest

from crawler.pages import read_article


def para(i: int, word: str = "article") -> str:
    return (f"<p>Paragraph {i} of the {word} tells the reader something at length, with a few "
            f"clauses, some names and numbers, a quote from a minister who spoke on Tuesday, "
            f"and a full stop at its end, as a news paragraph does.</p>")


PARTS = "".join(para(i) for i in range(5))
MORE = "".join(para(i, "second half") for i in range(5, 9))
# Long enough (1,500 characters and more) for the finders to be sure on their own: no
# trafilatura arbitration to mend a wrong end.
LONG = "".join(para(i) for i in range(10))


def page(article: str, wrap: str = "article", lang: str = "en") -> str:
    return (
        f"<html lang='{lang}'><head><title>The headline | Example News</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/world/'>World</a></nav>"
        f"<main><{wrap} class='story'><h1>The headline</h1>{article}</{wrap}></main>"
        "<footer>© Example News</footer></body></html>"
    )


def body_of(html: str) -> str:
    return read_article(html, "https://news.example/2025/01/02/the-headline")["content_html"]


@pytest.mark.parametrize("chrome", [
    "<div role='button'>Box aufklappen und mehr lesen über das Thema des Tages</div>",
    "<span role='button' tabindex='0'>Show the whole gallery of this story's pictures</span>",
    "<div aria-hidden='true'><p>A copy of the headline shown to sighted readers only, "
    "with a long sentence in it for good measure.</p></div>",
    "<div role='dialog'><p>Subscribe to our newsletter and get the news of the day in your "
    "inbox every morning, free of charge.</p></div>",
    "<div role='navigation'><a href='/a'>Previous story in this series</a> "
    "<a href='/b'>Next story in this series</a></div>",
])
@pytest.mark.parametrize("wrap", ["article", "div"])
def test_buttons_dialogs_and_hidden_copies_are_not_the_article(chrome: str, wrap: str) -> None:
    html = page(f"<div class='text'>{para(0)}{para(1)}{chrome}{para(2)}{para(3)}</div>", wrap)
    body = body_of(html)
    assert all(f"Paragraph {i} " in body for i in range(4))
    for words in ("aufklappen", "gallery", "sighted", "newsletter", "series"):
        assert words not in body


def teasers(tag: str, n: int = 4) -> str:
    return "".join(
        f"<div class='item'><{tag}><a href='/2025/01/0{i}/other-{i}'>Other story number {i} "
        f"of the day</a></{tag}><p>A teaser of one sentence or two, which sums up the other "
        f"story for the reader in a few words.</p></div>" for i in range(1, n + 1)
    )


@pytest.mark.parametrize("tag", ["h2", "h3", "h4"])
@pytest.mark.parametrize(("inside", "text"), [(True, PARTS), (True, LONG), (False, LONG)],
                         ids=["inside-short", "inside-long", "outside-long"])
def test_linked_headings_after_the_article_are_teasers_not_body(
    tag: str, inside: bool, text: str
) -> None:
    """Teasers of other articles in the article's own element end the body. (Teasers after
    the article's element, under a short article, are still taken in when trafilatura's
    reading, which has them, replaces the finders': not solved yet.)"""
    story = f"<div class='text'>{text}{teasers(tag) if inside else ''}</div>"
    html = page(story + ("" if inside else teasers(tag)))
    body = body_of(html)
    assert all(f"Paragraph {i} " in body for i in range(5))
    assert "Other story" not in body and "teaser of one" not in body


@pytest.mark.parametrize("marker", [
    "Mehr zum Thema", "Related articles", "Read more", "Lesen Sie auch", "À lire aussi",
    "Mehr zum Thema Ukraine",
])
@pytest.mark.parametrize("text", [PARTS, LONG], ids=["short", "long"])
def test_a_box_of_links_inside_the_article_does_not_end_it(marker: str, text: str) -> None:
    links = "".join(f"<li><a href='/x{i}'>Another story {i}</a></li>" for i in range(3))
    story = f"<div class='text'>{text}<h3>{marker}</h3><ul>{links}</ul>{MORE}</div>"
    body = body_of(page(story))
    assert all(f"Paragraph {i} " in body for i in range(5)), marker
    assert all(f"Paragraph {i} of the second half" in body for i in range(5, 9)), marker
    assert "Another story" not in body


@pytest.mark.parametrize("marker", ["Most read", "Most Popular", "Recommended for you",
                                    "You may also like", "Meistgelesen", "Les plus lus"])
@pytest.mark.parametrize("text", [PARTS, LONG], ids=["short", "long"])
def test_the_most_read_list_after_the_article_ends_it(marker: str, text: str) -> None:
    items = "".join(f"<li><a href='/y{i}'>A popular story {i} of the week, with a summary "
                    f"line under it</a> and more words</li>" for i in range(5))
    story = f"<div class='text'>{text}<h2>{marker}</h2><ol>{items}</ol></div>"
    body = body_of(page(story))
    assert all(f"Paragraph {i} " in body for i in range(5))
    assert marker not in body and "popular story" not in body


STANDFIRST = ("When a crisis far away starts a new fashion, the whole world talks about one "
              "photograph: this is the story of how it happened.")


@pytest.mark.parametrize("lead_tag", ["h2", "p", "div"])
@pytest.mark.parametrize("text", [PARTS + MORE, LONG + MORE], ids=["short", "long"])
def test_the_standfirst_beside_the_paragraphs_element_is_kept(lead_tag: str, text: str) -> None:
    """A standfirst between the title and the element holding the paragraphs (its sibling,
    after a share bar) is the article's."""
    story = (
        "<div class='meta'>By Jane Doe · 2 January 2025</div>"
        "<div class='share'><a href='https://twitter.com/share'>Share</a></div>"
        f"<{lead_tag} class='standfirst'>{STANDFIRST}</{lead_tag}>"
        f"<div class='content'>{text}</div>"
    )
    body = body_of(page(story))
    assert STANDFIRST in body
    assert all(f"Paragraph {i} " in body for i in range(9))
    assert "Jane Doe" not in body


def test_a_photo_caption_beside_the_paragraphs_element_is_not_a_standfirst() -> None:
    caption = ("A member of parliament walks out of the chamber after the vote on the ban, "
               "on 26 April 2025, in the state capital.")
    story = (
        "<div class='hero'><img src='/photo.jpg' alt=''>"
        f"<div class='image-caption'><span>{caption}</span></div></div>"
        f"<div class='content'>{PARTS}{MORE}</div>"
    )
    body = body_of(page(story))
    assert all(f"Paragraph {i} " in body for i in range(9))
    assert "walks out of the chamber" not in body


# -- a body that only a script's data holds ---------------------------------------------------

SCRIPT_BODY = (
    "<div class='editor-img-box'><img src='https://img.example/1.jpg'>"
    "<div class='caption'><p>The minister at the press conference. Photo agency</p></div></div>"
    "$$ARTICLEAD$$" + "".join(para(i, "hydrated story") for i in range(4))
)


def shell(script: str, jsonld: str = "") -> str:
    return (
        "<html lang='en'><head><title>The headline | Example News</title>"
        f"<meta property='og:type' content='article'>{jsonld}</head>"
        "<body><div id='root'><header>Example News</header><h1>The headline</h1>"
        "<div class='article-body'></div></div>"
        f"<script>{script}</script></body></html>"
    )


@pytest.mark.parametrize("script", [
    # a React Query / Redux state: the body as an HTML string in an object
    "window.__STATE__ = " + json.dumps({"article": {"id": 7, "content": SCRIPT_BODY}}) + ";",
    # a Next.js flight chunk: the string escaped the way JSON escapes "<" for a script
    "self.__next_f.push([1," + json.dumps(SCRIPT_BODY).replace("<", "\\u003c") + "])",
    # the same in a Nuxt payload, with other strings around it
    "window.__NUXT__={data:[{title:\"The headline\",html:" + json.dumps(SCRIPT_BODY)
    + ",tags:[\"politics\"]}]}",
])
def test_a_body_held_only_by_a_scripts_data_is_read_from_it(script: str) -> None:
    item = read_article(shell(script), "https://news.example/2025/01/02/x")
    assert item["provenance"]["body"] == "script"
    body = item["content_html"]
    assert all(f"Paragraph {i} of the hydrated story" in body for i in range(4))
    assert "$$ARTICLEAD$$" not in body
    # the image and its caption are one figure, as in a rendered page
    assert "<figure>" in body and "<figcaption>" in body and "img.example/1.jpg" in body
    assert "<script" not in body


def test_a_jsonld_article_body_fills_an_empty_page() -> None:
    text = "\n\n".join(f"Paragraph {i} of the structured data, long enough to be read as the "
                       f"article's text, with a full stop." for i in range(4))
    ld = ('<script type="application/ld+json">' + json.dumps(
        {"@type": "NewsArticle", "headline": "The headline", "articleBody": text,
         "datePublished": "2025-01-02T10:00:00Z"}) + "</script>")
    item = read_article(shell("var x = 1;", ld), "https://news.example/2025/01/02/x")
    assert item["provenance"]["body"] == "script"
    assert item["content_html"].count("<p>") == 4
    assert "Paragraph 3 of the structured data" in item["content_html"]


def test_a_page_with_its_own_text_ignores_the_html_in_its_scripts() -> None:
    other = "".join(para(i, "other story") for i in range(6))
    html = page(f"<div class='text'>{PARTS}</div>").replace(
        "</body>", f"<script>var next = {json.dumps({'html': other})};</script></body>")
    item = read_article(html, "https://news.example/2025/01/02/x")
    assert item["provenance"]["body"] != "script"
    assert "other story" not in item["content_html"]
    assert "Paragraph 4 of the article" in item["content_html"]
