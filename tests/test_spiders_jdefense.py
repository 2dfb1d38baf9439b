"""The jdefense spider's navigation, on hand-built responses (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem, RankingObservation
from crawler.spiders.jdefense import JdefenseSpider

SITE = Path(__file__).resolve().parents[1] / "defnews" / "demo_site"
MIRROR = "http://127.0.0.1:8999/"
REAL = "https://j-defense.ikaros.jp/"


def spider(**settings) -> JdefenseSpider:
    crawler = get_crawler(JdefenseSpider, settings)
    s = JdefenseSpider.from_crawler(crawler, base_url=MIRROR)
    crawler.stats.open_spider()
    return s


def page(path: str, body: bytes | None = None, status: int = 200) -> HtmlResponse:
    body = body if body is not None else (SITE / path).read_bytes()
    return HtmlResponse(MIRROR + path, body=body, status=status, encoding="utf-8")


def test_mirror_addresses_map_to_the_site_and_back():
    s = spider()
    assert s.to_site(MIRROR + "docs/mod/001933.html") == REAL + "docs/mod/001933.html"
    assert s.to_fetch(REAL + "docs/mod/001933.html") == MIRROR + "docs/mod/001933.html"
    assert s.to_site("https://other.example/x") == "https://other.example/x"


def test_article_yields_site_addressed_item_neighbours_and_ranking():
    s = spider()
    out = list(s.parse_article(page("docs/mod/001933.html")))
    (item,) = [o for o in out if isinstance(o, ArticleItem)]
    assert item.url == REAL + "docs/mod/001933.html"
    assert MIRROR not in item.content_html
    requests = [o.url for o in out if isinstance(o, Request)]
    assert MIRROR + "docs/mod/002205.html" in requests  # 次の記事
    assert MIRROR + "docs/mod/001601.html" in requests  # 前の記事
    assert MIRROR + "docs/commentary/003950.html" in requests  # ranked, fetched too
    (obs,) = [o for o in out if isinstance(o, RankingObservation)]
    assert all(e.url.startswith(REAL) for entries in obs.lists.values() for e in entries)


def test_the_sidebar_is_requested_once_per_crawl_not_per_page():
    """Every page repeats the ranking sidebar: its articles are requested from the first page
    that shows it; later pages add only their own neighbours, and still observe the sidebar."""
    s = spider()
    ranked = MIRROR + "docs/commentary/003950.html"
    first = list(s.parse_article(page("docs/mod/001933.html")))
    assert ranked in [o.url for o in first if isinstance(o, Request)]
    again = list(s.parse_article(page("docs/mod/002205.html")))
    requested = [o.url for o in again if isinstance(o, Request)]
    assert ranked not in requested
    assert len(requested) <= 2  # 次の記事 / 前の記事 only
    assert [o for o in again if isinstance(o, RankingObservation)]
    listing = list(s.parse_listing(page("docs/mod/index.html"), page=1))
    assert ranked not in [o.url for o in listing if isinstance(o, Request)]


@pytest.mark.parametrize(("max_pages", "follows"), [(1, False), (3, True)], ids=["limit", "below-limit"])
def test_index_pagination_stops_at_the_configured_page(max_pages, follows):
    s = spider(DEFNEWS_JDEFENSE_MAX_INDEX_PAGES=max_pages)
    out = list(s.parse_listing(page("docs/mod/index.html"), page=1))
    nexts = [o for o in out if isinstance(o, Request) and o.callback == s.parse_listing]
    assert bool(nexts) is follows
    assert [o for o in out if isinstance(o, Request) and o.callback == s.parse_article]


def test_counter_walk_probes_unseen_numbers_below_the_highest():
    s = spider(DEFNEWS_JDEFENSE_COUNTER_WALK=5)
    s.numbers_seen = {5052, 5050, 5047}
    s.confirmed = {5052}  # 005052.html answered 200 on the site
    urls = [r.url for r in s._counter_walk()]
    assert urls == [MIRROR + f"docs/mod/00{n}.html" for n in (5051, 5049, 5048)]


def test_counter_walk_starts_only_from_a_number_the_site_confirmed(caplog):
    """One link to …/999001.html (dead, or off-site and dropped) no longer sends the walk to
    998971-999000: the walk goes down from the highest article page that answered 200, and
    the number only linked is named in the log (#18, point 7)."""
    s = spider(DEFNEWS_JDEFENSE_COUNTER_WALK=5)
    s.numbers_seen = {5052, 5050, 5047, 999001}
    s.confirmed = {5052, 5050, 5047}
    with caplog.at_level("WARNING", logger="crawler.counterwalk"):
        urls = [r.url for r in s._counter_walk()]
    assert urls == [MIRROR + f"docs/mod/00{n}.html" for n in (5051, 5049, 5048)]
    assert "999001" in caplog.text


def test_counter_walk_needs_a_confirmed_number():
    s = spider(DEFNEWS_JDEFENSE_COUNTER_WALK=5)
    s.numbers_seen = {999001}  # only linked: nothing to start from
    assert list(s._counter_walk()) == []


def test_an_article_page_that_answered_is_confirmed_for_the_walk():
    s = spider(DEFNEWS_JDEFENSE_COUNTER_WALK=3)
    list(s.parse_article(page("docs/mod/001933.html")))
    assert 1933 in s.confirmed
    walked = [r.url for r in s._counter_walk()]
    assert walked and all(int(u[-11:-5]) < 1933 for u in walked)


def test_a_404_probe_tries_the_next_section_then_gives_up():
    s = spider()
    miss = page("docs/mod/005049.html", body=b"", status=404)
    (retry,) = list(s.parse_article(miss, probe=("mod", "others", "commentary")))
    assert retry.url == MIRROR + "docs/others/005049.html"
    assert retry.cb_kwargs == {"probe": ("others", "commentary")}
    last = page("docs/commentary/005049.html", body=b"", status=404)
    assert list(s.parse_article(last, probe=("commentary",))) == []
    assert s.crawler.stats.get_value("defnews/jdefense/counter_walk_misses") == 1


def test_a_page_that_is_not_an_article_is_logged_and_counted(caplog):
    s = spider()
    out = list(s.parse_article(page("docs/mod/000999.html", body=b"<html><body><p>x</p></body></html>")))
    assert out == []
    assert s.crawler.stats.get_value("defnews/parse_errors") == 1
    assert REAL + "docs/mod/000999.html" in caplog.text


def test_a_non_html_response_is_skipped():
    s = spider()
    resp = Response(MIRROR + "docs/mod/000998.html", body=b"\x89PNG")
    assert list(s.parse_article(resp)) == []
    assert s.crawler.stats.get_value("defnews/parse_errors") == 1


def test_the_ranking_is_parsed_once_while_its_signature_is_unchanged(monkeypatch):
    from crawler.pages import site as pages  # the generic site spider's reader

    calls = []
    real = pages.parse_ranking
    monkeypatch.setattr(pages, "parse_ranking",
                        lambda html, url, profile: calls.append(url) or real(html, url, profile))
    s = spider()
    paths = ["docs/mod/001933.html", "docs/mod/002205.html", "docs/others/000990.html"]
    observations = []
    for path in paths:
        out = list(s.parse_article(page(path)))
        observations += [o for o in out if isinstance(o, RankingObservation)]
        assert [o for o in out if isinstance(o, ArticleItem)][0].provenance["title"] == "hints"
    assert calls == [MIRROR + paths[0]]  # read once, then reused by signature
    assert len(observations) == 3 and observations[0].lists == observations[2].lists
    # Another sidebar: read again.
    other = (SITE / paths[0]).read_bytes().replace("1佐昇任人事".encode(), "昇任人事".encode(), 1)
    out = list(s.parse_article(page(paths[0], body=other)))
    assert len(calls) == 2
    (obs,) = [o for o in out if isinstance(o, RankingObservation)]
    assert obs.lists["24h"][2].title.startswith("人事発令 令和8年1月1日付け、昇任人事")


@pytest.mark.parametrize(
    "path",
    [p.relative_to(SITE).as_posix() for p in sorted(SITE.glob("docs/*/[0-9]*.html"))],
    ids=lambda p: p.removeprefix("docs/"),
)
def test_items_marked_clean_are_what_the_sanitizer_would_make_of_them(path):
    """The spider's items skip the normalize pipeline's second sanitizing pass: that is only
    right while their content is already a fixed point of clean_html."""
    from crawler.pages.html import clean_html

    s = spider()
    items = [o for o in s.parse_article(page(path)) if isinstance(o, ArticleItem)]
    for item in items:
        assert item.content_clean
        assert clean_html(item.content_html, item.url) == item.content_html


def test_listing_pages_sign_the_ranking_and_keep_it_for_the_articles(monkeypatch):
    """A listing page reads the sidebar only when its signature is new, and does not make the
    next article page read it again (it used to parse it in full and forget the signature)."""
    from crawler.pages import site as pages  # the generic site spider's reader

    calls = []
    real = pages.parse_ranking
    monkeypatch.setattr(pages, "parse_ranking",
                        lambda html, url, profile: calls.append(url) or real(html, url, profile))
    s = spider()
    observations = []
    for response in (
        page("index.html"),
        page("docs/mod/001933.html"),
        page("docs/mod/index.html"),
        page("docs/mod/002205.html"),
    ):
        callback = s.parse_article if response.url.endswith(("0.html", "3.html", "5.html")) else (
            lambda r: s.parse_listing(r, page=1)
        )
        observations += [o for o in callback(response) if isinstance(o, RankingObservation)]
    assert calls == [MIRROR + "index.html"]
    assert len(observations) == 4 and all(o.lists == observations[0].lists for o in observations)
    # A listing page with another sidebar is read again.
    other = (SITE / "docs/mod/index.html").read_bytes().replace(
        b'<aside class="ranking"', b'<aside class="ranking" data-edition="2"', 1
    )
    list(s.parse_listing(page("docs/mod/index.html", body=other), page=1))
    assert calls == [MIRROR + "index.html", MIRROR + "docs/mod/index.html"]
