"""Build the static demo copy of Jディフェンスニュース into ``defnews/demo_site/``.

The site is served by a plain static file server on 127.0.0.1 (``/docs/mod/`` serves
``docs/mod/index.html``) and crawled with real Scrapy by the end-to-end tests and by
``defnews demo``. The markup is invented — the live HTML is unknown — but follows what is known
of the real site (``/work/shared/reference/jdefense-site.md``); the texts live in
``scripts/demo_site_data/site.toml``.

Usage::

    python scripts/build_demo_site.py            # rewrite defnews/demo_site/
    python scripts/build_demo_site.py OUT_DIR    # build a copy elsewhere

From Python (tests build variants, e.g. with another ranking sidebar)::

    build_site(tmp_path, ranking={"24h": ["<title>", ("<title>", "/docs/mod/000001.html")]})

The output is deterministic: same data, same bytes. All internal URLs are root-relative
(canonical and og:url included), so the copy is self-consistent on any host and port.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from posixpath import normpath
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parent.parent
DATA_PATH = Path(__file__).resolve().parent / "demo_site_data" / "site.toml"
DEFAULT_OUT = ROOT / "defnews" / "demo_site"

PERIODS = (("24h", "24時間"), ("1w", "1週間"), ("1m", "1ヶ月"))
CUT_MARK = "@cut"
JST = "+09:00"

# A 1x1 grey PNG: every image of the demo site (they are never looked at, only linked).
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg=="
)

STYLE_CSS = """\
body { font-family: sans-serif; margin: 0; }
.wrapper { display: flex; gap: 2em; max-width: 1100px; margin: 0 auto; }
main { flex: 1; }
.sidebar { width: 300px; }
.ranking-panel[hidden] { display: none; }
.ranking-tabs li.is-active { font-weight: bold; }
"""

COMMON_JS = """\
document.querySelectorAll('.ranking-tabs [role=tab]').forEach(function (tab) {
  tab.addEventListener('click', function () {
    document.querySelectorAll('.ranking-tabs [role=tab]').forEach(function (t) {
      var on = t === tab;
      t.classList.toggle('is-active', on);
      t.setAttribute('aria-selected', on ? 'true' : 'false');
      document.getElementById(t.getAttribute('aria-controls')).hidden = !on;
    });
  });
});
"""

ROBOTS_TXT = "User-agent: *\nDisallow: /search\n"


# -- data -----------------------------------------------------------------------------------


@dataclass
class Article:
    section: str
    number: int
    title: str
    categories: list[str]
    lead: str
    body: str = ""
    date: str | None = None
    author: str | None = None
    meta: list[str] = field(default_factory=list)
    modified: str | None = None
    headline: str | None = None
    dateline: str = "p"
    canonical: str | None = None  # None: the article path; "": no link
    listed: bool = True
    linked: bool = True
    malformed: bool = False
    sort_date: str | None = None

    @property
    def path(self) -> str:
        return f"/docs/{self.section}/{self.number:06d}.html"

    @property
    def order_key(self) -> tuple[tuple[int, ...], int]:
        shown = self.date or self.sort_date
        if not shown:
            raise ValueError(f"{self.path}: a dateless article needs sort_date")
        return tuple(int(x) for x in re.split(r"[- :]", shown)), self.number

    @property
    def iso_date(self) -> str | None:
        """The date line as ISO 8601 with the JST offset (for JSON-LD, OpenGraph, <time>)."""
        if not self.date:
            return None
        y, mo, d, h, mi = (int(x) for x in re.split(r"[- :]", self.date))
        return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:00{JST}"


@dataclass
class Site:
    name: str
    tagline: str
    nav_note: str
    home_latest: int
    home_pickup: int
    index_page_size: int
    sections: dict[str, str]  # slug -> index title, in menu order
    articles: list[Article]
    ranking: dict[str, list[tuple[str, str]]]  # period -> [(title, path)]

    def by_title(self, title: str) -> Article:
        found = [a for a in self.articles if a.title == title]
        if len(found) != 1:
            raise KeyError(f"ranking title matches {len(found)} articles: {title!r}")
        return found[0]


_ARTICLE_KEYS = {f for f in Article.__dataclass_fields__}


def load_site(data_path: Path = DATA_PATH) -> Site:
    raw = tomllib.loads(data_path.read_text(encoding="utf-8"))
    articles = []
    for entry in raw["article"]:
        unknown = set(entry) - _ARTICLE_KEYS
        if unknown:
            raise ValueError(f"unknown article keys {sorted(unknown)} in {entry.get('number')}")
        articles.append(Article(**entry))
    numbers = [a.number for a in articles]
    if len(set(numbers)) != len(numbers):
        raise ValueError("article numbers must be unique: one counter for all sections")
    conf = raw["site"]
    site = Site(
        name=conf["name"],
        tagline=conf["tagline"],
        nav_note=conf["nav_note"],
        home_latest=conf["home_latest"],
        home_pickup=conf["home_pickup"],
        index_page_size=conf["index_page_size"],
        sections={slug: sec["title"] for slug, sec in raw["sections"].items()},
        articles=articles,
        ranking={},
    )
    site.ranking = resolve_ranking(site, raw["ranking"])
    return site


def resolve_ranking(
    site: Site, ranking: Mapping[str, Sequence[str | Sequence[str]]]
) -> dict[str, list[tuple[str, str]]]:
    """Ranking entries by title (looked up among the articles) or as ``(title, path)`` pairs."""
    unknown = set(ranking) - {p for p, _ in PERIODS}
    if unknown:
        raise ValueError(f"unknown ranking periods: {sorted(unknown)}")
    resolved: dict[str, list[tuple[str, str]]] = {}
    for period, _label in PERIODS:
        entries = []
        for entry in ranking.get(period, ()):
            if isinstance(entry, str):
                entries.append((entry, site.by_title(entry).path))
            else:
                title, path = entry
                entries.append((title, path))
        resolved[period] = entries
    return resolved


# -- HTML helpers ---------------------------------------------------------------------------


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    return html.escape(text, quote=True)


def json_script(data: object) -> str:
    text = json.dumps(data, ensure_ascii=False, indent=2).replace("</", "<\\/")
    return f'<script type="application/ld+json">\n{text}\n</script>'


def share_buttons(path: str, title: str, extra_class: str = "") -> str:
    cls = "share-buttons" + (f" {extra_class}" if extra_class else "")
    url = attr(f"https://j-defense.ikaros.jp{path}")
    return (
        f'<div class="{cls}">\n<ul>\n'
        f'<li class="share-x"><a href="https://x.com/intent/post?url={url}" target="_blank" '
        'rel="noopener">ポスト</a></li>\n'
        f'<li class="share-fb"><a href="https://www.facebook.com/sharer/sharer.php?u={url}" '
        'target="_blank" rel="noopener">シェア</a></li>\n'
        f'<li class="share-line"><a href="https://social-plugins.line.me/lineit/share?url={url}" '
        'target="_blank" rel="noopener">LINEで送る</a></li>\n'
        f"</ul>\n<!-- {esc(title)} -->\n</div>"
    )


AD_BLOCK = """\
<div class="ad ad-inarticle">
<p class="ad-label">広告</p>
<ins class="adsbygoogle" data-ad-client="ca-pub-0000000000000000" data-ad-slot="1234567890"></ins>
<script>(adsbygoogle = window.adsbygoogle || []).push({});</script>
<style>.ad-inarticle { min-height: 250px; }</style>
</div>"""


AD_BOTTOM = """\
<div class="ad ad-bottom">
<p class="ad-label">PR</p>
<div id="div-gpt-ad-bottom"><script>googletag.cmd.push(function () { googletag.display('div-gpt-ad-bottom'); });</script></div>
</div>"""


def render_body(article: Article) -> list[str]:
    """The mini markup of ``site.toml`` to HTML blocks (see the header of the data file)."""
    blocks: list[str] = []
    table: list[list[str]] = []

    def flush_table() -> None:
        if not table:
            return
        head, *rows = table
        out = ['<table class="table">', "<thead>", "<tr>"]
        out += [f"<th>{esc(c)}</th>" for c in head]
        out += ["</tr>", "</thead>", "<tbody>"]
        for row in rows:
            out.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>")
        out += ["</tbody>", "</table>"]
        blocks.append("\n".join(out))
        table.clear()

    for line in article.body.strip("\n").split("\n"):
        if line.startswith("|"):
            table.append([c.strip() for c in line.strip().strip("|").split("|")])
            continue
        flush_table()
        if not line.strip():
            continue
        if m := re.match(r"(#{2,4}) (.+)$", line):
            level = len(m.group(1))
            blocks.append(f"<h{level}>{esc(m.group(2))}</h{level}>")
        elif line.startswith("! "):
            parts = [p.strip() for p in line[2:].split("|")]
            src, alt, caption = parts[:3]
            img = (
                f'<img src="{attr(src)}" alt="{attr(alt)}" width="640" height="427" loading="lazy">'
            )
            if len(parts) > 3:
                img = f'<a href="{attr(parts[3])}" class="zoom">{img}</a>'
            cap = f"\n<figcaption>{esc(caption)}</figcaption>" if caption else ""
            blocks.append(f'<figure class="photo">\n{img}{cap}\n</figure>')
        elif line.strip() == "@ad":
            blocks.append(AD_BLOCK)
        elif line.startswith("<"):
            blocks.append(line)
        else:
            blocks.append(f"<p>{esc(line)}</p>")
    flush_table()
    return blocks


def image_paths(article: Article) -> list[str]:
    """Every image the article body references, as a site path."""
    paths = []
    for line in article.body.split("\n"):
        if line.startswith("! "):
            parts = [p.strip() for p in line[2:].split("|")]
            for ref in [parts[0]] + parts[3:4]:
                paths.append(normpath(urljoin(article.path, ref)))
    return paths


# -- page templates -------------------------------------------------------------------------


def ranking_sidebar(site: Site) -> str:
    out = [
        '<aside class="ranking" id="ranking">',
        "<h2>Ranking<span>読まれている記事</span></h2>",
        '<ul class="ranking-tabs" role="tablist">',
    ]
    for i, (period, label) in enumerate(PERIODS):
        active = ' class="is-active"' if i == 0 else ""
        selected = "true" if i == 0 else "false"
        out.append(
            f'<li role="tab" id="ranking-tab-{period}" aria-controls="ranking-{period}" '
            f'aria-selected="{selected}"{active}>{label}</li>'
        )
    out.append("</ul>")
    for i, (period, _label) in enumerate(PERIODS):
        hidden = "" if i == 0 else " hidden"
        out.append(
            f'<div class="ranking-panel" id="ranking-{period}" data-period="{period}" '
            f'role="tabpanel" aria-labelledby="ranking-tab-{period}"{hidden}>'
        )
        out.append('<ol class="ranking-list">')
        for rank, (title, path) in enumerate(site.ranking.get(period, []), start=1):
            out.append(
                f'<li data-rank="{rank}"><a href="{attr(path)}">'
                f'<span class="ranking-title">{esc(title)}</span></a></li>'
            )
        out += ["</ol>", "</div>"]
    out.append("</aside>")
    return "\n".join(out)


def page(site: Site, *, title: str, head: Iterable[str], main: str, body_class: str) -> str:
    menu = "\n".join(
        f'<li><a href="/docs/{slug}/">{esc(name)}</a></li>' for slug, name in site.sections.items()
    )
    head_html = "\n".join(head)
    return f"""<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
{head_html}
<link rel="stylesheet" href="/css/style.css">
<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}}</script>
</head>
<body id="top" class="{body_class}">
<!-- defnews demo fixture: invented markup modelled on j-defense.ikaros.jp (scripts/build_demo_site.py) -->
<header class="site-header">
<div class="header-inner">
<p class="tagline">{esc(site.tagline)}</p>
<p class="logo"><a href="/"><img src="/images/common/logo.png" alt="{attr(site.name)}" width="240" height="40"></a></p>
<form class="site-search" action="/search" method="get" role="search">
<input type="search" name="q" placeholder="キーワードを入力" aria-label="サイト内検索">
<button type="submit">検索</button>
</form>
<button class="menu-toggle" type="button" aria-controls="gnav" aria-expanded="false">メニュー</button>
</div>
<nav class="gnav" id="gnav">
<ul>
<li><a href="/">ホーム</a></li>
{menu}
</ul>
</nav>
</header>
<div class="wrapper">
<main id="main">
{main}
</main>
<div class="sidebar">
{ranking_sidebar(site)}
<div class="side-bnr"><a href="https://www.ikaros.jp/"><img src="/images/common/bnr.png" alt="bnrname" width="300" height="100"></a></div>
</div>
</div>
<p class="pagetop"><a href="#top">pagetop</a></p>
<footer class="site-footer">
<ul class="footer-links"><li><a href="https://www.ikaros.jp/">イカロス出版</a></li></ul>
<p class="copyright"><small>&copy; IKAROS PUBLICATIONS, LTD. All Rights Reserved.</small></p>
</footer>
<script src="/js/common.js"></script>
</body>
</html>
"""


def article_head(site: Site, a: Article) -> list[str]:
    head = [f'<meta name="description" content="{attr(a.lead)}">']
    canonical = a.path if a.canonical is None else a.canonical
    if canonical:
        head.append(f'<link rel="canonical" href="{attr(canonical)}">')
    images = image_paths(a)
    if "og" in a.meta:
        head += [
            '<meta property="og:type" content="article">',
            f'<meta property="og:site_name" content="{attr(site.name)}">',
            f'<meta property="og:title" content="{attr(a.title)}">',
            f'<meta property="og:url" content="{attr(a.path)}">',
            f'<meta property="og:description" content="{attr(a.lead)}">',
        ]
        if images:
            head.append(f'<meta property="og:image" content="{attr(images[0])}">')
        if a.iso_date:
            head.append(f'<meta property="article:published_time" content="{a.iso_date}">')
        if a.modified:
            head.append(f'<meta property="article:modified_time" content="{a.modified}">')
        head += [f'<meta property="article:section" content="{attr(c)}">' for c in a.categories]
        head.append('<meta name="twitter:card" content="summary_large_image">')
    jsonld_kinds = {"jsonld", "jsonld_graph", "jsonld_broken"} & set(a.meta)
    if jsonld_kinds:
        news: dict[str, object] = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": a.headline or a.title,
            "mainEntityOfPage": a.path,
        }
        if a.iso_date:
            news["datePublished"] = a.iso_date
        news["dateModified"] = a.modified or a.iso_date
        if a.author:
            news["author"] = {"@type": "Person", "name": a.author}
        else:
            news["author"] = {"@type": "Organization", "name": f"{site.name}編集部"}
        news["publisher"] = {
            "@type": "Organization",
            "name": site.name,
            "logo": {"@type": "ImageObject", "url": "/images/common/logo.png"},
        }
        news["articleSection"] = a.categories
        if images:
            news["image"] = images
        if "jsonld_graph" in jsonld_kinds:
            del news["@context"]
            crumbs = {
                "@type": "BreadcrumbList",
                "itemListElement": [
                    {"@type": "ListItem", "position": 1, "name": site.name, "item": "/"},
                    {"@type": "ListItem", "position": 2, "name": a.title, "item": a.path},
                ],
            }
            head.append(json_script({"@context": "https://schema.org", "@graph": [crumbs, news]}))
        elif "jsonld_broken" in jsonld_kinds:
            # A CMS template bug: a field written without escaping its quotes.
            text = json_script(news)
            broken = ',\n  "alternativeHeadline": "防衛問題セミナー "2025" 開催"\n}\n</script>'
            head.append(text.replace("\n}\n</script>", broken))
        else:
            head.append(json_script(news))
    return head


def date_line(a: Article) -> str:
    if not a.date:
        return ""
    if "time" in a.meta:
        updated = ""
        if a.modified:
            y, mo, d = (int(x) for x in a.modified[:10].split("-"))
            hm = a.modified[11:16]
            updated = (
                f' <span class="updated">(更新:<time class="updated" datetime="{a.modified}">'
                f"{y}-{mo}-{d} {hm}</time>)</span>"
            )
        return f'<p class="date"><time datetime="{a.iso_date}">{a.date}</time>{updated}</p>'
    if a.dateline == "plain":
        return f'<div class="entry-meta"><span>{a.date}</span></div>'
    if a.dateline != "p":
        raise ValueError(f"{a.path}: unknown dateline style {a.dateline!r}")
    return f'<p class="date">{a.date}</p>'


def article_page(site: Site, a: Article, newer: Article | None, older: Article | None) -> str:
    cats = "\n".join(f'<li><a href="/docs/{a.section}/">{esc(c)}</a></li>' for c in a.categories)
    header = [
        f'<h1 class="entry-title">{esc(a.title)}</h1>',
        f'<ul class="category">\n{cats}\n</ul>',
    ]
    if line := date_line(a):
        header.append(line)
    if a.author:
        header.append(f'<p class="author">{esc(a.author)}</p>')
    body = [f'<p class="lead">{esc(a.lead)}</p>', *render_body(a)]
    body.append(f'<p class="nav-note">{esc(site.nav_note)}</p>')
    body.append(AD_BOTTOM)
    pager = ['<ul class="pager">']
    if newer:
        pager.append(f'<li class="pager-next"><a href="{newer.path}">次の記事</a></li>')
    if older:
        pager.append(f'<li class="pager-prev"><a href="{older.path}">前の記事</a></li>')
    pager.append("</ul>")
    header_html = "\n".join(header)
    body_html = "\n".join(body)
    pager_html = "\n".join(pager)
    main = f"""<article class="entry">
<ol class="breadcrumb"><li><a href="/">{esc(site.name)}</a></li></ol>
<div class="entry-header">
{header_html}
</div>
{share_buttons(a.path, a.title)}
<div class="entry-body">
{body_html}
{share_buttons(a.path, a.title, "share-bottom")}
</div>
{pager_html}
</article>"""
    text = page(
        site,
        title=f"{a.title} | {site.name}",
        head=article_head(site, a),
        main=main,
        body_class=f"article section-{a.section}",
    )
    if a.malformed:
        cut = text.find(CUT_MARK)
        if cut < 0:
            raise ValueError(f"{a.path}: malformed = true needs a {CUT_MARK!r} mark in the body")
        text = text[:cut]
    elif CUT_MARK in a.body:
        raise ValueError(f"{a.path}: {CUT_MARK!r} mark without malformed = true")
    return text


def list_items(articles: Iterable[Article], *, dates: bool) -> str:
    out = []
    for a in articles:
        shown = f'<p class="item-date">{a.date}</p>' if dates and a.date else ""
        out.append(
            f'<li><div class="item"><div class="item-text"><p class="item-title">'
            f'<a href="{a.path}">{esc(a.title)}</a></p>{shown}</div></div></li>'
        )
    return "\n".join(out)


def index_page_name(n: int) -> str:
    return "index.html" if n == 1 else f"index_{n}.html"


def index_href(n: int) -> str:
    return "./" if n == 1 else f"index_{n}.html"


def index_page(site: Site, slug: str, chunk: list[Article], n: int, pages: int) -> str:
    title = site.sections[slug]
    nav = ['<nav class="pagination" aria-label="ページ送り">']
    if n > 1:
        nav.append(f'<a rel="prev" href="{index_href(n - 1)}">前へ</a>')
    for k in range(1, pages + 1):
        nav.append(
            f'<span class="current">{k}</span>' if k == n else f'<a href="{index_href(k)}">{k}</a>'
        )
    if n < pages:
        nav.append(f'<a rel="next" href="{index_href(n + 1)}">次へ</a>')
    nav.append("</nav>")
    nav_html = "\n".join(nav)
    main = f"""<article class="archive">
<ol class="breadcrumb"><li><a href="/">{esc(site.name)}</a></li><li>{esc(title)}</li></ol>
<h1 class="archive-title">{esc(title)}</h1>
<section class="article-list">
<div class="list-body">
<ul>
{list_items(chunk, dates=True)}
</ul>
</div>
</section>
{nav_html}
</article>"""
    canonical = f"/docs/{slug}/" + ("" if n == 1 else index_page_name(n))
    suffix = "" if n == 1 else f"({n}ページ目)"
    return page(
        site,
        title=f"{title}{suffix} | {site.name}",
        head=[f'<link rel="canonical" href="{canonical}">'],
        main=main,
        body_class=f"archive section-{slug}",
    )


def home_page(site: Site, latest: list[Article], pickup: list[Article]) -> str:
    cards = "\n".join(
        f'<a class="pickup-card" href="{a.path}"><span class="pickup-title">{esc(a.title)}</span></a>'
        for a in pickup
    )
    website = json_script(
        {"@context": "https://schema.org", "@type": "WebSite", "name": site.name, "url": "/"}
    )
    main = f"""<article class="home">
<h1 class="home-title">{esc(site.name)}</h1>
<section class="latest">
<h2 class="section-title">新着記事</h2>
<div class="latest-list">
<ul>
{list_items(latest, dates=False)}
</ul>
</div>
<p class="more"><a href="/docs/mod/">記事一覧へ</a></p>
</section>
<section class="pickup">
<h2 class="section-title">特集・解説</h2>
<div class="pickup-list" data-loaded="true">
{cards}
</div>
</section>
</article>"""
    return page(
        site,
        title=f"{site.name} | {site.tagline}",
        head=[
            f'<meta name="description" content="{attr(site.tagline)}">',
            '<link rel="canonical" href="/">',
            website,
        ],
        main=main,
        body_class="home",
    )


# -- the build ------------------------------------------------------------------------------


def render_site(
    site: Site, *, ranking: Mapping[str, Sequence[str | Sequence[str]]] | None = None
) -> dict[str, bytes]:
    """Every file of the site: relative path -> bytes."""
    if ranking is not None:
        site.ranking = resolve_ranking(site, ranking)
    files: dict[str, str | bytes] = {
        "robots.txt": ROBOTS_TXT,
        "css/style.css": STYLE_CSS,
        "js/common.js": COMMON_JS,
        "images/common/logo.png": TINY_PNG,
        "images/common/bnr.png": TINY_PNG,
    }
    linked = sorted((a for a in site.articles if a.linked), key=lambda a: a.order_key, reverse=True)
    # Articles every page may mention (ranking, bodies) must not reveal the hidden ones.
    hidden = {a.path for a in site.articles if not a.linked}
    mentioned = {path for entries in site.ranking.values() for _, path in entries}
    for a in site.articles:
        mentioned |= {normpath(urljoin(a.path, m)) for m in re.findall(r'href="([^"]+)"', a.body)}
    if ranking is None and hidden & mentioned:
        raise ValueError(f"counter-walk-only articles are linked: {sorted(hidden & mentioned)}")

    for slug in site.sections:
        chain = [a for a in linked if a.section == slug]
        for i, a in enumerate(chain):
            newer = chain[i - 1] if i > 0 else None
            older = chain[i + 1] if i + 1 < len(chain) else None
            files[a.path.lstrip("/")] = article_page(site, a, newer, older)
        listed = [a for a in chain if a.listed]
        size = site.index_page_size
        chunks = [listed[i : i + size] for i in range(0, len(listed), size)] or [[]]
        for n, chunk in enumerate(chunks, start=1):
            files[f"docs/{slug}/{index_page_name(n)}"] = index_page(
                site, slug, chunk, n, len(chunks)
            )
    for a in site.articles:
        if not a.linked:
            ordered = sorted(
                (b for b in site.articles if b.section == a.section), key=lambda b: b.order_key
            )
            i = ordered.index(a)
            newer = next((b for b in ordered[i + 1 :] if b.linked), None)
            older = next((b for b in reversed(ordered[:i]) if b.linked), None)
            files[a.path.lstrip("/")] = article_page(site, a, newer, older)
        for img in image_paths(a):
            files[img.lstrip("/")] = TINY_PNG

    listed = [a for a in linked if a.listed]
    pickup = [a for a in listed if a.section == "commentary"][: site.home_pickup]
    files["index.html"] = home_page(site, listed[: site.home_latest], pickup)
    return {
        path: data if isinstance(data, bytes) else data.encode("utf-8")
        for path, data in sorted(files.items())
    }


def build_site(
    out_dir: str | Path,
    *,
    ranking: Mapping[str, Sequence[str | Sequence[str]]] | None = None,
    data_path: Path = DATA_PATH,
) -> list[str]:
    """Write the site into ``out_dir``; return the relative paths written, sorted.

    ``ranking`` replaces the sidebar of every page: ``{"24h": [...], "1w": [...], "1m": [...]}``
    whose entries are article titles from the data file or ``(title, path)`` pairs; a missing
    period or ``{}`` gives empty lists.
    """
    out = Path(out_dir)
    files = render_site(load_site(data_path), ranking=ranking)
    for rel, data in files.items():
        target = out / PurePosixPath(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return list(files)


def _remove_stale(out: Path, keep: set[str]) -> None:
    for path in sorted(out.rglob("*"), reverse=True):
        rel = path.relative_to(out).as_posix()
        if path.is_file() and rel not in keep and rel != "__init__.py":
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("out_dir", nargs="?", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    out: Path = args.out_dir
    if out.exists() and any(out.iterdir()) and not (out / "robots.txt").exists():
        parser.error(f"{out} is not empty and does not look like a demo site; refusing to clean it")
    written = build_site(out)
    _remove_stale(out, set(written))
    print(f"wrote {len(written)} files to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
