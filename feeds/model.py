"""What the feed builder reads: a small read-only view of the store.

The store (``crawler.store``) implements :class:`FeedData`; tests may pass any object with the
same methods. Everything here is plain data with aware datetimes.

Optional reads, used when the object has them (the store does), else derived or left out:

- ``category_labels() -> list[str]`` / ``source_keys() -> list[str]``: the keys of
  ``categories()`` / ``sources()`` without counting every row (index skip-scans);
- ``source_activity(source) -> (int, datetime | None)``: articles first seen in the 24 hours
  up to the latest one, and that latest first_seen (the index page's health line);
- ``ranking_history(source) -> list[(datetime, period, rank, article_id)]``: the ranks of the
  last states of the rankings, oldest first (the index page's charts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from crawler.items import ArticleItem


@dataclass
class RankedArticle:
    """One position of a ranking list, joined to the stored article when there is one."""

    period: str  # "24h", "1w", "1m"
    rank: int
    title: str  # the title as the ranking shows it
    url: str
    id: str
    article: ArticleItem | None = None


@dataclass
class RankingView:
    source: str
    captured_at: datetime  # the latest capture
    changed_at: datetime  # the first capture showing these exact lists (stable across re-crawls)
    lists: dict[str, list[RankedArticle]] = field(default_factory=dict)


@dataclass
class RankingEntrance:
    """An article entering a ranking list: one per entry, never one per crawl."""

    source: str
    period: str
    rank: int
    entered_at: datetime
    title: str
    url: str
    id: str
    article: ArticleItem | None = None


class FeedData(Protocol):
    def articles(
        self,
        *,
        category: str | None = None,
        source: str | None = None,
        limit: int | None = None,
    ) -> list[ArticleItem]:
        """Articles newest first (published desc, then id), optionally filtered."""
        ...

    def categories(self) -> dict[str, int]:
        """Every category label with its article count."""
        ...

    def sources(self) -> dict[str, int]:
        """Every source key with its article count."""
        ...

    def latest_ranking(self, source: str) -> RankingView | None: ...

    def ranking_sources(self) -> list[str]: ...

    def ranking_entrances(self, source: str, *, limit: int | None = None) -> list[RankingEntrance]:
        """Newest first."""
        ...
