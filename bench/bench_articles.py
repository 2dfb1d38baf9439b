"""The generic article reader on three public corpora, beside trafilatura and htmldate.

    .venv/bin/python bench/bench_articles.py --corpora /work/corpora [--limit N] [--json OUT]

``--corpora DIR`` holds (each optional; a missing one is skipped with a note):

* ``aeb/``: scrapinghub/article-extraction-benchmark (``html/*.html.gz``,
  ``ground-truth.json``), scored as its ``evaluate.py`` does: token 4-gram shingles,
  precision and recall averaged over pages, F1 of the two averages;
* ``fundus/``: flairNLP/fundus, ``tests/resources/parser/test_data/<country>/``: each
  publisher's pages (by crawl date) and its golden JSON (versions in the same order): title
  exact (white space normalized), published day, body F1 as above (summary, subheadings and
  paragraphs of the golden body);
* ``htmldate/``: adbar/htmldate ``tests/`` (``eval_default.json`` and
  ``eval_mediacloud_2020.json`` with their pages in ``test_set``, ``cache``, ``eval``):
  published day right.

trafilatura (``bare_extraction``: body, title, date) and htmldate (``find_date``, default and
``original_date=True``) run on the same pages in the same run. Japanese pages (Fundus ``jp``,
pages whose ``<html lang>`` is ``ja``) are also reported apart. Speed: pages per second of
each reader over the corpus (parse included, one process, one core), after every reader has
read the corpus's first 10 pages untimed (one-off costs such as dateparser's pattern
compilation, which all three pay through htmldate, go to none of them).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import Table, print_tables  # noqa: E402

from crawler.pages.html import PageParseError  # noqa: E402
from crawler.pages.reader import read_article  # noqa: E402

_TOKEN_RE = re.compile(r"\w+", re.UNICODE)
_LANG_RE = re.compile(rb"<html[^>]*\blang=[\"']?ja", re.IGNORECASE)


# -- scoring (as the AEB's evaluate.py) -------------------------------------------------------


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN_RE.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens)


def tp_fp_fn(true: str, pred: str) -> tuple[float, float, float]:
    t, p = shingles(true), shingles(pred)
    tp = fp = fn = 0.0
    for key in t.keys() | p.keys():
        tc, pc = t.get(key, 0), p.get(key, 0)
        tp += min(tc, pc)
        fp += max(0, pc - tc)
        fn += max(0, tc - pc)
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def prf(scores: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """(precision, recall, F1) as evaluate.py computes them."""
    if not scores:
        return (0.0, 0.0, 0.0)
    ps = [_precision(*s) for s in scores if s[0] + s[1] > 0]
    rs = [_recall(*s) for s in scores if s[0] + s[2] > 0]
    p = statistics.mean(ps) if ps else 0.0
    r = statistics.mean(rs) if rs else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


# -- corpora ----------------------------------------------------------------------------------


@dataclass
class Case:
    corpus: str
    name: str
    url: str
    html: bytes | str
    body: str | None = None
    title: str | None = None
    day: str | None = None
    japanese: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def aeb_cases(root: Path) -> Iterator[Case]:
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    for key, item in sorted(truth.items()):
        html = gzip.decompress((root / "html" / f"{key}.html.gz").read_bytes())
        yield Case("aeb", key, item.get("url") or "https://example.invalid/", html,
                   body=item.get("articleBody", ""), japanese=bool(_LANG_RE.search(html[:4000])))


def _fundus_body(body: dict[str, Any]) -> str:
    parts = list(body.get("summary") or [])
    for section in body.get("sections") or []:
        parts += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
    return "\n".join(parts)


def fundus_cases(root: Path) -> Iterator[Case]:
    data = root / "tests" / "resources" / "parser" / "test_data"
    for country in sorted(p for p in data.iterdir() if p.is_dir()):
        meta_path = country / "meta.info"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        for golden in sorted(country.glob("*.json")):
            versions = json.loads(golden.read_text(encoding="utf-8"))
            pages = sorted(country.glob(f"{golden.stem}_*.html.gz"))
            for page, version in zip(pages, sorted(versions), strict=False):
                want = versions[version]
                # (decoded as Fundus's own loader does: its pages are stored as UTF-8)
                html = gzip.decompress(page.read_bytes()).decode("utf-8")
                day = want.get("publishing_date")
                yield Case(
                    "fundus", f"{country.name}/{page.name}",
                    meta.get(page.name, {}).get("url") or "https://example.invalid/", html,
                    body=_fundus_body(want["body"]) if isinstance(want.get("body"), dict) else None,
                    title=want.get("title"), day=day[:10] if isinstance(day, str) else None,
                    japanese=country.name == "jp",
                )


def htmldate_cases(root: Path) -> Iterator[Case]:
    tests = root / "tests"
    for name in ("eval_mediacloud_2020.json", "eval_default.json"):
        for url, item in json.loads((tests / name).read_text(encoding="utf-8")).items():
            for folder in ("test_set", "cache", "eval"):
                path = tests / folder / item["file"]
                if path.is_file():
                    html = path.read_bytes()
                    yield Case("htmldate", item["file"], url, html, day=item["date"],
                               japanese=bool(_LANG_RE.search(html[:4000])))
                    break


CORPORA: dict[str, tuple[str, Callable[[Path], Iterator[Case]]]] = {
    "aeb": ("ground-truth.json", aeb_cases),
    "fundus": ("tests/resources/parser/test_data", fundus_cases),
    "htmldate": ("tests/eval_default.json", htmldate_cases),
}


# -- readers ----------------------------------------------------------------------------------


def html_text(markup: str) -> str:
    """The article text of an HTML fragment, one line per block: figures (an image and its
    caption, which defnews keeps in ``content_html``) are not body text in these corpora."""
    import lxml.html

    if not markup.strip():
        return ""
    tree = lxml.html.fragment_fromstring(markup, create_parent="div")
    for figure in list(tree.iter("figure")):
        figure.drop_tree()
    for el in tree.iter("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "br", "tr", "figcaption"):
        el.tail = "\n" + (el.tail or "")
    return tree.text_content()


def defnews(case: Case) -> dict[str, Any]:
    try:
        item = read_article(case.html, case.url)
    except PageParseError as exc:
        return {"error": str(exc)}
    return {
        "body": html_text(item["content_html"]),
        "title": item["title"],
        "day": item["published_day"],
        "layers": item["provenance"],
    }


def trafilatura_reader(case: Case) -> dict[str, Any]:
    import trafilatura

    doc = trafilatura.bare_extraction(case.html, url=case.url, with_metadata=True)
    if doc is None:
        return {"body": "", "title": None, "day": None}
    get = doc.get if isinstance(doc, dict) else lambda k: getattr(doc, k, None)
    return {"body": get("text") or "", "title": get("title"), "day": get("date")}


def htmldate_reader(original: bool) -> Callable[[Case], dict[str, Any]]:
    def read(case: Case) -> dict[str, Any]:
        from htmldate import find_date

        return {"day": find_date(case.html, url=case.url, original_date=original)}

    return read


READERS: dict[str, Callable[[Case], dict[str, Any]]] = {
    "defnews": defnews,
    "trafilatura": trafilatura_reader,
    "htmldate": htmldate_reader(False),
    "htmldate original": htmldate_reader(True),
}
FIELDS = {"aeb": ("body",), "fundus": ("body", "title", "day"), "htmldate": ("day",)}


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


def score(cases: list[Case], results: list[dict[str, Any]], wanted: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"pages": len(cases)}
    if "body" in wanted:
        pairs = [(c.body, r.get("body")) for c, r in zip(cases, results, strict=True) if c.body]
        if pairs and any(r.get("body") is not None for r in results):
            p, rc, f1 = prf([tp_fp_fn(t, p or "") for t, p in pairs])
            out |= {"precision": p, "recall": rc, "f1": f1}
    if "title" in wanted and any("title" in r for r in results):
        titled = [(c, r) for c, r in zip(cases, results, strict=True) if c.title]
        out["title"] = sum(_norm(r.get("title")) == _norm(c.title) for c, r in titled) / max(1, len(titled))
    if "day" in wanted:
        dated = [(c, r) for c, r in zip(cases, results, strict=True) if c.day]
        out["day"] = sum((r.get("day") or "")[:10] == c.day for c, r in dated) / max(1, len(dated))
    return out


_WARM_UP = 10  # pages each reader reads untimed first


def run_corpus(name: str, cases: list[Case], readers: list[str]) -> dict[str, dict[str, Any]]:
    figures: dict[str, dict[str, Any]] = {}
    readers = [r for r in readers if not (name == "aeb" and r.startswith("htmldate"))]
    # Every reader reads the first pages once before any is timed: one-off costs (imports,
    # dateparser compiling its locales' patterns, shared by all three through htmldate) are
    # not charged to whichever reader happens to run first. Pages/s is the steady rate a
    # crawl sees.
    for reader in readers:
        for case in cases[:_WARM_UP]:
            try:
                READERS[reader](case)
            except Exception:  # noqa: BLE001, S112 - counted in the timed pass below
                continue
    for reader in readers:
        fn = READERS[reader]
        results = []
        errors = 0
        start = time.perf_counter()
        for case in cases:
            try:
                results.append(fn(case))
            except Exception as exc:  # noqa: BLE001 - counted: the reader must never raise
                errors += 1
                results.append({"error": repr(exc)})
        elapsed = time.perf_counter() - start
        wanted = FIELDS[name] if not reader.startswith("htmldate") else ("day",)
        fig = score(cases, results, wanted)
        fig["pages_s"] = len(cases) / elapsed if elapsed else 0.0
        fig["exceptions"] = errors if reader == "defnews" else None
        fig["not_article"] = sum(1 for r in results if "error" in r) - errors
        jp = [(c, r) for c, r in zip(cases, results, strict=True) if c.japanese]
        if jp:
            fig["japanese"] = score([c for c, _ in jp], [r for _, r in jp], wanted)
        if reader == "defnews":
            fig["layers"] = dict(Counter(
                f"{k}={v}" for r in results for k, v in (r.get("layers") or {}).items()
                if k in ("body", "published", "title")
            ))
            fig["_results"] = results
        figures[reader] = fig
    return figures


def tables(figures: dict[str, dict[str, dict[str, Any]]]) -> list[Table]:
    out = []
    for corpus, by_reader in figures.items():
        t = Table(
            f"{corpus}: {next(iter(by_reader.values()))['pages']} pages",
            ["reader", "body P", "body R", "body F1", "title exact", "day right", "pages/s",
             "JP pages: F1 / title / day"],
        )
        for reader, f in by_reader.items():
            jp = f.get("japanese")
            jp_cell = ""
            if jp:
                jp_cell = f"{jp['pages']}: " + " / ".join(
                    _pct(jp.get(k), k == "f1") for k in ("f1", "title", "day")
                )
            t.add(reader, _pct(f.get("precision"), True), _pct(f.get("recall"), True),
                  _pct(f.get("f1"), True), _pct(f.get("title")), _pct(f.get("day")),
                  f"{f['pages_s']:.1f}", jp_cell)
        dn = by_reader.get("defnews")
        if dn:
            t.notes.append(f"defnews: {dn['exceptions']} exceptions escaped, "
                           f"{dn['not_article']} pages read as not an article")
            t.notes.append("defnews layers: " + ", ".join(
                f"{k} {v}" for k, v in sorted(dn["layers"].items())))
        out.append(t)
    return out


def _pct(value: float | None, fraction: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if fraction else f"{100 * value:.1f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, required=True)
    parser.add_argument("--only", choices=sorted(CORPORA), action="append")
    parser.add_argument("--readers", default="defnews,trafilatura,htmldate,htmldate original")
    parser.add_argument("--limit", type=int, default=0, help="pages per corpus (0: all)")
    parser.add_argument("--json", type=Path, help="write every figure and defnews's misses")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    readers = [r.strip() for r in args.readers.split(",") if r.strip()]
    figures: dict[str, dict[str, dict[str, Any]]] = {}
    misses: dict[str, list[dict[str, Any]]] = {}
    for name, (marker, load) in CORPORA.items():
        if args.only and name not in args.only:
            continue
        root = args.corpora / name
        if not (root / marker).exists():
            print(f"[skipped] {name}: no {root / marker}", file=sys.stderr)
            continue
        cases = list(load(root))
        if args.limit:
            cases = cases[: args.limit]
        figures[name] = run_corpus(name, cases, [r for r in readers if not (
            name == "aeb" and r.startswith("htmldate"))])
        results = figures[name].get("defnews", {}).pop("_results", [])
        misses[name] = [
            {"name": c.name, "url": c.url, **{k: v for k, v in r.items() if k != "body"},
             "f1": prf([tp_fp_fn(c.body, r.get("body") or "")])[2] if c.body else None,
             "want_title": c.title, "want_day": c.day}
            for c, r in zip(cases, results, strict=False)
        ]
    if not figures:
        print("no corpus found: nothing measured", file=sys.stderr)
        return 0
    print_tables(tables(figures))
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "pages": misses}, indent=1,
                                        ensure_ascii=False, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
