"""The list of every feed for feed readers: ``opml.xml`` (OPML 2.0). A pure function of the
feeds built, so it is byte-stable too: no build time is written into it. (The page for people,
``index.html``, is :mod:`feeds.page`.)

Validator rules kept: the head holds only elements every OPML validator knows (``title``;
``docs`` is OPML 2.0 but the W3C validator rejects it); a subscription is
``<outline type="rss" version="RSS" text=… xmlUrl=… htmlUrl=…>`` pointing at the RSS 2.0
feed (the ``version`` values OPML defines are RSS formats: ``RSS``, ``RSS1``,
``scriptingNews``; an Atom URL there would be mislabelled); a folder is an ``<outline text=…>``
with no type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from feeds.render import plain_text


@dataclass(frozen=True)
class FeedLink:
    group: str  # heading / OPML folder, e.g. "カテゴリ"
    title: str  # the feed's own title
    name: str  # short label within the group, e.g. the category label
    atom_path: str  # relative to the output folder
    rss_path: str
    entries: int
    json_path: str = ""


def _groups(feeds: Sequence[FeedLink]) -> dict[str, list[FeedLink]]:
    groups: dict[str, list[FeedLink]] = {}
    for feed in feeds:
        groups.setdefault(feed.group, []).append(feed)
    return groups


def render_opml(feeds: Sequence[FeedLink], *, title: str, base_url: str) -> bytes:
    """OPML 2.0 subscription list of the RSS 2.0 feeds, one folder per group."""
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = plain_text(title)
    body = etree.SubElement(opml, "body")
    for group, members in _groups(feeds).items():
        folder = etree.SubElement(body, "outline", text=plain_text(group))
        for feed in members:
            etree.SubElement(
                folder,
                "outline",
                type="rss",
                version="RSS",
                text=plain_text(feed.title),
                title=plain_text(feed.title),
                xmlUrl=base_url + feed.rss_path,
                htmlUrl=base_url,
            )
    return etree.tostring(opml, encoding="UTF-8", xml_declaration=True, pretty_print=True)
