"""A seeded, reproducible fuzzing pass (issue 18, points 4 and 5): 10,000 mutated feeds and
pages through the readers and the normalize step, and nothing may escape but the documented
errors (``FeedError`` for a document that is no feed, ``EntryError`` for an entry with no
identity, ``PageParseError`` for a page that is no article).

The mutator is hand-written (a few lines, seeded ``random.Random``) rather than hypothesis:
the point is a fixed, large corpus of hostile documents that every run replays byte for
byte, built from the fixture feeds and pages plus the tokens that broke the readers before
(``&#xD800;``, ``&#1114112;``, ``&amp;#14;``, ``"tags": true``, ``ww].ikaros.jp``...).
A failure prints the seed and case number: ``mutate(seed_doc, Random(SEED + n))`` rebuilds it.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from crawler.pages import jdefense as pages
from crawler.pages.feed import EntryError, FeedError, entry_to_item, parse_feed
from crawler.pages.html import PageParseError
from crawler.pipelines.normalize import NormalizePipeline
from crawler.sources import Source
from crawler.spiders.feeds import FeedsSpider

ROOT = Path(__file__).resolve().parents[1]
FEEDS = ROOT / "tests" / "fixtures" / "feeds"
SITE = ROOT / "defnews" / "demo_site"
SEED = 18
FEED_CASES = 6_000
PAGE_CASES = 4_000

TOKENS = [b"&#xD800;", b"&#1114112;", b"&#x110000;", b"&amp;#14;", b"&#14;", b"&#0;",
          b"&amp;amp;#x1F;", b"\x00", b"\x0e", b"\xff\xfe", b"\xef\xbb\xbf", b"\xed\xa0\x80",
          b"https://ww].ikaros.jp/", b"http://[::1", b"https://a:99999/", b"]]>", b"<![CDATA[",
          b"<!--", b"<script>alert(1)</script>", b"&lt;img src=x onerror=alert(1)&gt;",
          b"javascript:alert(1)", b"<", b">", b"&", b'"', b"</item>", b"<item>", b"</entry>",
          b"<entry>", b"<link>", b"</html>", b"<div>" * 40, b"\x81\x40", b"\x8e",
          b"0001-01-01T00:00:00Z", b"Mon, 99 Foo 9999 99:99:99 +9999", "令和元年".encode()]
JSON_VALUES = [True, False, None, 0, -1, 10**30, 1.5, "", "x", "https://ww].ikaros.jp/",
               "&#xD800;", "&amp;#14;", [], [True], ["a", 3], {}, {"url": 3}, "\ud800x"[1:]]

SOURCE = Source(key="fuzz", name="Fuzz", kind="feed", urls=("https://fuzz.example/feed",),
                language="en")


def _byte_mutation(doc: bytes, rng: random.Random) -> bytes:
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(len(doc) + 1)
        kind = rng.randrange(6)
        if kind == 0:  # a hostile token
            doc = doc[:pos] + rng.choice(TOKENS) + doc[pos:]
        elif kind == 1:  # a range deleted
            doc = doc[:pos] + doc[pos + rng.randint(1, 200):]
        elif kind == 2:  # cut off (a truncated transfer)
            doc = doc[:pos]
        elif kind == 3:  # random bytes
            doc = doc[:pos] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) + doc[pos:]
        elif kind == 4:  # a range repeated
            doc = doc[:pos] + doc[pos:pos + rng.randint(1, 300)] * rng.randint(2, 5) + doc[pos:]
        else:  # bits flipped
            if doc:
                at = rng.randrange(len(doc))
                doc = doc[:at] + bytes([doc[at] ^ (1 << rng.randrange(8))]) + doc[at + 1:]
    return doc


def _json_mutation(doc: bytes, rng: random.Random) -> bytes:
    """Values of the wrong type where the JSON Feed spec gives a type (the structure kept)."""
    data = json.loads(doc)
    targets = [data, *[i for i in data.get("items", []) if isinstance(i, dict)]]
    for _ in range(rng.randint(1, 5)):
        target = rng.choice(targets)
        key = rng.choice([*target.keys(), "tags", "authors", "author", "attachments", "image"])
        target[key] = rng.choice(JSON_VALUES)
    return json.dumps(data, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")


def mutate(doc: bytes, rng: random.Random, *, json_doc: bool = False) -> bytes:
    if json_doc and rng.random() < 0.6:
        doc = _json_mutation(doc, rng)
        return _byte_mutation(doc, rng) if rng.random() < 0.3 else doc
    return _byte_mutation(doc, rng)


FEED_SEEDS = sorted(p for p in FEEDS.iterdir() if p.suffix in (".xml", ".atom", ".rdf", ".json"))
PAGE_SEEDS = [SITE / "docs" / "mod" / "001933.html", SITE / "index.html"]


@pytest.fixture(scope="module")
def normalize():
    crawler = get_crawler(FeedsSpider, {"DEFNEWS_STORE": ""})
    crawler.stats.open_spider()
    return NormalizePipeline.from_crawler(crawler)


def _normalized(pipeline: NormalizePipeline, item: object) -> None:
    from scrapy.exceptions import DropItem

    try:
        pipeline.process_item(item)
    except DropItem:
        pass  # a decision (no date, no title...), counted by the pipeline


def test_mutated_feeds_cost_at_most_their_entries(normalize):
    seeds = [(p.read_bytes(), p.suffix == ".json") for p in FEED_SEEDS]
    outcomes = {"feeds": 0, "refused": 0, "entries": 0, "entries refused": 0}
    for n in range(FEED_CASES):
        rng = random.Random(SEED * 1_000_003 + n)
        doc, is_json = seeds[n % len(seeds)]
        body = mutate(doc, rng, json_doc=is_json)
        content_type = rng.choice(["application/rss+xml; charset=utf-8", "application/json",
                                   "text/xml; charset=shift_jis", "text/html", ""])
        try:
            feed = parse_feed(body, "https://fuzz.example/feed", headers={"Content-Type": content_type})
        except FeedError:
            outcomes["refused"] += 1
            continue
        except Exception as exc:  # pragma: no cover - what this test is for
            raise AssertionError(f"case {n} (seed {SEED}): {type(exc).__name__}: {exc}") from exc
        outcomes["feeds"] += 1
        assert not feed.failed_entries, f"case {n}: {feed.failed_entries}"
        for entry in feed.entries:
            try:
                item = entry_to_item(entry, SOURCE)
            except EntryError:
                outcomes["entries refused"] += 1
                continue
            _normalized(normalize, item)
            outcomes["entries"] += 1
    # The pass is not vacuous: most mutants still read as feeds with entries.
    assert outcomes["feeds"] > FEED_CASES // 2 and outcomes["entries"] > FEED_CASES, outcomes


def test_mutated_pages_raise_only_page_parse_error():
    seeds = [p.read_bytes() for p in PAGE_SEEDS]
    read = refused = 0
    for n in range(PAGE_CASES):
        rng = random.Random(SEED * 2_000_003 + n)
        body = mutate(seeds[n % len(seeds)], rng)
        url = "https://j-defense.ikaros.jp/docs/mod/001933.html"
        try:
            pages.parse_listing(body, url)
            pages.parse_ranking(body, url)
            pages.parse_article(body, url)
            read += 1
        except PageParseError:
            refused += 1
        except Exception as exc:  # pragma: no cover - what this test is for
            raise AssertionError(f"page case {n} (seed {SEED}): {type(exc).__name__}: {exc}") from exc
    assert read > PAGE_CASES // 2, (read, refused)
