"""Atomic, change-only file writes for the public folder.

A reader (web server, CDN, ``defnews serve``) sees either the old file or the new one, never a
half-written one: the bytes go to a temporary file in the same directory, are flushed and
fsynced, and replace the target with ``os.replace``. A file whose bytes would not change is
not touched at all, so its mtime (and the ETag / Last-Modified a server derives from it) stays.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TEMP_PREFIX = ".defnews-"
TEMP_SUFFIX = ".tmp"
FILE_MODE = 0o644  # served files: world-readable (mkstemp would leave 0600)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically unless it already holds exactly these bytes.

    Returns whether the file was written. On any error the previous file is left as it was
    and the temporary file is removed.
    """
    try:
        if path.read_bytes() == data:
            return False
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = FILE_MODE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)
    return True


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def is_temp_file(path: Path) -> bool:
    """A leftover of a write that was killed before it could clean up."""
    return path.name.startswith(TEMP_PREFIX) and path.name.endswith(TEMP_SUFFIX)


def write_many(files: Mapping[Path, bytes]) -> set[Path]:
    """:func:`write_if_changed` for many files at once; returns the paths written.

    Same guarantees per file (temporary file, fsync, ``os.replace``, the old file kept on
    error, no temporary file left behind), but the fsyncs run side by side in a few threads
    and each directory is fsynced once, not once per file: a build writes dozens of files, and
    one fsync after another made up most of a small build's time.
    """
    pending: list[tuple[Path, Path, int]] = []  # (target, temporary file, mode)
    try:
        for path, data in files.items():
            try:
                if path.read_bytes() == data:
                    continue
                mode = stat.S_IMODE(path.stat().st_mode)
            except FileNotFoundError:
                mode = FILE_MODE
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=path.parent)
            pending.append((path, Path(tmp_name), mode))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        with ThreadPoolExecutor(max_workers=min(8, len(pending) or 1)) as pool:
            list(pool.map(_fsync_file, [tmp for _, tmp, _ in pending]))
        for _, tmp, mode in pending:
            os.chmod(tmp, mode)
        written: set[Path] = set()
        for path, tmp, _ in pending:
            os.replace(tmp, path)
            written.add(path)
    except BaseException:
        for _, tmp, _ in pending:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        raise
    for directory in sorted({p.parent for p in written}):
        _fsync_dir(directory)
    return written


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
