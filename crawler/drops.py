"""Nothing is dropped silently: one helper that logs a drop with its URL and reason and counts it.

Stats keys (read by the crawl summary, ``defnews.commands.print_crawl_report``):

- ``defnews/dropped`` — requests and items dropped (the progress line's "skipped");
- ``defnews/dropped/<reason>`` — the same, per reason (``_`` for spaces);
- ``defnews/flagged/<reason>`` — values replaced but the item kept (an implausible date);
- ``defnews/ignored/<reason>`` — a field value ignored (an off-site canonical URL).

No Scrapy import: the pipelines and the middlewares share it.
"""

from __future__ import annotations

import logging
from typing import Protocol

logger = logging.getLogger("defnews.dropped")


class Stats(Protocol):
    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...


def stats_key(kind: str, reason: str) -> str:
    return f"defnews/{kind}/{reason.replace(' ', '_')}"


def record_drop(
    stats: Stats | None,
    reason: str,
    url: str,
    detail: str = "",
    *,
    level: int = logging.INFO,
    count: int = 1,
    total: bool = True,
) -> None:
    """Log ``Dropped <url>: <reason> (<detail>)`` and count it under ``defnews/dropped``.

    ``total=False`` counts the reason only (parts of an item, such as category labels, are
    not pages or items skipped).
    """
    logger.log(level, "Dropped %s: %s%s", url, reason, f" ({detail})" if detail else "")
    count_drop(stats, reason, count=count, total=total)


def count_drop(stats: Stats | None, reason: str, *, count: int = 1, total: bool = True) -> None:
    """The counting half of :func:`record_drop`, for a caller that logs the drop itself."""
    if stats is None:
        return
    if total:
        stats.inc_value("defnews/dropped", count)
    stats.inc_value(stats_key("dropped", reason), count)


def record(stats: Stats | None, kind: str, reason: str, url: str, detail: str = "",
           *, level: int = logging.WARNING) -> None:
    """Log and count a value ``flagged`` (replaced) or ``ignored`` on an item that is kept."""
    logger.log(level, "%s %s: %s%s", kind.capitalize(), url, reason, f" ({detail})" if detail else "")
    if stats is not None:
        stats.inc_value(stats_key(kind, reason))
