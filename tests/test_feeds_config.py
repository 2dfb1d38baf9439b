"""Feed configuration and the file names (slugs) of categories and sources."""

from __future__ import annotations

import hashlib
from dataclasses import FrozenInstanceError

import pytest

from feeds.config import (
    RESERVED_SLUGS,
    FeedConfig,
    assign_category_slugs,
    assign_source_slugs,
    category_slug,
    source_slug,
)


def sha(label: str, n: int) -> str:
    return hashlib.sha1(label.encode("utf-8")).hexdigest()[:n]


# -- FeedConfig -------------------------------------------------------------------------------


def test_defaults_and_trailing_slash() -> None:
    config = FeedConfig(base_url="https://example.org/defnews")
    assert config.base_url == "https://example.org/defnews/"
    assert (config.title, config.limit, config.author, config.language) == (
        "defnews",
        50,
        "defnews",
        "ja",
    )
    assert dict(config.category_slugs) == {} and dict(config.source_names) == {}
    assert config.url("category/x.atom") == "https://example.org/defnews/category/x.atom"


def test_config_is_frozen_and_its_mappings_read_only() -> None:
    slugs = {"日本の防衛": "japan-defense"}
    config = FeedConfig(base_url="https://example.org/", category_slugs=slugs)
    slugs["海上自衛隊"] = "navy"  # the caller's dict is copied
    assert dict(config.category_slugs) == {"日本の防衛": "japan-defense"}
    with pytest.raises(TypeError):
        config.category_slugs["x"] = "y"  # type: ignore[index]
    with pytest.raises(FrozenInstanceError):
        config.limit = 3  # type: ignore[misc]


def test_source_name_falls_back_to_the_key() -> None:
    config = FeedConfig(
        base_url="https://example.org/", source_names={"jdefense": "Jディフェンスニュース"}
    )
    assert config.source_name("jdefense") == "Jディフェンスニュース"
    assert config.source_name("navalnews") == "navalnews"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_url": "example.org/defnews/"}, "absolute"),
        ({"base_url": "ftp://example.org/"}, "absolute"),
        ({"base_url": "https://example.org/?a=1"}, "query"),
        ({"base_url": "https://example.org/", "limit": 0}, "limit"),
        ({"base_url": "https://example.org/", "title": " "}, "title"),
        ({"base_url": "https://example.org/", "author": ""}, "author"),
        ({"base_url": "https://example.org/", "category_slugs": {"a": "Bad Slug"}}, "must be a-z, 0-9"),
        ({"base_url": "https://example.org/", "category_slugs": {"a": "../up"}}, "must be a-z, 0-9"),
        ({"base_url": "https://example.org/", "category_slugs": {"a": "all"}}, "reserved"),
        ({"base_url": "https://example.org/", "category_slugs": {"a": "ranking-24h"}}, "reserved"),
        (
            {"base_url": "https://example.org/", "category_slugs": {"a": "same", "b": "same"}},
            "both configured",
        ),
    ],
    ids=[
        "relative-url",
        "not-http",
        "query",
        "limit-0",
        "blank-title",
        "blank-author",
        "slug-pattern",
        "slug-traversal",
        "slug-reserved",
        "slug-reserved-prefix",
        "slug-twice",
    ],
)
def test_invalid_config_is_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FeedConfig(**kwargs)  # type: ignore[arg-type]


# -- category_slug ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Naval News", "naval-news"),
        ("  F-35 / F-2  ", "f-35-f-2"),
        ("UK_MoD", "uk-mod"),
        ("日本の防衛", "nippon-no-bouei"),  # romanised (Hepburn), never hashed
        ("解説", "kaisetsu"),
        ("レポート", "repooto"),
        ("宇宙・サイバー", "uchuu-saibaa"),
        ("F-35 関連", "f-35-kanren"),  # mixed: ASCII runs kept, Japanese romanised
        ("ＳＤＧｓ", "sdgs"),  # full-width letters folded
        ("Défense", "defense"),  # accents folded
        ("Флот", "flot"),  # other scripts transliterated (anyascii), never hashed
        ("국방", "gugbang"),
        ("Ελλάδα", "ellada"),
        ("🚀", "c-" + sha("🚀", 10)),  # nothing to romanise: the only hashed case
        ("!!!", "c-" + sha("!!!", 10)),  # nothing left to slugify
        ("", "c-" + sha("", 10)),
        ("All", "c-" + sha("All", 10)),  # reserved names are never a slug
        ("Index", "c-" + sha("Index", 10)),
        ("Ranking 24h", "c-" + sha("Ranking 24h", 10)),
        ("x" * 61, "x" * 60),  # too long for a file name we like: cut
    ],
    ids=[
        "ascii",
        "ascii-punctuation",
        "underscore",
        "japanese",
        "kaisetsu",
        "report-katakana",
        "middle-dot",
        "mixed",
        "full-width",
        "accents",
        "cyrillic",
        "hangul",
        "greek",
        "emoji-only",
        "no-alnum",
        "empty",
        "reserved-all",
        "reserved-index",
        "reserved-prefix",
        "too-long",
    ],
)
def test_fallback_slug(label: str, expected: str) -> None:
    assert category_slug(label, {}) == expected
    assert category_slug(label, {}) == category_slug(label, {"other": "other"})  # label alone


def test_configured_slug_wins_and_is_validated() -> None:
    assert category_slug("日本の防衛", {"日本の防衛": "japan-defense"}) == "japan-defense"
    with pytest.raises(ValueError, match="reserved"):
        category_slug("x", {"x": "sources"})


@pytest.mark.parametrize("label", ["日本の防衛", "Naval News", "all", "", "ranking-new"], ids=str)
def test_no_fallback_is_reserved(label: str) -> None:
    slug = category_slug(label, {})
    assert slug not in RESERVED_SLUGS and not slug.startswith("ranking-")


# -- collisions -------------------------------------------------------------------------------


def test_slugify_collisions_are_resolved_in_label_order() -> None:
    labels = ["naval news", "Naval News", "Naval-News"]
    slugs = assign_category_slugs(labels, {})
    assert slugs == {
        "Naval News": "naval-news",
        "Naval-News": "naval-news-" + sha("Naval-News", 8),
        "naval news": "naval-news-" + sha("naval news", 8),
    }
    # Deterministic: the order the store lists the labels in does not matter.
    assert assign_category_slugs(reversed(labels), {}) == slugs


def test_fallback_never_takes_a_configured_slug_even_of_an_absent_label() -> None:
    configured = {"海軍ニュース": "naval-news", "日本の防衛": "japan-defense"}
    slugs = assign_category_slugs(["Naval News", "Japan Defense"], configured)
    assert slugs == {
        "Naval News": "naval-news-" + sha("Naval News", 8),
        "Japan Defense": "japan-defense-" + sha("Japan Defense", 8),
    }
    both = assign_category_slugs(["Naval News", "海軍ニュース"], configured)
    assert both == {
        "海軍ニュース": "naval-news",
        "Naval News": "naval-news-" + sha("Naval News", 8),
    }


@pytest.mark.parametrize("prefix", ["c", "C"], ids=["lower", "upper"])
def test_hash_shaped_ascii_label_cannot_take_a_hash_slug(prefix: str) -> None:
    label = "🚀"  # nothing to romanise: the one kind of label that gets a hash slug
    lookalike = f"{prefix} {sha(label, 10)}"  # would slugify to the hash slug of `label`
    assert category_slug(lookalike, {}) == "c-" + sha(lookalike, 10)
    slugs = assign_category_slugs([label, lookalike], {})
    assert slugs == {label: "c-" + sha(label, 10), lookalike: "c-" + sha(lookalike, 10)}


def test_many_labels_get_unique_slugs() -> None:
    labels = [f"Label {n}" for n in range(50)] + [f"label-{n}" for n in range(50)]
    slugs = assign_category_slugs(labels, {})
    assert len(set(slugs.values())) == len(labels)


# -- sources ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("jdefense", "jdefense"),
        ("naval_news", "naval_news"),
        ("JDefense", "s-" + sha("JDefense", 10)),  # upper case: not case-insensitive-FS safe
        ("../etc", "s-" + sha("../etc", 10)),
        ("all", "s-" + sha("all", 10)),
        ("s-0123456789", "s-" + sha("s-0123456789", 10)),  # hash-shaped
    ],
    ids=["plain", "underscore", "upper", "traversal", "reserved", "hash-shaped"],
)
def test_source_slug(source: str, expected: str) -> None:
    assert source_slug(source) == expected
    assert assign_source_slugs([source]) == {source: expected}
