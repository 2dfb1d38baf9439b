"""Sources as configuration: every site and feed defnews reads, declared in one TOML file.

The file (``crawler/sources.toml`` ships the default; every command takes ``--sources FILE``)
has two parts::

    [categories]                 # defnews category label -> slug of its feed files
    "海上" = "naval"

    [[source]]                   # one block per source
    key = "navalnews"            # stable id: items carry it in ``source``
    name = "Naval News"
    kind = "feed"                # "feed" (RSS/Atom/JSON Feed) or "site" (a scraping spider)
    urls = ["https://www.navalnews.com/feed/"]   # or: url = "..."
    language = "en"
    categories = ["海上"]         # defnews labels every entry gets (optional)
    unmapped = "drop"            # the outlet's own labels not in category_map: "keep" or "drop"
    status = "unverified"        # curated list: "confirmed" (the outlet documents the URL)
    enabled = true               # optional, default true
    fulltext = false             # feeds: read each new entry's page for its body (optional)
    min_interval = "1h"          # feeds: fetched at most once per 1h (s, m, h, d; politeness)
    [source.category_map]        # the outlet's own labels -> defnews labels (optional)
    "Naval" = "海上"

Crawling code knows no source; adding a block adds a source. A bad file raises
:class:`SourcesError` whose message starts with ``FILE:LINE:``, like a compiler's.
No Scrapy import here: the CLI and the feed builder read the same file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from crawler.site_fields import SiteFieldError, check_site_table
from feeds.config import check_slug

KINDS = ("site", "feed")
STATUSES = ("confirmed", "unverified")
UNMAPPED = ("keep", "drop")
DEFAULT_NAME = "sources.toml"

_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_TOP_LEVEL = ("categories", "source")
_FIELDS = (
    "key",
    "name",
    "kind",
    "url",
    "urls",
    "language",
    "spider",
    "categories",
    "category_map",
    "unmapped",
    "status",
    "enabled",
    "fulltext",
    "profile",
    "discovery",
    "min_interval",
)


class SourcesError(ValueError):
    """A sources file that cannot be used. The message names the file and the line."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Source:
    key: str
    name: str
    kind: str  # "site" | "feed"
    urls: tuple[str, ...]
    language: str
    spider: str | None = None  # sites: the spider that crawls it (defaults to the key)
    categories: tuple[str, ...] = ()  # defnews labels every item of this source gets
    category_map: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    status: str | None = None  # "confirmed" | "unverified" (curated list) | None
    enabled: bool = True
    keep_unmapped: bool = True  # keep the source's own labels that category_map lacks
    # Feeds that give only a summary: each new entry's page is fetched once and read by the
    # generic article reader for its body (the feed's title, date and link stay).
    fulltext: bool = False
    # Sites: [source.profile] and [source.discovery], checked (see crawler/site_fields.py);
    # crawler.pages.profiles turns them into a SiteProfile.
    profile: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    discovery: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    min_interval: float | None = None  # feeds: seconds a run waits after the last fetch

    @property
    def url(self) -> str:
        """The first (main) URL."""
        return self.urls[0]


@dataclass(frozen=True)
class SourcesConfig:
    sources: tuple[Source, ...]
    category_slugs: Mapping[str, str] = field(hash=False)  # defnews label -> slug, file order
    path: str

    def get(self, key: str) -> Source:
        for source in self.sources:
            if source.key == key:
                return source
        raise KeyError(key)

    def feed_sources(self, *, include_disabled: bool = False) -> tuple[Source, ...]:
        return tuple(
            s for s in self.sources if s.kind == "feed" and (s.enabled or include_disabled)
        )

    def site_sources(self, *, include_disabled: bool = False) -> tuple[Source, ...]:
        return tuple(
            s for s in self.sources if s.kind == "site" and (s.enabled or include_disabled)
        )

    def slug_for(self, label: str) -> str | None:
        """The feed-file slug of a defnews category label, None for labels not declared."""
        return self.category_slugs.get(label)


_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> float:
    """``90s``, ``15m``, ``2h``, ``1d`` -> seconds; the unit is required (a bare ``15``:
    seconds or minutes?). Raises ValueError naming what is expected."""
    match = _INTERVAL.match(text) if isinstance(text, str) else None
    if not match or float(match.group(1)) <= 0:
        hint = f" (seconds or minutes? write {text.strip()}s or {text.strip()}m)" \
            if isinstance(text, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", text) else ""
        raise ValueError(
            f"expected a duration with its unit s, m, h or d, such as 15m, got {text!r}{hint}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def format_interval(seconds: float) -> str:
    """The shortest exact way to write ``seconds`` as parse_interval reads it."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def map_categories(source: Source, labels: Iterable[str]) -> list[str]:
    """The defnews labels of an item: the source's own labels mapped, then its defaults.

    Labels missing from ``category_map`` are kept as they are unless the source says
    ``unmapped = "drop"``. Blank labels are ignored; duplicates are removed, first kept.
    """
    result: list[str] = []
    for raw in labels:
        label = (raw or "").strip()
        if not label:
            continue
        mapped = source.category_map.get(label)
        if mapped is None:
            if not source.keep_unmapped:
                continue
            mapped = label
        if mapped not in result:
            result.append(mapped)
    for label in source.categories:
        if label not in result:
            result.append(label)
    return result


def default_sources_path() -> Path:
    """The packaged default list (a real file in a normal or editable install)."""
    return Path(str(resources.files("crawler").joinpath(DEFAULT_NAME)))


def load_sources(path: str | Path | None = None) -> SourcesConfig:
    """Read and check a sources file; ``None`` reads the packaged default."""
    if path is None:
        resource = resources.files("crawler").joinpath(DEFAULT_NAME)
        return parse_sources(resource.read_text(encoding="utf-8"), path=str(resource))
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourcesError(str(path), None, f"cannot read sources file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise SourcesError(str(path), None, f"not UTF-8 text: {exc.reason}") from exc
    return parse_sources(text, path=str(path))


def parse_sources(text: str, *, path: str = "<sources>") -> SourcesConfig:
    """Check the text of a sources file (``path`` only names it in errors)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib says "... (at line 3, column 7)": keep its words, put the line up front.
        match = re.search(r"at line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        raise SourcesError(path, line, f"invalid TOML: {exc}") from exc
    return _Checker(text, path).check(data)


# --- checking ---------------------------------------------------------------------------


class _Checker:
    """Turns the parsed TOML into a :class:`SourcesConfig`, or raises with a line number.

    tomllib keeps no positions, so lines are found again in the text: the n-th
    ``[[source]]`` header, then the key inside that block.
    """

    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.blocks = self._source_blocks()

    # -- locating lines --

    _HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")

    def _source_blocks(self) -> list[tuple[int, int]]:
        """(first, last) line numbers (1-based) of each ``[[source]]`` block, in order."""
        blocks: list[tuple[int, int]] = []
        start: int | None = None
        for number, line in enumerate(self.lines, start=1):
            match = self._HEADER.match(line)
            if not match:
                continue
            name = match.group(1).replace('"', "").replace("'", "")
            if line.lstrip().startswith("[[") and name == "source":
                if start is not None:
                    blocks.append((start, number - 1))
                start = number
            elif start is not None and not name.startswith("source."):
                blocks.append((start, number - 1))
                start = None
        if start is not None:
            blocks.append((start, len(self.lines)))
        return blocks

    def _key_line(self, name: str, first: int, last: int) -> int | None:
        key = re.compile(
            rf"""^\s*(?:"{re.escape(name)}"|'{re.escape(name)}'|{re.escape(name)})\s*="""
        )
        for number in range(first, last + 1):
            if key.match(self.lines[number - 1]):
                return number
        return None

    def _table_line(self, name: str) -> int | None:
        header = re.compile(rf"^\s*\[\s*{re.escape(name)}\s*\]")
        for number, line in enumerate(self.lines, start=1):
            if header.match(line):
                return number
        return None

    def source_line(self, index: int, name: str | None = None) -> int | None:
        if index >= len(self.blocks):
            return None
        first, last = self.blocks[index]
        if name is not None:
            found = self._key_line(name, first, last)
            if found is not None:
                return found
        return first

    def fail(self, line: int | None, message: str) -> SourcesError:
        return SourcesError(self.path, line, message)

    # -- checking --

    def check(self, data: dict[str, Any]) -> SourcesConfig:
        for name in data:
            if name not in _TOP_LEVEL:
                line = self._table_line(name) or self._key_line(name, 1, len(self.lines))
                raise self.fail(
                    line, f"unknown top-level entry {name!r} (expected [categories] and [[source]])"
                )
        slugs = self._categories(data.get("categories", {}))
        raw_sources = data.get("source", [])
        if not isinstance(raw_sources, list):
            raise self.fail(
                self._table_line("source") or self._key_line("source", 1, len(self.lines)),
                "'source' must be an array of tables: write each source as a [[source]] block",
            )
        if not raw_sources:
            raise self.fail(None, "no sources: add at least one [[source]] block")
        sources: list[Source] = []
        seen_keys: dict[str, int] = {}
        seen_urls: dict[str, str] = {}
        for index, raw in enumerate(raw_sources):
            source = self._source(index, raw, slugs)
            if source.key in seen_keys:
                raise self.fail(
                    self.source_line(index, "key"),
                    f"duplicate source key {source.key!r} (first used in source #{seen_keys[source.key]})",
                )
            seen_keys[source.key] = index + 1
            for url in source.urls:
                if url in seen_urls:
                    field_name = "urls" if "urls" in raw_sources[index] else "url"
                    raise self.fail(
                        self.source_line(index, field_name),
                        f"source {source.key!r}: URL {url} is already listed by source {seen_urls[url]!r}",
                    )
                seen_urls[url] = source.key
            sources.append(source)
        return SourcesConfig(
            sources=tuple(sources), category_slugs=MappingProxyType(slugs), path=self.path
        )

    def _categories(self, raw: Any) -> dict[str, str]:
        table_line = self._table_line("categories")
        if not isinstance(raw, dict):
            raise self.fail(table_line, '[categories] must be a table of label = "slug"')
        slugs: dict[str, str] = {}
        by_slug: dict[str, str] = {}
        first, last = table_line or 1, len(self.lines)
        for label, slug in raw.items():
            line = self._key_line(label, first, last) or table_line
            if not isinstance(slug, str):
                raise self.fail(line, f"category {label!r}: slug must be a string (got {slug!r})")
            try:
                check_slug(slug, f"category {label!r}")  # the feed builder's own rule
            except ValueError as exc:
                raise self.fail(line, str(exc)) from None
            if not label.strip():
                raise self.fail(line, "category label must not be blank")
            if slug in by_slug:
                raise self.fail(
                    line, f"category {label!r}: slug {slug!r} is already used by {by_slug[slug]!r}"
                )
            by_slug[slug] = label
            slugs[label] = slug
        return slugs

    def _source(self, index: int, raw: Any, slugs: Mapping[str, str]) -> Source:
        if not isinstance(raw, dict):
            raise self.fail(self.source_line(index), "each source must be a [[source]] table")
        label = f"source #{index + 1}"

        def line(name: str | None = None) -> int | None:
            return self.source_line(index, name)

        def text(name: str, *, required: bool) -> str | None:
            value = raw.get(name)
            if value is None:
                if required:
                    raise self.fail(line(), f"{label}: missing required field {name!r}")
                return None
            if not isinstance(value, str) or not value.strip():
                raise self.fail(line(name), f"{label}: {name!r} must be a non-empty string")
            return value.strip()

        for name in raw:
            if name not in _FIELDS:
                raise self.fail(
                    line(name),
                    f"{label}: unknown field {name!r} (known fields: {', '.join(_FIELDS)})",
                )

        key = text("key", required=True)
        assert key is not None
        if not _KEY_RE.match(key):
            raise self.fail(
                line("key"),
                f"{label}: key {key!r} must be lower-case a-z, 0-9, '-' or '_' (it names files)",
            )
        label = f"source {key!r}"
        name = text("name", required=True)
        kind = text("kind", required=True)
        if kind not in KINDS:
            raise self.fail(
                line("kind"), f"{label}: unknown kind {kind!r} (expected 'site' or 'feed')"
            )
        language = text("language", required=True)
        assert name is not None and language is not None

        urls = self._urls(raw, label, line)

        spider = text("spider", required=False)
        if kind == "feed" and spider is not None:
            raise self.fail(
                line("spider"),
                f"{label}: 'spider' is for kind = \"site\"; feed sources use the generic feeds spider",
            )
        if kind == "site" and spider is None:
            spider = key

        categories = raw.get("categories", [])
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            raise self.fail(line("categories"), f"{label}: 'categories' must be a list of strings")
        for category in categories:
            if category not in slugs:
                raise self.fail(
                    line("categories"),
                    f"{label}: category {category!r} is not declared in [categories]",
                )

        category_map = raw.get("category_map", {})
        if not isinstance(category_map, dict):
            raise self.fail(
                line("category_map"), f"{label}: 'category_map' must be a table of label = label"
            )
        map_line = self._map_line(index)
        for own, target in category_map.items():
            where = self._map_key_line(index, own) or map_line or line()
            if not isinstance(target, str):
                raise self.fail(where, f"{label}: category_map[{own!r}] must be a string")
            if target not in slugs:
                raise self.fail(
                    where,
                    f"{label}: category_map maps {own!r} to {target!r}, "
                    "which is not declared in [categories]",
                )

        unmapped = raw.get("unmapped", "keep")
        if unmapped not in UNMAPPED:
            raise self.fail(line("unmapped"), f'{label}: \'unmapped\' must be "keep" or "drop"')

        status = raw.get("status")
        if status is not None and status not in STATUSES:
            raise self.fail(
                line("status"),
                f"{label}: unknown status {status!r} (expected 'confirmed' or 'unverified')",
            )

        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            raise self.fail(line("enabled"), f"{label}: 'enabled' must be true or false")

        fulltext = raw.get("fulltext", False)
        if not isinstance(fulltext, bool):
            raise self.fail(line("fulltext"), f"{label}: 'fulltext' must be true or false")
        if fulltext and kind != "feed":
            raise self.fail(line("fulltext"), f"{label}: 'fulltext' is for feed sources only")
        site_tables: dict[str, Mapping[str, Any]] = {}
        for table in ("profile", "discovery"):
            value = raw.get(table)
            if value is None:
                site_tables[table] = MappingProxyType({})
                continue
            if kind != "site":
                raise self.fail(
                    self._sub_line(index, table),
                    f"{label}: [source.{table}] is for kind = \"site\" sources",
                )
            try:
                site_tables[table] = check_site_table(table, value)
            except SiteFieldError as exc:
                raise self.fail(
                    self._sub_line(index, table, exc.path[1:]), f"{label}: {exc}"
                ) from None
        min_interval = None
        if "min_interval" in raw:
            if kind != "feed":
                raise self.fail(line("min_interval"),
                                f"{label}: 'min_interval' is for kind = \"feed\" sources")
            try:
                min_interval = parse_interval(raw["min_interval"])
            except ValueError as exc:
                raise self.fail(line("min_interval"), f"{label}: 'min_interval': {exc}") from None

        return Source(
            key=key,
            name=name,
            kind=kind,
            urls=urls,
            language=language,
            spider=spider,
            categories=tuple(dict.fromkeys(categories)),
            category_map=MappingProxyType({k.strip(): v for k, v in category_map.items()}),
            status=status,
            enabled=enabled,
            keep_unmapped=unmapped == "keep",
            fulltext=fulltext,
            profile=site_tables["profile"],
            discovery=site_tables["discovery"],
            min_interval=min_interval,
        )

    def _sub_line(self, index: int, table: str, path: tuple[str, ...] = ()) -> int | None:
        """The line of ``[source.<table>]`` (or of ``path`` inside it) in source ``index``."""
        if index >= len(self.blocks):
            return None
        first, last = self.blocks[index]
        names = [table, *path]
        found: int | None = None
        # The deepest header or key of the path that can be found, in order.
        start = first
        for depth in range(len(names)):
            dotted = r"\s*\.\s*".join(re.escape(n) for n in ["source", *names[: depth + 1]])
            header = re.compile(rf"^\s*\[\s*{dotted}\s*\]")
            hit = next((n for n in range(start, last + 1) if header.match(self.lines[n - 1])), None)
            if hit is None:
                hit = self._key_line(names[depth], start, last)
            if hit is not None:  # (a level not written as a header or key: the next one is)
                found = start = hit
        return found or first

    def _urls(self, raw: dict[str, Any], label: str, line: Any) -> tuple[str, ...]:
        if "url" in raw and "urls" in raw:
            raise self.fail(line("urls"), f"{label}: give either 'url' or 'urls', not both")
        if "url" in raw:
            urls = [raw["url"]]
            name = "url"
        elif "urls" in raw:
            urls = raw["urls"]
            name = "urls"
            if not isinstance(urls, list) or not urls:
                raise self.fail(line(name), f"{label}: 'urls' must be a non-empty list of URLs")
        else:
            raise self.fail(line(), f"{label}: missing required field 'url' (or 'urls')")
        for url in urls:
            if not isinstance(url, str):
                raise self.fail(line(name), f"{label}: URL {url!r} must be a string")
            parts = urlsplit(url.strip())
            if parts.scheme not in ("http", "https") or not parts.netloc or " " in url.strip():
                raise self.fail(line(name), f"{label}: {url!r} is not an absolute http(s) URL")
        return tuple(dict.fromkeys(u.strip() for u in urls))

    def _map_line(self, index: int) -> int | None:
        if index >= len(self.blocks):
            return None
        first, last = self.blocks[index]
        header = re.compile(r"^\s*\[\s*source\s*\.\s*category_map\s*\]")
        for number in range(first, last + 1):
            if header.match(self.lines[number - 1]):
                return number
        return self._key_line("category_map", first, last)

    def _map_key_line(self, index: int, own: str) -> int | None:
        start = self._map_line(index)
        if start is None:
            return None
        _, last = self.blocks[index]
        found = self._key_line(own, start + 1, last)
        if found is not None:
            return found
        # inline table: category_map = { "Naval" = "海上" }
        if re.search(rf"""["']?{re.escape(own)}["']?\s*=""", self.lines[start - 1]):
            return start
        return None
