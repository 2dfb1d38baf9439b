"""Shared fixtures: stores on every backend, the fixture site served on 127.0.0.1."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from crawler.store import SQLiteStore, SQLStore, open_store

PG_DSN = os.environ.get("DEFNEWS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_or_skip() -> str:
    """A fresh schema on the test PostgreSQL, or skip with the reason."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the test extra installs it
        pytest.skip("psycopg is not installed (pip install -e .[test])")
    schema = f"defnews_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(PG_DSN, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_DSN} ({exc.__class__.__name__}); "
                    "set DEFNEWS_TEST_POSTGRES or start PostgreSQL")
    return schema


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[SQLStore]:
    if request.param == "sqlite":
        s: SQLStore = SQLiteStore(tmp_path / "store.sqlite3")
        yield s
        s.close()
        return
    schema = _postgres_or_skip()
    sep = "&" if "?" in PG_DSN else "?"
    s = open_store(f"{PG_DSN}{sep}options=-csearch_path%3D{schema}")
    try:
        yield s
    finally:
        s.close()
        import psycopg

        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
