"""Helpers shared by the end-to-end tests (not a test module)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ATOM = "{http://www.w3.org/2005/Atom}"

# The Content-Type a typical server sends for each fixture feed in tests/fixtures/feeds/
# (the Shift_JIS feed as text/xml without charset, as many Japanese servers do).
FEED_CONTENT_TYPES = {
    "naval.xml": "application/rss+xml; charset=UTF-8",
    "naval-updated.xml": "application/rss+xml; charset=UTF-8",
    "wire.atom": "application/atom+xml",
    "mod-press.rdf": "application/rdf+xml",
    "sjis.xml": "text/xml",
    "eucjp.xml": "text/xml; charset=EUC-JP",
    "malformed.xml": "application/rss+xml",
    "json-feed.json": "application/feed+json",
    "error.html": "text/html; charset=UTF-8",
}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def defnews(*args: str, cwd: Path) -> Run:
    """Run the ``defnews`` command in a subprocess (a Twisted reactor runs once per process)."""
    proc = subprocess.run(
        [sys.executable, "-m", "defnews", *args],
        cwd=cwd, env=dict(os.environ), capture_output=True, text=True, timeout=300,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


PG_DSN = os.environ.get("DEFNEWS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def postgres_schema_or_skip() -> str:
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


def postgres_schema_dsn(schema: str) -> str:
    """A DSN whose search path is ``schema``; its sessions carry the schema as their
    application name, so :func:`drop_postgres_schema` can end those a test left behind."""
    sep = "&" if "?" in PG_DSN else "?"
    return f"{PG_DSN}{sep}options=-csearch_path%3D{schema}&application_name={schema}"


def drop_postgres_schema(schema: str) -> None:
    """Drop a test schema. Sessions still open on it (a crawl process a failed test left
    running, holding a transaction) are ended first: their table locks would otherwise make
    DROP SCHEMA wait forever, and the whole run with it. ``lock_timeout`` bounds the rest."""
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=10) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     " WHERE application_name = %s AND pid <> pg_backend_pid()", (schema,))
        conn.execute("SET lock_timeout = '60s'")
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
