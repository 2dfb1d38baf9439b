"""The profile-driven reading steps (crawler/pages/profile_rules.py), on small pages."""

from __future__ import annotations

import dataclasses
import json

from crawler.items import ArticleItem, to_json_dict
from crawler.pages.profiles import GENERIC, profile_for
from crawler.pages.site import parse_article
from crawler.store import _content_hash

ASAGUMO = profile_for("asagumo")
URL = "https://www.asagumo-news.com/homepage/htdocs/news/newsflash/202601/260107/26010703.html"


def page(*paragraphs: str, title: str = "新型艦が進水(2025年12月3日)", head: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head><title>{title}｜朝雲新聞</title>{head}</head><body><div id='c'>"
        f"<div>防衛関連ニュース</div><div>{title}</div><div>2026年1月7日更新</div>{body}"
        "<h3>最新ニュースLATEST NEWS</h3></div></body></html>"
    )


def test_byline_at_the_first_paragraphs_end_is_the_author_and_leaves_the_body():
    data = parse_article(page("海自は3日、新型艦の進水式を行った。(伊藤和樹)", "式典には約300人が出席した。"),
                         URL, ASAGUMO)
    assert data["author"] == "伊藤和樹"
    assert "(伊藤和樹)" not in data["content_html"]
    assert data["summary"] == "海自は3日、新型艦の進水式を行った。"


def test_credits_and_places_in_parentheses_are_not_bylines():
    for tail in ("(内閣広報室提供)", "(4空団11飛行隊・松島)", "(いずれも6月30日、防衛省)"):
        data = parse_article(page(f"首相は3日、部隊を視察した。{tail}", "視察は約1時間に及んだ。"), URL, ASAGUMO)
        assert data["author"] is None, tail
        assert tail in data["content_html"], tail


def test_a_paywall_cut_keeps_the_public_part_and_says_partial():
    data = parse_article(page("海自は3日、新型艦の進水式を行った。", "同艦は来年3月に・・・", "続きを読む"),
                         URL, ASAGUMO)
    assert data["partial"] is True
    assert "同艦は来年3月に</p>" in data["content_html"]
    assert "・・・" not in data["content_html"] and "続きを読む" not in data["content_html"]
    whole = parse_article(page("海自は3日、新型艦の進水式を行った。", "同艦は来年3月に就役する。"), URL, ASAGUMO)
    assert "partial" not in whole


def test_the_label_above_the_title_and_the_day_precision():
    data = parse_article(page("海自は3日、新型艦の進水式を行った。", "同艦は来年就役する。"), URL, ASAGUMO)
    assert data["categories"] == ["防衛関連ニュース"]
    assert data["published_raw"] == "2026年1月7日更新"
    assert data["published_precision"] == "day"


def test_the_event_date_in_the_title_is_never_the_publication_date_on_any_site():
    html = ("<html><head><title>陸自が訓練(2025年6月7日)</title>"
            '<meta property="og:type" content="article"></head><body><article>'
            "<h1>陸自が訓練(2025年6月7日)</h1>"
            "<p>陸上自衛隊は訓練を行った。隊員約200人が参加した。</p></article></body></html>")
    for profile in (GENERIC, profile_for("jdefense"), ASAGUMO):
        data = parse_article(html, URL, profile)
        assert data["title"] == "陸自が訓練(2025年6月7日)", profile.name
        assert data["published_raw"] is None, profile.name
    # A real date line stays the date even where the title repeats its text.
    data = parse_article(page("海自は3日、進水式を行った。式典には約300人。", title="進水式(2026年1月7日更新)"),
                         URL, ASAGUMO)
    assert data["published_raw"] == "2026年1月7日更新"


def test_items_stored_before_precision_and_partial_keep_their_content_hash():
    item = ArticleItem(url="https://j.example/a.html", title="t", source="jdefense")
    data = to_json_dict(item)
    old = {k: v for k, v in data.items() if k not in ("published_precision", "partial", "site_order")}
    assert _content_hash(data) == _content_hash(old)
    day = to_json_dict(dataclasses.replace(item, published_precision="day", partial=True))
    assert _content_hash(day) != _content_hash(data)
    assert json.loads(json.dumps(day))["published_precision"] == "day"
