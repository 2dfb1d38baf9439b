"""Readers see stories (issue #22): stories.atom/.rss/.json hold one entry per story with two or
more sources, linking every member with outlet, language and date; category and source feeds
keep one entry per article and say which other outlets carried it; index.html lists the top
stories. Every file is checked as tests/test_feeds_validity.py checks feeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import jsonschema
import pytest
from lxml import etree
from test_feeds_validity import NS, SCHEMAS, _assert_clean_html, files
from test_stories import FIXTURES, LABELS, fixture_articles

from crawler.items import ArticleItem
from crawler.sources import load_sources
from crawler.store import SQLiteStore
from crawler.stories.store import StoryStore, article_features
from crawler.urls import id_for_url
from feeds.build import build_feeds
from feeds.config import FeedConfig

BASE = "https://feeds.example.org/"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("stories-feeds")
    now = datetime(2024, 10, 1, tzinfo=UTC)
    with SQLiteStore(tmp / "store.sqlite3") as store:
        items = []
        for a in sorted(fixture_articles(), key=lambda a: (a.published, a.id)):
            item = ArticleItem(url=a.id, title=a.title, source=a.source, published=a.published,
                               summary=a.text, content_html=f"<p>{a.text}</p>",
                               language=a.language, categories=["国際"], id=id_for_url(a.id),
                               key=a.id)
            store.upsert_article(item, now=now)
            items.append(item)
        StoryStore(store).assign([(i.id, article_features(i)) for i in items])
        out = tmp / "public"
        sources = tmp / "sources.toml"
        sources.write_text((FIXTURES / "sources.toml").read_text(encoding="utf-8").replace(
            "{base_url}", "http://127.0.0.1:9"), encoding="utf-8")
        names = {s.key: s.name for s in load_sources(sources).sources}
        build_feeds(store, out, FeedConfig(base_url=BASE, category_slugs={"国際": "world"},
                                           source_names=names))
    return out


def test_stories_feed_has_one_entry_per_multi_source_story(built):
    parsed = feedparser.parse((built / "stories.atom").read_bytes())
    assert parsed.bozo == 0
    events = {}
    for u, e in LABELS.items():
        events.setdefault(e, set()).add(u.split("/")[2])
    multi = {e for e, hosts in events.items() if len(hosts) >= 2}
    assert len(parsed.entries) == len(multi)
    y9 = [e for e in parsed.entries if e.link.endswith("/y9.html")]
    assert len(y9) == 1
    entry = y9[0]
    # titled from its first article (the ministry's release), every member linked
    assert entry.title == "中国機による領空侵犯について"
    content = entry.content[0].value
    for u, e in LABELS.items():
        if e == "y9":
            assert u in content
    for outlet in ("Kyodo Wire", "Rivista Difesa", "新华军事", "Jディフェンスニュース"):
        assert outlet in content
    assert "(it, 2024-08-27)" in content and "(en, 2024-08-26)" in content
    # a look-alike alone in its story has no story entry
    assert not [e for e in parsed.entries if "ukr-09" in e.link]


def test_category_feed_entries_say_who_else_carried_the_story(built):
    parsed = feedparser.parse((built / "category" / "world.atom").read_bytes())
    by_link = {e.link: e for e in parsed.entries}
    assert len(by_link) == len(LABELS)  # one entry per article
    mod = by_link["https://www.mod.example.jp/news/2024-08-26/y9.html"]
    text = mod.content[0].value
    assert "https://kyodo.example.com/news/2024-08-26/y9.html" in text
    assert "Kyodo Wire" in mod.summary
    alone = by_link["https://www.mod.example.jp/news/2024-09-06/ukr-0906.html"]
    assert "also reported" not in alone.content[0].value


def test_every_stories_file_is_validator_clean(built):
    rng = etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))
    schema = json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text("utf-8"))
    for rel in files(built, ".atom"):
        doc = etree.parse(str(built / rel))
        assert rng.validate(doc), (rel, rng.error_log.last_error)
        for content in doc.getroot().iter(f"{ATOM}content"):
            _assert_clean_html(content.text or "", rel)
    for rel in files(built, ".rss"):
        parsed = feedparser.parse((built / rel).read_bytes())
        assert parsed.bozo == 0 and parsed.version == "rss20", rel
        root = etree.parse(str(built / rel)).getroot()
        for guid in root.iter("guid"):
            assert guid.text
        for enc in root.iterfind(".//content:encoded", NS):
            _assert_clean_html(enc.text or "", rel)
    for rel in files(built, ".json"):
        jsonschema.validate(json.loads((built / rel).read_bytes()), schema)
    ids = [e.findtext(f"{ATOM}id") for e in
           etree.parse(str(built / "stories.atom")).getroot().iter(f"{ATOM}entry")]
    assert len(ids) == len(set(ids))


def test_index_page_shows_top_stories_with_their_sources(built):
    html = (built / "index.html").read_text(encoding="utf-8")
    assert 'id="stories"' in html and 'href="stories.atom"' in html
    section = html.split('id="stories"', 1)[1].split("</section>", 1)[0]
    assert "中国機による領空侵犯について" in section and "Kyodo Wire" in section
    assert "https://rivistadifesa.example.it/news/2024-08-27/y9.html" in section
