"""Versioned schema migrations for the store, safe when several processes open it at once.

``MIGRATIONS`` is an ordered list: version -> SQL for each dialect. To change the schema,
append a :class:`Migration` with the next version; never edit one that has shipped, except the
baseline (version 1), which is idempotent (``CREATE ... IF NOT EXISTS`` only): when its text
changes (a table or index added to ``crawler.store.SCHEMA``), it is simply run again.

Applied versions are kept in ``schema_migrations`` with a checksum of their SQL. ``upgrade``
runs inside one transaction that first takes a lock, so two crawlers starting on a fresh
database do not race each other's ``CREATE TABLE`` (PostgreSQL's concurrent
``CREATE TABLE IF NOT EXISTS`` fails with ``UniqueViolation pg_type_typname_nsp_index``):

- PostgreSQL: ``pg_advisory_xact_lock`` on a key derived from the current schema, released at
  commit; the loser waits, then finds everything applied.
- SQLite: ``BEGIN IMMEDIATE`` (the database's write lock).

``defnews db upgrade`` runs it explicitly; opening a store runs it too (a no-op when current).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


class SchemaError(RuntimeError):
    """The database's schema cannot be used by this version of defnews."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sqlite: str
    postgres: str
    idempotent: bool = False  # may be run again when its SQL changes (the baseline)

    def sql(self, dialect: str) -> str:
        return self.sqlite if dialect == "sqlite" else self.postgres

    def checksum(self, dialect: str) -> str:
        return hashlib.sha256(self.sql(dialect).encode()).hexdigest()[:16]


def _baseline() -> Migration:
    from crawler import store  # the baseline schema text lives with the store

    # Every CREATE ... IF NOT EXISTS text the store module keeps (SCHEMA, and any further
    # *_SCHEMA block of additive tables), so a table added there reaches existing stores.
    text = store.SCHEMA + "".join(
        getattr(store, name) for name in sorted(dir(store))
        if name.endswith("_SCHEMA") and isinstance(getattr(store, name), str)
    )
    return Migration(
        1,
        "baseline: articles, categories, guids, ranking history",
        sqlite=text.format(autoid="INTEGER PRIMARY KEY AUTOINCREMENT"),
        postgres=text.format(autoid="BIGSERIAL PRIMARY KEY"),
        idempotent=True,
    )


def _stories() -> Migration:
    from crawler.stories.store import STORIES_TABLE  # the story of each article (issue #22)

    return Migration(
        2,
        "stories: article_stories (article -> story, the features decided on)",
        sqlite=STORIES_TABLE.format(autoid="INTEGER PRIMARY KEY AUTOINCREMENT"),
        postgres=STORIES_TABLE.format(autoid="BIGSERIAL PRIMARY KEY"),
    )

# Issue #17: per source and section, how far the walk down the archive (a section's index
# pagination) has come: the first index page not yet walked whole, its position, the
# section's number of index pages when known, and whether the walk reached the end; and the
# article addresses linked (prev/next, sidebars) and asked for but not yet stored: written
# before the linking article is stored, so no stop (even SIGKILL) loses the only link to one.
_ARCHIVE_WALKS = """
CREATE TABLE IF NOT EXISTS archive_walks (
    source TEXT NOT NULL,
    section TEXT NOT NULL,
    next_url TEXT,
    next_page INTEGER NOT NULL,
    total_pages INTEGER,
    complete INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (source, section)
);
CREATE TABLE IF NOT EXISTS archive_links (
    source TEXT NOT NULL,
    url TEXT NOT NULL,
    found_at TEXT NOT NULL,
    PRIMARY KEY (source, url)
)
"""

# Ordered by version. Append here; each entry's SQL is a list of statements split on ';'.
MIGRATIONS: list[Callable[[], Migration] | Migration] = [
    _baseline,
    _stories,
    Migration(3, "archive walk state per source and section",
              sqlite=_ARCHIVE_WALKS, postgres=_ARCHIVE_WALKS),
]


def migrations() -> list[Migration]:
    found = [m() if callable(m) else m for m in MIGRATIONS]
    versions = [m.version for m in found]
    if versions != sorted(set(versions)) or versions[0] != 1:
        raise SchemaError(f"migrations out of order: {versions}")
    return found


def latest_version() -> int:
    return migrations()[-1].version


_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,"
    " applied_at TEXT NOT NULL)"
)


def _lock(cur: Any, dialect: str) -> None:
    if dialect == "postgres":
        # One lock per schema (two test schemas in one database do not wait on each other).
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('defnews-schema:' || current_schema()))")
    else:
        cur.execute("BEGIN IMMEDIATE")


def _applied(cur: Any) -> dict[int, str]:
    cur.execute("SELECT version, checksum FROM schema_migrations")
    return {int(v): str(c) for v, c in cur.fetchall()}


def _has_migrations_table(cur: Any, dialect: str) -> bool:
    if dialect == "postgres":
        cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
    else:
        cur.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'schema_migrations'")
    return bool(cur.fetchone()[0])


def _is_current(conn: Any, dialect: str, wanted: list[Migration]) -> bool:
    """A lock-free look: every migration applied with its current checksum."""
    cur = conn.cursor()
    try:
        if not _has_migrations_table(cur, dialect):
            return False
        applied = _applied(cur)
    finally:
        cur.close()
        if dialect == "postgres":
            conn.rollback()  # end the read-only transaction psycopg opened
    newer = any(v > wanted[-1].version for v in applied)
    return not newer and all(applied.get(m.version) == m.checksum(dialect) for m in wanted)


def upgrade(conn: Any, dialect: str) -> list[int]:
    """Bring the schema to the latest version; return the versions applied (or re-applied).

    ``conn`` is a DB-API connection: sqlite3 in autocommit mode (``isolation_level=None``) or
    psycopg (implicit transactions). ``dialect`` is ``"sqlite"`` or ``"postgres"``.
    """
    wanted = migrations()
    if _is_current(conn, dialect, wanted):
        return []
    done: list[int] = []
    cur = conn.cursor()
    try:
        _lock(cur, dialect)
        cur.execute(_VERSION_TABLE)
        applied = _applied(cur)
        newest_known = wanted[-1].version
        if applied and max(applied) > newest_known:
            raise SchemaError(
                f"the store's schema is at version {max(applied)}, newer than this defnews "
                f"knows ({newest_known}): upgrade defnews"
            )
        for migration in wanted:
            checksum = migration.checksum(dialect)
            recorded = applied.get(migration.version)
            if recorded == checksum:
                continue
            if recorded is not None and not migration.idempotent:
                raise SchemaError(
                    f"migration {migration.version} ({migration.name}) was applied with other "
                    "SQL than this defnews has: a shipped migration was edited"
                )
            for statement in migration.sql(dialect).split(";"):
                if statement.strip():
                    cur.execute(statement)
            now = datetime.now(UTC).isoformat()
            cur.execute(
                "DELETE FROM schema_migrations WHERE version = " + str(migration.version)
            )
            mark = "?" if dialect == "sqlite" else "%s"
            cur.execute(
                f"INSERT INTO schema_migrations (version, name, checksum, applied_at)"
                f" VALUES ({mark}, {mark}, {mark}, {mark})",
                (migration.version, migration.name, checksum, now),
            )
            done.append(migration.version)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        cur.close()
    return done


def current_version(conn: Any, dialect: str) -> int:
    """The highest applied version (0 for a database without ``schema_migrations``)."""
    cur = conn.cursor()
    try:
        if not _has_migrations_table(cur, dialect):
            return 0
        cur.execute("SELECT MAX(version) FROM schema_migrations")
        row = cur.fetchone()
        return int(row[0] or 0)
    finally:
        cur.close()
        if dialect == "postgres":
            conn.rollback()
