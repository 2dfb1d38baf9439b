"""Full and read-only disks under the store and under ``public/`` (issue 18, point 2), and
``--feed-url`` with a query: one line naming what failed, exit 2, no traceback, nothing built
from a crawl whose store refused a write, every entry read counted.

The full filesystem is a small tmpfs mounted by the test (root only: otherwise skipped with
that reason) and unmounted in teardown; read-only folders are read-only bind mounts (root
bypasses file modes, not a read-only mount).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hostile import HostileServer, Reply, text
from test_e2e_hostile import run_defnews

SOURCES = """
[[source]]
key = "bigwire"
name = "Big Wire"
kind = "feed"
urls = ["{base}feeds/big.xml"]
language = "en"
"""


def big_feed(entries: int, *, size: int = 700) -> Reply:
    when = (datetime.now(UTC) - timedelta(days=1)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    items = "".join(
        f"<item><title>Story {n}</title><link>https://bigwire.example/stories/{n}</link>"
        f"<pubDate>{when}</pubDate><category>Defense</category><description>{f'Paragraph {n} of the story. ' * (size // 27)}"
        "</description></item>"
        for n in range(entries))
    return text('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
                "<title>Big Wire</title><link>https://bigwire.example/</link>"
                f"<description>d</description>{items}</channel></rss>",
                "application/rss+xml; charset=UTF-8")


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount ({' '.join(args)}): {done.stderr.strip() or 'not permitted'}")


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    """Mount points to unmount at teardown, last first."""
    mounted: list[Path] = []
    yield mounted
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


def tmpfs(mounts: list[Path], where: Path, size: str) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where))
    mounts.append(where)
    return where


def read_only(mounts: list[Path], where: Path) -> Path:
    _mount("--bind", str(where), str(where))
    mounts.append(where)
    _mount("-o", "remount,bind,ro", str(where))
    return where


def defnews(work: Path, server: HostileServer, *args: str, store: Path, public: Path):
    sources = work / "sources.toml"
    sources.write_text(SOURCES.replace("{base}", server.url), encoding="utf-8")
    return run_defnews(work, *args, "--sources", str(sources), "--store", str(store),
                       "--public", str(public), "--feed-url", "https://feeds.example.org/",
                       "-s", "HTTPCACHE_ENABLED=0")


def source_line(out: str) -> dict[str, int]:
    m = re.search(r"bigwire: (\d+) entries read, (\d+) kept, (\d+) merged as duplicates, "
                  r"(\d+) dropped(?:, (\d+) failed)?", out)
    assert m, out
    read, kept, merged, dropped, failed = (int(g or 0) for g in m.groups())
    return {"read": read, "kept": kept, "merged": merged, "dropped": dropped, "failed": failed}


def one_line_error(stderr: str, *words: str) -> str:
    assert "Traceback" not in stderr, stderr[-3000:]
    lines = [line for line in stderr.splitlines() if line.startswith("defnews ")]
    assert len(lines) == 1, stderr[-3000:]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_a_full_disk_under_the_store_stops_the_crawl_and_builds_nothing(tmp_path, mounts):
    disk = tmpfs(mounts, tmp_path / "disk", "3m")
    with HostileServer({"/feeds/big.xml": big_feed(4000)}) as server:
        code, out, err, _ = defnews(tmp_path, server, "run", store=disk / "store.sqlite3",
                                    public=tmp_path / "public")
    assert code == 2, (out, err[-3000:])
    line = one_line_error(err, "could not be written", "disk is full")
    assert line.startswith("defnews crawl: error: store ")
    totals = source_line(out)
    # The totals never lie: every entry read is kept, merged, dropped or failed, and the ones
    # the store refused are failed, not kept.
    assert totals["read"] == 4000 and totals["failed"] > 0
    assert totals["read"] == sum(v for k, v in totals.items() if k != "read")
    assert "unaccounted" not in out and "healthy" not in out
    assert "failed" in out.split("Crawl summary", 1)[1]
    # Nothing built from it.
    assert not (tmp_path / "public").exists() or not list((tmp_path / "public").rglob("*.atom"))


def test_a_full_public_disk_is_one_line_and_leaves_no_temporary_file(tmp_path, mounts):
    public = tmpfs(mounts, tmp_path / "public", "64k")
    with HostileServer({"/feeds/big.xml": big_feed(300)}) as server:
        code, out, err, _ = defnews(tmp_path, server, "run", store=tmp_path / "store.sqlite3",
                                    public=public)
    assert code == 2, (out, err[-3000:])
    one_line_error(err, f"--public {public}", "No space left on device")
    assert source_line(out)["kept"] == 300  # the crawl itself went well
    assert not [p for p in public.rglob("*") if p.name.endswith(".tmp")]


def test_a_read_only_store_is_one_line(tmp_path, mounts):
    folder = tmp_path / "ro"
    folder.mkdir()
    with HostileServer({"/feeds/big.xml": big_feed(5)}) as server:
        code, out, err, _ = defnews(tmp_path, server, "run", store=folder / "store.sqlite3",
                                    public=tmp_path / "public")
        assert code == 0, (out, err[-3000:])
        built = sorted((tmp_path / "public").rglob("*.atom"))
        server.route("/feeds/big.xml", big_feed(8))
        read_only(mounts, folder)
        code, out, err, _ = defnews(tmp_path, server, "run", store=folder / "store.sqlite3",
                                    public=tmp_path / "public")
    assert code == 2, (out, err[-3000:])
    one_line_error(err, "store", "read-only")
    # Nothing built from it: the feeds of the first run, as they were.
    assert sorted((tmp_path / "public").rglob("*.atom")) == built
    atom = (tmp_path / "public" / "source" / "bigwire.atom").read_text(encoding="utf-8")
    assert atom.count("<entry>") == 5


def test_a_read_only_public_subfolder_is_one_line(tmp_path, mounts):
    public = tmp_path / "public"
    with HostileServer({"/feeds/big.xml": big_feed(5)}) as server:
        code, out, err, _ = defnews(tmp_path, server, "run", store=tmp_path / "store.sqlite3",
                                    public=public)
        assert code == 0, (out, err[-3000:])
        server.route("/feeds/big.xml", big_feed(8))
        read_only(mounts, public / "source")
        code, out, err, _ = defnews(tmp_path, server, "run", store=tmp_path / "store.sqlite3",
                                    public=public)
    assert code == 2, (out, err[-3000:])
    one_line_error(err, "cannot write", "Read-only file system")
    assert (public / "source" / "bigwire.atom").read_text(encoding="utf-8").count("<entry>") == 5


@pytest.mark.parametrize("url", ["https://feeds.example.org/?x=1", "https://feeds.example.org/#top",
                                 "https://ww].example.org/"])
def test_feed_url_with_a_query_is_a_usage_error(tmp_path, url):
    code, out, err, _ = run_defnews(tmp_path, "build", "--store", str(tmp_path / "s.sqlite3"),
                                    "--public", str(tmp_path / "public"), "--feed-url", url)
    assert code == 2 and "Traceback" not in err, err
    assert "--feed-url" in err and url in err
