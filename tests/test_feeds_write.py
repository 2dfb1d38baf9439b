"""Atomic, change-only writes: a reader never sees half a file, unchanged files keep their mtime."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import feeds.write
from feeds.write import is_temp_file, write_if_changed, write_many


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_new_file_is_written_world_readable(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "all.atom"
    assert write_if_changed(target, b"<feed/>") is True
    assert target.read_bytes() == b"<feed/>"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert listing(target.parent) == ["all.atom"]


def test_same_bytes_leave_the_file_untouched(tmp_path: Path) -> None:
    target = tmp_path / "all.atom"
    write_if_changed(target, b"<feed/>")
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    inode = target.stat().st_ino
    assert write_if_changed(target, b"<feed/>") is False
    assert target.stat().st_mtime_ns == 1_000_000_000
    assert target.stat().st_ino == inode


def test_changed_bytes_replace_the_file_and_keep_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "all.atom"
    target.write_bytes(b"old")
    target.chmod(0o640)
    assert write_if_changed(target, b"new") is True
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert listing(tmp_path) == ["all.atom"]


@pytest.mark.parametrize("failing", ["fsync", "replace", "chmod"], ids=str)
def test_failure_mid_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target = tmp_path / "all.atom"
    target.write_bytes(b"old and complete")
    seen: list[Path] = []

    def boom(*args: object, **kwargs: object) -> None:
        seen.extend(p for p in tmp_path.iterdir() if is_temp_file(p))
        raise OSError(f"{failing} failed")

    monkeypatch.setattr(feeds.write.os, failing, boom)
    with pytest.raises(OSError, match=f"{failing} failed"):
        write_if_changed(target, b"new")
    monkeypatch.undo()
    assert seen, "the new bytes went to a temporary file first"
    assert target.read_bytes() == b"old and complete"
    assert listing(tmp_path) == ["all.atom"]  # no temporary file left behind


def test_interrupt_also_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "all.atom"

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(feeds.write.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_if_changed(target, b"new")
    monkeypatch.undo()
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "temp"),
    [
        (".defnews-x1y2.tmp", True),
        ("all.atom", False),
        (".defnews-x.atom", False),
        ("x.tmp", False),
    ],
    ids=["temp", "feed", "other-suffix", "other-prefix"],
)
def test_is_temp_file(name: str, temp: bool) -> None:
    assert is_temp_file(Path(name)) is temp


# -- many files at once -----------------------------------------------------------------------


def test_write_many_writes_only_what_changed(tmp_path: Path) -> None:
    same, changed, new = tmp_path / "same.atom", tmp_path / "changed.atom", tmp_path / "d" / "new.rss"
    same.write_bytes(b"same")
    changed.write_bytes(b"old")
    changed.chmod(0o640)
    os.utime(same, ns=(1_000_000_000, 1_000_000_000))
    written = write_many({same: b"same", changed: b"new", new: b"<rss/>"})
    assert written == {changed, new}
    assert (same.read_bytes(), changed.read_bytes(), new.read_bytes()) == (b"same", b"new", b"<rss/>")
    assert same.stat().st_mtime_ns == 1_000_000_000
    assert stat.S_IMODE(changed.stat().st_mode) == 0o640
    assert stat.S_IMODE(new.stat().st_mode) == 0o644
    assert not [p for p in tmp_path.rglob("*") if is_temp_file(p)]


@pytest.mark.parametrize("failing", ["fsync", "replace", "chmod"], ids=str)
def test_write_many_failure_keeps_old_files_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    a, b = tmp_path / "a.atom", tmp_path / "b.atom"
    a.write_bytes(b"old a")
    b.write_bytes(b"old b")

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError(f"{failing} failed")

    monkeypatch.setattr(feeds.write.os, failing, boom)
    with pytest.raises(OSError, match=f"{failing} failed"):
        write_many({a: b"new a", b: b"new b"})
    monkeypatch.undo()
    assert (a.read_bytes(), b.read_bytes()) == (b"old a", b"old b")
    assert listing(tmp_path) == ["a.atom", "b.atom"]
