"""crawler.urls: one canonical URL, hence one id, per document."""

from __future__ import annotations

import pytest

from crawler.items import article_id
from crawler.urls import canonical_url, id_for_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("http://example.com/news/1", "https://example.com/news/1", id="http-to-https"),
        pytest.param(
            "HTTPS://EXAMPLE.COM/News/1",
            "https://example.com/News/1",
            id="host-lowercased-path-kept",
        ),
        pytest.param(
            "https://www.example.com/news/1", "https://example.com/news/1", id="www-dropped"
        ),
        pytest.param(
            "https://example.com/news/1/", "https://example.com/news/1", id="trailing-slash"
        ),
        pytest.param("https://example.com/", "https://example.com/", id="root-keeps-slash"),
        pytest.param("https://example.com", "https://example.com/", id="empty-path-is-root"),
        pytest.param(
            "https://example.com/n/1?utm_source=rss&utm_medium=rss&utm_campaign=frigate",
            "https://example.com/n/1",
            id="utm",
        ),
        pytest.param(
            "https://example.com/n/1?fbclid=IwAR0abc&id=3",
            "https://example.com/n/1?id=3",
            id="fbclid",
        ),
        pytest.param(
            "https://example.com/n/1?gclid=x&msclkid=y",
            "https://example.com/n/1",
            id="gclid-msclkid",
        ),
        pytest.param(
            "https://example.com/n/1?UTM_Source=x",
            "https://example.com/n/1",
            id="tracking-case-insensitive",
        ),
        pytest.param("https://example.com/n/1#comments", "https://example.com/n/1", id="fragment"),
        pytest.param(
            "https://example.com/list?b=2&a=1&c=3",
            "https://example.com/list?a=1&b=2&c=3",
            id="query-order",
        ),
        pytest.param("https://example.com/n/1?", "https://example.com/n/1", id="empty-query"),
        pytest.param(
            "https://example.com/?p=48211", "https://example.com/?p=48211", id="document-param-kept"
        ),
        pytest.param(
            "http://example.com:80/n/1", "https://example.com/n/1", id="default-http-port"
        ),
        pytest.param(
            "https://example.com:443/n/1", "https://example.com/n/1", id="default-https-port"
        ),
        pytest.param(
            "https://example.com:8443/n/1/", "https://example.com:8443/n/1", id="other-port-kept"
        ),
        pytest.param(
            "http://127.0.0.1:8123/feeds/naval/?utm_source=rss",
            "http://127.0.0.1:8123/feeds/naval",
            id="local-test-server-keeps-http-and-port",
        ),
        pytest.param(
            "https://j-defense.example/記事/1/",
            "https://j-defense.example/%E8%A8%98%E4%BA%8B/1",
            id="japanese-path-percent-encoded",
        ),
        pytest.param(
            "https://j-defense.example/%e8%a8%98%e4%ba%8b/1",
            "https://j-defense.example/%E8%A8%98%E4%BA%8B/1",
            id="percent-escapes-uppercased",
        ),
        pytest.param(
            "https://example.com/s?q=a%20b", "https://example.com/s?q=a+b", id="space-in-query"
        ),
        pytest.param(
            "  https://example.com/n/1  ", "https://example.com/n/1", id="surrounding-space"
        ),
    ],
)
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected


def test_canonical_url_is_idempotent():
    url = "http://www.Example.com/news/1/?utm_source=rss&b=2&a=1#top"
    once = canonical_url(url)
    assert canonical_url(once) == once == "https://example.com/news/1?a=1&b=2"


FROM_FEED = (
    "http://www.fleetwatch.example/2026/03/02/jmsdf-launches-new-frigate-nagasaki/"
    "?utm_source=rss&utm_medium=rss&utm_campaign=jmsdf-launches-new-frigate-nagasaki"
)
CLEAN = "https://fleetwatch.example/2026/03/02/jmsdf-launches-new-frigate-nagasaki"


def test_two_forms_of_the_same_story_have_one_id():
    """The pair in tests/fixtures/feeds/naval.xml and wire.atom."""
    assert id_for_url(FROM_FEED) == id_for_url(CLEAN) == article_id(CLEAN)
    assert len(id_for_url(CLEAN)) == 16


@pytest.mark.parametrize(
    "other",
    [
        "https://fleetwatch.example/2026/03/02/jmsdf-launches-new-frigate-sasebo",
        "https://fleetwatch.example/2026/03/02/jmsdf-launches-new-frigate-nagasaki?page=2",
        "https://navalnews.example/2026/03/02/jmsdf-launches-new-frigate-nagasaki",
        "https://fleetwatch.example:8443/2026/03/02/jmsdf-launches-new-frigate-nagasaki",
    ],
    ids=["other-path", "content-param", "other-host", "other-port"],
)
def test_different_documents_have_different_ids(other):
    assert id_for_url(other) != id_for_url(CLEAN)


def test_canonical_url_remembers_answers():
    """A crawl asks for the same addresses again and again (the sidebar of every page, an
    item's URL then its id): the answer is computed once."""
    url = "http://www.example.com/cache-check/1/?utm_source=rss&b=2&a=1"
    before = canonical_url.cache_info()
    first = canonical_url(url)
    for _ in range(10):
        assert canonical_url(url) == first
        assert id_for_url(url) == article_id(first)
    after = canonical_url.cache_info()
    assert after.misses - before.misses == 1
    assert after.hits - before.hits >= 20
