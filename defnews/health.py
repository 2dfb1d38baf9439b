"""Source health: one record per source and crawl, a verdict, and what operators subscribe to.

After each crawl every source gets a record in the store (``source_runs``): pages, 304s,
new / updated / unchanged items, stored articles skipped, items dropped with their reasons,
field coverage, duration. A source is **unhealthy** when

- its crawl failed (ended abnormally, a feed could not be read, nothing at all came back);
- it yields no article where earlier runs did (the layout changed, the list moved...);
- a coverage figure (``crawler.health.coverage``) falls under its threshold
  (``DEFNEWS_HEALTH_MIN_COVERAGE``, judged from ``DEFNEWS_HEALTH_MIN_ARTICLES`` articles on).

A source is healthy **with warnings** when items were refused for what it sent
(:data:`CONTENT_LOSSES`): article pages or feed entries holding bytes that no encoding reads,
or mojibake, and pages nested too deep to be read whole. One bad byte costs that one item:
the source's other items are published, its crawl did not fail, and the exit status stays 0;
but it is not reported as clean: its run record's ``warnings`` (printed by the crawl's health
lines and by ``defnews health``) say how many items and why, every run until the source sends
them right. A charset that lies but whose bytes another encoding reads cleanly
(crawler.charset) costs nothing: the text is right, the lie flagged in the log and summary.

An unhealthy source makes the command exit 1; its feeds keep their items (they are built from
the store, where nothing is removed). The build writes ``health.atom`` (one entry each time a
source turns unhealthy or recovers) and its JSON Feed twin ``health.json``, which also carries
every source's state and since when (its ``_defnews`` object). Both only change when a state changes, so an unchanged site keeps a byte-identical
public folder; ids are tag URIs, independent of host and port.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.health import coverage
from crawler.store import SourceRun, SQLStore, open_store
from defnews.runner import CrawlerResult, CrawlReport
from feeds.write import write_if_changed

TAG = "tag:defnews,2024:health"
HISTORY = 2000  # runs per source read back to find the state changes
FEED_ENTRIES = 50


@dataclass
class SourceHealth:
    source: str
    healthy: bool
    reasons: list[str] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)
    # Items refused for their content (content_losses): healthy, yet not clean.
    warnings: list[str] = field(default_factory=list)


def thresholds(overrides: Mapping[str, Any]) -> tuple[dict[str, float], int]:
    """The coverage thresholds and minimum sample, from crawler.settings and ``-s`` values."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for name, value in overrides.items():
        settings.set(name, value, priority="cmdline")
    limits = {str(k): float(v) for k, v in settings.getdict("DEFNEWS_HEALTH_MIN_COVERAGE").items()}
    return limits, settings.getint("DEFNEWS_HEALTH_MIN_ARTICLES")


def run_record(c: CrawlerResult) -> dict[str, Any]:
    stats = c.stats
    attempted, ratios = coverage(stats)
    dropped = {
        k.removeprefix("defnews/dropped/").replace("_", " "): int(v)
        for k, v in stats.items() if k.startswith("defnews/dropped/")
    }
    started, finished = stats.get("start_time"), stats.get("finish_time")
    duration = (finished - started).total_seconds() if started and finished else None
    feeds = {
        k.removeprefix("defnews/feeds/entries/"): int(v)
        for k, v in stats.items() if k.startswith("defnews/feeds/entries/")
    }
    feed_errors = {
        k.removeprefix("defnews/feeds/errors/"): int(v)
        for k, v in stats.items() if k.startswith("defnews/feeds/errors/")
    }
    feed_304 = {
        k.removeprefix("defnews/feeds/not_modified/"): int(v)
        for k, v in stats.items() if k.startswith("defnews/feeds/not_modified/")
    }
    record: dict[str, Any] = {
        "finish_reason": c.finish_reason,
        "pages": c.get("response_received_count"),
        "not_modified": c.get("defnews/http/not_modified") + c.get("httpcache/revalidate"),
        "new": c.get("defnews/store/new"),
        "updated": c.get("defnews/store/updated"),
        "unchanged": c.get("defnews/store/unchanged"),
        "known_skipped": c.get("defnews/incremental/known_skipped"),
        "parse_errors": c.get("defnews/parse_errors"),
        "dropped": dropped,
        "articles_seen": (c.get("defnews/health/articles") + c.get("defnews/incremental/known_skipped")
                          + c.get("defnews/feeds/entries")),
        "articles_attempted": attempted,
        "coverage": {k: round(v, 3) for k, v in ratios.items()},
        "duration_s": round(duration, 3) if duration is not None else None,
        # Script-rendered pages (crawler/render.py): rendered in the browser / needed it and
        # were not (rendering off or unavailable).
        "rendered": c.get("defnews/render/pages"),
        "render_needed": c.get("defnews/render/needed_unrendered"),
    }
    keys = sorted(set(feeds) | set(feed_errors) | set(feed_304)
                  | set(stats.get("defnews/feeds/read") or ()))
    if keys:
        record["feeds"] = {k: {"entries": feeds.get(k, 0), "errors": feed_errors.get(k, 0),
                               "not_modified": feed_304.get(k, 0)} for k in keys}
    return record


def judge(c: CrawlerResult, previous: Sequence[SourceRun], limits: Mapping[str, float],
          min_articles: int) -> SourceHealth:
    record = run_record(c)
    reasons: list[str] = []
    before = max((int(r.data.get("articles_seen", 0) or 0) for r in previous), default=0)
    # A process sharing a Redis frontier may find every article taken by the others: its own
    # zero says nothing of the site (as in CrawlerResult.failed).
    shared = "defnews/frontier/worker" in c.stats
    if c.finish_reason == "finished" and record["articles_seen"] == 0 \
            and record["not_modified"] == 0 and before > 0 and not shared:
        # (Said instead of the crawl's "no item was scraped": the likelier cause.)
        reasons.append(f"no article found, where earlier runs found up to {before} "
                       "(has the site's layout changed?)")
    elif c.failed:
        message = c.stats.get("defnews/feeds/error_message")
        reasons.append(f"{c.failed}: {message}" if message else c.failed)
    if record["render_needed"]:
        reasons.append(f"{record['render_needed']} page(s) filled by scripts not read: "
                       f"{c.stats.get('defnews/render/why_not') or 'not rendered'}")
    for key, now in sorted((record.get("feeds") or {}).items()):
        had = max((int(((r.data.get("feeds") or {}).get(key) or {}).get("entries", 0) or 0)
                   for r in previous), default=0)
        if not (now["entries"] or now["errors"] or now["not_modified"]) and had:
            reasons.append(f"feed {key}: no entry, where earlier runs read up to {had}")
    if record["articles_attempted"] >= min_articles:
        for name, minimum in sorted(limits.items()):
            ratio = record["coverage"].get(name)
            if ratio is not None and ratio < minimum:
                what = "articles read" if name == "parsed" else f"articles with {name}"
                reasons.append(f"{what}: {ratio:.0%}, under the {minimum:.0%} threshold "
                               f"({record['articles_attempted']} article pages)")
    warnings = content_losses(c.stats)
    if warnings:
        record["warnings"] = warnings
    return SourceHealth(c.source, not reasons, reasons, record, warnings)


FEEDS_CRAWLER = "feeds"  # the one crawler that reads every feed source

# Items refused for what the source sent (its bytes, its markup), by the stats key of the
# count: site pages counted as failed (crawler.failures), feed entries as dropped.
CONTENT_LOSSES = (
    ("defnews/failed/undecodable_page", "article page(s)", "bytes that no encoding reads"),
    ("defnews/failed/mojibake_text", "article page(s)", "mojibake text"),
    ("defnews/failed/page_too_deep", "page(s)", "nested deeper than 2048 levels"),
    ("defnews/dropped/undecodable_text", "feed entries", "bytes that no encoding reads"),
    ("defnews/dropped/mojibake_text", "feed entries", "mojibake text"),
)


def content_losses(stats: Mapping[str, Any]) -> list[str]:
    """One reason per kind of item refused for its content (:data:`CONTENT_LOSSES`)."""
    reasons = []
    for key, what, why in CONTENT_LOSSES:
        # (a feed source's drop reasons are kept with spaces: "dropped/undecodable text")
        n = int(stats.get(key, 0) or 0) + int(stats.get(key.replace("_", " "), 0) or 0)
        if n:
            reasons.append(f"{n} {what} not published: {why} (see log)")
    return reasons


def per_source(c: CrawlerResult) -> list[CrawlerResult]:
    """The crawler's result per source: the feeds crawler reads many feed sources in one
    crawl, and each gets its own record (its stats, its verdict); a site crawler is one."""
    if c.source != FEEDS_CRAWLER:
        return [c]
    stats = c.stats
    keys: set[str] = set(stats.get("defnews/feeds/read") or ())
    for prefix in ("defnews/feeds/entries/", "defnews/feeds/errors/",
                   "defnews/feeds/not_modified/", "defnews/feeds/source/",
                   "defnews/feeds/requested/"):
        keys |= {k[len(prefix):].split("/", 1)[0] for k in stats if k.startswith(prefix)}
    out = []
    for key in sorted(keys):
        def n(name: str, key: str = key) -> int:
            return int(stats.get(name, 0) or 0)
        own: dict[str, Any] = {
            name: stats[name]
            for name in ("start_time", "finish_time", "finish_reason", "defnews/frontier/worker")
            if name in stats}
        own.update({
            "item_scraped_count": n(f"defnews/feeds/source/{key}/kept"),
            "response_received_count": n(f"defnews/feeds/requested/{key}"),
            "defnews/feeds/entries": n(f"defnews/feeds/entries/{key}"),
            "defnews/feeds/errors": n(f"defnews/feeds/errors/{key}"),
            "defnews/http/not_modified": n(f"defnews/feeds/not_modified/{key}"),
            f"defnews/feeds/entries/{key}": n(f"defnews/feeds/entries/{key}"),
            f"defnews/feeds/errors/{key}": n(f"defnews/feeds/errors/{key}"),
            f"defnews/feeds/not_modified/{key}": n(f"defnews/feeds/not_modified/{key}"),
        })
        for status in ("new", "updated", "unchanged", "duplicate"):
            own[f"defnews/store/{status}"] = n(f"defnews/store/source/{key}/{status}")
        for name, value in stats.items():
            prefix = f"defnews/feeds/source/{key}/dropped/"
            if name.startswith(prefix):
                own[f"defnews/dropped/{name[len(prefix):]}"] = value
        if key in (stats.get("defnews/feeds/read") or ()):
            own["defnews/feeds/read"] = {key}
        message = stats.get(f"defnews/feeds/error_message/{key}")
        if message:
            own["defnews/feeds/error_message"] = message
        if stats.get(f"defnews/feeds/min_interval/{key}"):
            own["defnews/feeds/min_interval"] = stats[f"defnews/feeds/min_interval/{key}"]
        out.append(CrawlerResult(c.name, key, c.finish_reason, own))
    return out


def crawl_failure(c: CrawlerResult) -> str | None:
    """Why the crawl itself failed (its shared frontier or its store), or None. Such a
    failure is the crawl's, not the site's: no source is recorded unhealthy for it."""
    if c.finish_reason == "redis_unavailable" or c.stats.get("defnews/frontier/error"):
        return str(c.stats.get("defnews/frontier/error") or "the shared frontier's Redis went away")
    for name in ("defnews/store/error", "defnews/store/write_errors"):
        if c.stats.get(name):
            return f"the store failed: {c.stats[name]}"
    return None


def record_health(location: str, report: CrawlReport, overrides: Mapping[str, Any],
                  started_at: datetime, *, settings: Any = None) -> list[SourceHealth]:
    """Judge every source of a finished crawl and store its run record (the feeds crawler:
    one record per feed source). ``settings``: the crawl's own (Scrapy) settings, else the
    project's with ``overrides``."""
    if settings is not None:
        limits = {str(k): float(v)
                  for k, v in settings.getdict("DEFNEWS_HEALTH_MIN_COVERAGE").items()}
        min_articles = settings.getint("DEFNEWS_HEALTH_MIN_ARTICLES")
    else:
        limits, min_articles = thresholds(overrides)
    verdicts = []
    with open_store(location) as store:
        for crawler in sorted(report.crawlers, key=lambda c: c.source):
            failure = crawl_failure(crawler)
            if failure is not None:
                import logging

                logging.getLogger(__name__).error(
                    "%s: the crawl failed (%s): no health record, the sources are not to blame",
                    crawler.source, failure)
                continue
            for c in per_source(crawler):
                verdicts.append(_record(store, c, limits, min_articles, started_at))
    return verdicts


def _record(store: SQLStore, c: CrawlerResult, limits: Mapping[str, float], min_articles: int,
            started_at: datetime) -> SourceHealth:
    verdict = judge(c, store.source_runs(c.source, limit=20), limits, min_articles)
    if c.stats.get("defnews/feeds/error_message"):
        verdict.record["error"] = c.stats["defnews/feeds/error_message"]
    verdict.record["reasons"] = verdict.reasons
    if c.stats.get("defnews/feeds/min_interval"):
        verdict.record["min_interval_s"] = float(c.stats["defnews/feeds/min_interval"])
    walks = store.archive_walks(c.source)
    if walks:
        verdict.record["archive"] = {
            w.section: {"walked": w.walked, "total": w.total_pages, "complete": w.complete}
            for w in walks.values()}
        verdict.record["archive_complete"] = all(w.complete for w in walks.values())
        # Articles found linked from stored ones and not stored yet: not complete either.
        links = len(store.archive_links(c.source))
        if links:
            verdict.record["archive_links"] = links
            verdict.record["archive_complete"] = False
    start = c.stats.get("start_time") or started_at
    end = c.stats.get("finish_time") or datetime.now(UTC)
    _, last_new = store.source_activity(c.source)
    verdict.record["last_fetch"] = _iso(end)
    verdict.record["last_new_item"] = _iso(last_new) if last_new is not None else None
    store.add_source_run(c.source, started_at=start, finished_at=end,
                         finish_reason=c.finish_reason, healthy=verdict.healthy,
                         data=verdict.record)
    return verdict


def recorded_verdicts(location: str, sources: Sequence[str],
                      since: datetime) -> list[SourceHealth]:
    """The verdicts a crawl's health recorder wrote (records finished since ``since``)."""
    verdicts = []
    with open_store(location) as store:
        for source in sources:
            runs = store.source_runs(source, limit=1)
            if runs and runs[0].finished_at >= since:
                run = runs[0]
                verdicts.append(SourceHealth(source, run.healthy,
                                             list(run.data.get("reasons") or []), run.data,
                                             list(run.data.get("warnings") or [])))
    return verdicts


# -- what the build publishes ----------------------------------------------------------------
@dataclass
class Change:
    source: str
    healthy: bool
    run: SourceRun


def state_changes(store: SQLStore) -> dict[str, list[Change]]:
    """Per source, oldest first: its first run and every run whose verdict differs from the
    run before it."""
    changes: dict[str, list[Change]] = {}
    for source in store.run_sources():
        runs = list(reversed(store.source_runs(source, limit=HISTORY)))
        out: list[Change] = []
        for run in runs:
            if not out or out[-1].healthy != run.healthy:
                out.append(Change(source, run.healthy, run))
        changes[source] = out
    return changes


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _state(changes: Mapping[str, list[Change]]) -> dict[str, Any]:
    sources = {}
    for source, history in sorted(changes.items()):
        current = history[-1]
        sources[source] = {
            "healthy": current.healthy,
            "since": _iso(current.run.started_at),
            "reasons": current.run.data.get("reasons", []),
            "run": {k: v for k, v in current.run.data.items() if k != "reasons"},
        }
    return {"healthy": all(s["healthy"] for s in sources.values()), "sources": sources}


def _entries(changes: Mapping[str, list[Change]]) -> list[Change]:
    """The state changes the feeds carry, newest first: turned unhealthy, or recovered."""
    return sorted(
        (c for history in changes.values() for i, c in enumerate(history)
         if not c.healthy or i > 0),
        key=lambda c: (c.run.started_at, c.run.id), reverse=True,
    )[:FEED_ENTRIES]


def _updated(changes: Mapping[str, list[Change]], entries: list[Change]) -> datetime:
    """The feed's ``updated``: its newest entry, else when the first run was recorded (stable
    from build to build; never 1970)."""
    if entries:
        return entries[0].run.finished_at
    return min(history[0].run.finished_at for history in changes.values())


def _content(c: Change) -> str:
    state = "healthy again" if c.healthy else "UNHEALTHY"
    lines = [f"{c.source} is {state} since the crawl of {_iso(c.run.started_at)}."]
    lines += [f"- {r}" for r in c.run.data.get("reasons") or []]
    record = {k: v for k, v in c.run.data.items() if k != "reasons"}
    lines.append("Run: " + json.dumps(record, ensure_ascii=False, sort_keys=True))
    return "\n".join(lines)


def render_json(changes: Mapping[str, list[Change]]) -> bytes:
    """``health.json``: the JSON Feed twin of health.atom (every ``.json`` in the public folder
    is a JSON Feed, and is served as one), with every source's current state in the
    ``_defnews`` extension object (JSON Feed 1.1: custom keys start with ``_``). No address in
    it: the same records give the same bytes wherever the folder is served."""
    from feeds.jsonfeed import VERSION

    entries = _entries(changes)
    doc = {
        "version": VERSION,
        "title": "defnews source health",
        "description": "One entry each time a source turns unhealthy or recovers.",
        "items": [
            {"id": f"{TAG}:{c.source}:{c.run.id}",
             "title": f"{c.source}: {'healthy again' if c.healthy else 'UNHEALTHY'}",
             "content_text": _content(c),
             "date_published": _iso(c.run.started_at),
             "date_modified": _iso(c.run.finished_at)}
            for c in entries
        ],
        "_defnews": {"about": "https://github.com/defnews/defnews#health",
                     "updated": _iso(_updated(changes, entries)), **_state(changes)},
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def render_atom(changes: Mapping[str, list[Change]], self_url: str) -> bytes:
    from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]

    entries = _entries(changes)
    fg = FeedGenerator()
    fg.id(f"{TAG}:feed")
    fg.title("defnews source health")
    fg.subtitle("One entry each time a source turns unhealthy or recovers.")
    fg.language("en")  # (xml:lang: its texts are English; the W3C validator asks for one)
    fg.link(href=self_url, rel="self")
    fg.generator("defnews")
    fg.updated(_updated(changes, entries))
    for c in reversed(entries):
        fe = fg.add_entry(order="prepend")
        fe.id(f"{TAG}:{c.source}:{c.run.id}")
        fe.title(f"{c.source}: {'healthy again' if c.healthy else 'UNHEALTHY'}")
        fe.updated(c.run.finished_at)
        fe.published(c.run.started_at)
        fe.content(_content(c), type="text")
    data: bytes = fg.atom_str(pretty=True)
    return data


def write_health(store: SQLStore, public: Path, feed_url: str) -> list[Path]:
    """Write health.json and health.atom into ``public`` (nothing without any recorded run)."""
    changes = state_changes(store)
    if not changes:
        return []
    written = []
    base = feed_url if feed_url.endswith("/") else feed_url + "/"
    for name, data in (("health.json", render_json(changes)),
                       ("health.atom", render_atom(changes, base + "health.atom"))):
        path = public / name
        write_if_changed(path, data)
        written.append(path)
    return written


def print_health_history(store: SQLStore, runs: int, out: Any = None,
                         configured: Sequence[str] = ()) -> bool:
    """``defnews health``: each source's state and its last ``runs`` records; True only if
    every source is healthy and every ``configured`` source has run (a monitoring check: a
    store no crawl has recorded into is not healthy)."""
    import sys

    out = out or sys.stdout
    changes = state_changes(store)
    never = [key for key in configured if key not in changes]
    for key in never:
        print(f"{key}: NEVER RUN (no health record in this store)", file=out)
    if not changes:
        print("no run recorded yet", file=out)
        return False
    for source, history in sorted(changes.items()):
        current = history[-1]
        state = "healthy" if current.healthy else "UNHEALTHY"
        print(f"{source}: {state} since {_iso(current.run.started_at)}", file=out)
        for reason in current.run.data.get("reasons") or []:
            print(f"  {reason}", file=out)
        latest = store.source_runs(source, limit=1)[0].data
        for warning in latest.get("warnings") or []:
            print(f"  warning: {warning}", file=out)
        if latest.get("last_fetch") or latest.get("last_new_item"):
            print(f"  last fetch {latest.get('last_fetch') or '-'}, last new item "
                  f"{latest.get('last_new_item') or '-'}", file=out)
        if latest.get("error"):
            print(f"  error: {latest['error']}", file=out)
        if latest.get("min_interval_s"):
            from crawler.sources import format_interval

            print(f"  min interval {format_interval(float(latest['min_interval_s']))}: a run "
                  "sooner after the last fetch skips the source", file=out)
        if latest.get("archive_complete") is False:
            walked = sum(int(a.get("walked") or 0) for a in latest["archive"].values())
            total = sum(int(a.get("total") or 0) for a in latest["archive"].values())
            links = int(latest.get("archive_links") or 0)
            linked = f", {links} linked articles not fetched yet" if links else ""
            print(f"  incomplete: archive walk {walked} of {total} index pages{linked}; resumes "
                  "next run", file=out)
        for r in store.source_runs(source, limit=runs):
            d = r.data
            dropped = sum((d.get("dropped") or {}).values())
            cov = ", ".join(f"{k} {v:.0%}" for k, v in sorted((d.get("coverage") or {}).items()))
            duration = d.get("duration_s")
            print(f"  {_iso(r.started_at)}  {'ok  ' if r.healthy else 'FAIL'}  "
                  f"{d.get('pages', 0):>4} pages {d.get('not_modified', 0):>3} not modified "
                  f"{d.get('new', 0):>3} new {d.get('updated', 0):>3} updated "
                  f"{dropped:>3} dropped"
                  + (f"  {duration:.1f} s" if duration is not None else "")
                  + (f"  [{cov}]" if cov else ""), file=out)
    return not never and all(h[-1].healthy for h in changes.values())
