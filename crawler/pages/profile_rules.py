"""What a site's profile says beyond the finders: generic steps run after the page is read.

Each step is driven by a :class:`~crawler.pages.finders.SiteProfile` field, never by a site's
name (朝雲 needs all of them; a site whose profile leaves a field out skips its step):

* **label above the title** (``label_position = "above"``): a label word standing in the block
  just before the title becomes the article's label when the finders found none below it;
* **date precision** (``date_precision``): a publication date with no time of day is a day,
  ``published_precision = "day"``; never read from the title (its ``(2025年12月12日)`` is the
  event's date: the date a page's title holds is refused as its publication date);
* **byline at a paragraph's end** (``byline_end``, ``not_byline``): ``…公開した。(伊藤和樹)`` in
  the first two paragraphs becomes ``author`` and leaves the body; places and credits
  (``(4空団11飛行隊・松島)``, ``(内閣広報室提供)``) match ``not_byline`` and stay;
* **truncation** (``truncation``): a body cut by a paywall (``…・・・``, ``続きを読む``) keeps the
  public part, the markers dropped, ``partial = True``;
* **captions before the lead** (``caption_pattern``): they stay captions; the summary is the
  first paragraph that is neither a caption nor a subhead.

Also :func:`decode_page` (and :func:`page_text`): a response's text, read right whatever its
charset says (:mod:`crawler.charset`: Shift_JIS, EUC-JP, UTF-8, declared, undeclared or lied
about), with what was declared and how many bytes nothing could read.
"""

from __future__ import annotations

import re
from typing import Any

import lxml.html

from crawler.charset import Decoded, decode
from crawler.pages.finders import SiteProfile
from crawler.pages.html import fragment, normalize_space

__all__ = ["apply_profile_rules", "decode_page", "page_text"]

_TIME_RE = re.compile(r"\d{1,2}\s*[:：時]\s*\d{0,2}|T\d{2}:\d{2}")
_DAY_WITHOUT_MARK = re.compile(r"(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2})(?![\d日])")
_SENTENCE_END = ("。", "」", "）", ")")


def decode_page(response: Any) -> Decoded:
    """The body of an HTML response decoded by :func:`crawler.charset.decode`: the charset of
    its Content-Type header, else of its ``<meta>``, when it reads the bytes; else UTF-8 or
    the detector's. A response given its encoding explicitly (a page a browser rendered,
    re-encoded in it) is read with that encoding first."""
    explicit = getattr(response, "_encoding", None)
    if explicit:
        content_type: str | None = f"text/html; charset={explicit}"
    else:
        header = response.headers.get("Content-Type") if response.headers else None
        content_type = header.decode("latin-1") if header else None
    return decode(bytes(response.body), content_type, kind="html")


def page_text(response: Any) -> str:
    """The text of an HTML response (:func:`decode_page`)."""
    return decode_page(response).text


def _fragment(content_html: str) -> Any:
    return fragment(content_html or "<div></div>")


def _html(root: Any) -> str:
    return "".join(
        lxml.html.tostring(child, encoding="unicode") for child in root
    ) if len(root) else (root.text or "")


def _text(el: Any) -> str:
    return normalize_space("".join(el.itertext()))


def _paragraphs(root: Any) -> list[Any]:
    return [el for el in root.iter("p") if _text(el)]


def _strip_tail(el: Any, suffix: str) -> None:
    """Remove ``suffix`` from the end of the visible text of ``el`` (its last text node)."""
    nodes = [el, *el.iterdescendants()]
    for node in reversed(nodes):
        for attr in ("tail", "text"):
            if node is el and attr == "tail":
                continue
            value = getattr(node, attr)
            if value and value.rstrip().endswith(suffix):
                stripped = value.rstrip()
                setattr(node, attr, stripped[: len(stripped) - len(suffix)].rstrip())
                return


def _drop(el: Any) -> None:
    parent = el.getparent()
    if parent is not None:
        el.drop_tree()


def apply_profile_rules(data: dict[str, Any], tree: Any, profile: SiteProfile) -> dict[str, Any]:
    """``data`` (what :func:`crawler.pages.site.parse_article` read) after the profile's steps.

    ``partial`` (True) and ``published_precision`` ("day") are added only when a step sets them.
    """
    _label_above(data, tree, profile)
    _dates(data, profile)
    root = None  # the body parsed again only for a step that reads it
    if profile.truncation or profile.byline_end_re is not None:
        root = _fragment(data.get("content_html") or "")
        changed = _truncation(data, root, profile)
        changed = _byline(data, root, profile) or changed
        if changed:
            data["content_html"] = _html(root)
    _lead(data, root, profile)
    return data


def _label_above(data: dict[str, Any], tree: Any, profile: SiteProfile) -> None:
    if profile.label_position != "above" or not data.get("title"):
        return
    # Below the title stands no label on such a site: what stood there (an event date line
    # such as "(2021年2月13日~15日)") is kept only if it is a label word.
    found = [c for c in data.get("categories") or [] if c in profile.label_vocabulary]
    if found or (data.get("categories") and not profile.label_vocabulary):
        data["categories"] = found or data["categories"]
        return
    data["categories"] = []
    title = data["title"]
    last: str | None = None
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag in ("title", "script", "style", "head"):
            continue
        own = normalize_space(el.text)
        if own == title or (own and _text(el) == title):
            break
        if own in profile.label_vocabulary:
            last = own
    if last:
        data["categories"] = [last]
        data.setdefault("provenance", {})["labels"] = "structure"


def _dates(data: dict[str, Any], profile: SiteProfile) -> None:
    raw = data.get("published_raw")
    title = data.get("title") or ""
    if (
        raw
        and raw.strip() in title
        and data.get("published_source") != "jsonld"
        and not profile.dateline_re.search(raw)
    ):
        # The event date written in the title is never the publication date (a real date
        # line that the title happens to repeat is still the date line).
        data["published_raw"] = None
        data["published_source"] = None
        raw = None
    if raw and data.get("published_source") == "dateline":
        # "2024年11月29更新": a date line that lost its 日 (seen once on 朝雲) is still that day.
        data["published_raw"] = raw = _DAY_WITHOUT_MARK.sub(r"\1日", raw)
    precision = "minute"
    if raw and (
        (profile.date_precision == "day" and data.get("published_source") == "dateline")
        or not _TIME_RE.search(raw)
    ):
        precision = "day"
    if precision != "minute":  # (the default is not written: a page's fields stay as they were)
        data["published_precision"] = precision


def _truncation(data: dict[str, Any], root: Any, profile: SiteProfile) -> bool:
    """Drop the paywall markers and what follows; say the body is partial."""
    if not profile.truncation:
        return False
    markers = profile.truncation
    cut = False
    blocks = [el for el in root if isinstance(el.tag, str)]
    for index, el in enumerate(blocks):
        text = _text(el)
        if text in markers:
            for rest in blocks[index:]:
                _drop(rest)
            cut = True
            break
        ending = next((m for m in markers if text.endswith(m)), None)
        if ending:
            _strip_tail(el, ending)
            for rest in blocks[index + 1 :]:
                if _text(rest) in markers or not _text(rest):
                    _drop(rest)
            cut = True
            break
    if cut:
        data["partial"] = True
        summary = data.get("summary") or ""
        for m in markers:
            if summary.endswith(m):
                data["summary"] = summary[: -len(m)].rstrip()
    return cut


def _byline(data: dict[str, Any], root: Any, profile: SiteProfile) -> bool:
    byline_re = profile.byline_end_re
    if byline_re is None:
        return False
    for el in _body_paragraphs(root, profile)[:2]:
        text = _text(el)
        m = byline_re.search(text)
        if not m:
            continue
        author = normalize_space(m.group("author"))
        if profile.not_byline_re is not None and profile.not_byline_re.search(author):
            continue  # a place or a credit, not a name
        _strip_tail(el, m.group(0).strip())
        if not data.get("author"):
            data["author"] = author
            data.setdefault("provenance", {})["author"] = "text"
        summary = data.get("summary") or ""
        if summary.endswith(m.group(0)):
            data["summary"] = summary[: -len(m.group(0))].rstrip()
        return True
    return False


def _is_caption(text: str, profile: SiteProfile, captions: set[str]) -> bool:
    return text in captions or bool(profile.caption_re and profile.caption_re.search(text))


def _body_paragraphs(root: Any, profile: SiteProfile) -> list[Any]:
    """Paragraphs of the text proper: not captions, not subheads (short, no 。)."""
    out = []
    for el in _paragraphs(root):
        if el.getparent() is not None and el.getparent().tag == "figure":
            continue
        text = _text(el)
        if profile.caption_re is not None and profile.caption_re.search(text):
            continue
        if len(text) <= 40 and not text.endswith(_SENTENCE_END):
            continue
        out.append(el)
    return out


def _lead(data: dict[str, Any], root: Any, profile: SiteProfile) -> None:
    """The summary is the lead: the first paragraph of the text, never a caption. (``root``:
    the body as parsed by the steps before, None when none parsed it.)"""
    if profile.caption_re is None:
        return
    captions = {normalize_space(i.get("caption") or "") for i in data.get("images") or []}
    summary = normalize_space(data.get("summary") or "")
    subhead = len(summary) <= 40 and not summary.endswith(_SENTENCE_END)
    if summary and not subhead and not _is_caption(summary, profile, captions):
        return
    if root is None:
        root = _fragment(data.get("content_html") or "")
    paragraphs = _body_paragraphs(root, profile)
    if paragraphs:
        data["summary"] = _text(paragraphs[0])
        data.setdefault("provenance", {})["summary"] = "structure"
