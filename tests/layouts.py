"""A seeded generator of article markups: the demo site's articles in layouts it never had.

Used by ``tests/test_pages_layouts.py``. Each :class:`Layout` is drawn from a
``random.Random(seed)``: class and id names are random words; the title is an ``h1``, ``h2``
or ``div``; labels are a ``ul``, ``span``s, bare links or comma-separated text; the date line a
``<time>``, ``div``, ``span`` or bare text; the body ``<p>``s or text with ``<br><br>``; images a
``<figure>`` or an ``<img>`` with a caption ``div``; metadata (JSON-LD, OpenGraph, canonical,
``<time datetime>``) present or absent; extra wrappers, ads and share buttons. Same seed, same
page. The texts come from ``scripts/demo_site_data/site.toml`` through the site builder, so a
variant says exactly what the original page says.
"""

from __future__ import annotations

import html
import json
import random
import re
import string
from dataclasses import dataclass
from typing import Any

SHARE = (
    ("https://x.com/intent/post?url={u}", "ポスト"),
    ("https://www.facebook.com/sharer/sharer.php?u={u}", "シェア"),
    ("https://social-plugins.line.me/lineit/share?url={u}", "LINEで送る"),
)


def esc(text: str) -> str:
    return html.escape(text, quote=True)


@dataclass(frozen=True)
class Layout:
    seed: int
    title_tag: str  # h1 | h2 | h3 | div
    labels: str  # ul | spans | links | comma
    date: str  # time | div | span | bare
    body: str  # p | br
    image: str  # figure | div | p
    metadata: bool
    wrappers: int  # extra <div>s around the header and around the body
    ads: bool
    share: bool
    sidebar_first: bool  # the sidebar before <main> in document order

    @classmethod
    def draw(cls, seed: int) -> Layout:
        rng = random.Random(seed)
        return cls(
            seed=seed,
            title_tag=rng.choice(["h1", "h2", "h3", "div"]),
            labels=rng.choice(["ul", "spans", "links", "comma"]),
            date=rng.choice(["time", "div", "span", "bare"]),
            body=rng.choice(["p", "br"]),
            image=rng.choice(["figure", "div", "p"]),
            metadata=rng.random() < 0.5,
            wrappers=rng.randint(0, 3),
            ads=rng.random() < 0.7,
            share=rng.random() < 0.7,
            sidebar_first=rng.random() < 0.2,
        )


# The two markups of issue #8, by hand; the drawn ones follow.
ISSUE_LAYOUTS = (
    Layout(0, "h1", "links", "time", "p", "figure", True, 1, True, True, False),  # OpenGraph + time
    Layout(1, "h2", "spans", "div", "br", "div", False, 2, True, True, False),  # no metadata at all
)


class _Names:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def __call__(self) -> str:
        return self.rng.choice(string.ascii_lowercase) + "".join(
            self.rng.choice(string.ascii_lowercase + string.digits) for _ in range(6)
        )

    def attrs(self) -> str:
        out = f' class="{self()}"'
        if self.rng.random() < 0.3:
            out += f' id="{self()}"'
        return out


def _body_items(article: Any) -> list[tuple[str, Any]]:
    """The body mini-markup of site.toml as (kind, value) items."""
    items: list[tuple[str, Any]] = []
    table: list[str] = []
    for line in article.body.strip("\n").split("\n"):
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            items.append(("table", table))
            table = []
        if not line.strip():
            continue
        if m := re.match(r"(#{2,4}) (.+)$", line):
            items.append(("heading", (len(m.group(1)), m.group(2))))
        elif line.startswith("! "):
            items.append(("image", [p.strip() for p in line[2:].split("|")]))
        elif line.strip() == "@ad":
            items.append(("ad", None))
        elif line.startswith("<"):
            items.append(("raw", line))
        else:
            items.append(("para", line))
    if table:
        items.append(("table", table))
    return items


def _table(lines: list[str]) -> str:
    head, *rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    out = "<table><tr>" + "".join(f"<th>{esc(c)}</th>" for c in head) + "</tr>"
    for row in rows:
        out += "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
    return out + "</table>"


def _wrap(inner: str, n: int, names: _Names) -> str:
    for _ in range(n):
        inner = f"<div{names.attrs()}>\n{inner}\n</div>"
    return inner


def render(site: Any, article: Any, layout: Layout, sidebar: str) -> str:
    """One article of the demo site in ``layout`` (``sidebar``: the ranking block's HTML)."""
    rng = random.Random(layout.seed * 7919 + article.number)
    names = _Names(rng)
    url = site_url = "https://j-defense.ikaros.jp" + article.path

    def ad() -> str:
        if not layout.ads:
            return ""
        return rng.choice(
            [
                f'<div{names.attrs()}><span>PR</span><script>googletag.display("x")</script></div>',
                f'<div{names.attrs()}><p>広告</p><ins class="adsbygoogle"></ins></div>',
                f'<div{names.attrs()}><a href="https://ads.example/c?1"><img src="/ad.gif" '
                f'alt="bnrname"></a></div>',
            ]
        )

    def share() -> str:
        if not layout.share:
            return ""
        links = "".join(
            f'<a href="{esc(h.format(u=site_url))}"{names.attrs()}>{t}</a> ' for h, t in SHARE
        )
        return f"<div{names.attrs()}>{links}</div>"

    # -- header: title, labels, date line, byline ------------------------------------------
    title = f"<{layout.title_tag}{names.attrs()}>{esc(article.title)}</{layout.title_tag}>"
    section_href = f"/docs/{article.section}/"
    cats = article.categories
    if layout.labels == "ul":
        labels = f"<ul{names.attrs()}>" + "".join(
            f'<li><a href="{section_href}">{esc(c)}</a></li>' for c in cats
        ) + "</ul>"
    elif layout.labels == "spans":
        labels = f"<div{names.attrs()}>" + "".join(
            f"<span{names.attrs()}>{esc(c)}</span>" for c in cats
        ) + "</div>"
    elif layout.labels == "links":
        labels = " ".join(f'<a href="{section_href}"{names.attrs()}>{esc(c)}</a>' for c in cats)
    else:
        labels = f"<p{names.attrs()}>" + "、".join(esc(c) for c in cats) + "</p>"
    date = ""
    if article.date:
        if layout.date == "time":
            stamp = f' datetime="{article.iso_date}"' if layout.metadata else ""
            date = f"<time{stamp}{names.attrs()}>{article.date}</time>"
        elif layout.date == "div":
            date = f"<div{names.attrs()}>{article.date}</div>"
        elif layout.date == "span":
            date = f"<span{names.attrs()}>{article.date}</span>"
        else:
            date = article.date
    byline = f"<div{names.attrs()}>{esc(article.author)}</div>" if article.author else ""
    header = _wrap(f"{title}\n{labels}\n{date}\n{byline}", layout.wrappers % 2, names)

    # -- body ------------------------------------------------------------------------------
    parts: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            parts.append(f"<div{names.attrs()}>" + "<br><br>\n".join(run) + "</div>")
            run.clear()

    def para(text: str) -> None:
        if layout.body == "br":
            run.append(text)
        else:
            parts.append(f"<p{names.attrs()}>{text}</p>")

    para(esc(article.lead))
    for kind, value in _body_items(article):
        if kind == "para":
            para(esc(value))
            continue
        if kind == "heading" and layout.body == "br" and rng.random() < 0.5:
            run.append(f"<strong>{esc(value[1])}</strong>")
            continue
        flush()
        if kind == "heading":
            level, text = value
            parts.append(f"<h{level}{names.attrs()}>{esc(text)}</h{level}>")
        elif kind == "table":
            parts.append(_table(value))
        elif kind == "raw":
            parts.append(value)
        elif kind == "ad":
            parts.append(ad())
        elif kind == "image":
            src, alt, caption = value[:3]
            img = f'<img src="{esc(src)}" alt="{esc(alt)}"{names.attrs()}>'
            if len(value) > 3:
                img = f'<a href="{esc(value[3])}">{img}</a>'
            if layout.image == "figure":
                cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
                parts.append(f"<figure{names.attrs()}>{img}{cap}</figure>")
            elif layout.image == "div":
                cap = f"<div{names.attrs()}>{esc(caption)}</div>" if caption else ""
                parts.append(f"<div{names.attrs()}>{img}</div>{cap}")
            else:
                cap = f"<p{names.attrs()}>{esc(caption)}</p>" if caption else ""
                parts.append(f"<p>{img}</p>{cap}")
    flush()
    parts.append(ad())
    body = _wrap("\n".join(p for p in parts if p), max(1, layout.wrappers), names)

    note = f"<p{names.attrs()}>{esc(site.nav_note)}</p>"
    pager = (
        f'<div{names.attrs()}><a href="/docs/{article.section}/000001.html">次の記事</a> '
        f'<a href="/docs/{article.section}/000002.html">前の記事</a></div>'
    )
    main = (
        f"<main{names.attrs()}><div{names.attrs()}>\n"
        f'<div{names.attrs()}><a href="/">{esc(site.name)}</a></div>\n'
        f"{header}\n{share()}\n{body}\n{share()}\n{note}\n{pager}\n</div></main>"
    )
    site_header = (
        f"<div{names.attrs()}><p{names.attrs()}>{esc(site.tagline)}</p>"
        f'<a href="/"><img src="/logo.png" alt="{esc(site.name)}"></a>'
        f'<form action="/search"><input name="q"><button>検索</button></form>'
        f"<div{names.attrs()}><a href=\"/\">ホーム</a> <a href=\"/docs/mod/\">日本の防衛</a> "
        f"<a href=\"/docs/others/\">その他</a></div></div>"
    )
    side = f"<div{names.attrs()}>{sidebar}</div>"
    footer = (
        f'<div{names.attrs()}><a href="#top">pagetop</a></div>'
        f"<div{names.attrs()}><small>&copy; IKAROS PUBLICATIONS, LTD. All Rights Reserved.</small></div>"
    )
    head = [f"<title>{esc(article.title)} | {esc(site.name)}</title>"]
    if layout.metadata:
        head += [
            f'<meta property="og:title" content="{esc(article.title)}">',
            '<meta property="og:type" content="article">',
            f'<meta property="og:site_name" content="{esc(site.name)}">',
            f'<meta property="og:description" content="{esc(article.lead)}">',
            f'<link rel="canonical" href="{esc(url)}">',
        ]
        if article.date:
            data = {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "headline": article.title,
                "datePublished": article.iso_date,
            }
            head.append(
                '<script type="application/ld+json">'
                + json.dumps(data, ensure_ascii=False)
                + "</script>"
            )
    else:
        head = [rng.choice([head[0], f"<title>{esc(site.name)}</title>"])]
    order = [side, main] if layout.sidebar_first else [main, side]
    return (
        '<!DOCTYPE html>\n<html lang="ja"><head><meta charset="utf-8">'
        + "".join(head)
        + f"</head>\n<body>\n{site_header}\n<div{names.attrs()}>\n"
        + "\n".join(order)
        + f"\n</div>\n{footer}\n</body></html>"
    )


def rename_sidebar(sidebar: str, seed: int) -> str:
    """The ranking sidebar with every class and id renamed (its reading must not change)."""
    names = _Names(random.Random(seed))
    mapping: dict[str, str] = {}

    def sub(m: re.Match[str]) -> str:
        key = m.group(2)
        mapping.setdefault(key, names())
        return f'{m.group(1)}="{mapping[key]}"'

    out = re.sub(r'\b(class|id|aria-controls|aria-labelledby)="([^"]*)"', sub, sidebar)
    out = re.sub(r'\sdata-period="[^"]*"', "", out)
    return out.replace("<aside", "<div").replace("</aside>", "</div>")


def listing_page(site: Any, articles: list[Any], layout: Layout, kind: str) -> str:
    """A listing, a search-results page or a 404 page in ``layout``'s style: not articles."""
    rng = random.Random(layout.seed)
    names = _Names(rng)
    if kind == "404":
        main = (
            f"<{layout.title_tag}{names.attrs()}>ページが見つかりません</{layout.title_tag}>"
            f"<p>お探しのページは移動または削除された可能性があります。</p>"
            f'<p><a href="/">トップページへ</a></p>'
        )
        title = f"ページが見つかりません | {site.name}"
    else:
        items = []
        for a in articles:
            date = f"<{'span' if layout.date != 'time' else 'time'}{names.attrs()}>{a.date}"
            date += f"</{'span' if layout.date != 'time' else 'time'}>"
            items.append(
                f"<div{names.attrs()}><h3><a href=\"{a.path}\">{esc(a.title)}</a></h3>"
                f"<div>{date}</div><p>{esc(a.lead[:60])}…</p></div>"
            )
        heading = "「防衛」の検索結果" if kind == "search" else "日本の防衛"
        title = f"{heading} | {site.name}"
        main = (
            f"<{layout.title_tag}{names.attrs()}>{heading}</{layout.title_tag}>"
            + "\n".join(items)
            + f'<div{names.attrs()}><a href="?page=2">次へ</a></div>'
        )
    return (
        f'<!DOCTYPE html><html lang="ja"><head><title>{esc(title)}</title></head><body>'
        f"<div{names.attrs()}><p>{esc(site.tagline)}</p></div>"
        f"<main{names.attrs()}>{_wrap(main, layout.wrappers, names)}</main></body></html>"
    )
