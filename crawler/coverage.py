"""Field coverage of a crawl: which share of articles had each field, found by which layer.

Page parsers record the layer that found each field (``item.provenance``, see
``crawler/pages/finders.py``). :func:`record` counts them into the crawl stats as
``defnews/coverage/<field>/<layer>`` (``missing`` when no layer found it);
:func:`coverage_table` turns stats back into a table, and :func:`coverage_lines` into the lines
of the crawl summary, with a warning for every field found on fewer articles than the
``DEFNEWS_COVERAGE_MIN`` share — the day a site changes its markup, it shows here first.

Plain functions of a stats mapping (``crawler.stats.get_stats()``): other reports (source
health) can reuse them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Protocol

PREFIX = "defnews/coverage/"
ARTICLES_KEY = PREFIX + "articles"
MINIMUM_KEY = PREFIX + "minimum"
MISSING = "missing"
FIELDS = ("title", "published", "labels", "body", "summary")
DEFAULT_MINIMUM = 0.9


class _Stats(Protocol):
    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...
    def set_value(self, key: str, value: Any) -> None: ...


def record(
    stats: _Stats,
    provenance: Mapping[str, str],
    minimum: float = DEFAULT_MINIMUM,
    fields: tuple[str, ...] = FIELDS,
) -> None:
    """Count one article's layers (``{"title": "metadata", ...}``) into ``stats``."""
    stats.inc_value(ARTICLES_KEY)
    stats.set_value(MINIMUM_KEY, minimum)
    for name in fields:
        stats.inc_value(f"{PREFIX}{name}/{provenance.get(name) or MISSING}")


@dataclass
class FieldCoverage:
    field: str
    articles: int
    found: int
    layers: dict[str, int] = dataclass_field(default_factory=dict)  # layer -> articles, missing excluded

    @property
    def share(self) -> float:
        return self.found / self.articles if self.articles else 0.0


def coverage_table(stats: Mapping[str, Any]) -> list[FieldCoverage]:
    """Per-field coverage from crawl stats, in :data:`FIELDS` order (then any other field)."""
    articles = int(stats.get(ARTICLES_KEY) or 0)
    by_field: dict[str, dict[str, int]] = {}
    for key, value in stats.items():
        if not key.startswith(PREFIX) or key in (ARTICLES_KEY, MINIMUM_KEY):
            continue
        name, _, layer = key[len(PREFIX) :].partition("/")
        if layer:
            by_field.setdefault(name, {})[layer] = int(value)
    order = [f for f in FIELDS if f in by_field] + sorted(set(by_field) - set(FIELDS))
    table = []
    for name in order:
        layers = {k: v for k, v in by_field[name].items() if k != MISSING}
        table.append(FieldCoverage(name, articles, sum(layers.values()), layers))
    return table


def coverage_lines(stats: Mapping[str, Any], minimum: float | None = None) -> list[str]:
    """Lines for the crawl summary: one per field, then a WARNING per field under ``minimum``."""
    table = coverage_table(stats)
    if not table or not table[0].articles:
        return []
    if minimum is None:
        minimum = float(stats.get(MINIMUM_KEY, DEFAULT_MINIMUM))
    lines = []
    for row in table:
        shares = ", ".join(
            f"{layer} {n / row.articles:.0%}"
            for layer, n in sorted(row.layers.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        lines.append(f"{row.field:<10} {row.share:>4.0%} of {row.articles}  ({shares or 'none'})")
    for row in table:
        if row.share < minimum:
            lines.append(
                f"WARNING: {row.field} found on {row.share:.0%} of articles, under "
                f"DEFNEWS_COVERAGE_MIN = {minimum:.0%}: has the site's markup changed?"
            )
    return lines
