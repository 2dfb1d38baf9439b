"""The persistent store behind one small interface: SQLite by default, PostgreSQL optional.

What it keeps:

- ``articles``: one row per article id (derived from the canonical URL), the item's JSON form,
  a content hash (so an unchanged re-crawl writes nothing), ``first_seen`` and ``changed_at``.
- ``article_categories``: label index for the per-category feeds.
- ``article_guids``: (source, guid) -> id, so a feed that edits a link but keeps its guid, or
  changes its guid (http -> https) but keeps the link, updates one article instead of two.
- ``ranking_snapshots`` / ``ranking_entries``: one snapshot per crawl and source.
- ``ranking_stints``: for each article and list, each stay in the list (entered, left, best
  rank, how many snapshots): the history, and the "new in the ranking" feed.

Every write happens in a transaction: a crash mid-crawl leaves the last committed state.
Drivers other than sqlite3 are imported lazily (only when such a store is opened).

The same story reached through several sources is one article. It belongs to one source at
a time: the one listed first in the sources file (``priority``: lower wins; without one, the
first source that stored it). A copy from a lower-priority source is a cross-source duplicate
and leaves the stored item as it is; a copy from a higher-priority source takes it over.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crawler import store_migrations
from crawler.items import (
    ArticleItem,
    DateProvenance,
    Image,
    RankingItem,
    to_json_dict,
)
from feeds.model import RankedArticle, RankingEntrance, RankingView

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    source TEXT NOT NULL,
    published_utc TEXT,
    first_seen TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_published ON articles (published_utc DESC, id);
CREATE INDEX IF NOT EXISTS articles_source ON articles (source);
CREATE INDEX IF NOT EXISTS articles_source_published ON articles (source, published_utc DESC, id);
CREATE INDEX IF NOT EXISTS articles_source_seen ON articles (source, first_seen);
CREATE TABLE IF NOT EXISTS article_categories (
    article_id TEXT NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (article_id, label)
);
CREATE INDEX IF NOT EXISTS article_categories_label ON article_categories (label);
CREATE TABLE IF NOT EXISTS article_guids (
    source TEXT NOT NULL,
    guid TEXT NOT NULL,
    article_id TEXT NOT NULL,
    PRIMARY KEY (source, guid)
);
CREATE TABLE IF NOT EXISTS ranking_snapshots (
    id {autoid},
    source TEXT NOT NULL,
    captured_at TEXT NOT NULL,
    lists_hash TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ranking_snapshots_source ON ranking_snapshots (source, id);
CREATE TABLE IF NOT EXISTS ranking_entries (
    snapshot_id INTEGER NOT NULL,
    period TEXT NOT NULL,
    rank INTEGER NOT NULL,
    article_id TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, period, rank)
);
CREATE TABLE IF NOT EXISTS ranking_stints (
    source TEXT NOT NULL,
    period TEXT NOT NULL,
    article_id TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    entered_rank INTEGER NOT NULL,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    best_rank INTEGER NOT NULL,
    snapshots INTEGER NOT NULL,
    active INTEGER NOT NULL,
    PRIMARY KEY (source, period, article_id, entered_at)
);
"""


# -- Operating state (issue #10): additive tables, created after SCHEMA ---------------------
# http_pages: per fetched URL (site addresses), the validators of its last 200 (conditional
#   requests: a 304 costs nothing) and when it was last fetched (revisit age).
# counter_probes: article numbers the counter walk probed, found or not (never probed twice
#   within DEFNEWS_JDEFENSE_PROBE_RETRY_AGE).
# source_runs: one row per source and crawl: counts, coverage, duration, health.
OPS_SCHEMA = """
CREATE TABLE IF NOT EXISTS http_pages (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    fetched_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counter_probes (
    source TEXT NOT NULL,
    number INTEGER NOT NULL,
    found INTEGER NOT NULL,
    probed_at TEXT NOT NULL,
    PRIMARY KEY (source, number)
);
CREATE TABLE IF NOT EXISTS source_runs (
    id {autoid},
    source TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    finish_reason TEXT NOT NULL,
    healthy INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS source_runs_source ON source_runs (source, id);
"""

# -- Script-rendered pages (issue #21): the kinds of page (listing) a site served without their
# content, filled by scripts, so that the next crawl renders them directly (crawler/render.py).
RENDER_SCHEMA = """
CREATE TABLE IF NOT EXISTS render_needs (
    site TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    noted_at TEXT NOT NULL,
    PRIMARY KEY (site, kind)
);
"""


@dataclass(frozen=True)
class SourceRun:
    id: int
    source: str
    started_at: datetime
    finished_at: datetime
    finish_reason: str
    healthy: bool
    data: dict[str, Any]


@dataclass(frozen=True)
class ArchiveWalk:
    """How far a source's walk down one section's index pages has come (crawler/archive.py)."""

    section: str
    next_url: str | None  # the first index page not yet walked whole (None once complete)
    next_page: int  # its position: 1 is the section's first index page
    total_pages: int | None  # the section's index pages, when its pagination says
    complete: bool  # walked to the last index page, every article on the way stored
    updated_at: datetime

    @property
    def walked(self) -> int:
        """Index pages walked whole so far."""
        if self.complete:
            return max(self.next_page - 1, self.total_pages or 0)
        return self.next_page - 1


@dataclass(frozen=True)
class UpsertResult:
    status: str  # "new", "updated", "unchanged", "duplicate" (owned by another source)
    id: str
    first_seen: datetime


@dataclass(frozen=True)
class RankingStint:
    source: str
    period: str
    article_id: str
    entered_at: datetime
    entered_rank: int
    last_seen_at: datetime
    best_rank: int
    snapshots: int
    active: bool


def outranks(source: str, other: str, priority: Mapping[str, int] | None) -> bool:
    """Whether ``source`` takes a shared story over from ``other`` (lower priority wins)."""
    if not priority:
        return False
    last = len(priority)
    return priority.get(source, last) < priority.get(other, last)


def _utc_iso(value: datetime) -> str:
    """A fixed-width UTC form, so that string order is time order."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _content_hash(data: dict[str, Any]) -> str:
    # Which parser layer found a field is not content: a site moving layers is no update.
    stable = {k: v for k, v in data.items() if k not in ("first_seen", "provenance", "site_order")}
    # Fields added later (issue 20) count only when they say something: an article stored
    # before them is not "updated" by their defaults.
    if stable.get("published_precision") == "minute":
        del stable["published_precision"]
    if stable.get("partial") is False:
        del stable["partial"]
    return hashlib.sha256(json.dumps(stable, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def article_from_json(data: dict[str, Any]) -> ArticleItem:
    """Rebuild an :class:`ArticleItem` from its JSON form (the inverse of ``to_json_dict``)."""
    return ArticleItem(
        id=data["id"],
        url=data["url"],
        title=data["title"],
        source=data["source"],
        published=_dt(data.get("published")),
        updated=_dt(data.get("updated")),
        first_seen=_dt(data.get("first_seen")),
        categories=list(data.get("categories") or []),
        author=data.get("author"),
        summary=data.get("summary") or "",
        content_html=data.get("content_html") or "",
        images=[Image(**img) for img in data.get("images") or []],
        language=data.get("language") or "ja",
        dates={k: DateProvenance(**v) for k, v in (data.get("dates") or {}).items()},
        guid=data.get("guid"),
        section=data.get("section"),
        key=data.get("key") or "",
        inferred=list(data.get("inferred") or []),
        provenance=dict(data.get("provenance") or {}),
        published_precision=data.get("published_precision") or "minute",
        partial=bool(data.get("partial")),
        site_order=data.get("site_order"),
    )


class SQLStore:
    """A DB-API store. Subclasses set the driver; SQL is written with ``?`` placeholders."""

    placeholder = "?"
    autoid = "INTEGER PRIMARY KEY AUTOINCREMENT"
    dialect = "sqlite"
    # Appended to the SELECT that reads an article before changing it: PostgreSQL locks the
    # row against a concurrent writer; SQLite's BEGIN IMMEDIATE already locks the database.
    lock_row = ""

    def __init__(self, conn: Any, *, upgrade: bool | None = True) -> None:
        """``upgrade``: True applies pending migrations; False refuses an out-of-date schema;
        None leaves the schema alone (``defnews db``)."""
        self.conn = conn
        try:
            if upgrade:
                # Versioned migrations under a lock: safe when several crawlers open a fresh
                # store at once.
                store_migrations.upgrade(conn, self.dialect)
            elif upgrade is not None:
                version = store_migrations.current_version(conn, self.dialect)
                if version < store_migrations.latest_version():
                    raise store_migrations.SchemaError(
                        f"the store's schema is at version {version}, this defnews needs "
                        f"{store_migrations.latest_version()}: run `defnews db upgrade`"
                    )
        except BaseException:
            conn.close()
            raise

    # -- plumbing -------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def transaction(self) -> _Transaction:
        return _Transaction(self)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.cursor()
        try:
            cur.execute(self._sql(sql), tuple(params))
            return list(cur.fetchall())
        finally:
            cur.close()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SQLStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- articles -------------------------------------------------------------------------
    def _resolve_id(self, cur: Any, item: ArticleItem) -> str:
        """The stored id this item updates: by (source, guid) first, then by URL id."""
        if item.guid:
            cur.execute(
                self._sql("SELECT article_id FROM article_guids WHERE source = ? AND guid = ?"),
                (item.source, item.guid),
            )
            row = cur.fetchone()
            if row:
                return str(row[0])
        return item.id

    def upsert_article(
        self, item: ArticleItem, *, now: datetime, priority: Mapping[str, int] | None = None
    ) -> UpsertResult:
        """Insert or update one article; never duplicates. ``item.id`` must be set.

        ``priority`` ranks sources (lower wins) for stories that several sources carry.
        """
        with self.transaction() as cur:
            return self._upsert_in(cur, item, now=now, priority=priority)

    def upsert_articles(
        self,
        items: Sequence[ArticleItem],
        *,
        now: datetime,
        priority: Mapping[str, int] | None = None,
    ) -> list[UpsertResult]:
        """Upsert a batch in one transaction; one result per item, in the items' order, the
        same results as ``upsert_article`` on each item in turn.

        Set-based: the stored rows of the whole batch are read in one query and the writes
        go as one ``executemany`` per statement, so a batch costs a handful of round trips
        instead of several per article. On PostgreSQL the batch's ids are locked first (in id
        order, transaction-scoped advisory locks), so a concurrent writer of the same story
        waits instead of racing; a deadlock the database still reports is retried.
        """
        for item in items:
            if not item.id:
                raise ValueError(f"article without id: {item.url}")
        if not items:
            return []
        for attempt in range(5):
            try:
                with self.transaction() as cur:
                    return self._upsert_batch(cur, items, now=now, priority=priority)
            except Exception as exc:
                if attempt < 4 and self._is_retryable(exc):
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _lock_ids(self, cur: Any, ids: Iterable[str]) -> None:
        """Serialize writers of the same ids (PostgreSQL; SQLite's write lock covers it)."""

    def _guid_ids(self, cur: Any, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        for source, guid in dict.fromkeys(keys):
            cur.execute(
                self._sql("SELECT article_id FROM article_guids WHERE source = ? AND guid = ?"),
                (source, guid),
            )
            row = cur.fetchone()
            if row:
                found[(source, guid)] = str(row[0])
        return found

    def _article_rows(self, cur: Any, ids: Sequence[str]) -> dict[str, tuple[str, str, str]]:
        rows: dict[str, tuple[str, str, str]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            cur.execute(
                self._sql("SELECT id, source, first_seen, content_hash FROM articles"
                          f" WHERE id IN ({marks})"),
                chunk,
            )
            for r in cur.fetchall():
                rows[str(r[0])] = (str(r[1]), str(r[2]), str(r[3]))
        return rows

    def _upsert_batch(
        self,
        cur: Any,
        items: Sequence[ArticleItem],
        *,
        now: datetime,
        priority: Mapping[str, int] | None,
    ) -> list[UpsertResult]:
        db_guids = self._guid_ids(cur, [(i.source, i.guid) for i in items if i.guid])
        candidates = {i.id for i in items if i.id} | set(db_guids.values())
        self._lock_ids(cur, sorted(candidates))
        if self.dialect != "sqlite":
            # Re-read after the locks: a writer that held them may have mapped guids meanwhile.
            db_guids = self._guid_ids(cur, [(i.source, i.guid) for i in items if i.guid])
        state = self._article_rows(cur, sorted(candidates | set(db_guids.values())))
        guids = dict(db_guids)  # grows with the batch: a later item sees an earlier one's guid
        results: list[UpsertResult] = []
        writes: dict[str, tuple[Any, ...]] = {}
        labels: dict[str, list[str]] = {}
        existed = set(state)  # ids whose category rows may need replacing
        new_guids: list[tuple[str, str, str]] = []
        for item in items:
            assert item.id
            article_id = guids.get((item.source, item.guid), item.id) if item.guid else item.id
            row = state.get(article_id)
            if row and row[0] != item.source and not outranks(item.source, row[0], priority):
                results.append(UpsertResult("duplicate", article_id, datetime.fromisoformat(row[1])))
                continue
            first_seen = datetime.fromisoformat(row[1]) if row else now
            item.id = article_id
            item.first_seen = first_seen
            if "published" in item.inferred:
                item.published = first_seen  # undated: dated when first seen, every crawl
            data = to_json_dict(item)
            digest = _content_hash(data)
            if item.guid and (item.source, item.guid) not in guids:
                guids[(item.source, item.guid)] = article_id
                new_guids.append((item.source, item.guid, article_id))
            if row and row[2] == digest:
                results.append(UpsertResult("unchanged", article_id, first_seen))
                continue
            published = _utc_iso(item.published) if item.published else None
            writes[article_id] = (
                article_id, item.url, item.source, published, first_seen.isoformat(),
                now.isoformat(), digest, json.dumps(data, ensure_ascii=False, sort_keys=True),
            )
            labels[article_id] = list(dict.fromkeys(item.categories))
            state[article_id] = (item.source, first_seen.isoformat(), digest)
            results.append(UpsertResult("updated" if row else "new", article_id, first_seen))
        self._write_batch(cur, list(writes.values()), sorted(writes.keys() & existed),
                          [(i, label) for i, ls in labels.items() for label in ls], new_guids)
        return results

    _UPSERT_ROW = (
        "INSERT INTO articles (id, url, source, published_utc, first_seen, changed_at,"
        " content_hash, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET url = excluded.url, source = excluded.source,"
        " published_utc = excluded.published_utc, changed_at = excluded.changed_at,"
        " content_hash = excluded.content_hash, data = excluded.data"
    )

    def _write_batch(
        self,
        cur: Any,
        rows: list[tuple[Any, ...]],
        replace_labels_of: list[str],
        labels: list[tuple[str, str]],
        guids: list[tuple[str, str, str]],
    ) -> None:
        """The batch's writes: article rows (unique ids), category rows, new guid mappings."""
        if rows:
            cur.executemany(self._sql(self._UPSERT_ROW), rows)
        if replace_labels_of:
            cur.executemany(self._sql("DELETE FROM article_categories WHERE article_id = ?"),
                            [(i,) for i in replace_labels_of])
        if labels:
            cur.executemany(
                self._sql("INSERT INTO article_categories (article_id, label) VALUES (?, ?)"),
                labels,
            )
        if guids:
            cur.executemany(
                self._sql("INSERT INTO article_guids (source, guid, article_id) VALUES (?, ?, ?) "
                          "ON CONFLICT (source, guid) DO NOTHING"),
                guids,
            )

    def _is_retryable(self, exc: Exception) -> bool:
        return False

    def _article_row(self, cur: Any, article_id: str) -> Any:
        cur.execute(
            self._sql("SELECT source, first_seen, content_hash FROM articles WHERE id = ?"
                      + self.lock_row),
            (article_id,),
        )
        return cur.fetchone()

    def _upsert_in(
        self, cur: Any, item: ArticleItem, *, now: datetime, priority: Mapping[str, int] | None
    ) -> UpsertResult:
        if not item.id:
            raise ValueError(f"article without id: {item.url}")
        article_id = self._resolve_id(cur, item)
        self._lock_ids(cur, [article_id])
        row = self._article_row(cur, article_id)
        if row is None:
            # New here: insert it, unless another process inserts the same id first (then
            # its row is locked and read, and this item goes the update path). The identity
            # is settled inside the database, so concurrent writers never duplicate.
            created = self._insert_new(cur, item, article_id, now)
            if created is not None:
                return created
            row = self._article_row(cur, article_id)
        if row and row[0] != item.source and not outranks(item.source, row[0], priority):
            return UpsertResult("duplicate", article_id, datetime.fromisoformat(row[1]))
        first_seen = datetime.fromisoformat(row[1]) if row else now
        item.id = article_id
        item.first_seen = first_seen
        if "published" in item.inferred:
            item.published = first_seen  # undated: dated when first seen, every crawl
        data = to_json_dict(item)
        digest = _content_hash(data)
        if item.guid:
            cur.execute(
                self._sql(
                    "INSERT INTO article_guids (source, guid, article_id) VALUES (?, ?, ?) "
                    "ON CONFLICT (source, guid) DO NOTHING"
                ),
                (item.source, item.guid, article_id),
            )
        if row and row[2] == digest:
            return UpsertResult("unchanged", article_id, first_seen)
        published = _utc_iso(item.published) if item.published else None
        payload = json.dumps(data, ensure_ascii=False, sort_keys=True)
        cur.execute(
            self._sql(
                "INSERT INTO articles (id, url, source, published_utc, first_seen, changed_at,"
                " content_hash, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET url = excluded.url, source = excluded.source,"
                " published_utc = excluded.published_utc, changed_at = excluded.changed_at,"
                " content_hash = excluded.content_hash, data = excluded.data"
            ),
            (article_id, item.url, item.source, published, first_seen.isoformat(),
             now.isoformat(), digest, payload),
        )
        cur.execute(self._sql("DELETE FROM article_categories WHERE article_id = ?"), (article_id,))
        for label in dict.fromkeys(item.categories):
            cur.execute(
                self._sql("INSERT INTO article_categories (article_id, label) VALUES (?, ?)"),
                (article_id, label),
            )
        return UpsertResult("updated" if row else "new", article_id, first_seen)

    def _insert_new(
        self, cur: Any, item: ArticleItem, article_id: str, now: datetime
    ) -> UpsertResult | None:
        item.id = article_id
        item.first_seen = now
        if "published" in item.inferred:
            item.published = now  # undated: dated when first seen
        data = to_json_dict(item)
        published = _utc_iso(item.published) if item.published else None
        cur.execute(
            self._sql(
                "INSERT INTO articles (id, url, source, published_utc, first_seen, changed_at,"
                " content_hash, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO NOTHING RETURNING id"
            ),
            (article_id, item.url, item.source, published, now.isoformat(), now.isoformat(),
             _content_hash(data), json.dumps(data, ensure_ascii=False, sort_keys=True)),
        )
        if cur.fetchone() is None:
            return None
        if item.guid:
            cur.execute(
                self._sql(
                    "INSERT INTO article_guids (source, guid, article_id) VALUES (?, ?, ?) "
                    "ON CONFLICT (source, guid) DO NOTHING"
                ),
                (item.source, item.guid, article_id),
            )
        for label in dict.fromkeys(item.categories):
            cur.execute(
                self._sql("INSERT INTO article_categories (article_id, label) VALUES (?, ?)"
                          " ON CONFLICT DO NOTHING"),
                (article_id, label),
            )
        return UpsertResult("new", article_id, now)

    def get_article(self, article_id: str) -> ArticleItem | None:
        return self._articles_by_id([article_id]).get(article_id)

    def articles(
        self,
        *,
        category: str | None = None,
        source: str | None = None,
        limit: int | None = None,
    ) -> list[ArticleItem]:
        # Articles without a date sort last; ties broken by id for a stable order.
        order = " ORDER BY a.published_utc DESC NULLS LAST, a.id"
        where: list[str] = []
        params: list[Any] = []
        if source is not None:
            where.append("a.source = ?")
            params.append(source)
        walk_index = category is None or limit is None or self._common_label(category, limit)
        if category is not None and walk_index:
            # A common label: walk the published-date index newest first and stop after
            # ``limit`` hits (about limit * total / matches index steps), never sorting.
            where.append(
                "EXISTS (SELECT 1 FROM article_categories c WHERE c.article_id = a.id"
                " AND c.label = ?)"
            )
            params.append(category)
        elif category is not None:
            # A rare label: sort its few rows (ids and dates only; the JSON is read after).
            where.append("a.id IN (SELECT article_id FROM article_categories WHERE label = ?)")
            params.append(category)
        sql = "SELECT a.id, a.published_utc FROM articles a"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += order
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        ids = [str(r[0]) for r in self._query(sql, params)]
        found = self._articles_by_id(ids)
        return [found[i] for i in ids if i in found]

    def _common_label(self, label: str, limit: int) -> bool:
        """Whether walking the date index beats sorting the label's rows: more matches than
        sqrt(limit * total), counted no further than that (so the probe is cheap too)."""
        if not isinstance(self, SQLiteStore):
            return True  # PostgreSQL's planner has statistics and chooses by itself
        # MAX(rowid) is an O(1) upper bound of the row count, good enough to choose a plan.
        total = int(self._query("SELECT MAX(rowid) FROM articles")[0][0] or 0)
        threshold = max(int((max(limit, 1) * total) ** 0.5), 1)
        rows = self._query(
            "SELECT COUNT(*) FROM (SELECT 1 FROM article_categories WHERE label = ? LIMIT ?) t",
            (label, threshold),
        )
        return int(rows[0][0]) >= threshold

    def count_articles(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM articles")[0][0])

    def categories(self) -> dict[str, int]:
        rows = self._query(
            "SELECT label, COUNT(*) FROM article_categories GROUP BY label ORDER BY label"
        )
        return {str(label): int(n) for label, n in rows}

    def source_labels(self) -> dict[str, set[str]]:
        """The category labels stored, per source (the category limit counts them)."""
        rows = self._query(
            "SELECT DISTINCT a.source, c.label FROM article_categories c"
            " JOIN articles a ON a.id = c.article_id"
        )
        labels: dict[str, set[str]] = {}
        for source, label in rows:
            labels.setdefault(str(source), set()).add(str(label))
        return labels

    def sources(self) -> dict[str, int]:
        rows = self._query("SELECT source, COUNT(*) FROM articles GROUP BY source ORDER BY source")
        return {str(s): int(n) for s, n in rows}

    # Reads of the feed builder that stay fast however large the archive grows: each walks
    # an index a few steps per result instead of counting every row.
    def category_labels(self) -> list[str]:
        """Every category label, sorted (an index skip-scan: one step per label)."""
        return self._distinct("article_categories", "label")

    def source_keys(self) -> list[str]:
        """Every source key that has articles, sorted."""
        return self._distinct("articles", "source")

    def _distinct(self, table: str, column: str) -> list[str]:
        rows = self._query(
            f"WITH RECURSIVE t(v) AS (SELECT MIN({column}) FROM {table} UNION ALL"
            f" SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > t.v) FROM t"
            f" WHERE t.v IS NOT NULL) SELECT v FROM t WHERE v IS NOT NULL"
        )
        return [str(r[0]) for r in rows]

    def source_activity(self, source: str, window_hours: int = 24) -> tuple[int, datetime | None]:
        """(articles first seen in the ``window_hours`` up to the latest one, that latest
        first_seen) of one source: what the index page's health line shows until per-source
        run records exist. Two index lookups, never a count of the whole archive."""
        rows = self._query("SELECT MAX(first_seen) FROM articles WHERE source = ?", (source,))
        if not rows or not rows[0][0]:
            return 0, None
        last = datetime.fromisoformat(rows[0][0])
        since = (last - timedelta(hours=window_hours)).isoformat()
        count = self._query(
            "SELECT COUNT(*) FROM articles WHERE source = ? AND first_seen > ?", (source, since)
        )[0][0]
        return int(count), last

    def ranking_history(self, source: str, snapshots: int = 12) -> list[tuple[datetime, str, int, str]]:
        """(changed_at, period, rank, article_id) of the last ``snapshots`` states of the
        rankings of ``source``, oldest first: one point per change of the lists (a re-crawl
        that finds the same lists adds none), dated by the first capture of that state. The
        rank history the index page draws."""
        rows = self._query(
            "SELECT id, lists_hash FROM ranking_snapshots WHERE source = ? ORDER BY id DESC"
            " LIMIT 5000",
            (source,),
        )
        firsts: list[int] = []  # the first snapshot of each run of equal lists, newest first
        for i, (snapshot_id, digest) in enumerate(rows):
            if i + 1 == len(rows) or rows[i + 1][1] != digest:
                firsts.append(int(snapshot_id))
                if len(firsts) == snapshots:
                    break
        if not firsts:
            return []
        marks = ", ".join("?" for _ in firsts)
        found = self._query(
            "SELECT s.captured_at, e.period, e.rank, e.article_id FROM ranking_snapshots s"
            f" JOIN ranking_entries e ON e.snapshot_id = s.id WHERE s.id IN ({marks})"
            " ORDER BY s.id, e.period, e.rank",
            firsts,
        )
        return [(datetime.fromisoformat(r[0]), str(r[1]), int(r[2]), str(r[3])) for r in found]

    def dump_articles(self) -> list[tuple[Any, ...]]:
        """Every article row, for consistency checks (tests, benchmarks)."""
        return self._query(
            "SELECT id, url, source, published_utc, first_seen, changed_at, content_hash, data"
            " FROM articles ORDER BY id"
        )

    # -- rankings -------------------------------------------------------------------------
    def add_ranking_snapshot(self, ranking: RankingItem) -> list[RankingStint]:
        """Store one snapshot; returns the stints it opened (the entrances)."""
        if ranking.captured_at is None:
            raise ValueError("ranking snapshot without captured_at")
        captured = ranking.captured_at.isoformat()
        lists = to_json_dict(ranking)["lists"]
        lists_hash = hashlib.sha256(
            json.dumps(lists, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()
        entrances: list[RankingStint] = []
        with self.transaction() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO ranking_snapshots (source, captured_at, lists_hash, data)"
                    " VALUES (?, ?, ?, ?) RETURNING id"
                ),
                (ranking.source, captured, lists_hash, json.dumps(lists, ensure_ascii=False)),
            )
            # RETURNING, not MAX(id): another process may insert a snapshot meanwhile.
            snapshot_id = cur.fetchone()[0]
            for period, entries in ranking.lists.items():
                best: dict[str, Any] = {}
                for entry in entries:
                    cur.execute(
                        self._sql(
                            "INSERT INTO ranking_entries (snapshot_id, period, rank, article_id,"
                            " title, url) VALUES (?, ?, ?, ?, ?, ?)"
                        ),
                        (snapshot_id, period, entry.rank, entry.id, entry.title, entry.url),
                    )
                    if entry.id not in best or entry.rank < best[entry.id].rank:
                        best[entry.id] = entry
                cur.execute(
                    self._sql(
                        "SELECT article_id, entered_at, best_rank FROM ranking_stints"
                        " WHERE source = ? AND period = ? AND active = 1"
                    ),
                    (ranking.source, period),
                )
                active = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
                for article_id, (entered_at, best_rank) in active.items():
                    if article_id in best:
                        cur.execute(
                            self._sql(
                                "UPDATE ranking_stints SET last_seen_at = ?, snapshots = snapshots + 1,"
                                " best_rank = ? WHERE source = ? AND period = ? AND article_id = ?"
                                " AND entered_at = ?"
                            ),
                            (captured, min(best_rank, best[article_id].rank), ranking.source,
                             period, article_id, entered_at),
                        )
                    else:
                        cur.execute(
                            self._sql(
                                "UPDATE ranking_stints SET active = 0 WHERE source = ? AND period = ?"
                                " AND article_id = ? AND entered_at = ?"
                            ),
                            (ranking.source, period, article_id, entered_at),
                        )
                for article_id, entry in best.items():
                    if article_id in active:
                        continue
                    cur.execute(
                        self._sql(
                            "INSERT INTO ranking_stints (source, period, article_id, entered_at,"
                            " entered_rank, title, url, last_seen_at, best_rank, snapshots, active)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1)"
                        ),
                        (ranking.source, period, article_id, captured, entry.rank, entry.title,
                         entry.url, captured, entry.rank),
                    )
                    entrances.append(
                        RankingStint(ranking.source, period, article_id, ranking.captured_at,
                                     entry.rank, ranking.captured_at, entry.rank, 1, True)
                    )
        return entrances

    def ranking_sources(self) -> list[str]:
        return [str(r[0]) for r in self._query(
            "SELECT DISTINCT source FROM ranking_snapshots ORDER BY source")]

    def count_snapshots(self, source: str | None = None) -> int:
        if source is None:
            return int(self._query("SELECT COUNT(*) FROM ranking_snapshots")[0][0])
        return int(self._query(
            "SELECT COUNT(*) FROM ranking_snapshots WHERE source = ?", (source,))[0][0])

    def latest_ranking(self, source: str) -> RankingView | None:
        rows = self._query(
            "SELECT id, captured_at, lists_hash FROM ranking_snapshots WHERE source = ?"
            " ORDER BY id DESC",
            (source,),
        )
        if not rows:
            return None
        latest_id, captured_at, lists_hash = rows[0]
        changed_at = captured_at
        for _id, at, digest in rows[1:]:
            if digest != lists_hash:
                break
            changed_at = at
        entries = self._query(
            "SELECT period, rank, title, url, article_id FROM ranking_entries"
            " WHERE snapshot_id = ? ORDER BY period, rank",
            (latest_id,),
        )
        articles = self._articles_by_id({r[4] for r in entries})
        lists: dict[str, list[RankedArticle]] = {}
        for period, rank, title, url, article_id in entries:
            lists.setdefault(period, []).append(
                RankedArticle(period, int(rank), title, url, article_id, articles.get(article_id))
            )
        return RankingView(
            source=source,
            captured_at=datetime.fromisoformat(captured_at),
            changed_at=datetime.fromisoformat(changed_at),
            lists=lists,
        )

    def ranking_stints(self, source: str, article_id: str | None = None) -> list[RankingStint]:
        sql = (
            "SELECT source, period, article_id, entered_at, entered_rank, last_seen_at,"
            " best_rank, snapshots, active FROM ranking_stints WHERE source = ?"
        )
        params: list[Any] = [source]
        if article_id is not None:
            sql += " AND article_id = ?"
            params.append(article_id)
        sql += " ORDER BY entered_at, period, entered_rank"
        return [
            RankingStint(r[0], r[1], r[2], datetime.fromisoformat(r[3]), int(r[4]),
                         datetime.fromisoformat(r[5]), int(r[6]), int(r[7]), bool(r[8]))
            for r in self._query(sql, params)
        ]

    def ranking_entrances(self, source: str, *, limit: int | None = None) -> list[RankingEntrance]:
        sql = (
            "SELECT period, entered_rank, entered_at, title, url, article_id FROM ranking_stints"
            " WHERE source = ? ORDER BY entered_at DESC, period, entered_rank"
        )
        params: list[Any] = [source]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        rows = self._query(sql, params)
        articles = self._articles_by_id({r[5] for r in rows})
        return [
            RankingEntrance(source, r[0], int(r[1]), datetime.fromisoformat(r[2]), r[3], r[4],
                            r[5], articles.get(r[5]))
            for r in rows
        ]

    def _articles_by_id(self, ids: Iterable[str]) -> dict[str, ArticleItem]:
        ids = sorted(ids)
        found: dict[str, ArticleItem] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            # The story (crawler.stories) lives in its own table; an article not yet
            # decided is a story of one.
            for data, story in self._query(
                    "SELECT a.data, s.story FROM articles a LEFT JOIN article_stories s"
                    f" ON s.article_id = a.id WHERE a.id IN ({marks})", chunk):
                article = article_from_json(json.loads(data))
                article.story = story or article.id
                found[article.id] = article
        return found


    # -- stories (issue #22; crawler.stories) ------------------------------------------------
    def stories(self, *, limit: int | None = None) -> list[tuple[str, list[ArticleItem]]]:
        """Stories with articles of two or more sources, newest first, members oldest first."""
        from crawler.stories.store import story_members

        return story_members(self, limit=limit)

    def story_siblings(self, article_ids: Iterable[str]) -> dict[str, list[ArticleItem]]:
        """Article id -> the other sources' articles of its story."""
        from crawler.stories.store import story_siblings

        return story_siblings(self, article_ids)

    # -- operating state (issue #10) --------------------------------------------------------
    def source_article_urls(self, source: str) -> dict[str, datetime]:
        """URL -> last content change of every article ``source`` owns."""
        rows = self._query("SELECT url, changed_at FROM articles WHERE source = ?", (source,))
        return {str(url): datetime.fromisoformat(at) for url, at in rows}

    def page_fetches(self, prefix: str) -> dict[str, tuple[str | None, str | None, datetime]]:
        """URL -> (ETag, Last-Modified, fetched_at) of every recorded page under ``prefix``."""
        # Filtered here rather than with LIKE: no escaping of "_" and "%" in URLs to get wrong.
        rows = self._query("SELECT url, etag, last_modified, fetched_at FROM http_pages")
        return {
            str(url): (etag, modified, datetime.fromisoformat(at))
            for url, etag, modified, at in rows
            if str(url).startswith(prefix)
        }

    def record_page_fetches(
        self, pages: Iterable[tuple[str, str | None, str | None]], *, at: datetime
    ) -> None:
        """Remember (url, ETag, Last-Modified) of pages fetched whole at ``at``."""
        with self.transaction() as cur:
            for url, etag, modified in pages:
                cur.execute(
                    self._sql(
                        "INSERT INTO http_pages (url, etag, last_modified, fetched_at)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET"
                        " etag = excluded.etag, last_modified = excluded.last_modified,"
                        " fetched_at = excluded.fetched_at"
                    ),
                    (url, etag, modified, at.isoformat()),
                )

    def counter_probes(self, source: str) -> dict[int, tuple[bool, datetime]]:
        rows = self._query(
            "SELECT number, found, probed_at FROM counter_probes WHERE source = ?", (source,)
        )
        return {int(n): (bool(found), datetime.fromisoformat(at)) for n, found, at in rows}

    def record_counter_probes(
        self, source: str, probes: Iterable[tuple[int, bool]], *, at: datetime
    ) -> None:
        with self.transaction() as cur:
            for number, found in probes:
                cur.execute(
                    self._sql(
                        "INSERT INTO counter_probes (source, number, found, probed_at)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (source, number) DO UPDATE SET"
                        " found = excluded.found, probed_at = excluded.probed_at"
                    ),
                    (source, int(number), 1 if found else 0, at.isoformat()),
                )

    def render_needs(self, site: str) -> dict[str, tuple[str, datetime]]:
        """Page kind -> (why, when) for the kinds of page of ``site`` that needed rendering."""
        rows = self._query("SELECT kind, reason, noted_at FROM render_needs WHERE site = ?", (site,))
        return {str(k): (str(r), datetime.fromisoformat(at)) for k, r, at in rows}

    def record_render_needs(
        self, site: str, needs: Iterable[tuple[str, str]], *, at: datetime
    ) -> None:
        """Remember that the pages of these kinds of ``site`` needed rendering (kind, why)."""
        with self.transaction() as cur:
            for kind, reason in needs:
                cur.execute(
                    self._sql(
                        "INSERT INTO render_needs (site, kind, reason, noted_at)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (site, kind) DO UPDATE SET"
                        " reason = excluded.reason, noted_at = excluded.noted_at"
                    ),
                    (site, kind, reason, at.isoformat()),
                )

    def add_source_run(
        self, source: str, *, started_at: datetime, finished_at: datetime, finish_reason: str,
        healthy: bool, data: Mapping[str, Any],
    ) -> None:
        with self.transaction() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO source_runs (source, started_at, finished_at, finish_reason,"
                    " healthy, data) VALUES (?, ?, ?, ?, ?, ?)"
                ),
                (source, started_at.isoformat(), finished_at.isoformat(), finish_reason,
                 1 if healthy else 0, json.dumps(dict(data), ensure_ascii=False, sort_keys=True)),
            )

    def source_runs(self, source: str | None = None, *, limit: int | None = None) -> list[SourceRun]:
        """Runs, newest first (of one source, or of all)."""
        sql = ("SELECT id, source, started_at, finished_at, finish_reason, healthy, data"
               " FROM source_runs")
        params: list[Any] = []
        if source is not None:
            sql += " WHERE source = ?"
            params.append(source)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [
            SourceRun(int(r[0]), str(r[1]), datetime.fromisoformat(r[2]),
                      datetime.fromisoformat(r[3]), str(r[4]), bool(r[5]), json.loads(r[6]))
            for r in self._query(sql, params)
        ]

    def archive_walks(self, source: str) -> dict[str, ArchiveWalk]:
        """Section -> the state of ``source``'s archive walk there (sections never walked
        are absent)."""
        rows = self._query(
            "SELECT section, next_url, next_page, total_pages, complete, updated_at"
            " FROM archive_walks WHERE source = ?", (source,))
        return {
            str(section): ArchiveWalk(str(section), next_url, int(page),
                                      None if total is None else int(total), bool(complete),
                                      datetime.fromisoformat(at))
            for section, next_url, page, total, complete, at in rows
        }

    def record_archive_walk(self, source: str, walk: ArchiveWalk) -> None:
        with self.transaction() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO archive_walks (source, section, next_url, next_page,"
                    " total_pages, complete, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (source, section) DO UPDATE SET next_url = excluded.next_url,"
                    " next_page = excluded.next_page, total_pages = excluded.total_pages,"
                    " complete = excluded.complete, updated_at = excluded.updated_at"
                ),
                (source, walk.section, walk.next_url, walk.next_page, walk.total_pages,
                 1 if walk.complete else 0, walk.updated_at.isoformat()),
            )

    def archive_links(self, source: str) -> set[str]:
        """Article addresses of ``source`` linked and asked for, not yet known to be stored or
        answered for good (crawler/archive.py)."""
        return {str(r[0]) for r in self._query(
            "SELECT url FROM archive_links WHERE source = ?", (source,))}

    def record_archive_links(self, source: str, urls: Iterable[str], *, at: datetime) -> None:
        rows = [(source, url, at.isoformat()) for url in sorted(set(urls))]
        if rows:
            self._write_retrying(
                "INSERT INTO archive_links (source, url, found_at) VALUES (?, ?, ?)"
                " ON CONFLICT (source, url) DO NOTHING", rows)

    def forget_archive_links(self, source: str, urls: Iterable[str]) -> None:
        rows = [(source, url) for url in sorted(set(urls))]
        if rows:
            self._write_retrying("DELETE FROM archive_links WHERE source = ? AND url = ?", rows)

    def _write_retrying(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """One statement over ``rows`` in one transaction. Several crawl processes on one
        frontier write overlapping rows: the callers give them in key order, so two writers
        take the row locks in the same order and one waits for the other; a deadlock the
        database still reports (another statement's locks) is retried as a whole."""
        for attempt in range(5):
            try:
                with self.transaction() as cur:
                    cur.executemany(self._sql(sql), rows)
                return
            except Exception as exc:
                if attempt < 4 and self._is_retryable(exc):
                    continue
                raise

    def run_sources(self) -> list[str]:
        return [str(r[0]) for r in self._query(
            "SELECT DISTINCT source FROM source_runs ORDER BY source")]


class _Transaction:
    def __init__(self, store: SQLStore) -> None:
        self.store = store

    def __enter__(self) -> Any:
        self.cur = self.store.conn.cursor()
        if isinstance(self.store, SQLiteStore):
            self.cur.execute("BEGIN IMMEDIATE")
        return _Cursor(self.cur)

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            if exc_type is None:
                self.store.conn.commit()
            else:
                self.store.conn.rollback()
        finally:
            self.cur.close()


class _Cursor:
    """A cursor whose SQL is already dialect-translated by the caller (``store._sql``)."""

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cur.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cur.executemany(sql, [tuple(r) for r in rows])

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall())


def _set_wal(conn: sqlite3.Connection, timeout: float = 30.0) -> None:
    """``PRAGMA journal_mode=WAL``, retried: on a new file, processes opening it at the same
    moment get "database is locked" at once (the busy timeout does not cover this change)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class SQLiteStore(SQLStore):
    def __init__(self, path: str | Path, *, upgrade: bool | None = True) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: the store pipeline writes from a worker thread (one at a
        # time) so the crawl's reactor thread never waits on the disk.
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=30,
                               check_same_thread=False)
        _set_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        self.path = path
        super().__init__(conn, upgrade=upgrade)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self.conn.execute(sql, tuple(params)).fetchall())


class PostgresStore(SQLStore):
    placeholder = "%s"
    autoid = "BIGSERIAL PRIMARY KEY"
    dialect = "postgres"
    lock_row = " FOR UPDATE"

    def __init__(self, dsn: str, *, upgrade: bool | None = True) -> None:
        import psycopg  # optional driver: imported only when a PostgreSQL store is opened

        self.dsn = dsn
        super().__init__(psycopg.connect(dsn), upgrade=upgrade)

    def _lock_ids(self, cur: Any, ids: Iterable[str]) -> None:
        ids = sorted(set(ids))
        if ids:
            cur.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('defnews-article:' || id, 0))"
                " FROM unnest(%s::text[]) AS t(id) ORDER BY id",
                (ids,),
            )
            cur.fetchall()

    def _guid_ids(self, cur: Any, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        cur.execute(
            "SELECT g.source, g.guid, g.article_id FROM article_guids g"
            " JOIN unnest(%s::text[], %s::text[]) AS k(source, guid)"
            " ON g.source = k.source AND g.guid = k.guid",
            ([k[0] for k in keys], [k[1] for k in keys]),
        )
        return {(str(r[0]), str(r[1])): str(r[2]) for r in cur.fetchall()}

    def _article_rows(self, cur: Any, ids: Sequence[str]) -> dict[str, tuple[str, str, str]]:
        if not ids:
            return {}
        cur.execute(
            "SELECT id, source, first_seen, content_hash FROM articles WHERE id = ANY(%s)",
            (list(ids),),
        )
        return {str(r[0]): (str(r[1]), str(r[2]), str(r[3])) for r in cur.fetchall()}

    def _write_batch(
        self,
        cur: Any,
        rows: list[tuple[Any, ...]],
        replace_labels_of: list[str],
        labels: list[tuple[str, str]],
        guids: list[tuple[str, str, str]],
    ) -> None:
        # One statement per table over arrays (unnest): one round trip each, whatever the
        # batch size; executemany would still send one statement per row. Arrays go in
        # binary (%b): the text form escapes every character of every JSON document.
        if rows:
            columns = list(zip(*rows, strict=True))
            cur.execute(
                "INSERT INTO articles (id, url, source, published_utc, first_seen, changed_at,"
                " content_hash, data) SELECT * FROM unnest(%b::text[], %b::text[], %b::text[],"
                " %b::text[], %b::text[], %b::text[], %b::text[], %b::text[])"
                " ON CONFLICT (id) DO UPDATE SET url = excluded.url, source = excluded.source,"
                " published_utc = excluded.published_utc, changed_at = excluded.changed_at,"
                " content_hash = excluded.content_hash, data = excluded.data",
                [list(c) for c in columns],
            )
        if replace_labels_of:
            cur.execute("DELETE FROM article_categories WHERE article_id = ANY(%b)",
                        (replace_labels_of,))
        if labels:
            cur.execute(
                "INSERT INTO article_categories (article_id, label)"
                " SELECT * FROM unnest(%b::text[], %b::text[])",
                ([p[0] for p in labels], [p[1] for p in labels]),
            )
        if guids:
            cur.execute(
                "INSERT INTO article_guids (source, guid, article_id)"
                " SELECT * FROM unnest(%b::text[], %b::text[], %b::text[])"
                " ON CONFLICT (source, guid) DO NOTHING",
                ([g[0] for g in guids], [g[1] for g in guids], [g[2] for g in guids]),
            )

    def _is_retryable(self, exc: Exception) -> bool:
        from psycopg import errors

        return isinstance(exc, (errors.DeadlockDetected, errors.SerializationFailure))


def open_store(location: str | Path, *, upgrade: bool | None = True) -> SQLStore:
    """``postgresql://…`` opens PostgreSQL; anything else is a SQLite file path
    (``sqlite:///path`` accepted too). ``upgrade`` brings the schema to the latest version
    (under a lock); without it an out-of-date schema is an error naming ``defnews db upgrade``."""
    loc = str(location)
    if loc.startswith(("postgresql://", "postgres://")):
        return PostgresStore(loc, upgrade=upgrade)
    if loc.startswith("sqlite:///"):
        loc = loc[len("sqlite:///"):]
    return SQLiteStore(loc, upgrade=upgrade)
