"""``defnews serve`` over a real socket: a subprocess serving a public folder on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import http.client
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from defnews.cli import make_parser

SECRET = b"secret outside the public folder"
BURST = 1_000


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("serve")
    root = base / "public"
    (root / "category").mkdir(parents=True)
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    (root / "all.atom").write_bytes(b'<feed xmlns="http://www.w3.org/2005/Atom"/>')
    (root / "all.rss").write_bytes(b"<rss/>")
    (root / "all.json").write_bytes(b'{"version": "https://jsonfeed.org/version/1.1"}')
    (root / "opml.xml").write_bytes(b"<opml/>")
    (root / "index.html").write_bytes("<!DOCTYPE html><title>索引</title>".encode())
    (root / "category" / "naval.rss").write_bytes(b"<rss>" + b"<item/>" * 2000 + b"</rss>")
    (root / ".defnews-build.json").write_bytes(b"{}")
    (root / "category" / ".defnews-x.tmp").write_bytes(b"<half")
    (root / "out").symlink_to(outside, target_is_directory=True)
    (root / "category" / "leak.atom").symlink_to(outside / "secret.txt")
    (root / "inside.atom").symlink_to(root / "all.atom")  # a symlink inside is fine
    return root


@pytest.fixture(scope="module")
def server(public: Path) -> Iterator[tuple[str, int, Path]]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4 * BURST:  # the burst needs a descriptor per connection on both sides
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4 * BURST), hard))
    log = public.parent / "access.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "defnews", "serve", "--public", str(public), "--port", "0",
         "--access-log", str(log), "--max-age", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # "Serving … at http://127.0.0.1:PORT/ …"
        if not line:
            raise AssertionError(f"server did not start: {proc.stderr.read() if proc.stderr else ''}")
        url = next(word for word in line.split() if word.startswith("http://"))
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1"
        yield parts.hostname, int(parts.port or 0), log
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # waits, and closes its pipes


def get(
    server: tuple[str, int, Path], path: str, method: str = "GET", **headers: str
) -> tuple[int, http.client.HTTPMessage, bytes]:
    host, port, _ = server
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        # http.client sends the path exactly as given: no normalisation of ../ or %2e.
        conn.request(method, path, headers={k.replace("_", "-"): v for k, v in headers.items()})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/all.atom", "application/atom+xml; charset=utf-8"),
        ("/all.rss", "application/rss+xml; charset=utf-8"),
        ("/all.json", "application/feed+json; charset=utf-8"),
        ("/opml.xml", "application/xml; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
    ],
    ids=["atom", "rss", "json-feed", "opml", "html", "root-index"],
)
def test_content_types_with_charset(server, public, path, content_type) -> None:
    status, headers, body = get(server, path)
    assert status == 200
    assert headers["Content-Type"] == content_type
    expected = public / (path.lstrip("/") or "index.html")
    assert body == expected.read_bytes()
    assert headers["Cache-Control"] == "public, max-age=120"


def test_etag_round_trip_gives_304_and_a_change_gives_200(server, public) -> None:
    status, headers, _ = get(server, "/all.rss")
    etag = headers["ETag"]
    assert status == 200 and etag and headers["Last-Modified"]
    status, headers, body = get(server, "/all.rss", If_None_Match=etag)
    assert (status, body) == (304, b"")
    assert headers["ETag"] == etag
    # If-None-Match wins over If-Modified-Since (RFC 9110): a stale tag gets the file.
    status, _, body = get(server, "/all.rss", If_None_Match='W/"0-0"',
                          If_Modified_Since=headers["Date"])
    assert status == 200 and body == b"<rss/>"
    path = public / "all.rss"
    path.write_bytes(b"<rss><channel/></rss>")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    status, headers, body = get(server, "/all.rss", If_None_Match=etag)
    assert (status, body) == (200, b"<rss><channel/></rss>")
    assert headers["ETag"] != etag


def test_last_modified_gives_304(server) -> None:
    _, headers, _ = get(server, "/all.atom")
    status, _, body = get(server, "/all.atom", If_Modified_Since=headers["Last-Modified"])
    assert (status, body) == (304, b"")


def test_gzip_only_when_asked(server, public) -> None:
    raw = (public / "category" / "naval.rss").read_bytes()
    status, headers, body = get(server, "/category/naval.rss", Accept_Encoding="gzip")
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in headers["Vary"]
    assert gzip.decompress(body) == raw and len(body) < len(raw) / 10
    status, headers, body = get(server, "/category/naval.rss")
    assert headers["Content-Encoding"] is None and body == raw
    # A 304 has no body, gzip asked or not.
    status, _, body = get(server, "/category/naval.rss", Accept_Encoding="gzip",
                          If_None_Match=headers["ETag"])
    assert (status, body) == (304, b"")


def test_byte_ranges_are_of_the_file_and_never_gzipped(server, public) -> None:
    raw = (public / "category" / "naval.rss").read_bytes()
    status, headers, body = get(server, "/category/naval.rss", Range="bytes=5-11",
                                Accept_Encoding="gzip")
    assert (status, body) == (206, raw[5:12])
    assert headers["Content-Encoding"] is None
    assert headers["Content-Range"] == f"bytes 5-11/{len(raw)}"


def test_head_has_the_headers_and_no_body(server, public) -> None:
    status, headers, body = get(server, "/all.json", method="HEAD")
    assert (status, body) == (200, b"")
    assert int(headers["Content-Length"]) == (public / "all.json").stat().st_size
    assert headers["Content-Type"] == "application/feed+json; charset=utf-8"
    assert headers["ETag"]


def test_symlink_inside_the_folder_is_served(server) -> None:
    status, _, body = get(server, "/inside.atom")
    assert status == 200 and body.startswith(b"<feed")


@pytest.mark.parametrize(
    "path",
    [
        "/category/",
        "/category",  # redirected to /category/, which is refused
        "/.defnews-build.json",
        "/category/.defnews-x.tmp",
        "/out/secret.txt",
        "/category/leak.atom",
        "/all.atom%00",
        "/all.atom%00.html",
        "/%00",
        "/../outside/secret.txt",
        "/category/../../outside/secret.txt",
        "/%2e%2e/outside/secret.txt",
        "/%2E%2E%2Foutside%2Fsecret.txt",
        "/..%2foutside%2fsecret.txt",
        "/category/%2e%2e%2f%2e%2e%2foutside/secret.txt",
        "/..%5coutside%5csecret.txt",
        "/%252e%252e/outside/secret.txt",
        "/%c0%ae%c0%ae/outside/secret.txt",
    ],
    ids=[
        "directory", "directory-no-slash", "hidden-state", "temp-file", "symlinked-dir-out",
        "symlinked-file-out", "nul", "nul-ext", "nul-alone", "dotdot", "dotdot-nested",
        "dotdot-encoded", "dotdot-slash-encoded", "dotdot-mixed", "dotdot-nested-encoded",
        "backslash", "double-encoded", "overlong-utf8",
    ],
)
def test_refused(server, path) -> None:
    status, headers, body = get(server, path)
    if status in (301, 302):  # only the slash redirect of a real folder
        assert headers["Location"].endswith("/category/")
        status, headers, body = get(server, "/category/")
    assert status in (400, 403, 404), (path, status)
    assert SECRET not in body and b"<rss" not in body and b"Traceback" not in body
    assert b"<half" not in body


def test_access_log_has_a_line_per_request(server) -> None:
    get(server, "/all.atom?from=access-log-test", User_Agent="access-log-probe/1")
    log = server[2]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        text = log.read_text("utf-8") if log.exists() else ""
        if "access-log-test" in text:
            break
        time.sleep(0.05)  # the log file is written by the other process: poll it, bounded
    line = next(x for x in text.splitlines() if "access-log-test" in x)
    assert '"GET /all.atom?from=access-log-test HTTP/1.1" 200' in line
    assert "access-log-probe/1" in line and line.startswith('"127.0.0.1"')


def test_a_burst_of_1000_concurrent_connections_is_all_answered(server) -> None:
    host, port, _ = server

    async def one() -> int:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET /all.atom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()
        writer.close()
        return int(status_line.split()[1])

    async def burst() -> list[int | BaseException]:
        # Every connection opened at once, before any is answered; bounded in time.
        return await asyncio.wait_for(
            asyncio.gather(*(one() for _ in range(BURST)), return_exceptions=True), 120
        )

    results = asyncio.run(burst())
    failures = [r for r in results if r != 200]
    assert not failures, f"{len(failures)} of {BURST} not answered 200: {failures[:3]}"


def test_serve_help_describes_every_option() -> None:
    parser = make_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    serve = sub.choices["serve"]  # type: ignore[index]
    for action in serve._actions:
        if action.dest != "help":
            assert action.help, action.dest
    text = serve.format_help()
    for option in ("--public", "--host", "--port", "--max-age", "--backlog", "--access-log"):
        assert option in text
