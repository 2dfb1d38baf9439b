"""Schema migrations: versioned, applied under a lock, safe when processes race a fresh store."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from support import defnews

from crawler import store_migrations
from crawler.store import open_store
from crawler.store_migrations import Migration, SchemaError


def _open_and_close(location: str, barrier: multiprocessing.synchronize.Barrier, out) -> None:
    barrier.wait()
    try:
        open_store(location).close()
        out.put("ok")
    except Exception as exc:  # reported to the parent, which asserts on it
        out.put(f"{type(exc).__name__}: {exc}")


def test_fresh_store_is_at_the_latest_version(store):
    assert store_migrations.current_version(store.conn, store.dialect) == (
        store_migrations.latest_version()
    )
    assert store_migrations.upgrade(store.conn, store.dialect) == []  # idempotent


def test_processes_creating_the_schema_at_once_all_succeed(store_location):
    # Before migrations ran under a lock, PostgreSQL failed one of them with
    # UniqueViolation pg_type_typname_nsp_index (two CREATE TABLE IF NOT EXISTS at once).
    ctx = multiprocessing.get_context("spawn")
    n = 4
    barrier, out = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_open_and_close, args=(store_location, barrier, out))
             for _ in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [out.get(timeout=5) for _ in procs] == ["ok"] * n
    with open_store(store_location, upgrade=False) as s:
        assert s.count_articles() == 0


def test_out_of_date_schema_is_refused_without_upgrade(store_location):
    with pytest.raises(SchemaError, match="defnews db upgrade"):
        open_store(store_location, upgrade=False)


def test_new_migration_applied_once_in_order(store_location, monkeypatch):
    open_store(store_location).close()
    shipped = store_migrations.latest_version()
    extra = Migration(
        shipped + 1, "probe table",
        sqlite="CREATE TABLE probe (n INTEGER PRIMARY KEY); INSERT INTO probe VALUES (1)",
        postgres="CREATE TABLE probe (n INTEGER PRIMARY KEY); INSERT INTO probe VALUES (1)",
    )
    monkeypatch.setattr(store_migrations, "MIGRATIONS", [*store_migrations.MIGRATIONS, extra])
    with pytest.raises(SchemaError, match=f"version {shipped}, this defnews needs {shipped + 1}"):
        open_store(store_location, upgrade=False)
    with open_store(store_location) as s:
        assert s._query("SELECT COUNT(*) FROM probe")[0][0] == 1
        assert store_migrations.current_version(s.conn, s.dialect) == shipped + 1
    with open_store(store_location) as s:  # not applied twice (a second INSERT would fail)
        assert s._query("SELECT COUNT(*) FROM probe")[0][0] == 1


def test_baseline_is_rerun_when_a_table_is_added_to_it(store_location, monkeypatch):
    open_store(store_location).close()
    from crawler import store

    monkeypatch.setattr(store, "SCHEMA", store.SCHEMA + "CREATE TABLE IF NOT EXISTS added (x TEXT);\n")
    with open_store(store_location) as s:
        assert s._query("SELECT COUNT(*) FROM added")[0][0] == 0


def test_edited_shipped_migration_is_an_error(store_location, monkeypatch):
    shipped = list(store_migrations.MIGRATIONS)
    nxt = store_migrations.latest_version() + 1
    first = Migration(nxt, "t", sqlite="CREATE TABLE t2 (x TEXT)", postgres="CREATE TABLE t2 (x TEXT)")
    monkeypatch.setattr(store_migrations, "MIGRATIONS", [*shipped, first])
    open_store(store_location).close()
    edited = Migration(nxt, "t", sqlite="CREATE TABLE t3 (x TEXT)", postgres="CREATE TABLE t3 (x TEXT)")
    monkeypatch.setattr(store_migrations, "MIGRATIONS", [*shipped, edited])
    with pytest.raises(SchemaError, match="shipped migration was edited"):
        open_store(store_location)


def test_schema_newer_than_the_code_is_an_error(store_location):
    with open_store(store_location) as s:
        cur = s.conn.cursor()
        mark = "?" if s.dialect == "sqlite" else "%s"
        cur.execute(f"INSERT INTO schema_migrations VALUES (99, 'future', 'x', {mark})", ("now",))
        s.conn.commit()
    with pytest.raises(SchemaError, match="newer than this defnews knows"):
        open_store(store_location)


def test_db_command_upgrades_then_reports_current(tmp_path: Path):
    path = str(tmp_path / "db.sqlite3")
    status = defnews("db", "status", "--store", path, cwd=tmp_path)
    assert status.returncode == 1 and "run `defnews db upgrade`" in status.stdout
    up = defnews("db", "upgrade", "--store", path, cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    every = ", ".join(str(m.version) for m in store_migrations.migrations())
    assert f"migrations applied: {every}\n" in up.stdout
    again = defnews("db", "upgrade", "--store", path, cwd=tmp_path)
    assert "none (already current)" in again.stdout
    assert defnews("db", "status", "--store", path, cwd=tmp_path).returncode == 0


def test_db_command_names_a_store_it_cannot_open(tmp_path: Path):
    run = defnews("db", "upgrade", "--store", "postgresql://nobody:secret@127.0.0.1:1/x", cwd=tmp_path)
    assert run.returncode == 2
    assert "cannot open the store at 127.0.0.1:1/x" in run.stderr
    assert "secret" not in run.stderr and "Traceback" not in run.stderr


def test_additive_schema_blocks_of_the_store_reach_existing_stores(store_location, monkeypatch):
    """Another *_SCHEMA block in crawler.store (additive tables) is part of the baseline."""
    open_store(store_location).close()
    from crawler import store

    monkeypatch.setattr(store, "EXTRA_SCHEMA", "CREATE TABLE IF NOT EXISTS extra_t (x TEXT);\n",
                        raising=False)
    with open_store(store_location) as s:
        assert s._query("SELECT COUNT(*) FROM extra_t")[0][0] == 0
