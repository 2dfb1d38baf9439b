"""``index.html``: the page a subscriber opens first.

Self-contained (inline CSS and SVG, no script, no external asset), Japanese UI, responsive:

- a ``<link rel="alternate">`` for every feed file (Atom, RSS, JSON Feed), so that browsers
  and readers discover them all;
- each category with its latest headlines and their dates, and its subscribe links;
- the current ranking lists, each article with a small inline-SVG chart of its rank over the
  last snapshots;
- a health line per source (last crawl, items, state);
- every feed in a table.

A pure function of :class:`PageData`: the same data gives the same bytes (dates shown in
Japan time, no build time written).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from feeds.listing import FeedLink
from feeds.render import plain_text

JST = ZoneInfo("Asia/Tokyo")
CHART_W, CHART_H = 104, 30


@dataclass(frozen=True)
class Headline:
    title: str
    url: str
    date: datetime | None


@dataclass(frozen=True)
class RankingChart:
    source: str
    period: str  # its label, e.g. "24時間"
    captured_at: datetime  # when the lists took their current form
    # (rank, title, url, rank in each of the last snapshots, oldest first; None = not ranked)
    rows: tuple[tuple[int, str, str, tuple[int | None, ...]], ...]
    feed: FeedLink | None = None  # the ranking's own feed


@dataclass(frozen=True)
class SourceHealth:
    name: str
    last_crawl: datetime | None  # the newest article's first sighting (not the last fetch)
    items: int  # articles first seen in the 24 hours up to the newest one
    state: str  # "ok", "failed", "incomplete", "never" (from the records); "stale", "no items"
    reason: str = ""  # why, when not ok (the record's first reason)
    since: datetime | None = None  # when the source entered this state (its records)


@dataclass(frozen=True)
class StoryCard:
    """A story with two or more sources (crawler.stories): its title and its members."""

    title: str
    url: str
    date: datetime | None
    members_html: str  # the <ul> of the story's articles (outlet, language, date), escaped


@dataclass(frozen=True)
class PageData:
    title: str
    language: str
    categories: tuple[tuple[str, FeedLink, tuple[Headline, ...]], ...]
    charts: tuple[RankingChart, ...]
    health: tuple[SourceHealth, ...]
    feeds: tuple[FeedLink, ...]
    stories: tuple[StoryCard, ...] = ()


STATE_LABELS = {
    "ok": "正常",
    "stale": "更新なし",
    "no items": "記事なし",
    "failed": "異常",
    "partial": "一部失敗",
    "incomplete": "正常（過去記事を取得中）",
    "never": "未取得",
}

_STYLE = """\
:root { --fg: #1d2330; --muted: #5b6475; --line: #dde2ea; --bg: #f5f7fa; --card: #fff;
        --accent: #0b5cab; --atom: #c2410c; --rss: #b45309; --json: #047857; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic UI", system-ui,
       sans-serif; line-height: 1.6; color: var(--fg); background: var(--bg); }
header { background: #14213d; color: #fff; padding: 1.2rem 1rem 1rem; }
header .wrap, main { max-width: 72rem; margin: 0 auto; }
header h1 { margin: 0; font-size: 1.5rem; letter-spacing: .02em; }
header p { margin: .3rem 0 0; color: #cfd6e4; font-size: .92rem; }
header a { color: #fff; }
nav { margin-top: .7rem; display: flex; flex-wrap: wrap; gap: .4rem; }
nav a { color: #fff; text-decoration: none; border: 1px solid #4a5a7d; border-radius: 999px;
        padding: .1rem .7rem; font-size: .85rem; }
nav a:hover { background: #23345a; }
main { padding: 1rem; }
h2 { font-size: 1.2rem; margin: 1.6rem 0 .6rem; border-left: 4px solid var(--accent);
     padding-left: .5rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(21rem, 1fr)); gap: .9rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: .6rem;
        padding: .8rem .9rem; min-width: 0; }
.card p.muted { margin: 0 0 .3rem; }
.card h3 { margin: 0 0 .3rem; font-size: 1.05rem; display: flex; justify-content: space-between;
           align-items: baseline; gap: .5rem; flex-wrap: wrap; }
.card ul, .card ol { margin: 0; padding: 0; list-style: none; }
.card li { padding: .3rem 0; border-top: 1px solid var(--line); display: flex; gap: .5rem;
           align-items: center; }
.card li:first-child { border-top: 0; }
.card li a { color: var(--fg); text-decoration: none; flex: 1; min-width: 0;
             overflow-wrap: anywhere; }
.card li a:hover { color: var(--accent); text-decoration: underline; }
time, .muted { color: var(--muted); font-size: .8rem; white-space: nowrap; }
.sub { display: inline-flex; gap: .3rem; }
.sub a { font-size: .72rem; font-weight: 600; text-decoration: none; color: #fff;
         border-radius: .3rem; padding: .05rem .45rem; }
.sub a.atom { background: var(--atom); } .sub a.rss { background: var(--rss); }
.sub a.json { background: var(--json); }
.rank { font-weight: 700; color: var(--accent); min-width: 2.2em; text-align: right; }
svg.spark { flex: none; }
table { border-collapse: collapse; width: 100%; background: var(--card); font-size: .9rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); }
/* Japanese labels wrap between words, never inside one (カテゴ / リ at 390 px). */
td, th, .health li { word-break: keep-all; overflow-wrap: anywhere; }
td.kind, th.kind { white-space: nowrap; }
#feeds td:first-child { min-width: 9rem; }
#feeds .sub { flex-wrap: wrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.health { display: flex; flex-wrap: wrap; gap: .5rem; margin: 0; padding: 0; list-style: none; }
.health li { background: var(--card); border: 1px solid var(--line); border-radius: .5rem;
             padding: .3rem .7rem; font-size: .85rem; }
.state-ok, .state-bad { font-weight: 600; white-space: nowrap; }
.state-ok { color: #047857; } .state-bad { color: #b91c1c; }
.empty { color: var(--muted); font-size: .9rem; }
.scroll { overflow-x: auto; }
footer { max-width: 72rem; margin: 1.5rem auto; padding: 0 1rem 2rem; color: var(--muted);
         font-size: .8rem; }
@media (max-width: 40rem) {
  header h1 { font-size: 1.25rem; }
  .grid { grid-template-columns: 1fr; }
  svg.spark { width: 72px; height: 24px; }
  th.opt, td.opt { display: none; }
}"""

_TYPES = (
    ("atom", "Atom", "application/atom+xml"),
    ("rss", "RSS", "application/rss+xml"),
    ("json", "JSON", "application/feed+json"),
)


def _e(text: str) -> str:
    return escape(text, quote=True)


def _date(value: datetime | None, *, short: bool = False, year: int | None = None) -> str:
    """A date in Japan time, saying so (JST). ``short``: month/day and time, the year added
    when it is not ``year`` (the year of the page's newest headline), so that 12/12 above
    2024/05/30 does not look out of order."""
    if value is None or value.tzinfo is None:
        return ""
    local = value.astimezone(JST)
    if short:
        shown = local.strftime("%m/%d %H:%M" if local.year == year else "%Y/%m/%d %H:%M")
    else:
        shown = local.strftime("%Y-%m-%d %H:%M")
    return f'<time datetime="{_e(value.isoformat())}">{shown} JST</time>'


def _paths(feed: FeedLink) -> dict[str, str]:
    return {"atom": feed.atom_path, "rss": feed.rss_path, "json": feed.json_path}


def _subscribe(feed: FeedLink) -> str:
    paths = _paths(feed)
    links = "".join(
        f'<a class="{kind}" href="{_e(paths[kind])}" title="{_e(feed.title)}（{label}）">{label}</a>'
        for kind, label, _ in _TYPES
        if paths[kind]
    )
    return f'<span class="sub">{links}</span>'


def sparkline(ranks: Sequence[int | None], *, worst: int = 10) -> str:
    """An inline SVG of a rank history (rank 1 at the top), gaps where it was not ranked."""
    known = [r for r in ranks if r is not None]
    if not known:
        return ""
    worst = max(worst, *known)
    n = len(ranks)
    step = (CHART_W - 6) / max(n - 1, 1)

    def xy(i: int, rank: int) -> tuple[float, float]:
        y = 3 + (rank - 1) * (CHART_H - 6) / max(worst - 1, 1)
        return round(3 + i * step, 1), round(y, 1)

    runs: list[list[tuple[float, float]]] = [[]]
    for i, rank in enumerate(ranks):
        if rank is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(xy(i, rank))
    shapes = []
    for run in runs:
        if len(run) > 1:
            points = " ".join(f"{x},{y}" for x, y in run)
            shapes.append(
                f'<polyline points="{points}" fill="none" stroke="#0b5cab" stroke-width="1.6" '
                'stroke-linejoin="round"/>'
            )
    last_i = max(i for i, r in enumerate(ranks) if r is not None)
    lx, ly = xy(last_i, ranks[last_i])  # type: ignore[arg-type]
    shapes.append(f'<circle cx="{lx}" cy="{ly}" r="2.4" fill="#c2410c"/>')
    text = "→".join("圏外" if r is None else f"{r}位" for r in ranks)
    return (
        f'<svg class="spark" width="{CHART_W}" height="{CHART_H}" viewBox="0 0 {CHART_W} '
        f'{CHART_H}" role="img" aria-label="順位の推移 {_e(text)}"><title>順位の推移: '
        f'{_e(text)}</title><line x1="0" y1="3" x2="{CHART_W}" y2="3" stroke="#dde2ea"/>'
        f'{"".join(shapes)}</svg>'
    )


def _health(rows: Sequence[SourceHealth]) -> list[str]:
    if not rows:
        return ['<p class="empty">ソースはまだありません。</p>']
    out = ['<ul class="health">']
    for row in rows:
        css = "state-ok" if row.state in ("ok", "incomplete") else "state-bad"
        newest = _date(row.last_crawl) or "なし"
        why = f"：{_e(plain_text(row.reason))}" if row.reason else ""
        since = f"（{_date(row.since)} から）" if row.since is not None else ""
        out.append(
            f'<li><strong>{_e(plain_text(row.name))}</strong> <span class="{css}">'
            f"{_e(STATE_LABELS.get(row.state, row.state))}</span>{since}{why} ・ "
            f"最後の新着 {newest} ・ 24時間の新着 {row.items:,} 件</li>"
        )
    out.append("</ul>")
    return out


def render_index(page: PageData) -> bytes:
    title = _e(plain_text(page.title))
    head = [
        "<!DOCTYPE html>",
        f'<html lang="{_e(page.language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}｜防衛ニュースのフィード</title>",
        f'<meta name="description" content="{title}: 防衛ニュースの Atom / RSS / JSON Feed">',
    ]
    # Autodiscovery: the feed of every article, once per format (a reader offers each link
    # it finds: 78 of them said nothing useful); every other feed is linked in the page.
    main_feed = next((f for f in page.feeds if f.atom_path == "all.atom"), None)
    for feed in [main_feed] if main_feed is not None else []:
        paths = _paths(feed)
        for kind, label, mime in _TYPES:
            if paths[kind]:
                head.append(
                    f'<link rel="alternate" type="{mime}" title="{_e(plain_text(feed.title))}'
                    f'（{label}）" href="{_e(paths[kind])}">'
                )
    head += [f"<style>\n{_STYLE}\n</style>", "</head>", "<body>"]

    nav = ['<a href="#categories">カテゴリ</a>']
    if page.charts:
        nav.append('<a href="#ranking">ランキング</a>')
    nav += ['<a href="#sources">ソースの状態</a>', '<a href="#feeds">フィード一覧</a>',
            '<a href="opml.xml">OPML</a>']
    body = [
        "<header><div class=\"wrap\">",
        f"<h1>{title}</h1>",
        "<p>防衛ニュースの最新記事を Atom・RSS・JSON Feed で配信しています。"
        "購読したいカテゴリのボタンをフィードリーダーに登録してください。"
        '<a href="opml.xml">OPML</a> でまとめて登録できます。</p>',
        f"<nav>{''.join(nav)}</nav>",
        "</div></header>",
        "<main>",
        '<section id="sources"><h2>ソースの状態</h2>',
        *_health(page.health),
        "</section>",
        '<section id="categories"><h2>カテゴリ</h2>',
    ]
    newest = max((h.date for _, _, hs in page.categories for h in hs if h.date is not None),
                 default=None)
    year = newest.astimezone(JST).year if newest is not None else None
    if not page.categories:
        body.append('<p class="empty">まだ記事がありません。</p>')
    else:
        body.append('<div class="grid">')
        for name, feed, headlines in page.categories:
            body.append(
                f'<article class="card category"><h3><span>{_e(plain_text(name))}</span>'
                f"{_subscribe(feed)}</h3>"
            )
            if headlines:
                body.append("<ul>")
                for h in headlines:
                    body.append(
                        f'<li><a href="{_e(h.url)}">{_e(plain_text(h.title) or h.url)}</a>'
                        f"{_date(h.date, short=True, year=year)}</li>"
                    )
                body.append("</ul>")
            else:
                body.append('<p class="empty">記事はまだありません。</p>')
            body.append("</article>")
        body.append("</div>")
    body.append("</section>")

    if page.stories:
        body += ['<section id="stories"><h2>複数のソースが伝えた出来事</h2>',
                 '<p class="muted"><a href="stories.atom">Atom</a> · <a href="stories.rss">RSS</a>'
                 ' · <a href="stories.json">JSON Feed</a></p>', '<div class="grid">']
        for story in page.stories:
            body.append(
                f'<article class="card story"><h3><a href="{_e(story.url)}">'
                f"{_e(plain_text(story.title) or story.url)}</a></h3>"
                f"<p class=\"muted\">{_date(story.date)}</p>{story.members_html}</article>"
            )
        body += ["</div>", "</section>"]

    if page.charts:
        body += ['<section id="ranking"><h2>ランキング</h2>', '<div class="grid">']
        for chart in page.charts:
            subscribe = _subscribe(chart.feed) if chart.feed is not None else ""
            # A chart only where there is a history: one snapshot draws a lone dot that took
            # a third of each card.
            charted = any(sum(r is not None for r in row[3]) > 1 for row in chart.rows)
            note = "・線は直近の順位の推移" if charted else ""
            body.append(
                f'<article class="card ranking"><h3><span>{_e(plain_text(chart.source))} '
                f"{_e(chart.period)}</span>{subscribe}</h3>"
                f'<p class="muted">{_date(chart.captured_at)} 時点{note}</p><ol>'
            )
            worst = max([2, len(chart.rows), *(r for row in chart.rows for r in row[3] if r)])
            for rank, text, url, history in chart.rows:
                spark = sparkline(history, worst=worst) if charted else ""
                body.append(
                    f'<li><span class="rank">{rank}位</span><a href="{_e(url)}">'
                    f"{_e(plain_text(text) or url)}</a>{spark}</li>"
                )
            body.append("</ol></article>")
        body += ["</div>", "</section>"]

    body += [
        '<section id="feeds"><h2>フィード一覧</h2>',
        '<div class="scroll"><table>',
        '<thead><tr><th>フィード</th><th class="kind">種類</th><th>購読</th><th class="n opt">件数</th>'
        "</tr></thead>",
        "<tbody>",
    ]
    for feed in page.feeds:
        body.append(
            f'<tr><td title="{_e(plain_text(feed.title))}">{_e(plain_text(feed.name))}</td>'
            f'<td class="kind">{_e(feed.group)}</td><td>{_subscribe(feed)}</td>'
            f'<td class="n opt">{feed.entries}</td></tr>'
        )
    body += [
        "</tbody></table></div>",
        "</section>",
        "</main>",
        "<footer>defnews が生成した静的ページです。各記事の権利は配信元に帰属します。</footer>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(head + body).encode("utf-8")
