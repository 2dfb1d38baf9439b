"""Checks made before any work, so that a mistake costs nothing.

Every function here turns a bad value into :class:`UsageError` with one line naming the
file, value or address (the command prints it and exits with status 2); nothing is created,
crawled or written before these pass.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

from defnews.runner import UsageError

logger = logging.getLogger(__name__)

FEED_SUFFIXES = (".atom", ".rss", ".json")


# -- argparse types: a bad value is a usage error with the value named -------------------
def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be {minimum} or more, got {value}")
    return value


def positive_int(text: str) -> int:
    return _whole_number(text, 1)


def non_negative_int(text: str) -> int:
    """A count where 0 means none (``--counter-walk 0``: no walk); a negative one is a typo."""
    return _whole_number(text, 0)


def tcp_port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0-65535 (0: any free port), got {value}")
    return value


def http_url(text: str) -> str:
    from crawler.urls import split_url

    if split_url(text) is None:  # https://ww].example/: urllib cannot read it
        raise argparse.ArgumentTypeError(f"not a URL urllib can read: {text!r}")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"expected an http:// or https:// URL, got {text!r}")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad port in {text!r}") from None
    return text


def feed_url(text: str) -> str:
    """``--feed-url``: where the public folder is served, so no query or fragment (a feed's
    address is this URL plus its path)."""
    text = http_url(text)
    parts = urlsplit(text)
    if parts.query or parts.fragment:
        raise argparse.ArgumentTypeError(
            f"must not have a query or fragment (the feeds' paths are added to it), got {text!r}")
    return text


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    """``90``, ``90s``, ``15m``, ``2h``, ``1d`` -> seconds."""
    match = _DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(
            f"expected a duration such as 90s, 15m, 2h or 1d, got {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def interval(text: str) -> float:
    """``--every``: a duration with its unit (``90s``, ``15m``, ``2h``, ``1d``). A bare
    number is refused: ``--every 15`` read as seconds hits a site 60 times as often as the
    operator who meant minutes thinks. The rule of a source's ``min_interval`` too."""
    from crawler.sources import parse_interval

    try:
        return parse_interval(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# -- files and folders ---------------------------------------------------------------------
def check_log_file(path: Path | None) -> None:
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"--log-file {path}: is a directory")
    if not path.parent.is_dir():
        raise UsageError(f"--log-file {path}: folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"--log-file {path}: not writable")


def check_public(public: Path) -> None:
    if public.exists() and not public.is_dir():
        raise UsageError(f"--public {public}: is a file, not a folder")
    parent = next((p for p in (public, *public.parents) if p.exists()), Path("."))
    if not parent.is_dir():
        raise UsageError(f"--public {public}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"--public {public}: {parent} is not writable")


def public_has_feeds(public: Path) -> bool:
    return public.is_dir() and any(
        p.suffix in FEED_SUFFIXES for p in public.rglob("*") if p.is_file()
    )


# -- stores --------------------------------------------------------------------------------
def is_postgres(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def sqlite_path(location: str) -> Path:
    return Path(location.removeprefix("sqlite:///"))


def redact(dsn: str) -> str:
    """A DSN without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", dsn)


def store_exists(location: str) -> bool:
    return is_postgres(location) or sqlite_path(location).is_file()


def check_store(location: str) -> None:
    """Open the store once (creating a SQLite file's folder and tables as a crawl would)."""
    from crawler.store import open_store

    new = False
    if not is_postgres(location):
        path = sqlite_path(location)
        if path.is_dir():
            raise UsageError(f"store {path}: is a folder, not a SQLite file")
        existing = next((p for p in path.parents if p.exists()), Path("."))
        if not existing.is_dir():
            raise UsageError(f"store {path}: {existing} is a file, not a folder")
        if not path.exists() and existing != path.parent.resolve() and existing != path.parent:
            # A typo in the folder would start a whole new crawl into a new folder.
            raise UsageError(f"store {path}: folder {path.parent} does not exist (a new store "
                             "is made only in an existing folder)")
        if not path.exists() and not os.access(existing, os.W_OK):
            raise UsageError(f"store {path}: folder {existing} is not writable")
        new = not path.exists()
    try:
        open_store(location).close()
        if new:
            # Said, so that a mistyped --store is seen before the full crawl it starts.
            print(f"new store: {path} (every article will be new)", flush=True)
    except UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 - every driver error becomes one line
        logger.debug("opening the store %s failed", redact(location), exc_info=True)
        raise UsageError(store_error(location, exc)) from None


def store_error(location: str, exc: BaseException) -> str:
    if is_postgres(location):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"store {redact(location)}: cannot use PostgreSQL: {first}"
    path = sqlite_path(location)
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
        return f"store {path}: not a SQLite database"
    if isinstance(exc, (sqlite3.OperationalError, OSError)):
        # SQLite says "unable to open database file" for a read-only folder: say which.
        folder = path.parent if str(path.parent) else Path(".")
        if folder.is_dir() and not os.access(folder, os.W_OK):
            return f"store {path}: cannot open or write it (folder {folder} is read-only: {exc})"
        if path.is_file() and not os.access(path, os.W_OK):
            return f"store {path}: cannot open or write it (the file is read-only: {exc})"
        return f"store {path}: cannot open or write it ({exc})"
    return f"store {path}: {type(exc).__name__}: {exc}"
