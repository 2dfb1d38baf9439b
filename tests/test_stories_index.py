"""The story index's bookkeeping (crawler.stories.index): which members a new article is
compared with, that a faster lookup finds every member a comparison could join, and that a
rebuild from the store decides what the articles were given one batch at a time."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from crawler.items import ArticleItem
from crawler.store import open_store
from crawler.stories.features import EventDate, Features, features, trie_pattern
from crawler.stories.index import (
    CORROBORATING,
    StoryIndex,
    _Probe,
    features_from_json,
    features_json,
    keys,
)
from crawler.stories.store import StoryStore, article_features

DAY = date(2024, 5, 15)


def feat(day: date | None, *facts: str, soft: bool = False, lo: date | None = None,
         hi: date | None = None, lang: str = "latin", words: tuple[str, ...] = ()) -> Features:
    if day is not None and not soft:
        ev = EventDate(day, False, lo or day, hi or day)
    elif day is not None:
        ev = EventDate(day, True, lo or day - timedelta(days=1), hi or day + timedelta(days=1))
    else:
        ev = EventDate(None, True, lo or DAY - timedelta(days=5), hi or DAY)
    return Features(lang, ev, frozenset(facts), frozenset(words), words)


def test_a_written_day_is_compared_with_that_day_and_with_undated_articles_only():
    """Two written days must be the same day, so the other days of the week are not
    candidates (they were all compared, and all scored 0); undated articles and weekdays
    whose days can meet it still are."""
    index = StoryIndex()
    facts = ("d:Y9", "p:tanjo", "c:k:airspace")
    for n in range(-3, 4):  # the same facts, each day of the week around DAY
        index.decide(f"day{n}", feat(DAY + timedelta(days=n), *facts))
    index.decide("undated", feat(None, *facts, lo=DAY - timedelta(days=3), hi=DAY + timedelta(days=1)))
    index.decide("weekday", feat(DAY + timedelta(days=1), *facts, soft=True))
    index.decide("far-undated", feat(None, *facts, lo=DAY + timedelta(days=2), hi=DAY + timedelta(days=3)))
    probe = feat(DAY, *facts)
    found = {m.article_id for m in index.candidates(probe, keys(probe))}
    assert {"day0", "undated", "weekday"} <= found
    assert not found & {f"day{n}" for n in (-3, -2, -1, 1, 2, 3)}
    decision = index.decide("new", probe)
    assert decision.candidates == len(found)
    assert decision.story == index.story_of("day0")


def _random_features(rnd: random.Random) -> Features:
    facts = {rnd.choice(["d:Y9", "d:F35B", "d:H6"]), rnd.choice(["p:tanjo", "p:ionakuni"]),
             rnd.choice(["c:k:airspace", "c:k:passage"])}
    if rnd.random() < 0.3:
        facts.add(rnd.choice(["t:1129", "t:0800"]))
    if rnd.random() < 0.1:
        facts.add("c:k:found")
    day = DAY + timedelta(days=rnd.randint(-12, 12))
    kind = rnd.random()
    words = tuple(rnd.sample(["chinese", "aircraft", "violat", "airspa", "ministr", "danjo"], 3))
    if kind < 0.5:
        return feat(day, *facts, words=words)
    if kind < 0.7:
        return feat(day, *facts, soft=True, words=words)
    if kind < 0.9:
        return feat(None, *facts, lo=day - timedelta(days=5), hi=day, words=words)
    # hand-built: a written day whose interval says more than the day
    return feat(day, *facts, lo=day - timedelta(days=2), hi=day + timedelta(days=1), words=words)


def test_the_lookup_finds_every_member_a_comparison_could_join():
    """Against a brute-force pass over every member sharing a key: no member that would
    score is left out by the day and week posting lists, whatever the kinds of dates."""
    rnd = random.Random(22)
    index = StoryIndex()
    given: dict[str, Features] = {}
    for n in range(400):
        f = _random_features(rnd)
        probe = _Probe(f, index.concept_weight)
        mine = keys(f)
        expected = set()
        for m in index.members:
            shares_key = bool(mine & keys(given[m.article_id]))
            if shares_key and probe.score(m) >= CORROBORATING:
                expected.add(m.article_id)
        found = {m.article_id for m in index.candidates(f, mine)}
        assert expected <= found, (n, expected - found)
        index.decide(f"{n:04d}", f)
        given[f"{n:04d}"] = f
    assert len(index.story_size) < 400  # some did join


def test_trie_pattern_matches_as_the_alternation_longest_first():
    words = ["air", "air force", "air force base", "army", "ar", "sea", "seal", "marzo",
             "mar", "march", "março", "a.b", "x+y"]
    alternation = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    old = re.compile(rf"(?<![\w.])({alternation})(?!\w)", re.IGNORECASE)
    new = re.compile(rf"(?<![\w.])({trie_pattern(words)})(?!\w)", re.IGNORECASE)
    texts = ["the Air Force Base and the air forces", "ARMY ar arm sea seals seal",
             "marzo, March, MARÇO, mar.", "a.b x+y xa.b", "air force basement air force"]
    for text in texts:
        assert [m.span() for m in new.finditer(text)] == [m.span() for m in old.finditer(text)]
    assert re.fullmatch(trie_pattern(["a", "ab"]), "ab") and trie_pattern([]) == ""


def test_stored_features_decide_as_computed_ones():
    pub = datetime(2024, 8, 27, 9, tzinfo=UTC)
    f = features("中国軍Y-9が男女群島沖で領空侵犯(8月26日)", "11時29分頃、男女群島周辺で確認。", pub)
    g = features_from_json(features_json(f))
    assert g == f
    a, b = StoryIndex(), StoryIndex()
    a.decide("x", f)
    b.decide("x", g)
    assert a.decide("y", f).score == b.decide("y", g).score > 0


def _synthetic(n: int) -> list[ArticleItem]:
    """Look-alike reports (a few aircraft, places, kinds) in two languages over a month:
    many join, some stories merge, most look-alikes stay apart."""
    rnd = random.Random(7)
    start = datetime(2024, 3, 1, tzinfo=UTC)
    places = [("男女群島", "Danjo Islands"), ("与那国島", "Yonaguni"), ("宮古島", "Miyako")]
    kinds = [("領空侵犯", "airspace violation"), ("航行", "passage"), ("発射", "launch")]
    out = []
    for i in range(n):
        pub = start + timedelta(hours=i * 720 // n)
        d = pub - timedelta(days=rnd.randint(0, 2))
        desig = f"{rnd.choice('YH')}-{rnd.randint(1, 4)}"
        (pj, pe), (kj, ke) = rnd.choice(places), rnd.choice(kinds)
        count = rnd.randint(2, 5)
        if i % 2:
            title, text = (f"中国軍{desig}が{pj}沖で{kj}({d.month}月{d.day}日)",
                           f"{pj}周辺で{desig}{count}機による{kj}が確認されました。")
        else:
            title, text = (f"Chinese {desig} {ke} near {pe}",
                           f"A Chinese {desig} {ke} near {pe} on {d.strftime('%B')} {d.day}, "
                           f"with {count} aircraft.")
        out.append(ArticleItem(url=f"https://s{i % 5}.example/{i}", title=title,
                               source=f"s{i % 5}", published=pub, summary=text,
                               id=f"{i:016x}", first_seen=pub))
    return out


@pytest.mark.parametrize("batch", [1, 7, 50])
def test_a_rebuild_decides_what_batches_of_a_crawl_decided(store_location, batch):
    items = _synthetic(240)
    memory = StoryIndex()
    for item in items:
        memory.decide(item.id, article_features(item))
    expected = {m.article_id: m.story for m in memory.members}
    assert len(set(expected.values())) < len(items) * 0.8  # stories of several members
    with open_store(store_location) as store:
        store.upsert_articles(items, now=datetime(2024, 4, 1, tzinfo=UTC))
        stories = StoryStore(store)
        for start in range(0, len(items), batch):
            chunk = items[start:start + batch]
            stories.assign([(i.id, article_features(i)) for i in chunk])
        stored = stories.stories_of(expected)
        assert stored == expected
        report = stories.rebuild()
        assert (report.moved, report.recomputed, report.articles) == (0, 0, len(items))
        assert stories.stories_of(expected) == expected
        report = stories.rebuild(recompute=True)
        assert (report.moved, report.recomputed) == (0, len(items))
        assert stories.stories_of(expected) == expected
        # a fresh process over the rebuilt store reads the same index
        again = StoryStore(store)
        again.load()
        assert {a: again.index.story_of(a) for a in expected} == expected


def test_a_rebuild_forgets_the_stories_of_articles_no_longer_stored(store_location):
    items = _synthetic(30)
    with open_store(store_location) as store:
        store.upsert_articles(items, now=datetime(2024, 4, 1, tzinfo=UTC))
        stories = StoryStore(store)
        stories.assign([(i.id, article_features(i)) for i in items])
        gone = {items[3].id, items[17].id}
        with store.transaction() as cur:
            cur.executemany(store._sql("DELETE FROM articles WHERE id = ?"), [(a,) for a in gone])
        report = stories.rebuild()
        assert report.articles == len(items) - 2
        left = {str(a) for (a,) in store._query("SELECT article_id FROM article_stories")}
        assert left == {i.id for i in items} - gone
