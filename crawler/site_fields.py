"""The fields of a site's ``[source.profile]`` and ``[source.discovery]`` tables, checked.

A site is data: everything the generic site spider and the generic reader need to know of one
site (its article URL pattern, label words and where they stand, its date line and how precise
it is, chrome phrases, bylines, truncation markers, how to discover articles) is written in its
``[[source]]`` block. This module knows the names and types of those fields and refuses bad
values with a reason; :mod:`crawler.sources` adds the file and the line. No Scrapy, no lxml:
the CLI reads it. ``crawler.pages.profiles`` turns the checked tables into a ``SiteProfile``.

Every field is optional: a site with no profile at all is read by the generic reader.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from datetime import date
from types import MappingProxyType
from typing import Any

__all__ = ["DISCOVERY_FIELDS", "PROFILE_FIELDS", "SiteFieldError", "check_site_table"]


class SiteFieldError(ValueError):
    """A bad profile or discovery value; ``path`` is where it is inside the table."""

    def __init__(self, path: tuple[str, ...], message: str) -> None:
        self.path = path
        super().__init__(message)


Check = Callable[[tuple[str, ...], Any], Any]


def _name(path: tuple[str, ...]) -> str:
    return ".".join(path)


def _text(path: tuple[str, ...], value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SiteFieldError(path, f"{_name(path)!r} must be a non-empty string")
    return value.strip()


def _texts(path: tuple[str, ...], value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SiteFieldError(path, f"{_name(path)!r} must be a list of non-empty strings")
    return tuple(dict.fromkeys(v.strip() for v in value))


def _regex(path: tuple[str, ...], value: Any, groups: tuple[str, ...] = ()) -> str:
    if not isinstance(value, str) or not value:
        raise SiteFieldError(path, f"{_name(path)!r} must be a regular expression (a string)")
    try:
        compiled = re.compile(value)
    except re.error as exc:
        raise SiteFieldError(path, f"{_name(path)!r} is not a valid regular expression: {exc}") from None
    for group in groups:
        if group not in compiled.groupindex:
            raise SiteFieldError(path, f"{_name(path)!r} must have a group named (?P<{group}>...)")
    return value


def _regex_with(*groups: str) -> Check:
    return lambda path, value: _regex(path, value, groups)


def _choice(*choices: str) -> Check:
    def check(path: tuple[str, ...], value: Any) -> str:
        if value not in choices:
            expected = ", ".join(repr(c) for c in choices)
            raise SiteFieldError(path, f"{_name(path)!r} must be one of {expected} (got {value!r})")
        return str(value)

    return check


def _bool(path: tuple[str, ...], value: Any) -> bool:
    if not isinstance(value, bool):
        raise SiteFieldError(path, f"{_name(path)!r} must be true or false")
    return value


def _count(low: int, high: int) -> Check:
    def check(path: tuple[str, ...], value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SiteFieldError(path, f"{_name(path)!r} must be a whole number {low}..{high}")
        return value

    return check


def _paths(path: tuple[str, ...], value: Any) -> tuple[str, ...]:
    found = _texts(path, value)
    for item in found:
        if not item.startswith("/"):
            raise SiteFieldError(path, f"{_name(path)!r}: {item!r} must be a path starting with /")
    return found


def _text_table(path: tuple[str, ...], value: Any) -> Mapping[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(v, str) and v.strip() for v in value.values()
    ):
        raise SiteFieldError(path, f"{_name(path)!r} must be a table of name = \"text\"")
    return MappingProxyType({k.strip(): v.strip() for k, v in value.items()})


def _periods(path: tuple[str, ...], value: Any) -> Mapping[str, str]:
    table = _text_table(path, value)
    for tab, period in table.items():
        if period not in ("24h", "1w", "1m"):
            raise SiteFieldError(
                (*path, tab), f"{_name((*path, tab))!r} must be \"24h\", \"1w\" or \"1m\""
            )
    return table


def _section_labels(path: tuple[str, ...], value: Any) -> Mapping[str, Any]:
    """section = "label", or section = [["label", "until YYYY-MM-DD"], ..., ["label"]]."""
    if not isinstance(value, dict):
        raise SiteFieldError(path, f"{_name(path)!r} must be a table of section = label")
    out: dict[str, Any] = {}
    for section, labels in value.items():
        where = (*path, section)
        if isinstance(labels, str) and labels.strip():
            out[section] = ((labels.strip(), None),)
            continue
        steps: list[tuple[str, date | None]] = []
        if not isinstance(labels, list) or not labels:
            raise SiteFieldError(where, f"{_name(where)!r} must be a label or a list of steps")
        for step in labels:
            ok = isinstance(step, list) and 1 <= len(step) <= 2
            ok = ok and all(isinstance(x, str) and x.strip() for x in step)
            if not ok:
                raise SiteFieldError(
                    where, f"{_name(where)!r}: each step is [\"label\", \"YYYY-MM-DD\"] "
                    "(the label until that day) or [\"label\"] (from then on)"
                )
            until = None
            if len(step) == 2:
                try:
                    until = date.fromisoformat(step[1])
                except ValueError:
                    raise SiteFieldError(where, f"{_name(where)!r}: {step[1]!r} is not YYYY-MM-DD") from None
            steps.append((step[0].strip(), until))
        out[section] = tuple(steps)
    return MappingProxyType(out)


HINT_FIELDS = (
    "title", "labels", "dateline", "body", "lead", "author", "ranking", "ranking_title",
    "listing", "listing_scope", "next_page",
)  # fmt: skip


def _hints(path: tuple[str, ...], value: Any) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise SiteFieldError(path, f"{_name(path)!r} must be a table of name = [\"selector\"]")
    out = {}
    for name, selectors in value.items():
        if name not in HINT_FIELDS:
            raise SiteFieldError(
                (*path, name),
                f"unknown hint {name!r} (known hints: {', '.join(HINT_FIELDS)})",
            )
        out[name] = _texts((*path, name), selectors)
        for selector in out[name]:
            _css((*path, name), selector)
    return MappingProxyType(out)


def _css(path: tuple[str, ...], selector: str) -> None:
    try:  # cssselect is pure Python (no lxml needed to check a selector)
        import cssselect

        cssselect.GenericTranslator().css_to_xpath(selector)
    except ImportError:  # pragma: no cover - a dependency of lxml.cssselect
        return
    except Exception as exc:  # SelectorError, ExpressionError
        raise SiteFieldError(path, f"{_name(path)!r}: {selector!r} is not a CSS selector: {exc}") from None


def _template(*fields: str) -> Check:
    """A URL path template with ``{name}`` / ``{name:06d}`` fields, only ``fields`` allowed."""

    def check(path: tuple[str, ...], value: Any) -> str:
        text = _text(path, value)
        if not text.startswith("/"):
            raise SiteFieldError(path, f"{_name(path)!r} must be a path starting with /")
        try:
            names = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        except ValueError as exc:
            raise SiteFieldError(path, f"{_name(path)!r} is not a template: {exc}") from None
        for name in names:
            if name.split(".")[0] not in fields:
                raise SiteFieldError(
                    path, f"{_name(path)!r}: unknown field {{{name}}} (known: {', '.join(fields)})"
                )
        return text

    return check


def _sub_table(spec: Mapping[str, Check]) -> Check:
    def check(path: tuple[str, ...], value: Any) -> Mapping[str, Any]:
        return _table(path, value, spec)

    return check


def _table(path: tuple[str, ...], value: Any, spec: Mapping[str, Check]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise SiteFieldError(path, f"[{_name(('source', *path))}] must be a table")
    out = {}
    for name, item in value.items():
        if name not in spec:
            raise SiteFieldError(
                (*path, name),
                f"[{_name(('source', *path))}] unknown field {name!r} "
                f"(known fields: {', '.join(spec)})",
            )
        out[name] = spec[name]((*path, name), item)
    return MappingProxyType(out)


PROFILE_FIELDS: Mapping[str, Check] = {
    "site_name": _text,  # stripped from <title> and og:title; never content
    "article_url": _regex,  # the path of an article page (named groups: see DESIGN.md)
    "label_link": _regex,  # the path a label links to (a section index)
    "labels": _texts,  # the label vocabulary
    "label_position": _choice("above", "below"),  # above or below the title
    "section_labels": _section_labels,  # section slug -> label when a page shows none
    "dateline": _regex,  # the publication date line
    "date_precision": _choice("minute", "day"),  # what the date line says: a time, or a day
    "chrome": _texts,  # whole block texts that are never content
    "chrome_pattern": _regex,
    "end_pattern": _regex,  # a block matching this ends the body
    "caption_pattern": _regex,
    "byline": _regex,  # a byline block just under the date line
    "byline_end": _regex_with("author"),  # a byline at a paragraph's end
    "not_byline": _regex,  # what byline_end's author must not match (places, credits)
    "truncation": _texts,  # the paywall cut: a paragraph ending so, a "read more" block
    "not_article": _regex,  # titles of error and search pages
    "not_article_pages": _paths,  # pages never emitted as articles (front, company page)
    "next_article": _texts,  # link texts of the next / previous article
    "prev_article": _texts,
    "next_page": _regex,  # link text of the next listing page
    "index_page": _regex_with("n"),  # numbered listing pages: the page number in (?P<n>)
    "ranking_heading": _text,
    "ranking_tabs": _periods,
    "hints": _hints,
}

DISCOVERY_FIELDS: Mapping[str, Check] = {
    "listings": _paths,  # start pages: the front page, section indexes (first is the front)
    "sections": _texts,  # {section} of listing paths and of the id walk
    "pagination": _bool,
    "prev_next": _bool,  # follow 前の記事 / 次の記事
    "ranking": _bool,  # read the ranking sidebar
    "id_walk": _sub_table(
        {"template": _template("section", "number"), "sections": _texts}
    ),
    "date_folders": _sub_table(
        {
            "template": _template("date", "seq"),
            "days": _count(1, 3660),  # how far back from today (or the newest day seen)
            "per_day": _count(1, 99),  # the highest sequence number of a day
            "max_probes": _count(0, 100_000),  # requests per crawl, at most
            "first_seq": _count(0, 99),
        }
    ),
}


def check_site_table(table: str, value: Any) -> Mapping[str, Any]:
    """``table`` ("profile" or "discovery") checked; raises :class:`SiteFieldError`."""
    spec = PROFILE_FIELDS if table == "profile" else DISCOVERY_FIELDS
    return _table((table,), value, spec)
