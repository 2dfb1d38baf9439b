"""Shared fixtures: a store on every backend (SQLite, and PostgreSQL where reachable)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support import PG_DSN, postgres_schema_or_skip

from crawler.store import SQLiteStore, SQLStore, open_store


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[SQLStore]:
    if request.param == "sqlite":
        s: SQLStore = SQLiteStore(tmp_path / "store.sqlite3")
        yield s
        s.close()
        return
    schema = postgres_schema_or_skip()
    sep = "&" if "?" in PG_DSN else "?"
    s = open_store(f"{PG_DSN}{sep}options=-csearch_path%3D{schema}")
    try:
        yield s
    finally:
        s.close()
        import psycopg

        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
