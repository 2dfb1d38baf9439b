"""Build the 朝雲 (asagumo-news.com) fixture site: defnews/demo_asagumo/, Shift_JIS encoded.

Written from what is known of the site (``/work/shared/reference/asagumo-site.md``); its real
HTML is unknown, so the markup is an old static tree of our own: ``<center>``, ``<p>`` and ``<font>`` in the
2021 house style, ``<div>``s in the 2022–26 one. The article texts and what a reader must get
out of them live in ``scripts/asagumo_site_data/articles.json`` (the e2e test compares the
crawl with that file). Pages: the front page (teasers, newest first, a latest-news box), the
company page, every article (paywalled ones stop at ・・・ and 続きを読む; a latest-news box of
the 10 newest others), and one article the front page does not link (found by the date-folder
probe).

    python scripts/build_asagumo_site.py [--out DIR] [--encoding shift_jis|euc_jp|utf-8]
        [--no-declaration] [--copies N]
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "scripts" / "asagumo_site_data" / "articles.json"
OUT = ROOT / "defnews" / "demo_asagumo"
CHARSET_NAMES = {"shift_jis": "Shift_JIS", "euc_jp": "EUC-JP", "utf-8": "UTF-8"}
NEWS = "/homepage/htdocs/news/newsflash"
TAGLINE_2021 = "『朝雲』は自衛隊の活動、安全保障問題全般を伝える安保・防衛問題の専門紙です。"
FOOTER = "朝雲新聞社　〒160-0002 東京都新宿区四谷坂町12-20　Copyright (c) 朝雲新聞社 All Rights Reserved."


def article_path(article_id: str) -> str:
    day = article_id[:6]
    return f"{NEWS}/20{day[:4]}/{day}/{article_id}.html"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _head(title: str, charset: str | None) -> str:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if charset else ""
    return f"<html><head>{meta}<title>{_e(title)}｜朝雲新聞</title></head>\n"


LATEST = 10  # entries of the latest-news box, the newest (a box of a page, not an index)


def _latest(articles: list[dict[str, Any]], own: str) -> str:
    listed = [a for a in articles if a["id"] != own and not a.get("unlinked")][:LATEST]
    links = "".join(
        f'<li><a href="{article_path(a["id"])}">{_e(a["title"])}</a></li>' for a in listed
    )
    return f'<div id="latest"><h3>最新ニュース<span>LATEST NEWS</span></h3><ul>{links}</ul></div>\n'


def _body_paragraphs(a: dict[str, Any]) -> list[str]:
    """The paragraphs as the page shows them: a byline at a paragraph end, the paywall cut."""
    paras = list(a["paragraphs"])
    if a.get("author") and a.get("byline_in") is not None:
        paras[a["byline_in"]] += f"({a['author']})"
    if a.get("paywall"):
        paras.append(a["paywall"] + "・・・")
    return paras


def _captions(a: dict[str, Any], n: int) -> str:
    return "".join(
        f'<div class="photo"><img src="/homepage/htdocs/images/{a["id"]}_{i}.jpg" width="300">'
        f"<p>{_e(c)}</p></div>\n"
        for i, c in enumerate(a["captions"][:n])
    )


def article_page(a: dict[str, Any], articles: list[dict[str, Any]], charset: str | None) -> str:
    body = "".join(f"<p>　{_e(p)}</p>\n" for p in _body_paragraphs(a))
    body += (
        '<p class="more"><a href="/homepage/htdocs/member/login.html">続きを読む</a></p>\n'
        if a.get("paywall") else ""
    )
    if a["style"] == "2021":
        return (
            _head(a["title"], charset)
            + '<body bgcolor="#ffffff"><center><div style="width:880px;text-align:left">\n'
            + f'<p><font size="2">{_e(TAGLINE_2021)}</font></p>\n'
            + '<p><font size="2"><a href="/">TOP</a> &gt; 防衛関連ニュース</font></p>\n'
            + f'<p><font size="2" color="#003366">{_e(a["label"])}</font></p>\n'
            + f'<p><font size="4"><b>{_e(a["title"])}</b></font></p>\n'
            + f'<p><font size="2">{_e(a["event"])}</font></p>\n'
            + f'<p align="right"><font size="2">{_e(a["dateline"])}</font></p>\n'
            + _captions(a, 9) + body + _latest(articles, a["id"])
            + f'</div></center><p><font size="1">{_e(FOOTER)}</font></p></body></html>\n'
        )
    gallery = (
        f'<p class="gallery"><a href="{article_path(a["id"])[:-5]}_photo.html">'
        f'画像の続きを(他{a["gallery"]}点)見る》》》》》》》</a></p>\n' if a.get("gallery") else ""
    )
    subhead = f'<p class="sub">{_e(a["subhead"])}</p>\n' if a.get("subhead") else ""
    return (
        _head(a["title"], charset)
        + '<body><div id="wrap"><div id="header">\n'
        + f'<p class="tagline">{_e(a["tagline"])}『朝雲』は自衛隊の活動、安全保障問題全般を伝える</p>'
        + '<p class="tagline">安保・防衛問題の専門紙です</p></div>\n'
        + f'<div id="contents"><div class="category">{_e(a["label"])}</div>\n'
        + f'<div class="title">{_e(a["title"])}</div>\n'
        + f'<div class="update">{_e(a["dateline"])}</div>\n'
        + _captions(a, 9) + gallery + subhead + body + "</div>\n" + _latest(articles, a["id"])
        + f'<div id="footer">{_e(FOOTER)}</div></div></body></html>\n'
    )


def front_page(data: dict[str, Any], charset: str | None) -> str:
    by_id = {a["id"]: a for a in data["articles"]}
    teasers = []
    for article_id in data["front_page_order"]:
        a = by_id[article_id]
        lead = _body_paragraphs(a)[0]
        teasers.append(
            f'<div class="teaser"><h2><a href="{article_path(a["id"])}">{_e(a["title"])}</a></h2>'
            f'<p class="update">{_e(a["dateline"])}</p>{_captions(a, 1)}<p>{_e(lead[:60])}…</p>'
            f'<p><a href="{article_path(a["id"])}">続きを読む</a></p></div>\n'
        )
    return (
        _head("朝雲新聞社　自衛隊・防衛問題の専門紙", charset)
        + '<body><div id="wrap"><div id="header"><p class="tagline">'
        + "創刊70年を越える『朝雲』は自衛隊の活動、安全保障問題全般を伝える</p><p>安保・防衛問題の専門紙です"
        + "</p></div>\n<div id=\"contents\"><h1>トップニュース<span>TOP NEWS</span></h1>\n"
        + "".join(teasers)
        + "</div>\n"
        + '<div id="nav"><a href="/homepage/htdocs/aboutus2.html">会社案内</a></div>\n'
        + f'<div id="footer">{_e(FOOTER)}</div></div></body></html>\n'
    )


def company_page(charset: str | None) -> str:
    return (
        _head("会社案内", charset)
        + '<body><div id="wrap"><div id="contents"><div class="title">会社案内</div>\n'
        + "<p>　朝雲新聞社は1952年の創刊以来、自衛隊と防衛問題を専門に伝える新聞『朝雲』を発行しています。"
        + "毎週木曜日に発行し、全国の自衛隊員と関係者に読まれています。</p>\n"
        + "<p>　所在地：東京都新宿区四谷坂町12-20</p>\n"
        + '</div><p><a href="/">TOP</a></p>'
        + f'<div id="footer">{_e(FOOTER)}</div></div></body></html>\n'
    )


def generated(data: dict[str, Any], copies: int) -> dict[str, Any]:
    """``copies`` articles (for benchmarks): the fixture's, again and again, on earlier days,
    ``per_day`` of them a day folder, every one linked from the front page."""
    base = [a for a in data["articles"] if a["style"] == "2022"]
    out = []
    day = date(2026, 1, 7)
    for n in range(copies):
        a = dict(base[n % len(base)])
        if n and n % 8 == 0:
            day -= timedelta(days=1)
        a["id"] = f"{day:%y%m%d}{n % 8 + 1:02d}"
        a["dateline"] = f"{day.year}年{day.month}月{day.day}日更新"
        a["title"] = f"{a['title']} その{n + 1}"
        a.pop("unlinked", None)
        out.append(a)
    return {"articles": out, "front_page_order": [a["id"] for a in out]}


def build(out: Path, *, encoding: str = "shift_jis", declare: bool = True,
          copies: int = 0) -> dict[str, Any]:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    if copies:
        data = generated(data, copies)
    charset = CHARSET_NAMES[encoding] if declare else None
    if out.exists():
        shutil.rmtree(out)
    pages = {"/index.html": front_page(data, charset),
             "/homepage/htdocs/aboutus2.html": company_page(charset)}
    for a in data["articles"]:
        pages[article_path(a["id"])] = article_page(a, data["articles"], charset)
    for path, text in pages.items():
        target = out / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode(encoding))
    (out / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="ascii")
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--encoding", choices=sorted(CHARSET_NAMES), default="shift_jis")
    parser.add_argument("--no-declaration", action="store_true")
    parser.add_argument("--copies", type=int, default=0)
    args = parser.parse_args()
    build(args.out, encoding=args.encoding, declare=not args.no_declaration, copies=args.copies)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
