"""``defnews serve`` against hostile clients (issue 18, points 9, 10 and 12): Range requests
coalesced and capped, slow and idle connections closed, a cap on open connections, editor
backups never served. A real ``defnews serve`` subprocess on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import http.client
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

FEED = b"<feed>" + b"<entry>x</entry>" * 5000 + b"</feed>"  # 80 KB, as a real all.atom


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve-hostile") / "public"
    root.mkdir()
    (root / "all.atom").write_bytes(FEED)
    (root / "index.html").write_bytes(b"<!DOCTYPE html><title>x</title>")
    for name in ("all.atom~", "all.atom.bak", "index.html.orig", "#all.atom#", "all.atom.swp",
                 "feed.old", ".all.atom.swp"):
        (root / name).write_bytes(b"backup")
    return root


def _raise_nofile(limit: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < limit:
        if hard != resource.RLIM_INFINITY and hard < limit:
            pytest.skip(f"needs {limit} open files in the test process, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


@contextmanager
def serving(public: Path, *args: str, nofile: int | None = None) -> Iterator[tuple[str, int]]:
    def limit() -> None:  # the server's own open-file limit (the common 1,024)
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    # The log goes to a file: a pipe nobody reads while the test runs would fill and stop
    # the server in the middle of its access log.
    log = public.parent / f"serve-{time.monotonic_ns()}.log"
    with open(log, "w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "defnews", "serve", "--public", str(public), "--port", "0",
             "--access-log", str(log.with_suffix(".access")), *args],
            stdout=subprocess.PIPE, stderr=err, text=True, preexec_fn=limit)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"server did not start: {log.read_text()}")
            parts = urlsplit(next(w for w in line.split() if w.startswith("http://")))
            yield parts.hostname or "127.0.0.1", int(parts.port or 0)
        finally:
            proc.terminate()
            proc.communicate(timeout=20)
    text = log.read_text(encoding="utf-8")
    assert "Traceback" not in text, text[-3000:]


@pytest.fixture(scope="module")
def server(public: Path) -> Iterator[tuple[str, int]]:
    with serving(public) as address:
        yield address


def get(server: tuple[str, int], path: str, **headers: str) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection(*server, timeout=10)
    try:
        conn.request("GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


# -- 12. backups and hidden files ------------------------------------------------------------
@pytest.mark.parametrize("name", ["all.atom~", "all.atom.bak", "index.html.orig", "%23all.atom%23",
                                  "all.atom.swp", "feed.old", ".all.atom.swp"])
def test_editor_backups_are_not_served(server, name):
    status, _, body = get(server, "/" + name)
    assert status == 404 and b"backup" not in body


# -- 9. Range requests ------------------------------------------------------------------------
def test_overlapping_ranges_never_send_more_than_the_file(server):
    ranges = ",".join(["0-"] * 500)  # a 1.5 KB request
    status, headers, body = get(server, "/all.atom", Range=f"bytes={ranges}")
    assert status == 200 and body == FEED  # nginx: ranges adding up past the file -> all of it


def test_six_hundred_small_ranges_are_answered(server):
    ranges = ",".join(f"{2 * n}-{2 * n}" for n in range(600))
    status, _, body = get(server, "/all.atom", Range=f"bytes={ranges}")
    assert status == 200 and body == FEED  # more than 16 ranges: the whole file


def test_adjacent_and_overlapping_ranges_are_merged(server):
    status, headers, body = get(server, "/all.atom", Range="bytes=0-9,10-19,5-14")
    assert status == 206 and headers["Content-Range"] == f"bytes 0-19/{len(FEED)}"
    assert body == FEED[:20]
    status, headers, body = get(server, "/all.atom", Range="bytes=0-9,100-109")
    assert status == 206 and headers["Content-Type"].startswith("multipart/byteranges")
    assert FEED[:10] in body and FEED[100:110] in body
    status, headers, body = get(server, "/all.atom", Range="bytes=-10")
    assert status == 206 and body == FEED[-10:]


# -- 10. slow and idle connections -----------------------------------------------------------
SLOW = 300


def _slowloris(host: str, port: int, n: int) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(b"GET /all.atom HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    return socks


def _closed(s: socket.socket) -> bool:
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_slowly_fed_connections_are_closed_after_the_header_timeout(public):
    _raise_nofile(4 * SLOW)
    with serving(public, "--header-timeout", "2", "--idle-timeout", "3") as (host, port):
        socks = _slowloris(host, port, SLOW)
        idle = socket.create_connection((host, port), timeout=10)
        deadline = time.monotonic() + 15
        try:
            # One header byte every 0.5 s each: Twisted's idle timeout alone is reset by each.
            while time.monotonic() < deadline:
                for s in socks:
                    with suppress(OSError):
                        s.send(b"X")
                if all(_closed(s) for s in socks) and _closed(idle):
                    break
                for s in socks:
                    s.setblocking(True)
                time.sleep(0.5)
            closed = sum(_closed(s) for s in socks)
            assert closed == SLOW, f"{closed} of {SLOW} slowly-fed sockets closed"
            assert _closed(idle)
        finally:
            for s in [*socks, idle]:
                s.close()


IDLE = 1_100
BURST = 1_000
NORMAL = 40


def test_a_normal_client_is_answered_under_load_at_the_common_fd_limit(public):
    """Against a server whose open-file limit is the common 1,024: 1,000 connections that
    each made a request at once and stay open, then 300 slowloris and 1,100 idle sockets
    (2,400 in all); then each of 40 normal requests is answered, within a second."""
    _raise_nofile(4 * (IDLE + SLOW + BURST))
    with serving(public, nofile=1024) as (host, port):

        async def request(path: str, *, close: bool) -> tuple[int, Any]:
            reader, writer = await asyncio.open_connection(host, port)
            connection = b"close" if close else b"keep-alive"
            writer.write(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: %s\r\n\r\n"
                         % (path.encode(), connection))
            await writer.drain()
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            if close:
                writer.close()
            return status, writer

        async def load() -> tuple[list[Any], list[tuple[int, float]]]:
            burst = await asyncio.wait_for(asyncio.gather(
                *(request("/index.html", close=False) for _ in range(BURST)),
                return_exceptions=True), 120)
            idle = [socket.create_connection((host, port), timeout=10) for _ in range(IDLE)]
            slow = _slowloris(host, port, SLOW)
            await asyncio.sleep(1.5)  # idle and slow for a while: the server may close them
            timed = []
            try:
                for _ in range(NORMAL):
                    started = time.monotonic()
                    status, _ = await asyncio.wait_for(request("/all.atom", close=True), 10)
                    timed.append((status, time.monotonic() - started))
            finally:
                for s in [*idle, *slow]:
                    s.close()
                for r in burst:
                    if isinstance(r, tuple):
                        r[1].close()
            return burst, timed

        burst, timed = asyncio.run(load())
    # The 1,000 were answered: 200, or 503 past the connection cap (none left hanging).
    statuses = [r[0] if isinstance(r, tuple) else r for r in burst]
    assert all(s in (200, 503) for s in statuses), [s for s in statuses if s not in (200, 503)][:3]
    assert statuses.count(200) > BURST // 2
    assert [status for status, _ in timed] == [200] * NORMAL
    slowest = max(took for _, took in timed)
    assert slowest < 1.0, f"a normal request took {slowest:.2f} s"


def test_at_the_connection_cap_a_kept_alive_connection_goes_before_one_still_opening(public):
    """At the cap, the connection closed for a new one is a kept-alive one whose client had
    its answer, not an older one whose client has not sent its request yet (a busy client
    still opening its connections: closing that one resets it; seen as ConnectionResetError
    in a 1,000-connection burst)."""

    def get(sock: socket.socket) -> bytes:
        sock.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")))
        while len(body) < length:
            body += sock.recv(65536)
        return head

    with serving(public, "--max-connections", "4") as (host, port):
        opening = socket.create_connection((host, port), timeout=10)  # sends nothing yet
        time.sleep(0.1)
        kept = [socket.create_connection((host, port), timeout=10) for _ in range(2)]
        for sock in kept:
            assert get(sock).startswith(b"HTTP/1.1 200")
        other = socket.create_connection((host, port), timeout=10)
        time.sleep(1.5)  # all older than the age below which no connection is closed
        new = socket.create_connection((host, port), timeout=10)
        try:
            assert get(new).startswith(b"HTTP/1.1 200")
            # The oldest connection, still opening, was spared: its request is answered now.
            assert get(opening).startswith(b"HTTP/1.1 200")
        finally:
            for sock in [opening, *kept, other, new]:
                sock.close()
