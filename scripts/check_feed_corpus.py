#!/usr/bin/env python3
"""Check defnews against a folder of feed files, the way a feed reader would judge it.

Usage::

    .venv/bin/python scripts/check_feed_corpus.py FOLDER [FOLDER ...] [--limit N] [--keep DIR]
        [--json REPORT.json] [--show-ok]

Every file under the folders (recursively) is served on 127.0.0.1 by a static server and
listed as one ``kind = "feed"`` source of a generated sources file; ``defnews run`` crawls all
of them into a temporary store and builds the feeds into a temporary public folder. Then, per
file, what feedparser reads from the same served bytes is compared with the store and the
built feeds:

* an entry a reader shows has an identity (an http(s) link, a permalink guid or an http(s)
  id) and something to show (a title or a text, after feedparser's sanitising);
* each such entry must be an item of the store (by its identity key) and be published in the
  owning source's built feed ``source/<key>.atom`` (its presence in ``all.atom``, which holds
  the newest ``--limit`` entries of all sources, is counted but not required);
* every built Atom/RSS feed must parse with feedparser with bozo 0, and every Atom feed must be
  valid against RFC 4287's RELAX NG schema (tests/fixtures/schemas/atom.rng);
* no source may fail, and the log must hold no traceback.

Files whose feedparser reading has no entry at all (feedparser's own test corpus has many:
channel-level elements only) are counted apart, as "no entry", not as losses. The header
comment of feedparser's test files (``Description:`` / ``Expect:``) is printed beside a loss.
Exit status: 0 when nothing is lost, 1 when something is, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser
import lxml.html
from lxml import etree

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crawler.pipelines.normalize import plain_text  # noqa: E402
from crawler.store import open_store  # noqa: E402
from crawler.urls import id_for_url  # noqa: E402
from defnews import server as server_module  # noqa: E402
from defnews.server import StaticServer  # noqa: E402
from feeds.uris import published_uri  # noqa: E402

SCHEMA = REPO / "tests" / "fixtures" / "schemas" / "atom.rng"
_HTTP = re.compile(r"^https?://[^/\s]", re.IGNORECASE)
_HEADER = re.compile(r"<!--(.*?)-->", re.DOTALL)
_SKIP_SUFFIXES = {".toml", ".md", ".py", ".pyc", ".txt"}


@dataclass
class Shown:
    """One entry a reader shows: its identity candidates and title."""

    links: list[str]
    title: str
    shows: bool  # a title or a text; else a reader titles it by its link


@dataclass
class FileResult:
    path: str
    key: str
    url: str
    header: str = ""
    bozo: str = ""
    entries: int = 0  # entries feedparser reads
    shown: list[Shown] = field(default_factory=list)
    not_shown: int = 0  # entries with no identity or nothing to show
    lost_store: list[str] = field(default_factory=list)
    lost_built: list[str] = field(default_factory=list)
    summary: str = ""
    shown_in_store: int = 0  # entries with something to show that arrived
    shown_in_built: int = 0
    not_in_all: int = 0  # arrived, but beyond all.atom's --limit
    other_spelling: int = 0  # arrived, published under another source's spelling of its URL
    spellings: list[str] = field(default_factory=list)


def header_of(body: bytes) -> str:
    """``Description:`` / ``Expect:`` of a feedparser test file, on one line."""
    match = _HEADER.search(body[:4000].decode("utf-8", "replace"))
    if not match:
        return ""
    lines = [ln.strip() for ln in match.group(1).splitlines() if ln.strip()]
    return " | ".join(ln for ln in lines if ln.startswith(("Description:", "Expect:")))


def key_for(rel: str, seen: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", rel.lower()).strip("-")[:60].strip("-") or "feed"
    if not base[0].isalnum():
        base = "f" + base
    key, n = base, 1
    while key in seen:
        n += 1
        key = f"{base}-{n}"
    seen.add(key)
    return key


def _text(value: str) -> str:
    """Text a reader shows of an HTML field (defnews' own reading, else tags stripped)."""
    try:
        return plain_text(value)
    except Exception:  # a defnews bug must not stop the check: it shows in the comparison
        return re.sub(r"<[^>]*>", "", value).strip()


def _http(value: Any) -> str | None:
    if isinstance(value, str) and _HTTP.match(value.strip()):
        return value.strip()
    return None


def reader_entries(url: str) -> tuple[feedparser.FeedParserDict, list[Shown], int]:
    """What a reader shows of the feed at ``url``: (parsed, entries with an identity, others).

    An entry with an identity but neither title nor text is kept too (readers title it by its
    link); the report counts those apart (``shows`` False)."""
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (our own server)
        body = response.read()
    if body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return _json_reader_entries(url, body)
    parsed = feedparser.parse(url)
    shown: list[Shown] = []
    not_shown = 0
    for e in parsed.entries:
        links = [u for u in (_http(e.get("link")), _http(e.get("id"))) if u]
        title = _text(e.get("title", "") or "")
        texts = [e.get("summary", "") or ""] + [c.get("value", "") for c in e.get("content", [])]
        text = " ".join(_text(t) for t in texts).strip()
        if links:
            shown.append(Shown(links, title, bool(title.strip() or text)))
        else:
            not_shown += 1
    return parsed, shown, not_shown


def _json_reader_entries(url: str, body: bytes) -> tuple[Any, list[Shown], int]:
    """JSON Feed (feedparser 6 does not read it): its items as a JSON Feed reader shows them."""
    try:
        items = json.loads(body).get("items") or []
    except (ValueError, AttributeError):
        items = []
    shown: list[Shown] = []
    not_shown = 0
    for item in items if isinstance(items, list) else []:
        item = item if isinstance(item, dict) else {}
        own = item.get("url")
        own = urljoin(url, own) if isinstance(own, str) and own.strip() else None
        links = [u for u in (_http(own), _http(item.get("external_url")), _http(item.get("id"))) if u]
        raw_title = item.get("title")
        title = _text(raw_title if isinstance(raw_title, str) else "")
        text = " ".join(
            _text(v) for k in ("content_html", "content_text", "summary")
            if isinstance(v := item.get(k), str)
        ).strip()
        if links:
            shown.append(Shown(links, title, bool(title.strip() or text)))
        else:
            not_shown += 1
    return feedparser.FeedParserDict(entries=items, bozo=0), shown, not_shown


# What the W3C Feed Validator flags in entries built from odd input: links that are not
# absolute http(s) IRIs (spaces, quotes, brackets...), active or relative HTML content, C0
# controls in text.
_IRI = re.compile(r"^https?://[^\s<>\"{}|\\^`\x00-\x1f\x7f]+$", re.IGNORECASE)
_CTRL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NS = {"a": "http://www.w3.org/2005/Atom", "content": "http://purl.org/rss/1.0/modules/content/"}


def validator_rules(body: bytes, suffix: str) -> list[str]:
    try:
        root = etree.fromstring(body, etree.XMLParser(huge_tree=True))
    except etree.XMLSyntaxError:
        return []  # reported by the schema check
    problems: list[str] = []
    if suffix == ".atom":
        links = [el.get("href", "") for el in root.findall("a:entry/a:link", _NS)]
        html = [el.text or "" for el in root.findall("a:entry/a:content", _NS)]
        html += [el.text or "" for el in root.findall("a:entry/a:summary[@type='html']", _NS)]
        texts = [el.text or "" for el in root.iterfind(".//a:title", _NS)]
    else:
        links = [el.text or "" for el in root.findall("channel/item/link")]
        links += [
            el.text or "" for el in root.findall("channel/item/guid")
            if el.get("isPermaLink", "true") == "true"
        ]
        html = [el.text or "" for el in root.findall("channel/item/content:encoded", _NS)]
        texts = [el.text or "" for el in root.iterfind(".//title")]
    problems += [f"link not an absolute http(s) IRI: {u!r}" for u in links if not _IRI.match(u)]
    problems += [f"control character in text: {t[:60]!r}" for t in texts if _CTRL.search(t)]
    for fragment in html:
        if not fragment.strip():
            continue
        try:
            doc = lxml.html.fragment_fromstring(fragment, create_parent="div")
        except etree.ParserError:
            continue
        if doc.xpath(".//script|.//style|.//iframe|.//object|.//embed"):
            problems.append(f"active element in content: {fragment[:80]!r}")
        for el in doc.iter():
            for name, value in el.attrib.items():
                if name.lower().startswith("on"):
                    problems.append(f"event attribute {name} in content")
                elif name in ("href", "src") and not re.match(r"^(https?:|mailto:)", value.strip()):
                    problems.append(f"relative or unsafe {name} in content: {value[:80]!r}")
    return problems


def built_feeds(public: Path) -> tuple[dict[str, set[str]], list[str]]:
    """Links per built feed file, and the problems of the built feeds."""
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    links: dict[str, set[str]] = {}
    problems: list[str] = []
    for path in sorted(public.rglob("*")):
        if path.suffix == ".json" and path.is_file():
            rel = path.relative_to(public).as_posix()
            try:
                feed = json.loads(path.read_bytes())
                if "items" not in feed:
                    continue  # not a feed (health.json, the build state)
                if not feed.get("version", "").startswith("https://jsonfeed.org/version/"):
                    problems.append(f"{rel}: not a JSON Feed")
                for item in feed.get("items", []):
                    if not (item.get("id") and (item.get("content_html") or item.get("content_text"))):
                        problems.append(f"{rel}: item without id or content: {item.get('url')}")
            except (ValueError, AttributeError) as exc:
                problems.append(f"{rel}: not JSON: {exc}")
            continue
        if path.suffix not in (".atom", ".rss") or not path.is_file():
            continue
        rel = path.relative_to(public).as_posix()
        body = path.read_bytes()
        parsed = feedparser.parse(body)
        if parsed.bozo:
            problems.append(f"{rel}: feedparser bozo: {parsed.get('bozo_exception')}")
        links[rel] = {e.get("link", "") for e in parsed.entries} | {
            e.get("id", "") for e in parsed.entries
        }
        problems.extend(f"{rel}: {p}" for p in validator_rules(body, path.suffix))
        if path.suffix == ".atom":
            try:
                doc = etree.fromstring(body)
            except etree.XMLSyntaxError as exc:
                problems.append(f"{rel}: not XML: {exc}")
                continue
            if not schema.validate(doc):
                problems.append(f"{rel}: RELAX NG: {schema.error_log.last_error}")
    return links, problems


def sources_toml(results: list[FileResult]) -> str:
    out = ['[categories]\n"国際" = "world"\n']
    for r in results:
        out.append(
            f'[[source]]\nkey = "{r.key}"\nname = "{r.key}"\nkind = "feed"\n'
            f'urls = ["{r.url}"]\nlanguage = "en"\ncategories = ["国際"]\n'
        )
    return "\n".join(out)


def summary_lines(stdout: str) -> dict[str, str]:
    """The crawl summary's line per source, its drop reasons appended."""
    lines: dict[str, str] = {}
    current = ""
    for line in stdout.splitlines():
        match = re.match(r"^\s+([a-z0-9][a-z0-9_-]*): (\d+ entries read.*)$", line)
        if match:
            current = match.group(1)
            lines[current] = match.group(2)
        elif current and re.match(r"^\s+dropped \d+: ", line):
            lines[current] += "; " + line.strip()
        else:
            current = ""
    return lines


def _dropped(summary: str) -> int:
    match = re.search(r"(\d+) dropped", summary)
    return int(match.group(1)) if match else 0


def check(folders: list[Path], limit: int | None, keep: Path | None, timeout: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="defnews-corpus-"))
    site = work / "site"
    seen: set[str] = set()
    files: list[tuple[Path, str]] = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix not in _SKIP_SUFFIXES:
                rel = f"{folder.name}/{path.relative_to(folder).as_posix()}"
                files.append((path, rel))
    for path, rel in files:
        target = site / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    results: list[FileResult] = []
    with StaticServer(site) as server:
        base = server.url
        for path, rel in files:
            r = FileResult(rel, key_for(rel, seen), base + rel, header_of(path.read_bytes()))
            parsed, r.shown, r.not_shown = reader_entries(r.url)
            r.entries = len(parsed.entries)
            if parsed.bozo:
                r.bozo = str(parsed.get("bozo_exception"))[:120]
            results.append(r)
        total = sum(r.entries for r in results)
        (work / "sources.toml").write_text(sources_toml(results), encoding="utf-8")
        cmd = [
            sys.executable, "-m", "defnews", "run", "--sources", str(work / "sources.toml"),
            "--store", str(work / "store.sqlite3"), "--public", str(work / "public"),
            "--no-throttle", "--limit", str(limit or total + 100),
            "--feed-url", "https://feeds.example.org/", "--log-file", str(work / "run.log"),
        ]
        proc = subprocess.run(
            cmd, cwd=work, capture_output=True, text=True, timeout=timeout, env=dict(os.environ)
        )
    summaries = summary_lines(proc.stdout)
    with open_store(work / "store.sqlite3") as store:
        stored = {a.id: a for a in store.articles()}
    built, feed_problems = built_feeds(work / "public")
    every_link: set[str] = set().union(*built.values()) if built else set()
    for r in results:
        r.summary = summaries.get(r.key, "")
        # Entries merged into another source's copy hide in the store: a drop of an entry with
        # an identity shows in the source's own count (dropped beyond the identity-less ones).
        extra = _dropped(r.summary) - r.not_shown
        if extra > 0:
            r.lost_store.append(f"{extra} entry(ies) with an identity dropped by defnews")
        for entry in r.shown:
            article = next((stored[i] for i in map(id_for_url, entry.links) if i in stored), None)
            if article is None:
                r.lost_store.append(entry.links[0] + ("" if entry.shows else " (link only)"))
                continue
            r.shown_in_store += entry.shows
            own = built.get(f"source/{article.source}.atom", set())
            link = published_uri(article.url)  # the outlet's link, valid-URI encoded if need be
            if link not in own:
                r.lost_built.append(f"{article.url} (not in source/{article.source}.atom)")
            else:
                r.shown_in_built += entry.shows
            # all.atom holds the newest --limit of everything: informational only.
            r.not_in_all += link not in built.get("all.atom", set())
            # Merged with another spelling of its URL (http/https, www., tracking query):
            # published under the first source's spelling. Informational.
            if not any(published_uri(u) in every_link for u in entry.links):
                r.other_spelling += 1
                r.spellings.append(f"{entry.links[0]} -> {article.url} ({article.source})")
    log = (work / "run.log").read_text(encoding="utf-8", errors="replace") if (
        work / "run.log"
    ).exists() else ""
    tracebacks = (log + proc.stderr).count("Traceback")
    failed = [ln.strip() for ln in proc.stdout.splitlines() if "FAILED" in ln]
    distinct = {id_for_url(s.links[0]) for r in results for s in r.shown}
    report = {
        "files": len(results),
        "files_no_entry": sum(1 for r in results if r.entries == 0),
        "entries_read_by_feedparser": total,
        "entries_without_identity": sum(r.not_shown for r in results),
        "entries_with_identity": sum(len(r.shown) for r in results),
        "entries_shown": sum(s.shows for r in results for s in r.shown),
        "shown_arrived_in_store": sum(r.shown_in_store for r in results),
        "shown_arrived_in_built_feeds": sum(r.shown_in_built for r in results),
        "distinct_shown_identities": len(distinct),
        "arrived_in_store": sum(len(r.shown) - len(r.lost_store) for r in results),
        "arrived_in_built_feeds": sum(
            len(r.shown) - len(r.lost_store) - len(r.lost_built) for r in results
        ),
        "beyond_all_atom_limit": sum(r.not_in_all for r in results),
        "published_under_another_spelling": sum(r.other_spelling for r in results),
        "other_spellings": {r.path: r.spellings for r in results if r.spellings},
        "stored_items": len(stored),
        "built_feeds": len(built),
        "invalid_built_feeds": feed_problems,
        "failed_sources": failed,
        "tracebacks": tracebacks,
        "exit_status": proc.returncode,
        "losses": [
            {
                "file": r.path, "header": r.header, "summary": r.summary,
                "lost_in_store": r.lost_store, "lost_in_built": r.lost_built,
            }
            for r in results
            if r.lost_store or r.lost_built
        ],
        "work": str(work),
    }
    if proc.returncode != 0 or tracebacks:
        report["stderr_tail"] = (proc.stderr or log)[-3000:]
    if keep is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copytree(work, keep / work.name)
        shutil.rmtree(work, ignore_errors=True)
        report["work"] = str(keep / work.name)
    return report


_FILE_HEADER = re.compile(r"^Header:\s*([\w-]+):\s*(.*?)\s*$", re.MULTILINE)


def _serve_file_headers() -> None:
    """Make the static server send the headers a feedparser test file names in its comment."""
    handler = server_module._Handler

    def headers_of(self: Any) -> list[tuple[str, str]]:
        try:
            head = Path(self.translate_path(self.path)).read_bytes()[:2000]
        except OSError:
            return []
        found = _FILE_HEADER.findall(head.decode("latin-1"))
        return [(k, v) for k, v in found if k.lower() not in ("status", "location")]

    plain_guess = handler.guess_type
    plain_end = handler.end_headers

    def guess_type(self: Any, path: Any) -> str:
        types = [v for k, v in headers_of(self) if k.lower() == "content-type"]
        return types[0] if types else plain_guess(self, path)

    def end_headers(self: Any) -> None:
        for name, value in headers_of(self):
            if name.lower() != "content-type":
                self.send_header(name, value)
        plain_end(self)

    handler.guess_type = guess_type  # type: ignore[method-assign]
    handler.end_headers = end_headers  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="folders of feed files")
    parser.add_argument("--limit", type=int, help="entries per feed (default: all entries + 100)")
    parser.add_argument("--keep", type=Path, help="keep the store, public folder and log here")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    parser.add_argument(
        "--content-type", help="serve every file with this Content-Type (default: by extension)"
    )
    parser.add_argument(
        "--file-headers", action="store_true",
        help="send each file's 'Header: Name: value' comment lines as HTTP headers, as "
        "feedparser's own test server does (Status and Location lines are ignored)",
    )
    parser.add_argument("--timeout", type=int, default=1800, help="seconds for defnews run")
    args = parser.parse_args(argv)
    for folder in args.folders:
        if not folder.is_dir():
            parser.error(f"not a folder: {folder}")
    if args.file_headers:
        _serve_file_headers()
    if args.content_type:
        # As a server that labels every file alike (text/xml, application/octet-stream...).
        forced = args.content_type
        server_module._Handler.guess_type = lambda self, path: forced  # type: ignore[method-assign]
    report = check(args.folders, args.limit, args.keep, args.timeout)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    for loss in report["losses"]:
        print(f"LOST {loss['file']}: store {loss['lost_in_store']} built {loss['lost_in_built']}")
        print(f"     {loss['header']}")
        print(f"     defnews: {loss['summary'] or '(no summary line)'}")
    for problem in report["invalid_built_feeds"]:
        print(f"INVALID {problem}")
    for line in report["failed_sources"]:
        print(f"FAILED {line}")
    if "stderr_tail" in report:
        print(report["stderr_tail"])
    counts = Counter({k: v for k, v in report.items() if isinstance(v, int)})
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    print(f"invalid_built_feeds={len(report['invalid_built_feeds'])} losses={len(report['losses'])}")
    bad = (
        report["losses"] or report["invalid_built_feeds"] or report["failed_sources"]
        or report["tracebacks"] or report["exit_status"]
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
