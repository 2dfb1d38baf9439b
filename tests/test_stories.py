"""Stories (issue #22): the fixture feeds of tests/fixtures/stories — five events told by two
to five outlets in Japanese, English, Chinese, Italian and Portuguese, and look-alikes of every
kind the issue names — clustered by the decision, by a crawl into the store (SQLite and
PostgreSQL), kept stable by re-crawls and rebuilds, and agreed on by concurrent processes."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import pytest
from support import defnews

from crawler.store import open_store
from crawler.stories.features import features, phonetic_key
from crawler.stories.quality import Article, cluster, pairwise
from crawler.stories.store import StoryStore
from crawler.urls import id_for_url
from defnews.server import StaticServer

FIXTURES = Path(__file__).parent / "fixtures" / "stories"
LABELS: dict[str, str] = json.loads((FIXTURES / "labels.json").read_text(encoding="utf-8"))


def fixture_articles() -> list[Article]:
    out = []
    for path in sorted(FIXTURES.glob("*.xml")):
        feed = feedparser.parse(path.read_bytes())
        for e in feed.entries:
            out.append(Article(e.link, e.title, e.summary, parsedate_to_datetime(e.published),
                               feed.feed.language, path.stem))
    return out


@pytest.fixture(scope="module")
def clustered() -> dict[str, str]:
    return cluster(fixture_articles())


def link(event: str, outlet: str) -> str:
    [found] = [u for u, e in LABELS.items() if e == event and f"/{outlet}." in u
               or e == event and u.split("/")[2].split(".")[0] == outlet]
    return found


def test_same_event_across_outlets_and_languages_is_one_story(clustered):
    for event in ("y9", "budget", "liaoning", "sh60", "nk-0912", "nk-0918", "presser-0910"):
        members = [u for u, e in LABELS.items() if e == event]
        assert len({clustered[u] for u in members}) == 1, (event, members)
    # ja (MOD, J-Defense 3 days later), en, zh, it: one story
    y9 = {clustered[u] for u, e in LABELS.items() if e == "y9"}
    assert len(y9) == 1


@pytest.mark.parametrize("a, b, kind", [
    ("presser-0910", "presser-0913", "the same minister's press conferences on different days"),
    ("ukr-0906", "ukr-0913", "the weekly ロシア軍によるウクライナ侵略の状況 updates"),
    ("jinji-0901", "jinji-0909", "人事発令 of different dates"),
    ("nk-0912", "nk-0918", "two incidents of one kind in a month"),
    ("sh60", "sh60-dead", "a follow-up with a new fact (死亡確認), reported the next day"),
    ("sh60", "sh60-recorder", "a follow-up with a new fact (発見)"),
])
def test_look_alikes_stay_apart(clustered, a, b, kind):
    left = {clustered[u] for u, e in LABELS.items() if e == a}
    right = {clustered[u] for u, e in LABELS.items() if e == b}
    assert not left & right, kind


def test_pairwise_scores_on_the_fixtures(clustered):
    langs = {a.id: a.language for a in fixture_articles()}
    scores = pairwise(clustered, LABELS, langs)
    assert scores.precision == 1.0
    assert scores.recall >= 0.9 and scores.cross_recall >= 0.9


def test_facts_compare_as_values_across_scripts():
    pub = datetime.fromisoformat("2024-08-30T19:00+09:00")
    ja = features("概算要求", "過去最大の8兆5389億円を要求し、11時29分に発表した。", pub)
    en = features("Budget", "A record ¥8.54 trillion was requested at 11:29 a.m.", pub)
    pt = features("Orçamento", "Um orçamento recorde de 8,54 trilhões de ienes.", pub)
    assert "n:8.54e+12:yen" in ja.facts & en.facts & pt.facts
    assert "t:1129" in ja.facts & en.facts
    # Japanese names romanized with pykakasi meet the outlets' spelling
    assert phonetic_key("yonakuni") == phonetic_key("Yonaguni")
    ja_name = features("中谷防衛大臣が会見", "長崎県男女群島沖で", pub)
    en_name = features("Defense Minister Nakatani", "off the Danjo Islands", pub)
    assert {f"p:{phonetic_key('nakatani')}", f"p:{phonetic_key('danjo')}"} <= (
        ja_name.facts & en_name.facts)
    # designators as values: Y-9 = Y9, F-35B
    assert {"d:Y9", "d:F35B"} <= features("Y-9 と F-35B", "", pub).facts & features(
        "Y9 and F35B", "", pub).facts


def test_event_date_is_read_from_the_text_not_the_publication_date():
    pub = datetime.fromisoformat("2024-08-29T09:00+09:00")
    assert str(features("領空侵犯(8月26日)", "", pub).date.day) == "2024-08-26"
    assert str(features("x", "令和6年8月26日(月)、", pub).date.day) == "2024-08-26"
    monday = features("Airspace", "The aircraft entered on Monday.", pub).date
    assert str(monday.day) == "2024-08-26" and monday.soft
    assert str(features("x", "Il 26 agosto un aereo", pub).date.day) == "2024-08-26"
    assert str(features("x", "em 26 de agosto", pub).date.day) == "2024-08-26"
    undated = features("no date here", "", pub).date
    assert undated.day is None and str(undated.hi) == "2024-08-29"


# -- in the store: a crawl of the fixture feeds -------------------------------------------------

def crawl(work: Path, store: str, output: Path) -> None:
    with StaticServer(FIXTURES.parent) as server:
        template = (FIXTURES / "sources.toml").read_text(encoding="utf-8")
        sources = work / "sources.toml"
        sources.write_text(template.replace("{base_url}", server.url.rstrip("/")), encoding="utf-8")
        run = defnews("crawl", "--sources", str(sources), "--store", store, "--no-throttle",
                      "--output", str(output), cwd=work)
    assert run.returncode == 0, run.stderr[-3000:]


def gold_ids() -> dict[str, str]:
    return {id_for_url(u): e for u, e in LABELS.items()}


def check_stories(by_id: dict[str, str]) -> None:
    gold = gold_ids()
    assert set(by_id) == set(gold)
    for a in gold:
        for b in gold:
            if gold[a] == gold[b]:
                assert by_id[a] == by_id[b]
            elif gold[a] != gold[b]:
                assert by_id[a] != by_id[b], (gold[a], gold[b])


def test_a_crawl_gives_every_article_its_story_kept_by_recrawl_and_rebuild(
        tmp_path, store_location):
    out = tmp_path / "items.jsonl"
    crawl(tmp_path, store_location, out)
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    check_stories({i["id"]: i["story"] for i in items if i["type"] == "article"})
    with open_store(store_location) as s:
        stored = {a.id: a.story for a in s.articles()}
    check_stories(stored)
    # the story id is the id of one of its articles (an article alone: its own id)
    assert all(story in stored for story in stored.values())
    crawl(tmp_path, store_location, tmp_path / "again.jsonl")
    with open_store(store_location) as s:
        assert {a.id: a.story for a in s.articles()} == stored
        report = StoryStore(s).rebuild(recompute=True)
        assert report.moved == 0 and report.articles == len(stored)
        assert {a.id: a.story for a in s.articles()} == stored
    run = defnews("stories", "--rebuild", "--store", store_location, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "0 articles changed story" in run.stdout
    multi = sum(1 for n in Counter(stored.values()).values() if n > 1)
    assert f"({multi} of two or more articles)" in run.stdout, run.stdout
    assert "Chinese military plane violates" in run.stdout or "中国機による領空侵犯" in run.stdout


def test_two_processes_decide_consistently(store_location):
    """Two crawl processes (a shared frontier, Scrapyd) each with its own index: the second
    sees what the first decided and joins its story instead of starting another."""
    arts = sorted(fixture_articles(), key=lambda a: (a.published, a.id))
    with open_store(store_location) as first, open_store(store_location) as second:
        a, b = StoryStore(first), StoryStore(second)
        got: dict[str, str] = {}
        for n, art in enumerate(arts):
            side = a if n % 2 else b
            f = features(art.title, art.text, art.published)
            [got[art.id]] = side.assign([(art.id, f)])
        # each process reads back the same decisions
        assert a.stories_of(got) == b.stories_of(got) == got
    for x in got:
        for y in got:
            assert (got[x] == got[y]) == (LABELS[x] == LABELS[y]) or LABELS[x] != LABELS[y] \
                and got[x] != got[y], (LABELS[x], LABELS[y])


def test_a_later_article_joins_a_story_never_splits_it(store_location):
    arts = sorted(fixture_articles(), key=lambda a: (a.published, a.id))
    y9 = [a for a in arts if LABELS[a.id] == "y9"]
    with open_store(store_location) as s:
        st = StoryStore(s)
        first = st.assign([(y9[0].id, features(y9[0].title, y9[0].text, y9[0].published))])[0]
        later = st.assign([(a.id, features(a.title, a.text, a.published)) for a in y9[1:]])
        assert set(later) == {first} == {y9[0].id}
        # asked again (a re-crawl), the stored story stands
        again = st.assign([(y9[0].id, features("other", "other", y9[0].published))])
        assert again == [first]


def test_fixture_feeds_copy_is_self_contained(tmp_path):
    # the sources file names every fixture feed
    shutil.copytree(FIXTURES, tmp_path / "stories")
    text = (tmp_path / "stories" / "sources.toml").read_text(encoding="utf-8")
    for path in FIXTURES.glob("*.xml"):
        assert f"/stories/{path.name}" in text


def test_a_concept_few_articles_name_weighs_more():
    from crawler.stories.index import GENERIC_WEIGHT, StoryIndex

    pub = datetime.fromisoformat("2024-10-01T12:00+09:00")
    index = StoryIndex()
    for n in range(80):
        text = "North Korea fired a missile." if n % 8 else "The national security strategy."
        index.decide(f"{n:016x}", features(f"Report {n}", text, pub + timedelta(days=n)))
    rare, common = index.concept_weight("c:security_strategy"), index.concept_weight("c:missile")
    assert rare > common > GENERIC_WEIGHT == index.concept_weight("c:japan")


def test_an_article_matching_two_stories_joins_them_in_every_process(store_location):
    """Two outlets named different aircraft of one collision (two stories); a third report
    names both facts: the stories become one, in the store and in the other process."""
    from datetime import date

    from crawler.stories.features import EventDate, Features

    day = date(2024, 5, 1)
    ev = EventDate(day, False, day, day)

    def f(*facts: str) -> Features:
        return Features("latin", ev, frozenset(facts), frozenset())

    x = f("d:AB12", "p:kanaka", "t:1200", "c:k:collision")
    y = f("d:CD34", "p:kanaka", "n:5:people", "c:k:collision")
    z = f("p:kanaka", "t:1200", "n:5:people", "c:k:collision")
    with open_store(store_location) as one, open_store(store_location) as two:
        a, b = StoryStore(one), StoryStore(two)
        assert a.assign([("00000000000000a1", x), ("00000000000000b2", y)]) == [
            "00000000000000a1", "00000000000000b2"]
        assert b.assign([("00000000000000c3", z)]) == ["00000000000000a1"]
        ids = ["00000000000000a1", "00000000000000b2", "00000000000000c3"]
        assert set(a.stories_of(ids).values()) == {"00000000000000a1"}
        a.load()  # the first process catches up: the merge reaches its index too
        assert a.index.story_of("00000000000000b2") == "00000000000000a1"


@pytest.mark.parametrize(("text", "countries"), [
    ("日英伊で共同開発を進める次期戦闘機", {"japan", "uk", "italy"}),
    ("日米豪印首脳会談を開催", {"japan", "usa", "australia", "india"}),
    ("米英豪の3か国が合意", {"usa", "uk", "australia"}),
    ("日中首脳会談が行われた", {"japan", "china"}),
])
def test_countries_written_one_kanji_each_are_the_countries(text, countries):
    pub = datetime.fromisoformat("2026-03-09T12:00+09:00")
    assert {f"c:{c}" for c in countries} <= features("見出し", text, pub).facts


@pytest.mark.parametrize("text", ["日中の気温は高い", "中日新聞の記事", "来日中の選手"])
def test_kanji_that_only_look_like_countries_are_not(text):
    pub = datetime.fromisoformat("2026-03-09T12:00+09:00")
    facts = features("見出し", text, pub).facts
    assert not {"c:japan", "c:china"} & facts, facts


def test_a_japanese_and_an_english_report_of_one_programme_are_one_story_in_either_order():
    """日英伊 names the three countries the English report names: the two reports of the next
    fighter's progress are one story whichever is decided first (the demo's pair)."""
    from crawler.stories.index import StoryIndex

    ja = features("防衛装備庁、次期戦闘機の共同開発に関する進捗を公表(3月9日)",
                  "防衛装備庁は令和8(2026)年3月9日(月)、日英伊で共同開発を進める次期戦闘機の"
                  "進捗状況について以下のように公表した。基本設計の作業が順調に進捗しており、"
                  "予定通り令和17年度の配備開始を目指す。令和8年度は詳細設計に着手する計画である。",
                  datetime.fromisoformat("2026-03-10T16:00+09:00"))
    en = features("Japan says next fighter co-developed with UK and Italy is on schedule",
                  "Japan's Acquisition, Technology and Logistics Agency said on March 9 that "
                  "basic design of the next fighter it develops with the United Kingdom and "
                  "Italy is progressing as planned, for deployment from fiscal 2035; detailed "
                  "design starts in fiscal 2026.", datetime.fromisoformat("2026-03-09T18:40+09:00"))
    for first, second in ((ja, en), (en, ja)):
        index = StoryIndex()
        index.decide("a" * 16, first)
        assert index.decide("b" * 16, second).story == index.story_of("a" * 16)


def test_one_region_named_by_two_reports_of_different_events_is_not_one_story():
    """Hokkaido is all that the long-range fires and the F-15Js' arrival share (with a few
    common words); the two reports of the arrival, in two languages, are one story."""
    import itertools

    from crawler.stories.index import StoryIndex

    fires = features("Ground forces test long-range fires on Hokkaido range",
                     "The Ground Self-Defense Force fired its stand-off missiles on the "
                     "Yausubetsu range for the first time.",
                     datetime.fromisoformat("2026-02-27T09:00+09:00"))
    arrival_en = features("First modernized F-15J fighters arrive at Chitose",
                          "The Air Self-Defense Force has begun fielding F-15J fighters back "
                          "from their modernization upgrade at Chitose air base in Hokkaido.",
                          datetime.fromisoformat("2026-03-02T13:10+09:00"))
    arrival_ja = features("千歳基地でF-15J近代化改修機の配備始まる",
                          "航空自衛隊千歳基地に、近代化改修を終えたF-15J戦闘機の配備が始まった。",
                          datetime.fromisoformat("2026-03-02T11:00+09:00"))
    articles = {"a" * 16: fires, "b" * 16: arrival_en, "c" * 16: arrival_ja}
    for order in itertools.permutations(articles):
        index = StoryIndex()
        for article_id in order:
            index.decide(article_id, articles[article_id])
        assert index.story_of("a" * 16) != index.story_of("b" * 16), order
        assert index.story_of("b" * 16) == index.story_of("c" * 16), order


def test_words_a_title_case_headline_capitalizes_are_not_names():
    """A word the text also writes in lower case ("fighters", "first") is no name, however a
    Title Case headline or a sentence's start capitalizes it; real names stay."""
    pub = datetime.fromisoformat("2026-03-02T12:00+09:00")
    f = features("First Modernized F-15J Fighters Arrive at Chitose",
                 "The Air Self-Defense Force has begun fielding modernized F-15J fighters, the "
                 "first to arrive at Chitose air base in Hokkaido.", pub)
    names = {t for t in f.facts if t.startswith("p:")}
    assert names == {f"p:{phonetic_key('Chitose')}", f"p:{phonetic_key('Hokkaido')}"}, names
    g = features("Defense Minister Nakatani visits Yonaguni",
                 "Nakatani said on Tuesday that Yonaguni will host a new unit.", pub)
    assert {f"p:{phonetic_key('Nakatani')}", f"p:{phonetic_key('Yonaguni')}"} <= g.facts
