"""crawler.sources: the packaged list, the fixture list, and every kind of bad file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from crawler.sources import (
    Source,
    SourcesError,
    default_sources_path,
    load_sources,
    map_categories,
    parse_sources,
)

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"


def fixture_config(base_url: str = "http://127.0.0.1:8123"):
    text = (FIXTURES / "sources.toml").read_text(encoding="utf-8")
    return parse_sources(text.replace("{base_url}", base_url), path="fixture-sources.toml")


# --- the packaged default -----------------------------------------------------------------


def test_default_list_loads_from_the_package():
    config = load_sources()
    assert Path(config.path) == default_sources_path()
    assert config.get("jdefense").kind == "site"
    assert config.get("jdefense").spider == "jdefense"
    assert [s.key for s in config.site_sources()] == ["jdefense", "asagumo"]  # (issue 20)
    assert len(config.feed_sources()) >= 5
    assert config.slug_for("海上") == "naval"
    assert config.slug_for("日本の防衛") == "japan-defense"


def test_default_feed_sources_are_curated():
    config = load_sources()
    for source in config.feed_sources():
        assert source.status in ("confirmed", "unverified"), source.key
        assert source.url.startswith("https://"), source.key
        assert source.categories, source.key  # every outlet lands somewhere
    assert config.get("navalnews").categories[0] == "海上"


def test_default_list_documents_the_evidence_of_each_feed_source():
    """Every curated feed block is followed by a comment giving the evidence (or its lack)."""
    text = default_sources_path().read_text(encoding="utf-8")
    blocks = text.split("[[source]]")[1:]
    for block in blocks:
        if 'kind = "feed"' in block:
            assert "\n# " in block, block.splitlines()[1]


def test_load_sources_accepts_a_path(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        (FIXTURES / "sources.toml")
        .read_text(encoding="utf-8")
        .replace("{base_url}", "http://127.0.0.1:9"),
        encoding="utf-8",
    )
    config = load_sources(path)
    assert config.path == str(path)
    assert config.get("nansei").urls == ("http://127.0.0.1:9/feeds/sjis.xml",)


# --- the fixture list ---------------------------------------------------------------------


def test_fixture_list_has_only_feed_sources():
    config = fixture_config()
    assert config.site_sources() == ()
    assert [s.key for s in config.feed_sources()] == [
        "fleetwatch",
        "defensewire",
        "tobu-dfb",
        "nansei",
        "hokkai",
        "pacdigest",
        "techbrief",
        "maintenance",
    ]


def test_fixture_source_fields():
    source = fixture_config().get("fleetwatch")
    assert source == Source(
        key="fleetwatch",
        name="Fleetwatch",
        kind="feed",
        urls=("http://127.0.0.1:8123/feeds/naval.xml",),
        language="en",
        spider=None,
        categories=("国際",),
        category_map={
            "Naval": "海上",
            "Submarines": "海上",
            "Shipbuilding": "防衛産業",
            "Japan": "日本の防衛",
        },
        status=None,
        enabled=True,
        keep_unmapped=False,
    )


def test_fixture_list_needs_its_placeholder_replaced():
    with pytest.raises(SourcesError, match=r"not an absolute http\(s\) URL"):
        load_sources(FIXTURES / "sources.toml")


def test_get_unknown_key_raises_key_error():
    with pytest.raises(KeyError):
        fixture_config().get("nope")


# --- map_categories -----------------------------------------------------------------------


def _source(**overrides):
    fields = dict(
        key="s",
        name="S",
        kind="feed",
        urls=("https://s.example/feed",),
        language="en",
        categories=("国際",),
        category_map={"Naval": "海上", "Navy": "海上", "Japan": "日本の防衛"},
    )
    fields.update(overrides)
    return Source(**fields)


@pytest.mark.parametrize(
    ("labels", "keep", "expected"),
    [
        pytest.param(["Naval"], True, ["海上", "国際"], id="mapped-then-defaults"),
        pytest.param(["Naval", "Navy"], True, ["海上", "国際"], id="two-labels-one-category"),
        pytest.param(
            ["Lasers", "Japan"], True, ["Lasers", "日本の防衛", "国際"], id="unmapped-kept"
        ),
        pytest.param(["Lasers", "Japan"], False, ["日本の防衛", "国際"], id="unmapped-dropped"),
        pytest.param(["国際", " Naval ", ""], True, ["国際", "海上"], id="dedupe-strip-blank"),
        pytest.param([], True, ["国際"], id="no-labels"),
    ],
)
def test_map_categories(labels, keep, expected):
    assert map_categories(_source(keep_unmapped=keep), labels) == expected


def test_map_categories_without_defaults_or_map():
    source = _source(categories=(), category_map={})
    assert map_categories(source, ["海上", "海上", "航空"]) == ["海上", "航空"]


# --- bad files: the message names the file and the line ------------------------------------

GOOD_HEAD = """\
[categories]
"海上" = "naval"
"国際" = "world"
"""

GOOD_SOURCE = """\
[[source]]
key = "navalnews"
name = "Naval News"
kind = "feed"
url = "https://www.navalnews.com/feed/"
language = "en"
"""


def _error(text: str) -> SourcesError:
    with pytest.raises(SourcesError) as info:
        parse_sources(textwrap.dedent(text), path="bad.toml")
    return info.value


SECOND = (
    '[[source]]\nkey = "x"\nname = "X"\nkind = "feed"\n'
    'url = "https://x.example/feed"\nlanguage = "en"\n'
)

# (file text, text of the line the error must name (None: no line), words of the message)
BAD_FILES = [
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + "enabled = yes\n",
        "enabled = yes",
        "invalid TOML: Invalid value (at line 10, column 11)",
        id="toml-syntax",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + "[[source]]\nkey = 'x'\nkey = 'y'\n",
        "key = 'y'",
        "invalid TOML",
        id="toml-duplicate-key",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + SECOND.replace('"feed"', '"rss"'),
        'kind = "rss"',
        "source 'x': unknown kind 'rss' (expected 'site' or 'feed')",
        id="unknown-kind",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + "\n" + SECOND.replace('name = "X"\n', ""),
        "[[source]]",
        "source 'x': missing required field 'name'",
        id="missing-name",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + SECOND.replace('key = "x"\n', ""),
        "[[source]]",
        "source #2: missing required field 'key'",
        id="missing-key",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + SECOND.replace('url = "https://x.example/feed"\n', ""),
        "[[source]]",
        "source 'x': missing required field 'url' (or 'urls')",
        id="missing-url",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + SECOND.replace('"x"', '"navalnews"'),
        'key = "navalnews"',
        "duplicate source key 'navalnews' (first used in source #1)",
        id="duplicate-key",
    ),
    pytest.param(
        GOOD_HEAD
        + GOOD_SOURCE
        + SECOND.replace("https://x.example/feed", "https://www.navalnews.com/feed/"),
        'url = "https://www.navalnews.com/feed/"',
        "source 'x': URL https://www.navalnews.com/feed/ is already listed by source 'navalnews'",
        id="duplicate-url",
    ),
    pytest.param(
        GOOD_HEAD
        + GOOD_SOURCE.replace("https://www.navalnews.com/feed/", "www.navalnews.com/feed/"),
        'url = "www.navalnews.com/feed/"',
        "'www.navalnews.com/feed/' is not an absolute http(s) URL",
        id="bad-url",
    ),
    pytest.param(
        GOOD_HEAD
        + GOOD_SOURCE.replace(
            'url = "https://www.navalnews.com/feed/"', 'urls = ["ftp://x.example/f"]'
        ),
        'urls = ["ftp://x.example/f"]',
        "'ftp://x.example/f' is not an absolute http(s) URL",
        id="bad-url-scheme",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE.replace('url = "https://www.navalnews.com/feed/"', "urls = []"),
        "urls = []",
        "'urls' must be a non-empty list of URLs",
        id="empty-urls",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + 'urls = ["https://b.example/"]\n',
        'urls = ["https://b.example/"]',
        "give either 'url' or 'urls', not both",
        id="url-and-urls",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + 'langauge = "ja"\n',
        'langauge = "ja"',
        "source #1: unknown field 'langauge' (known fields: key, name,",
        id="unknown-field",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + 'categories = ["海軍"]\n',
        'categories = ["海軍"]',
        "category '海軍' is not declared in [categories]",
        id="undeclared-category",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + '[source.category_map]\n"Naval" = "海上"\n"Air" = "航空"\n',
        '"Air" = "航空"',
        "category_map maps 'Air' to '航空', which is not declared in [categories]",
        id="category-map-target",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + 'category_map = { "Air" = "航空" }\n',
        'category_map = { "Air" = "航空" }',
        "maps 'Air' to '航空'",
        id="category-map-inline",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + 'spider = "navalnews"\n',
        'spider = "navalnews"',
        "'spider' is for kind = \"site\"",
        id="spider-on-feed",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + 'status = "verified"\n',
        'status = "verified"',
        "unknown status 'verified' (expected 'confirmed' or 'unverified')",
        id="bad-status",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + 'enabled = "no"\n',
        'enabled = "no"',
        "'enabled' must be true or false",
        id="enabled-not-bool",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + 'unmapped = "ignore"\n',
        'unmapped = "ignore"',
        '\'unmapped\' must be "keep" or "drop"',
        id="bad-unmapped",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE.replace('key = "navalnews"', 'key = "Naval News"'),
        'key = "Naval News"',
        "key 'Naval News' must be lower-case",
        id="bad-key",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE.replace('name = "Naval News"', "name = 3"),
        "name = 3",
        "'name' must be a non-empty string",
        id="name-not-string",
    ),
    pytest.param(
        GOOD_HEAD + '"航空" = "Air Force"\n' + GOOD_SOURCE,
        '"航空" = "Air Force"',
        "category '航空': slug 'Air Force' must be a-z, 0-9, '-' and '_'",
        id="bad-slug",
    ),
    pytest.param(
        GOOD_HEAD + '"海軍" = "naval"\n' + GOOD_SOURCE,
        '"海軍" = "naval"',
        "category '海軍': slug 'naval' is already used by '海上'",
        id="duplicate-slug",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + "\n[feeds]\nx = 1\n",
        "[feeds]",
        "unknown top-level entry 'feeds'",
        id="unknown-table",
    ),
    pytest.param(
        GOOD_HEAD + '[source]\nkey = "x"\n',
        "[source]",
        "'source' must be an array of tables",
        id="source-not-array",
    ),
    pytest.param(GOOD_HEAD, None, "no sources: add at least one [[source]] block", id="no-sources"),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + "min_interval = 15\n",
        "min_interval = 15",
        "source 'navalnews': 'min_interval': expected a duration with its unit s, m, h or d, "
        "such as 15m, got 15",
        id="min-interval-without-unit",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + 'min_interval = "15"\n',
        'min_interval = "15"',
        "got '15' (seconds or minutes? write 15s or 15m)",
        id="min-interval-bare-number",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE + 'min_interval = "0h"\n',
        'min_interval = "0h"',
        "'min_interval': expected a duration",
        id="min-interval-zero",
    ),
    pytest.param(
        GOOD_HEAD + GOOD_SOURCE.replace('kind = "feed"', 'kind = "site"') + 'min_interval = "1h"\n',
        'min_interval = "1h"',
        "'min_interval' is for kind = \"feed\" sources",
        id="min-interval-on-a-site",
    ),
]


@pytest.mark.parametrize(("text", "seconds"), [
    ('min_interval = "1h"\n', 3600.0), ('min_interval = "90s"\n', 90.0),
    ('min_interval = "1.5d"\n', 129600.0), ("", None)])
def test_min_interval_is_read_in_seconds(text, seconds):
    config = parse_sources(GOOD_HEAD + GOOD_SOURCE + text, path="good.toml")
    assert config.get("navalnews").min_interval == seconds


@pytest.mark.parametrize(("text", "line_text", "message"), BAD_FILES)
def test_bad_file_names_file_and_line(text, line_text, message):
    error = _error(text)
    assert error.path == "bad.toml"
    assert message in str(error)
    if line_text is None:
        assert error.line is None
        assert str(error).startswith("bad.toml: ")
        return
    assert error.line is not None, str(error)
    assert text.splitlines()[error.line - 1] == line_text, str(error)
    assert str(error).startswith(f"bad.toml:{error.line}: "), str(error)


def test_error_line_is_found_in_the_right_block():
    """The second of three blocks is wrong: the line is inside that block, not the first."""
    text = (
        GOOD_HEAD
        + GOOD_SOURCE
        + '[source.category_map]\n"Naval" = "海上"\n\n'
        + GOOD_SOURCE.replace('"navalnews"', '"b"').replace("navalnews.com", "b.example")
        + 'kind_of = "x"\n\n'
        + GOOD_SOURCE.replace('"navalnews"', '"c"').replace("navalnews.com", "c.example")
    )
    error = _error(text)
    assert error.line == 19
    assert text.splitlines()[error.line - 1] == 'kind_of = "x"'
    assert str(error) == (
        "bad.toml:19: source #2: unknown field 'kind_of' (known fields: key, name, kind, url, "
        "urls, language, spider, categories, category_map, unmapped, status, enabled, fulltext, "
        "profile, discovery, min_interval)"
    )


def test_error_in_the_packaged_format_names_the_real_file(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text(GOOD_HEAD + GOOD_SOURCE.replace('"feed"', '"rss"'), encoding="utf-8")
    with pytest.raises(SourcesError) as info:
        load_sources(path)
    assert str(info.value).startswith(f"{path}:7: source 'navalnews': unknown kind 'rss'")


def test_missing_file_is_a_sources_error(tmp_path):
    with pytest.raises(SourcesError, match="cannot read sources file"):
        load_sources(tmp_path / "nope.toml")


def test_sources_error_is_a_value_error():
    assert issubclass(SourcesError, ValueError)


def test_site_spider_defaults_to_key_and_url_list_is_deduplicated():
    config = parse_sources(
        GOOD_HEAD + '[[source]]\nkey = "jdefense"\nname = "J"\nkind = "site"\n'
        'urls = ["https://j.example/", "https://j.example/"]\nlanguage = "ja"\nenabled = false\n'
    )
    source = config.get("jdefense")
    assert source.spider == "jdefense"
    assert source.urls == ("https://j.example/",)
    assert config.site_sources() == ()
    assert config.site_sources(include_disabled=True) == (source,)


@pytest.mark.parametrize("slug", ["all", "ranking-x", "naval-", "Naval"], ids=str)
def test_slugs_the_feed_builder_refuses_are_refused_at_load(slug):
    text = f'[categories]\n"海上" = "{slug}"\n'
    with pytest.raises(SourcesError, match=r":2: category '海上'"):
        parse_sources(text, path="s.toml")
