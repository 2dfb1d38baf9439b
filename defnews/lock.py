"""One run at a time per store: a file lock beside a SQLite store, an advisory lock in PostgreSQL.

A second ``defnews`` run on the same store (scheduled or manual) does not wait: it says who
holds the lock (pid, host, start time, command) and exits with :data:`EXIT_LOCKED`.

Both locks are released by the operating system / the server when the holder dies (kill -9
included): nothing stale to clean up. ``fcntl.flock`` is used directly (POSIX only), as the
one call needs no dependency.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from defnews.preflight import is_postgres, redact, sqlite_path

EXIT_LOCKED = 75  # EX_TEMPFAIL (sysexits.h): another run is working on the store; try later

# pg_try_advisory_lock(int4, int4): a fixed first key for defnews, the schema's hash second.
_PG_CLASS = 0x64656E  # "den"


class LockHeld(Exception):
    """Another run holds the store's lock; the message says which."""


def _holder(command: str) -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
    }


def _describe(info: dict[str, Any]) -> str:
    parts = [f"pid {info.get('pid', '?')}", f"on {info.get('host', '?')}"]
    if info.get("started"):
        parts.append(f"since {info['started']}")
    if info.get("command"):
        parts.append(f"(defnews {info['command']})")
    return " ".join(parts)


@contextlib.contextmanager
def store_lock(location: str, command: str) -> Iterator[None]:
    """Hold the store's lock for the ``with`` block, or raise :class:`LockHeld`."""
    if is_postgres(location):
        with _pg_lock(location, command):
            yield
    else:
        with _file_lock(sqlite_path(location), command):
            yield


@contextlib.contextmanager
def _file_lock(store: Path, command: str) -> Iterator[None]:
    path = store.with_name(store.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                info = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
            except ValueError:
                info = {}
            raise LockHeld(f"store {store} is in use by {_describe(info)}; lock file {path}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_holder(command)).encode("utf-8"), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _pg_lock(dsn: str, command: str) -> Iterator[None]:
    import psycopg

    info = _holder(command)
    # The application name carries the holder for the second run to report (63 bytes max).
    name = f"defnews {command} pid={info['pid']} host={info['host']}"[:63]
    conn = psycopg.connect(dsn, autocommit=True, application_name=name, connect_timeout=10)
    try:
        row = conn.execute("SELECT current_schema()").fetchone()
        key = zlib.crc32(str(row[0] if row else "").encode()) & 0x7FFFFFFF
        got = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (_PG_CLASS, key)).fetchone()
        if not (got and got[0]):
            holder = conn.execute(
                "SELECT a.application_name, a.backend_start, a.client_addr FROM pg_locks l"
                " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory'"
                " AND l.granted AND l.classid = %s AND l.objid = %s AND l.objsubid = 2",
                (_PG_CLASS, key),
            ).fetchone()
            who = "another run"
            if holder:
                who = f"{holder[0] or 'another client'}"
                if holder[1] is not None:
                    who += f" since {holder[1].astimezone(UTC).isoformat(timespec='seconds')}"
                if holder[2] is not None:
                    who += f" from {holder[2]}"
            raise LockHeld(f"store {redact(dsn)} (schema {row[0] if row else '?'}) is in use by {who}")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (_PG_CLASS, key))
    finally:
        conn.close()
