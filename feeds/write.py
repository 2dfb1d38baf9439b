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
