"""The jdefense spider on a shared frontier (no Redis: a stand-in holding the shared state).

Several processes on one frontier must crawl as one process does: every article number one of
them sees is in every process's counter walk, and each takes the store as it was when the
crawl began, not with the articles the others have stored since.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from crawler.spiders.jdefense import JdefenseSpider
from crawler.store import open_store
from crawler.urls import id_for_url

SITE = Path(__file__).resolve().parents[1] / "defnews" / "demo_site"
MIRROR = "http://127.0.0.1:8999/"
REAL = "https://j-defense.ikaros.jp/"
BEGAN = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


class Frontier:
    """What SharedFrontierScheduler shares between processes, in memory."""

    def __init__(self, started: datetime = BEGAN) -> None:
        self.started = started
        self.shared: set[int] = set()
        self.confirmed: set[int] = set()

    def add_numbers(self, *numbers: int, key: str = "numbers") -> None:
        (self.confirmed if key == "confirmed" else self.shared).update(numbers)

    def numbers(self, key: str = "numbers") -> set[int]:
        return set(self.confirmed if key == "confirmed" else self.shared)


def spider(frontier: Frontier | None, **settings) -> JdefenseSpider:
    crawler = get_crawler(JdefenseSpider, {"DEFNEWS_JDEFENSE_COUNTER_WALK": 40, **settings})
    s = JdefenseSpider.from_crawler(crawler, base_url=MIRROR)
    crawler.stats.open_spider()
    s.frontier = frontier
    return s


def page(path: str) -> HtmlResponse:
    return HtmlResponse(MIRROR + path, body=(SITE / path).read_bytes(), encoding="utf-8")


def walk(s: JdefenseSpider) -> list[str]:
    return [r.url for r in s._counter_walk()]


def test_every_linked_number_reaches_the_frontier():
    frontier = Frontier()
    s = spider(frontier)
    out = list(s.parse_listing(page("docs/mod/index.html"), page=1))
    linked = {int(r.url[-11:-5]) for r in out
              if isinstance(r, Request) and r.callback == s.parse_article}
    assert linked and linked <= frontier.shared


def test_processes_walk_the_counter_as_one_process_does():
    one = spider(None)
    for path in ("docs/mod/index.html", "docs/others/index.html", "docs/commentary/index.html"):
        list(one.parse_listing(page(path), page=1))
    frontier = Frontier()
    a, b, c = spider(frontier), spider(frontier), spider(frontier)
    list(a.parse_listing(page("docs/mod/index.html"), page=1))
    list(b.parse_listing(page("docs/others/index.html"), page=1))
    list(c.parse_listing(page("docs/commentary/index.html"), page=1))
    # The walk starts from an article page that answered (#18): one process fetched it.
    list(one.parse_article(page("docs/mod/004850.html")))
    list(c.parse_article(page("docs/mod/004850.html")))
    expected = walk(one)
    assert expected
    # Each process walks once the whole frontier is empty: the first one the numbers one
    # process walks; the probes are on the frontier, so the others add none of their own.
    assert walk(a) == expected
    assert walk(b) == walk(c) == []
    assert frontier.shared == one.numbers_seen


def test_a_late_process_takes_the_store_as_it_was_when_the_crawl_began(tmp_path):
    store_path = tmp_path / "s.sqlite3"
    old, new = REAL + "docs/mod/004850.html", REAL + "docs/mod/005052.html"
    with open_store(store_path) as store:
        for url, at in ((old, BEGAN - timedelta(days=1)), (new, BEGAN + timedelta(seconds=5))):
            store.upsert_article(ArticleItem(
                url=url, id=id_for_url(url), title="t", source="jdefense", published=at,
                summary="s", content_html="<p>本文</p>"), now=at)
        store.record_page_fetches([(REAL + "docs/mod/", '"v-this-crawl"', None),
                                   (REAL + "docs/others/005030.html", None, None)],
                                  at=BEGAN + timedelta(seconds=3))
        store.record_counter_probes("jdefense", [(5000, False), (5001, True)],
                                    at=BEGAN - timedelta(hours=1))
        store.record_counter_probes("jdefense", [(5002, False)], at=BEGAN + timedelta(seconds=4))

    late = spider(Frontier(), DEFNEWS_STORE=str(store_path))
    late._load_state()
    late.save_state()
    # Stored, fetched or probed by the other processes of this crawl: not known to this one.
    assert set(late.known) == {4850}
    assert late.validators == {}
    assert set(late.probes) == {5000, 5001}
    assert late.wanted(5052) and not late.wanted(4850)

    alone = spider(None, DEFNEWS_STORE=str(store_path))  # no frontier: everything stored
    alone._load_state()
    alone.save_state()
    assert set(alone.known) == {4850, 5052, 5030}
    assert set(alone.probes) == {5000, 5001, 5002}


def test_the_crawl_start_is_set_by_the_first_process_and_kept_until_the_last_leaves():
    """The frontier's scripts on the real Redis: the moment every process loads the store at."""
    import uuid

    from test_e2e_frontier import redis_or_skip

    from crawler.frontier_scheduler import _JOIN, _LEAVE

    client = redis_or_skip()
    base = f"defnews-test-{uuid.uuid4().hex[:10]}:jdefense"
    t1, t2, t3 = (str(BEGAN + timedelta(seconds=s)) for s in (0, 7, 60))
    try:
        assert client.eval(_JOIN, 0, base, "w1", 30000, t1)[3] == t1.encode()
        assert client.eval(_JOIN, 0, base, "w2", 30000, t2)[3] == t1.encode()  # joins the crawl
        client.eval(_LEAVE, 0, base, "w1")
        assert client.eval(_JOIN, 0, base, "w3", 30000, t3)[3] == t1.encode()  # w2 still there
        client.eval(_LEAVE, 0, base, "w2")
        client.eval(_LEAVE, 0, base, "w3")
        assert not client.exists(f"{base}:started")  # the crawl is over
        assert client.eval(_JOIN, 0, base, "w4", 30000, t3)[3] == t3.encode()  # the next one
        client.eval(_LEAVE, 0, base, "w4")
    finally:
        for key in client.scan_iter(f"{base.split(':')[0]}:*"):
            client.delete(key)
