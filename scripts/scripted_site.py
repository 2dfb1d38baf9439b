"""A script-rendered copy of a site folder: listings and the ranking sidebar filled from JSON.

The article pages keep their article in the HTML (as on the real site); what scripts fill is
what the issue found empty in stored copies of Jディフェンスニュース:

- the home page's latest-articles list: ``fetch('/data/home.json')`` after the ``load`` event;
- the ``docs/mod/`` index pages: an inline script right after the emptied list writes it into
  the DOM from data in the script itself, while the page is parsed;
- the other section indexes: the items wait in a JSON data island and a timer reveals them
  400 ms after ``DOMContentLoaded``;
- the ranking sidebar of every page: ``/js/ranking.js`` fetches its lists from
  ``/data/ranking-<hash>.json`` after ``load``.

The home page's 特集・解説 pick-up cards stay in the HTML (links a crawl without a browser can
still follow), and the pagination links too. Used by the render tests and
``bench/bench_render.py``:

    .venv/bin/python scripts/scripted_site.py defnews/demo_site /tmp/scripted
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path, PurePosixPath

LATEST_RE = re.compile(r'(<div class="(?:latest-list|list-body)">\s*<ul)>(.*?)(</ul>)', re.S)
RANKING_RE = re.compile(r'(data-period="(?P<period>[^"]+)"[^>]*>\s*<ol class="ranking-list")>(?P<items>.*?)(</ol>)', re.S)
ITEM_RE = re.compile(r"<li\b.*?</li>", re.S)

RANKING_JS = """(function () {
  var src = document.currentScript.getAttribute("data-src");
  window.addEventListener("load", function () {
    fetch(src).then(function (r) { return r.json(); }).then(function (lists) {
      Object.keys(lists).forEach(function (period) {
        var ol = document.querySelector('[data-period="' + period + '"] ol.ranking-list');
        if (ol) ol.innerHTML = lists[period].join("");
      });
    });
  });
})();
"""
HOME_JS = """<script>
window.addEventListener("load", function () {
  fetch("/data/home.json").then(function (r) { return r.json(); }).then(function (items) {
    document.querySelector(".latest-list ul").innerHTML = items.join("");
  });
});
</script>"""


def _script_json(data: object) -> str:
    """JSON safe inside <script>: no "</" that would end the element."""
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def _listing_kind(path: str) -> str | None:
    p = PurePosixPath(path)
    if path == "index.html":
        return "home"
    if p.parts[:1] == ("docs",) and len(p.parts) == 3 and p.name.startswith("index"):
        return "inline" if p.parts[1] == "mod" else "timer"
    return None


def scripted(files: dict[str, bytes]) -> dict[str, bytes]:
    """The script-rendered copy of a site's files (relative path -> bytes)."""
    out = dict(files)
    rankings: dict[str, bytes] = {}
    for path, data in files.items():
        if not path.endswith(".html"):
            continue
        html = data.decode("utf-8")
        kind = _listing_kind(path)
        if kind is not None:
            m = LATEST_RE.search(html)
            if m:
                items = ITEM_RE.findall(m.group(2))
                if kind == "home":
                    out["data/home.json"] = json.dumps(items, ensure_ascii=False).encode()
                    html = html[:m.start()] + m.group(1) + ">" + m.group(3) + html[m.end():]
                    html = html.replace("</body>", HOME_JS + "\n</body>", 1)
                elif kind == "inline":
                    script = ("<script>(function () { var items = " + _script_json(items) + ";"
                              " var ul = document.currentScript.previousElementSibling"
                              ".querySelector('ul'); ul.innerHTML = items.join(''); })();</script>")
                    closing = html.index("</div>", m.end()) + len("</div>")
                    html = (html[:m.start()] + m.group(1) + ">" + m.group(3)
                            + html[m.end():closing] + script + html[closing:])
                else:
                    island = ('<script type="application/json" id="list-data">'
                              + _script_json(items) + "</script>")
                    timer = ("<script>document.addEventListener('DOMContentLoaded', function () {"
                             " setTimeout(function () {"
                             " var items = JSON.parse(document.getElementById('list-data').textContent);"
                             " document.querySelector('.list-body ul').innerHTML = items.join('');"
                             " }, 400); });</script>")
                    html = html[:m.start()] + m.group(1) + ">" + m.group(3) + html[m.end():]
                    html = html.replace("</body>", island + timer + "\n</body>", 1)
        lists: dict[str, list[str]] = {}

        def empty(m: re.Match[str], lists: dict[str, list[str]] = lists) -> str:
            lists[m.group("period")] = ITEM_RE.findall(m.group("items"))
            return m.group(1) + ">" + m.group(4)

        html = RANKING_RE.sub(empty, html)
        if lists:
            body = json.dumps(lists, ensure_ascii=False, sort_keys=True).encode()
            name = f"data/ranking-{hashlib.sha256(body).hexdigest()[:10]}.json"
            rankings[name] = body
            html = html.replace(
                "</body>", f'<script src="/js/ranking.js" data-src="/{name}"></script>\n</body>', 1)
        out[path] = html.encode("utf-8")
    out.update(rankings)
    out["js/ranking.js"] = RANKING_JS.encode()
    return out


def read_folder(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def write_folder(files: dict[str, bytes], root: Path) -> None:
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: scripted_site.py SRC_FOLDER DST_FOLDER", file=sys.stderr)
        return 2
    write_folder(scripted(read_folder(Path(argv[0]))), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
