"""End to end, script-rendered pages (crawler/render.py): a copy of the fixture site whose home
list, section indexes and ranking sidebar are filled by scripts from JSON
(scripts/scripted_site.py: a fetch after load, an inline script writing the DOM, a list revealed
by a timer), crawled with real Scrapy and Debian's Chromium through scrapy-playwright.

Without Chromium (or scrapy-playwright) the browser tests skip and say why; the tests of the
crawl without rendering run everywhere.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fixture_server import FixtureServer
from support import Run, defnews

from crawler.store import open_store

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "defnews" / "demo_site"
CHROMIUM = os.environ.get("DEFNEWS_CHROMIUM", "/usr/bin/chromium")
LISTINGS = {"/", "/docs/mod/", "/docs/mod/index_2.html", "/docs/mod/index_3.html",
            "/docs/others/", "/docs/commentary/"}
ARTICLE = re.compile(r"^/docs/[a-z]+/\d{6}\.html$")
CRAWL = ("crawl", "--only", "jdefense", "--no-throttle", "--counter-walk", "40")


def browser_or_skip() -> None:
    if importlib.util.find_spec("scrapy_playwright") is None:
        pytest.skip("scrapy-playwright is not installed (pip install -e '.[render]')")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set DEFNEWS_CHROMIUM)")


def _scripted_module():
    spec = importlib.util.spec_from_file_location("scripted_site", ROOT / "scripts" / "scripted_site.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


scripted_site = _scripted_module()
sys.path.insert(0, str(ROOT / "bench"))
from _common import descendants  # noqa: E402  (bench/ is not a package)


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[FixtureServer]:
    """Another host (another port): the scripted home page asks it for a beacon and an image."""
    with FixtureServer(ROOT / "tests" / "fixtures" / "feeds") as server:
        yield server


@pytest.fixture(scope="module")
def scripted(tmp_path_factory, elsewhere) -> Path:
    root = tmp_path_factory.mktemp("scripted-site")
    files = scripted_site.scripted(scripted_site.read_folder(SITE))
    home = files["index.html"].decode()
    files["index.html"] = home.replace("</body>", (
        f'<img src="{elsewhere.url}pixel.png" alt="">'
        f'<script>fetch("{elsewhere.url}beacon.json").catch(function () {{}});'
        'fetch("/private/beacon.json").catch(function () {});</script>\n</body>'
    ), 1).encode()
    files["robots.txt"] = files["robots.txt"] + b"Disallow: /private/\n"
    scripted_site.write_folder(files, root)
    return root


def serve(root: Path) -> FixtureServer:
    return FixtureServer(root).__enter__()


def crawl(server: FixtureServer, store: Path, *extra: str) -> Run:
    return defnews(*CRAWL, "--base-url", server.url, "--store", str(store), *extra, cwd=store.parent)


def scrapy_crawl(server: FixtureServer, store: Path, *settings: str) -> subprocess.CompletedProcess[str]:
    """``scrapy crawl jdefense`` as Scrapyd runs it (the project's settings, no defnews
    command), against ``server``, INFO logging (the stats dump is in stderr)."""
    extra = [a for s in settings for a in ("-s", s)]
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "jdefense", "-a", f"base_url={server.url}",
         "-s", f"DEFNEWS_STORE={store}", "-s", "DOWNLOAD_DELAY=0",
         "-s", "AUTOTHROTTLE_ENABLED=0", *extra, "-s", "LOG_LEVEL=INFO"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)


def ranking_lists(store: Path) -> dict[str, list[tuple[int, str, str]]]:
    with open_store(store) as s:
        view = s.latest_ranking("jdefense")
    assert view is not None
    return {p: [(e.rank, e.url, e.title) for e in entries] for p, entries in view.lists.items()}


def article_urls(store: Path) -> set[str]:
    with open_store(store) as s:
        return set(s.source_article_urls("jdefense"))


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Path:
    """The reference: the same site served as plain HTML."""
    work = tmp_path_factory.mktemp("plain")
    server = serve(SITE)
    try:
        run = crawl(server, work / "s.sqlite3")
    finally:
        server.__exit__()
    assert run.returncode == 0, run.stderr[-3000:]
    return work / "s.sqlite3"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, scripted):
    browser_or_skip()
    work = tmp_path_factory.mktemp("rendered")
    server = serve(scripted)
    try:
        first = crawl(server, work / "s.sqlite3", "--output", str(work / "items.jsonl"))
        counts, agents = dict(server.counts), dict(server.agents)
        server.reset()
        second = crawl(server, work / "s.sqlite3")
        again = dict(server.counts)
    finally:
        server.__exit__()
    assert first.returncode == 0, first.stderr[-4000:]
    assert second.returncode == 0, second.stderr[-4000:]
    return work, first, counts, agents, second, again


def test_served_html_alone_has_no_article_list_and_no_ranking(scripted):
    from crawler.pages import jdefense as pages

    for path in ("index.html", "docs/mod/index.html", "docs/others/index.html"):
        html = (scripted / path).read_text(encoding="utf-8")
        assert pages.parse_ranking(html, "https://j-defense.ikaros.jp/") is None
    for path in ("docs/mod/index.html", "docs/mod/index_2.html", "docs/others/index.html",
                 "docs/commentary/index.html"):
        html = (scripted / path).read_text(encoding="utf-8")
        assert pages.parse_listing(html, "https://j-defense.ikaros.jp/" + path)["article_urls"] == []


def test_every_article_stored_and_the_ranking_exact(rendered, plain):
    work, first, *_ = rendered
    assert article_urls(work / "s.sqlite3") == article_urls(plain)
    assert ranking_lists(work / "s.sqlite3") == ranking_lists(plain)
    assert sum(len(v) for v in ranking_lists(work / "s.sqlite3").values()) == 30


def test_only_listing_pages_rendered_article_pages_fetched_once(rendered, scripted):
    work, first, counts, agents, *_ = rendered
    articles = {p: n for p, n in counts.items() if ARTICLE.match(p)}
    assert articles and set(articles.values()) == {1}  # each article page once, by Scrapy only
    # Listing pages: the served HTML, then the browser's rendering of it.
    assert {p: counts.get(p) for p in LISTINGS} == dict.fromkeys(LISTINGS, 2)
    # Every rendered page runs the sidebar script, which fetches the ranking JSON: six pages,
    # so no article page was rendered.
    (ranking_json,) = [p for p in counts if p.startswith("/data/ranking-")]
    assert counts[ranking_json] == len(LISTINGS) == counts["/js/ranking.js"]
    assert counts["/data/home.json"] == 1
    # The browser never fetched images (nor anything on another host), and used our User-Agent.
    assert not [p for p in counts if p.startswith("/images/")]
    assert len(agents) == 1 and next(iter(agents)).startswith("defnews/")
    assert re.search(r"rendered 6 page\(s\) in the browser \(listing 6\)", first.stdout), first.stdout
    assert "NOT READ" not in first.stdout
    items = [json.loads(x) for x in (work / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    assert not [i for i in items if (i.get("provenance") or {}).get("page") == "rendered"]


def test_off_site_requests_of_a_rendered_page_are_not_made(rendered, elsewhere):
    work, first, counts, *_ = rendered
    assert sum(elsewhere.counts.values()) == 0
    # Nor what the site's robots.txt forbids, whoever asks (Scrapy or the page's script).
    assert "/private/beacon.json" not in counts


def test_next_crawl_renders_the_listing_pages_directly(rendered):
    work, first, counts, agents, second, again = rendered
    assert "needed rendering before" in second.stderr
    # Each listing page fetched once (by the browser), no article page fetched again.
    assert all(again.get(p, 0) <= 1 for p in LISTINGS), again
    assert again["/"] == 1 and again["/docs/mod/"] == 1
    assert not [p for p in again if ARTICLE.match(p)]
    with open_store(work / "s.sqlite3") as s:
        assert set(s.render_needs("https://j-defense.ikaros.jp/")) == {"listing"}
        runs = s.source_runs("jdefense")
    assert runs[0].healthy and runs[0].data["rendered"] >= 2 and runs[1].data["rendered"] == 6


@pytest.mark.parametrize("how", ["never", "unavailable"])
def test_without_rendering_the_crawl_says_which_pages_needed_it(how, scripted, plain, tmp_path):
    extra = ("--render", "never") if how == "never" else ("-s", "DEFNEWS_RENDER_BROWSER=/nonexistent/chromium")
    server = serve(scripted)
    try:
        run = crawl(server, tmp_path / "s.sqlite3", *extra)
    finally:
        server.__exit__()
    assert run.returncode == 1, run.stderr[-3000:]  # documented: a source is unhealthy
    said = [line for line in run.stderr.splitlines() if "needed rendering" in line]
    assert len(said) == 1, said  # once, naming every page
    for path in LISTINGS:
        assert f"{server.url.rstrip('/')}{path} (" in said[0]
    why = "--render never" if how == "never" else "no browser at /nonexistent/chromium"
    assert why in said[0]
    assert f"NOT READ {len(LISTINGS)} page(s) filled by scripts" in run.stdout
    assert "unhealthy: 6 page(s) filled by scripts not read" in run.stdout
    # What could be reached without a browser (the home page's pick-up cards, then the
    # 次の記事 / 前の記事 chains and the counter walk) is stored.
    reached = article_urls(tmp_path / "s.sqlite3")
    assert reached and reached < article_urls(plain)
    with open_store(tmp_path / "s.sqlite3") as s:
        assert s.render_needs("https://j-defense.ikaros.jp/") == {}  # nothing learned


def test_render_always_without_a_browser_is_a_usage_error(tmp_path):
    run = defnews(*CRAWL, "--base-url", "http://127.0.0.1:9/", "--store", str(tmp_path / "s.sqlite3"),
                  "--render", "always", "-s", "DEFNEWS_RENDER_BROWSER=/nonexistent/chromium",
                  cwd=tmp_path)
    assert run.returncode == 2
    assert "--render always: pages cannot be rendered here: no browser at /nonexistent/chromium" in run.stderr
    assert not (tmp_path / "s.sqlite3").exists()


def test_shared_frontier_then_incremental_recrawl_with_rendering(scripted, plain, tmp_path):
    """Two processes sharing a Redis frontier crawl the scripted site with rendering on: every
    article once in total, the exact ranking; the next (incremental) crawl through the
    frontier renders the listing pages directly and fetches no stored article."""
    browser_or_skip()
    from test_e2e_frontier import REDIS_URL, redis_or_skip

    client = redis_or_skip()
    store = tmp_path / "s.sqlite3"
    server = serve(scripted)
    prefixes = []
    try:
        def start(prefix: str) -> subprocess.Popen:
            return subprocess.Popen(
                [sys.executable, "-m", "defnews", *CRAWL, "--base-url", server.url,
                 "--store", str(store), "--redis", REDIS_URL, "-s", f"DEFNEWS_REDIS_PREFIX={prefix}"],
                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        prefixes.append(f"defnews-test-{uuid.uuid4().hex[:10]}")
        procs = [start(prefixes[-1]) for _ in range(2)]
        outs = [p.communicate(timeout=240) for p in procs]
        for p, (_out, err) in zip(procs, outs, strict=True):
            assert p.returncode == 0, err[-3000:]
        first = dict(server.counts)
        server.reset()
        prefixes.append(f"defnews-test-{uuid.uuid4().hex[:10]}")
        proc = start(prefixes[-1])
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-3000:]
        second = dict(server.counts)
    finally:
        server.__exit__()
        for prefix in prefixes:
            for key in client.scan_iter(f"{prefix}:*"):
                client.delete(key)
    articles = {p: n for p, n in first.items() if ARTICLE.match(p)}
    assert articles and max(articles.values()) == 1  # each once across both processes
    assert sum("rendered" in o and "in the browser" in o for o, _ in outs) >= 1
    assert article_urls(store) == article_urls(plain)
    assert ranking_lists(store) == ranking_lists(plain)
    # The re-crawl: listing pages straight through the browser (once each), no article again.
    assert "needed rendering before" in err
    assert second["/"] == 1 and second["/docs/mod/"] == 1
    assert not [p for p in second if ARTICLE.match(p)]


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _crawl_killing_the_browser(root: Path, store: Path, asked: Callable[[Counter[str]], bool],
                               slow: str | None = None) -> tuple[int, str, dict[str, int]]:
    """``defnews crawl`` of ``root``; the browser's main process is killed (SIGKILL) as soon
    as ``asked(server.counts)`` (its renderers go with it). ``slow``: a listing whose rendering
    is held 4 s (served at once, then held for the browser). (exit status, stderr, counts)."""
    server = serve(root)
    try:
        if slow:
            server.script(slow, "ok", "slow:4")
        proc = subprocess.Popen(
            [sys.executable, "-m", "defnews", *CRAWL, "--base-url", server.url,
             "--store", str(store)],
            cwd=store.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while not asked(server.counts) and time.monotonic() < deadline:
                time.sleep(0.002)
            assert asked(server.counts), "the browser never asked for the page"
            browsers = [p for p in descendants(proc.pid)
                        if "chrom" in _cmdline(p) and "--type=" not in _cmdline(p)]
            assert browsers, "no browser process found"
            for pid in browsers:
                os.kill(pid, signal.SIGKILL)
            try:
                _, err = proc.communicate(timeout=180)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
                pytest.fail("the crawl never ended after the browser was killed:\n" + err[-3000:])
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
        return proc.returncode, err, dict(server.counts)
    finally:
        server.__exit__()


def test_a_crashed_browser_is_restarted_and_the_page_rendered(scripted, plain, tmp_path):
    """The browser is killed (SIGKILL, by this test) while it renders a section index: it is
    relaunched, the page rendered again, and its articles stored."""
    browser_or_skip()
    code, err, counts = _crawl_killing_the_browser(
        scripted, tmp_path / "s.sqlite3", lambda c: c["/docs/commentary/"] >= 2,
        slow="/docs/commentary/")
    assert code == 0, err[-3000:]
    assert counts["/docs/commentary/"] >= 3  # served, the killed rendering, the one after
    assert article_urls(tmp_path / "s.sqlite3") == article_urls(plain)


def test_a_browser_killed_while_its_pages_are_being_opened_does_not_hang_the_crawl(
        scripted, plain, tmp_path):
    """Killed the moment it first asks for a listing, while the other renderings' pages are
    still being opened in it (Playwright's ``new_page()`` then never returns with
    chromium-headless-shell: this crawl hung in 2 of 2 runs before crawler/render_handler.py
    gave such a page up): the browser is relaunched, every listing rendered, every article
    stored."""
    browser_or_skip()
    code, err, counts = _crawl_killing_the_browser(
        scripted, tmp_path / "s.sqlite3", lambda c: any(c[p] >= 2 for p in LISTINGS))
    assert code == 0, err[-3000:]
    assert article_urls(tmp_path / "s.sqlite3") == article_urls(plain)


def test_scrapy_crawl_as_scrapyd_runs_it_renders_too(scripted, plain, tmp_path):
    """Scrapyd runs ``scrapy crawl jdefense -a ... -s ...`` with the project's settings (the
    egg's crawler.settings): rendering comes with them (the ADDONS entry), no defnews command."""
    browser_or_skip()
    server = serve(scripted)
    try:
        run = scrapy_crawl(server, tmp_path / "s.sqlite3", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
                           "DEFNEWS_RENDER_MAX_PAGES=3")
        counts = dict(server.counts)
    finally:
        server.__exit__()
    assert run.returncode == 0, run.stderr[-3000:]
    assert "'defnews/render/pages/listing': 6" in run.stderr
    # The browser's pages are kept open and reused (crawler/render_handler.py): 6 renderings
    # in at most DEFNEWS_RENDER_MAX_PAGES (3, set above) pages.
    reused = re.search(r"'defnews/render/pages_reused': (\d+)", run.stderr)
    assert reused and int(reused[1]) >= 2, run.stderr[-3000:]
    assert {p: counts.get(p) for p in LISTINGS} == dict.fromkeys(LISTINGS, 2)
    assert article_urls(tmp_path / "s.sqlite3") == article_urls(plain)
    assert run.stderr.count("Starting download handler") == 1  # Playwright, started once


def test_a_crawl_that_renders_no_page_starts_no_browser(tmp_path):
    """Rendering on (``auto``, the browser installed) and a site served as plain HTML: nothing
    lacks, so Playwright and Chromium are never started (crawler/render_handler.py)."""
    browser_or_skip()
    server = serve(SITE)
    try:
        run = scrapy_crawl(server, tmp_path / "s.sqlite3")
    finally:
        server.__exit__()
    assert run.returncode == 0, run.stderr[-3000:]
    assert "[scrapy-playwright] INFO: Closing download handler" in run.stderr  # it was on
    assert "'defnews/render/pages/" not in run.stderr
    assert "Starting download handler" not in run.stderr
    assert "playwright/browser_count" not in run.stderr
    assert article_urls(tmp_path / "s.sqlite3")


def test_a_page_whose_scripts_never_yield_fails_with_its_url(scripted, tmp_path):
    """An endless loop in a listing page's script: the page fails after the page time limit,
    is tried once more, then logged with its URL and reason; the crawl goes on."""
    browser_or_skip()
    site = tmp_path / "site"
    shutil.copytree(scripted, site)
    others = site / "docs" / "others" / "index.html"
    others.write_text(others.read_text(encoding="utf-8").replace(
        "</body>", "<script>window.addEventListener('load', function () { for (;;) {} });</script></body>"),
        encoding="utf-8")
    server = serve(site)
    try:
        run = crawl(server, tmp_path / "s.sqlite3", "-s", "DEFNEWS_RENDER_PAGE_TIMEOUT=2",
                    "-s", "DEFNEWS_RENDER_WAIT=1")
    finally:
        server.__exit__()
    url = f"{server.url}docs/others/"
    assert f"{url}: the browser failed (PageTooSlow" in run.stderr, run.stderr[-3000:]
    assert f"{url}: could not be rendered: PageTooSlow" in run.stderr
    assert "could not render 1 page(s)" in run.stdout
    assert re.search(r"rendered 5 page\(s\) in the browser", run.stdout), run.stdout
