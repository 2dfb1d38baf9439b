"""Shared fixtures: a store on every backend (SQLite, and PostgreSQL where reachable)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scrapy import Spider
from scrapy.utils.test import get_crawler
from support import drop_postgres_schema, postgres_schema_dsn, postgres_schema_or_skip

from crawler.store import SQLStore, open_store


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    """A DSN on a fresh PostgreSQL schema (dropped afterwards), or skip with the reason.
    Nothing is created in it: tests that race the schema creation need that."""
    schema = postgres_schema_or_skip()
    try:
        yield postgres_schema_dsn(schema)
    finally:
        drop_postgres_schema(schema)


@pytest.fixture(params=["sqlite", "postgres"])
def store_location(request: pytest.FixtureRequest, tmp_path) -> str:
    """Where a fresh, empty store lives: a SQLite path, or a DSN on a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite3")
    return str(request.getfixturevalue("pg_dsn"))


@pytest.fixture
def store(store_location: str) -> Iterator[SQLStore]:
    s = open_store(store_location)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def crawler(tmp_path):
    """A crawler as Scrapy builds it, its stats open, its store a SQLite file in tmp_path."""
    c = get_crawler(Spider, {"DEFNEWS_STORE": str(tmp_path / "s.sqlite3")})
    c.stats.open_spider()
    return c
