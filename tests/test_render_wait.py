"""crawler/render.py's wait in a real Chromium: a rendered listing is read once the list its
scripts fill holds an article link, not as soon as any link (a pager, a menu) is there."""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from crawler import render
from crawler.pages.profiles import profile_for

CHROMIUM = os.environ.get("DEFNEWS_CHROMIUM", "/usr/bin/chromium")
FILL_AFTER_MS = 1500  # well past the settle time: a reader that does not wait misses the list

# The pager is in the served HTML; the article list comes from a timer, as a fetch would.
PAGE = f"""<!DOCTYPE html><html><body><main>
<ul id="list"></ul>
<p class="pager"><a href="/docs/mod/index_2.html">次へ</a></p>
</main>
<aside class="ranking"><ol><li><a href="/docs/mod/004000.html">読まれている記事</a></li></ol></aside>
<script>
setTimeout(function () {{
  var ul = document.getElementById("list");
  ["004401", "004402", "004403"].forEach(function (n) {{
    var li = document.createElement("li"), a = document.createElement("a");
    a.href = "/docs/mod/" + n + ".html"; a.textContent = "記事 " + n;
    li.appendChild(a); ul.appendChild(li);
  }});
}}, {FILL_AFTER_MS});
</script></body></html>"""


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set DEFNEWS_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser.new_page()
        finally:
            browser.close()


def _wait(page: Any, pairs: list[list[str]]) -> tuple[bool, int]:
    # A real origin, so that the links' pathname is what the site's pattern reads.
    page.route("http://site.test/**", lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8", body=PAGE))
    page.goto("http://site.test/docs/mod/", wait_until="load")
    ready = page.evaluate(render._WAIT_JS, {"pairs": pairs, "timeout": 8000, "settle": 200})
    links = page.evaluate("document.querySelectorAll('#list a').length")
    page.unroute("http://site.test/**")
    return bool(ready), int(links)


def test_a_listing_is_read_once_its_article_links_are_there_not_its_pager(page):
    pattern = render.js_pattern(profile_for("jdefense").article_url_re.pattern)
    started = time.monotonic()
    ready, links = _wait(page, [[["main", "body"], "a[href]", pattern]])
    assert ready and links == 3
    assert time.monotonic() - started >= FILL_AFTER_MS / 1000


def test_any_link_alone_would_read_the_page_before_its_list_is_filled(page):
    """Why the pattern: with the pager inside the container, "a link is there" holds at
    once, and the page was read with an empty list (bench/bench_render.py on a loaded machine:
    rendered index pages 'still with no article link')."""
    ready, links = _wait(page, [["main", "a[href]"]])
    assert ready and links == 0


def test_the_first_container_present_is_the_one_not_any_of_them(page):
    """"main, body" as one selector: the ranking sidebar's article link, in the body, was
    there at once, and the page was read with an empty list."""
    pattern = render.js_pattern(profile_for("jdefense").article_url_re.pattern)
    ready, links = _wait(page, [["main, body", "a[href]", pattern]])
    assert ready and links == 0


@pytest.mark.parametrize("key", ["jdefense", "asagumo"])
def test_every_bundled_profiles_article_pattern_compiles_in_javascript(page, key):
    pattern = render.js_pattern(profile_for(key).article_url_re.pattern)
    assert page.evaluate("(p) => { try { new RegExp(p); return true; } catch (e) { return false; } }",
                         pattern)


def test_python_named_groups_and_back_references_are_respelled():
    assert render.js_pattern(r"^/n/(?P<day>\d{6})/(?P=day)(?P<seq>\d{2})\.html$") == \
        r"^/n/(?<day>\d{6})/\k<day>(?<seq>\d{2})\.html$"
