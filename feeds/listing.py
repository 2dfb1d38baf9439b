"""The lists of every feed: ``opml.xml`` (OPML 2.0, for feed readers) and ``index.html`` (for
people). Both are pure functions of the feeds built, so they are byte-stable too: no build time
is written into them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from lxml import etree

from feeds.render import xml_text


@dataclass(frozen=True)
class FeedLink:
    group: str  # heading / OPML folder, e.g. "カテゴリ"
    title: str  # the feed's own title
    name: str  # short label within the group, e.g. the category label
    atom_path: str  # relative to the output folder
    rss_path: str
    entries: int


def _groups(feeds: Sequence[FeedLink]) -> dict[str, list[FeedLink]]:
    groups: dict[str, list[FeedLink]] = {}
    for feed in feeds:
        groups.setdefault(feed.group, []).append(feed)
    return groups


def render_opml(feeds: Sequence[FeedLink], *, title: str, base_url: str) -> bytes:
    """OPML 2.0 subscription list of the Atom feeds, one folder per group."""
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = xml_text(title)
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(opml, "body")
    for group, members in _groups(feeds).items():
        folder = etree.SubElement(body, "outline", text=xml_text(group), title=xml_text(group))
        for feed in members:
            etree.SubElement(
                folder,
                "outline",
                type="rss",  # OPML's word for any subscription, Atom included
                version="ATOM1",
                text=xml_text(feed.title),
                title=xml_text(feed.title),
                xmlUrl=base_url + feed.atom_path,
                htmlUrl=base_url,
            )
    return etree.tostring(opml, encoding="UTF-8", xml_declaration=True, pretty_print=True)


_STYLE = """\
body { font-family: system-ui, sans-serif; max-width: 50rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #ddd; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
a { color: #0645ad; }"""


def render_index(feeds: Sequence[FeedLink], *, title: str, language: str) -> bytes:
    """A small static page listing every feed with its entry count (relative links)."""

    def e(text: str) -> str:
        return escape(text, quote=True)

    lines = [
        "<!DOCTYPE html>",
        f'<html lang="{e(language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f'<link rel="alternate" type="application/atom+xml" title="{e(title)}" href="all.atom">',
        f"<style>\n{_STYLE}\n</style>",
        "</head>",
        "<body>",
        f"<h1>{e(title)}</h1>",
        '<p>Atom / RSS 2.0 フィードの一覧。<a href="opml.xml">OPML</a> でまとめて登録できます。</p>',
    ]
    for group, members in _groups(feeds).items():
        lines += [
            f"<h2>{e(group)}</h2>",
            "<table>",
            '<thead><tr><th>フィード</th><th>Atom</th><th>RSS</th><th class="n">件数</th></tr></thead>',
            "<tbody>",
        ]
        for feed in members:
            lines.append(
                f'<tr><td title="{e(feed.title)}">{e(feed.name)}</td>'
                f'<td><a href="{e(feed.atom_path)}">Atom</a></td>'
                f'<td><a href="{e(feed.rss_path)}">RSS</a></td>'
                f'<td class="n">{feed.entries}</td></tr>'
            )
        lines += ["</tbody>", "</table>"]
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines).encode("utf-8")
