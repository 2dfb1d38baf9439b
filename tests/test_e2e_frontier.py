"""Several crawl processes on one Redis frontier and one PostgreSQL store (scrapy-redis).

Three ``defnews crawl --redis`` processes crawl the fixture site together: every article
page is fetched once in total, every article stored once, and the feeds equal a one-process
SQLite crawl's. Killing one of them with SIGKILL mid-crawl loses and duplicates nothing.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support import defnews

from crawler.store import open_store

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "defnews" / "demo_site"
REDIS_URL = os.environ.get("DEFNEWS_TEST_REDIS", "redis://127.0.0.1:6379/0")
ARTICLE = r"/docs/[a-z]+/\d{6}\.html"


class CountingSite:
    """The fixture site on 127.0.0.1, counting every GET per path; ``delay`` seconds per
    article page keeps requests in flight. ``gated``: article pages are held until
    :attr:`gate` is set (at most ``GATE_TIMEOUT`` s, under the crawl's download timeout), so
    a test can act while requests are certainly in flight, whatever the machine's load."""

    GATE_TIMEOUT = 20.0

    def __init__(self, delay: float = 0.0, gated: bool = False) -> None:
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.gate = threading.Event()
        if not gated:
            self.gate.set()
        site = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                with site.lock:
                    site.hits[self.path] += 1
                if re.fullmatch(ARTICLE, self.path):
                    site.gate.wait(site.GATE_TIMEOUT)
                if delay and self.path.endswith(".html"):
                    time.sleep(delay)
                super().do_GET()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(SITE)))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __enter__(self) -> CountingSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def article_hits(self) -> Counter[str]:
        with self.lock:
            return Counter({p: n for p, n in self.hits.items() if re.fullmatch(ARTICLE, p)})


def redis_or_skip():
    try:
        import redis
    except ImportError:  # pragma: no cover - the test extra installs it
        pytest.skip("redis (the Python client) is not installed (pip install -e .[test])")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({exc.__class__.__name__}); "
                    "set DEFNEWS_TEST_REDIS or start redis-server")
    return client


@pytest.fixture
def frontier() -> Iterator[tuple[str, object]]:
    """A unique key prefix on the test Redis; every key under it deleted afterwards."""
    client = redis_or_skip()
    prefix = f"defnews-test-{uuid.uuid4().hex[:10]}"
    yield prefix, client
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


CRAWL = ("crawl", "--only", "jdefense", "--no-throttle", "--counter-walk", "40")

_started: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def no_crawl_outlives_its_test() -> Iterator[None]:
    """A test that fails half-way leaves no crawl process running into the next test (nor
    holding the store's tables while its schema is dropped)."""
    yield
    while _started:
        proc = _started.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


def start_crawl(site: CountingSite, store: str, prefix: str, cwd: Path, *extra: str):
    proc = subprocess.Popen(
        [sys.executable, "-m", "defnews", *CRAWL, "--base-url", site.url, "--store", store,
         "--redis", REDIS_URL, "-s", f"DEFNEWS_REDIS_PREFIX={prefix}", *extra],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    _started.append(proc)
    return proc


class Output:
    """A crawl process's stdout and stderr, read as they come by two threads: no pipe fills
    up and stalls the process, and a test can wait for a log line with a timeout (instead of
    blocking on the stream) and still see everything the process said."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.out: list[str] = []
        self.err: list[str] = []
        self.ended = 0
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self._read, args=(stream, lines), daemon=True)
                        for stream, lines in ((proc.stdout, self.out), (proc.stderr, self.err))]
        for thread in self.threads:
            thread.start()

    def _read(self, stream, lines: list[str]) -> None:
        with stream:
            for line in stream:
                with self.cond:
                    lines.append(line)
                    self.cond.notify_all()
        with self.cond:
            self.ended += 1
            self.cond.notify_all()

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match | None:
        """The first stderr line matching ``pattern``; None once the process has closed its
        output (exited) or after ``timeout`` seconds without one."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self.cond:
            while True:
                for line in self.err[seen:]:
                    if m := re.search(pattern, line):
                        return m
                seen = len(self.err)
                left = deadline - time.monotonic()
                if self.ended == len(self.threads) or left <= 0:
                    return None
                self.cond.wait(left)

    def communicate(self, timeout: float) -> tuple[str, str]:
        self.proc.wait(timeout)
        for thread in self.threads:
            thread.join(timeout)
        with self.cond:
            return "".join(self.out), "".join(self.err)


JOINED = r"shared frontier \S+ at \S+: worker (\w+) joins"


def article_feeds(public: Path) -> dict[str, bytes]:
    # Not the health feed: of runs, updated when the first run was (#17 point 11).
    return {str(p.relative_to(public)): p.read_bytes() for p in sorted(public.rglob("*"))
            if p.suffix in (".atom", ".rss") and not p.name.startswith(("ranking", "health."))
            and "ranking" not in p.parts}


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """The reference: one process, SQLite, no Redis; its article fetches and its feeds."""
    work = tmp_path_factory.mktemp("single")
    with CountingSite() as site:
        run = defnews(*CRAWL, "--base-url", site.url, "--store", str(work / "s.sqlite3"), cwd=work)
        assert run.returncode == 0, run.stderr[-3000:]
        hits = site.article_hits()
    build = defnews("build", "--store", str(work / "s.sqlite3"), "--public", str(work / "public"),
                    "--feed-url", "https://feeds.example.org/", cwd=work)
    assert build.returncode == 0, build.stderr[-3000:]
    with open_store(work / "s.sqlite3") as s:
        ids = [row[0] for row in s.dump_articles()]
        stories = story_partition(s)
    return hits, ids, article_feeds(work / "public"), stories


def story_partition(store) -> set[frozenset[str]]:
    """The stories (crawler.stories) as sets of article ids; every article has exactly one."""
    rows = store._query("SELECT article_id, story FROM article_stories")
    assert len(rows) == len({r[0] for r in rows}) == store.count_articles()
    groups: dict[str, set[str]] = {}
    for article_id, story in rows:
        groups.setdefault(str(story), set()).add(str(article_id))
    return {frozenset(g) for g in groups.values()}


def check_same_as_single(single, dsn: str, work: Path) -> None:
    _, ids, feeds, _stories = single
    with open_store(dsn) as s:
        assert [row[0] for row in s.dump_articles()] == ids  # each once, none missing
    build = defnews("build", "--store", dsn, "--public", str(work / "public"),
                    "--feed-url", "https://feeds.example.org/", cwd=work)
    assert build.returncode == 0, build.stderr[-3000:]
    assert article_feeds(work / "public") == feeds


def test_three_processes_share_one_frontier_and_one_store(single, frontier, pg_dsn, tmp_path):
    prefix, client = frontier
    with CountingSite() as site:
        procs = [start_crawl(site, pg_dsn, prefix, tmp_path) for _ in range(3)]
        outs = [p.communicate(timeout=240) for p in procs]
        hits = site.article_hits()
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    # Every article page fetched exactly once in total, the same pages as one process fetches.
    assert hits.keys() == single[0].keys()
    assert max(hits.values()) == 1
    # The work was shared, and the crawl's keys are gone (the next crawl starts afresh).
    assert sum("joins 0 other live worker(s)" in err for _, err in outs) >= 1
    taken = [re.search(r"shared frontier: (\d+) requests taken from Redis", out) for out, _ in outs]
    assert all(taken), [out for out, _ in outs]
    # (A process that starts late on a busy machine may find the work done: at least two share.)
    assert sum(int(m.group(1)) > 0 for m in taken if m) >= 2, [out for out, _ in outs]
    assert list(client.scan_iter(f"{prefix}:*")) == []
    check_same_as_single(single, pg_dsn, tmp_path)
    with open_store(pg_dsn) as s:
        assert s.count_snapshots() == 1  # one ranking snapshot per crawl, not one per process
        # Each process decided stories against the store's: the same stories as one process.
        assert story_partition(s) == single[3]


def test_next_crawl_revisits_despite_a_stale_seen_set(single, frontier, tmp_path):
    """Keys left by a crawl whose processes all died (a seen-set, a ranking claim, no queue):
    the next crawl starts afresh instead of filtering its listing pages as already seen."""
    from scrapy import Request
    from scrapy_redis.dupefilter import RFPDupeFilter

    prefix, client = frontier
    store = str(tmp_path / "s.sqlite3")
    with CountingSite() as site:
        base = f"{prefix}:jdefense"
        stale = RFPDupeFilter(client, key=f"{base}:dupefilter")
        for url in (site.url, f"{site.url}docs/mod/", f"{site.url}docs/others/"):
            stale.request_seen(Request(url))
        client.hset(f"{base}:claims", "ranking", "dead-worker")
        client.sadd(f"{base}:workers", "dead-worker")  # its heartbeat key is long gone
        first = start_crawl(site, store, prefix, tmp_path)
        out, err = first.communicate(timeout=240)
        assert first.returncode == 0, err[-3000:]
        assert site.hits["/docs/mod/"] == 1 and site.hits["/"] == 1
        again = start_crawl(site, store, prefix, tmp_path)
        out2, err2 = again.communicate(timeout=240)
        assert again.returncode == 0, err2[-3000:]
        assert site.hits["/"] == 2  # the listing pages are fetched again by the next crawl
    with open_store(store) as s:
        assert s.count_snapshots() == 2  # one per crawl: the stale claim did not block it
        stored = [row[0] for row in s.dump_articles()]
    assert stored == single[1]  # the first crawl found everything a clean one finds
    # The next crawl is incremental (issue #10): listing pages again, no stored article page.
    assert re.search(r"0 new\s+0 updated\s+0 unchanged", out2), out2
    assert re.search(r"\d+ stored articles skipped", out2), out2


def test_sigkill_of_one_process_loses_and_duplicates_nothing(single, frontier, pg_dsn, tmp_path):
    prefix, client = frontier
    # A slow site keeps requests in flight; dead workers are noticed after 2 s. Article
    # pages are held until the kill, so the crawl cannot end (nor the victim run dry) before
    # it, however slowly the processes start on a loaded machine.
    extra = ("-s", "DEFNEWS_REDIS_WORKER_TIMEOUT=2", "-s", "DEFNEWS_REDIS_POLL=0.2")
    with CountingSite(delay=0.15, gated=True) as site:
        procs = [start_crawl(site, pg_dsn, prefix, tmp_path, *extra) for _ in range(3)]
        outputs = [Output(p) for p in procs]
        # All three on the frontier, so the survivors are there to notice the death.
        joined = [o.wait_for(JOINED) for o in outputs]
        for o, m in zip(outputs, joined, strict=True):
            assert m, f"a crawl never joined the frontier (exit {o.proc.poll()}): " \
                      f"{''.join(o.err)[-3000:]}"
        workers = [m.group(1) if m else "" for m in joined]
        processing = [f"{prefix}:jdefense:processing:{w}" for w in workers]
        # Kill one that has requests in flight (its processing list in Redis) once article
        # pages are held at the gate, so what it holds stays in flight. Which process takes
        # work first depends on how fast each one started, so the victim is whichever holds
        # most: one chosen in advance could see the others take everything.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
                site.article_hits() and any(client.llen(key) for key in processing)):
            time.sleep(0.01)
        held = [client.llen(key) for key in processing]
        assert any(held), "no crawl took a request from the frontier"
        v = held.index(max(held))
        victim = procs[v]
        assert victim.poll() is None, "the crawl ended before the kill"
        victim.send_signal(signal.SIGKILL)
        outputs[v].communicate(timeout=30)
        in_flight = client.llen(processing[v])  # what it held when it died (recovered ~2 s later)
        site.gate.set()
        survivors = [i for i in range(3) if i != v]
        outs = [outputs[i].communicate(timeout=240) for i in survivors]
        hits = site.article_hits()
    for p, (_, err) in zip((procs[i] for i in survivors), outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    # The survivors put the dead worker's in-flight requests back and finished the frontier.
    assert any("of a dead worker put back in the queue" in err for _, err in outs)
    assert any(re.search(r"\d+ put back from a dead worker", out) for out, _ in outs)
    assert hits.keys() == single[0].keys()
    # At least once: only requests in flight in the killed process may have been fetched twice.
    refetched = sum(n - 1 for n in hits.values())
    assert refetched <= in_flight
    check_same_as_single(single, pg_dsn, tmp_path)


def test_unreachable_redis_is_a_usage_error(tmp_path):
    run = defnews(*CRAWL, "--base-url", "http://127.0.0.1:9/", "--store",
                  str(tmp_path / "s.sqlite3"), "--redis", "redis://127.0.0.1:1/0", cwd=tmp_path)
    assert run.returncode == 2
    assert "Redis at redis://127.0.0.1:1/0 is not reachable" in run.stderr
    assert "Traceback" not in run.stderr


def test_redis_going_away_mid_crawl_stops_with_status_2(tmp_path):
    """A private Redis killed mid-crawl: a clear error naming it and exit status 2, no hang."""
    import shutil
    import socket

    server_bin = shutil.which("redis-server")
    if server_bin is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    redis_proc = subprocess.Popen(
        [server_bin, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        url = f"redis://127.0.0.1:{port}/0"
        with CountingSite(delay=0.3) as site:
            crawl = subprocess.Popen(
                [sys.executable, "-m", "defnews", *CRAWL, "--base-url", site.url,
                 "--store", str(tmp_path / "s.sqlite3"), "--redis", url],
                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            _started.append(crawl)
            deadline = time.monotonic() + 60
            while sum(site.article_hits().values()) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            redis_proc.kill()
            redis_proc.wait(10)
            started = time.monotonic()
            _, err = crawl.communicate(timeout=90)
            stopped_in = time.monotonic() - started
    finally:
        if redis_proc.poll() is None:
            redis_proc.kill()
            redis_proc.wait(10)
    assert crawl.returncode == 2, err[-3000:]
    assert f"Redis at {url} is not reachable" in err
    assert stopped_in < 30  # socket timeouts are seconds, not the 30 s scrapy-redis defaults to
