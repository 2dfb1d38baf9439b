"""A generated mirror of Jディフェンスニュース with any number of articles, for the crawl
benchmarks, and the static server that serves it.

The pages come from the demo site's own templates (``scripts/build_demo_site.py``): each
generated article copies the title, lead, body, categories and structured-data style of one
of the demo articles (cycled), under a new number, section and date, so the markup is the
markup the parsers and the end-to-end tests know. Every article is linked (section indexes
with pagination, 次の記事 / 前の記事, the home page, the ranking sidebar of 30 positions).

    .venv/bin/python bench/sitemirror.py 10000 /tmp/mirror      # write the files
    .venv/bin/python bench/sitemirror.py --serve /tmp/mirror     # serve them (prints the URL)

The server is Twisted (the reactor the crawls use too) serving every file from memory in a
separate process; ``bench_crawl_peer.py`` measures its request rate alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import importlib.util
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from _common import REPO, VENV_PYTHON

PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else sys.executable)
SECTIONS = ("mod", "others", "commentary")
NEWEST = datetime(2026, 1, 20, 18, 0, tzinfo=timezone(timedelta(hours=9)))  # JST
RANKING_SIZE = 10  # per period, as on the real site (3 periods: 30 positions)


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_demo_site", REPO / "scripts" / "build_demo_site.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_demo_site", module)
    spec.loader.exec_module(module)
    return module


def mirror_files(articles: int) -> dict[str, bytes]:
    """Every file of a mirror with ``articles`` articles: relative path -> bytes."""
    if articles < 1:
        raise ValueError(f"a mirror needs at least one article, not {articles}")
    b = _builder()
    demo = b.load_site()
    templates = [
        a
        for a in demo.articles
        if a.date and a.linked and not a.malformed and a.canonical is None
        and "jsonld_broken" not in a.meta
    ]
    generated = []
    for n in range(1, articles + 1):
        t = templates[n % len(templates)]
        # Newest article has the highest number, as on the site (one counter for all sections).
        when = NEWEST - timedelta(minutes=17 * (articles - n))
        # Raw lines linking other demo articles would point nowhere in the mirror.
        body = "\n".join(line for line in t.body.split("\n") if "/docs/" not in line)
        generated.append(
            dataclasses.replace(
                t,
                section=SECTIONS[n % len(SECTIONS)],
                number=n,
                title=f"{t.title} ({n})",
                date=f"{when.year}-{when.month}-{when.day} {when:%H:%M}",
                body=body,
                modified=None,
                headline=None,
                listed=True,
                linked=True,
                sort_date=None,
            )
        )
    demo.articles = generated
    newest = sorted(generated, key=lambda a: a.number, reverse=True)
    ranking = {
        period: [(a.title, a.path) for a in newest[i::3][:RANKING_SIZE]]
        for i, (period, _label) in enumerate(b.PERIODS)
    }
    files: dict[str, bytes] = b.render_site(demo, ranking=ranking)
    return files


def write_mirror(articles: int, out_dir: Path) -> int:
    """Write the mirror into ``out_dir``; return the number of files."""
    files = mirror_files(articles)
    for rel, data in files.items():
        target = out_dir / PurePosixPath(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return len(files)


# -- the server ------------------------------------------------------------------------------


def serve(root: Path, port: int = 0) -> None:
    """Serve ``root`` on 127.0.0.1 from memory until killed; print ``PORT <n>`` when ready."""
    from twisted.internet import reactor as _reactor
    from twisted.web import resource, server

    files: dict[bytes, bytes] = {}
    for path in root.rglob("*"):
        if path.is_file():
            rel = "/" + path.relative_to(root).as_posix()
            files[rel.encode()] = path.read_bytes()
            if rel.endswith("/index.html"):
                files[rel[: -len("index.html")].encode()] = files[rel.encode()]

    legacy = set()  # pages that are not UTF-8 (the 朝雲 copy)
    for key, body in files.items():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            legacy.add(key)
    types = {b"html": b"text/html; charset=utf-8", b"png": b"image/png", b"css": b"text/css",
             b"js": b"text/javascript", b"txt": b"text/plain; charset=utf-8"}

    class Memory(resource.Resource):
        isLeaf = True

        def render_GET(self, request: server.Request) -> bytes:  # noqa: N802 - Twisted API
            body = files.get(request.path)
            if body is None:
                request.setResponseCode(404)
                return b"not found"
            ext = request.path.rsplit(b".", 1)[-1] if b"." in request.path else b"html"
            kind = types.get(ext, b"application/octet-stream")
            if kind.startswith(b"text/html") and request.path in legacy:
                kind = b"text/html"  # a Shift_JIS page: its own <meta> says so
            request.setHeader(b"content-type", kind)
            return body

    site = server.Site(Memory())
    site.log = lambda request: None  # type: ignore[method-assign]  # no access log
    reactor: Any = _reactor
    listening = reactor.listenTCP(port, site, interface="127.0.0.1")
    print(f"PORT {listening.getHost().port} FILES {len(files)}", flush=True)
    reactor.run()


def _hammer(args: tuple[str, int, list[str], float]) -> int:
    """Requests one keep-alive connection completes in ``seconds`` (one client process)."""
    host, port, paths, seconds = args
    conn = http.client.HTTPConnection(host, port, timeout=10)
    done = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        conn.request("GET", paths[done % len(paths)])
        conn.getresponse().read()
        done += 1
    conn.close()
    return done


def measure_server(url: str, articles: int, *, seconds: float = 2.0, clients: int = 2) -> float:
    """Requests/s the server at ``url`` answers for article pages, ``clients`` processes of
    sequential keep-alive GETs (a floor: the clients share the machine with the server)."""
    parts = urlsplit(url)
    paths = [f"/docs/{SECTIONS[n % len(SECTIONS)]}/{n:06d}.html" for n in range(1, articles + 1)]
    jobs = [(parts.hostname or "127.0.0.1", parts.port or 80, paths[i::clients] or paths, seconds)
            for i in range(clients)]
    # Client threads, not processes: a spawned pool cannot always import this module (it is
    # run as a script or from bench/ on sys.path), and then waits for its tasks forever. The
    # clients spend their time waiting on the socket, which releases the GIL.
    with ThreadPoolExecutor(clients) as pool:
        counts = list(pool.map(_hammer, jobs))
    return sum(counts) / seconds


@contextmanager
def served(root: Path) -> Iterator[str]:
    """Serve ``root`` in a child process; yield its base URL (``http://127.0.0.1:PORT/``)."""
    proc = subprocess.Popen(
        [PYTHON, str(Path(__file__).resolve()), "--serve", str(root)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the mirror server did not start (exit {proc.poll()}): {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[1])}/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", nargs="?", type=int, default=10_000)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--serve", action="store_true", help="serve OUT_DIR instead")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.out_dir, args.port)
        return 0
    start = time.perf_counter()
    count = write_mirror(args.articles, args.out_dir)
    print(f"wrote {count} files to {args.out_dir} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
