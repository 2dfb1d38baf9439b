"""The subcommands behind ``defnews``: thin wiring of runner, server and printing."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from datetime import UTC, datetime
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any, TextIO

from crawler.coverage import coverage_lines
from crawler.failures import reason_of
from crawler.sources import SourcesError, format_interval, load_sources
from defnews.runner import (
    DEFAULT_FEED_URL,
    BuildOptions,
    CrawlOptions,
    CrawlReport,
    run_build,
    run_crawl,
)
from defnews.server import StaticServer, access_logger, serve_public
from feeds.build import BuildReport

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# The demo prefers fixed ports: feed entries with relative links are resolved against the
# feed's address, so a new port every run would "update" them on every run.
DEMO_SITE_PORT, DEMO_FEEDS_PORT, DEMO_ASAGUMO_PORT = 18931, 18932, 18933


def _server(root: Path, port: int) -> StaticServer:
    try:
        return StaticServer(root, port=port)
    except OSError:  # taken: any free port will do
        return StaticServer(root)


def _out() -> TextIO:
    return sys.stdout


def print_crawl_report(report: CrawlReport, out: TextIO | None = None) -> None:
    out = out or _out()
    print("\nCrawl summary", file=out)
    for c in sorted(report.crawlers, key=lambda c: c.source):
        dropped = {
            k.removeprefix("defnews/dropped/").replace("_", " "): v
            for k, v in c.stats.items()
            if k.startswith("defnews/dropped/")
        }
        print(
            f"  {c.source:<12} {c.get('response_received_count'):>5} pages  "
            f"{c.get('defnews/store/new'):>4} new  {c.get('defnews/store/updated'):>4} updated  "
            f"{c.get('defnews/store/unchanged'):>4} unchanged  "
            f"{c.get('defnews/duplicates') + c.get('defnews/store/duplicate'):>3} duplicates  "
            f"[{c.finish_reason}]",
            file=out,
        )
        if c.get("defnews/store/ranking_snapshots"):
            print(
                f"  {'':<12} ranking: {c.get('defnews/ranking/positions')} positions, "
                f"{c.get('defnews/ranking/distinct')} distinct articles, "
                f"{c.get('defnews/ranking/entrances')} new entrances "
                f"(sidebar seen on {c.get('defnews/ranking/observations')} pages)",
                file=out,
            )
        for key, why in sorted(c.stats.items()):
            if key.startswith("defnews/feeds/skipped/"):
                # A feed source whose min_interval has not passed since its last fetch.
                print(f"  {'':<12} {key.removeprefix('defnews/feeds/skipped/')}: not fetched, "
                      f"{why}", file=out)
        if c.stats.get("defnews/frontier/worker"):
            requeued = c.get("defnews/frontier/requeued")
            print(f"  {'':<12} shared frontier: {c.get('scheduler/dequeued/redis')} requests "
                  f"taken from Redis by worker {c.stats['defnews/frontier/worker']}"
                  + (f", {requeued} put back from a dead worker" if requeued else ""), file=out)
        skipped = c.get("defnews/parse_errors")
        for reason, n in sorted(dropped.items()):
            print(f"  {'':<12} skipped {n}: {reason}", file=out)
        for key, n in sorted(c.stats.items()):
            if key.startswith("defnews/failed/"):  # lost to an error (crawler.failures)
                reason = key.removeprefix("defnews/failed/").replace("_", " ")
                print(f"  {'':<12} failed {n}: {reason} (see log)", file=out)
        for kind, verb in (("flagged", "flagged"), ("ignored", "ignored")):
            for key, n in sorted(c.stats.items()):
                if key.startswith(f"defnews/{kind}/"):
                    reason = key.removeprefix(f"defnews/{kind}/").replace("_", " ")
                    print(f"  {'':<12} {verb} {n}: {reason} (see log)", file=out)
        if skipped:
            print(f"  {'':<12} skipped {skipped}: page could not be parsed (see log)", file=out)
        if c.get("httperror/response_ignored_count"):
            print(f"  {'':<12} skipped {c.get('httperror/response_ignored_count')}: HTTP error "
                  "responses (see log)", file=out)
        if c.get("log_count/ERROR") and not (skipped or c.get("defnews/feeds/errors")):
            print(f"  {'':<12} errors logged: {c.get('log_count/ERROR')} (see log)", file=out)
        print_render_lines(c, out)
        if c.get("defnews/jdefense/truncated_pages"):
            print(f"  {'':<12} stored {c.get('defnews/jdefense/truncated_pages')} truncated "
                  "page(s) as read (see log)", file=out)
        for line in coverage_lines(c.stats):  # which parser layer found each field
            print(f"  {'':<12} coverage: {line}", file=out)
        if c.get("defnews/feeds/errors"):
            print(f"  {'':<12} feed errors: {c.get('defnews/feeds/errors')} (see log)", file=out)
        print_feed_sources(c.stats, out)
        if c.failed:
            print(f"  {'':<12} FAILED: {c.failed}", file=out)
    if report.output:
        print(f"  items written to {report.output}", file=out)


def print_render_lines(c: Any, out: TextIO) -> None:
    """Which pages a browser rendered, and which needed it but could not be (crawler/render.py)."""
    def some(urls: list[str], n: int = 4) -> str:
        return ", ".join(urls[:n]) + (f" and {len(urls) - n} more" if len(urls) > n else "")

    if c.get("defnews/render/pages"):
        kinds = ", ".join(f"{k.rsplit('/', 1)[-1]} {int(v)}" for k, v in sorted(c.stats.items())
                          if k.startswith("defnews/render/pages/"))
        print(f"  {'':<12} rendered {c.get('defnews/render/pages')} page(s) in the browser "
              f"({kinds}): {some(list(c.stats.get('defnews/render/rendered_urls') or []))}", file=out)
    if c.get("defnews/render/failed"):
        print(f"  {'':<12} could not render {c.get('defnews/render/failed')} page(s) (see log)",
              file=out)
    if c.get("defnews/render/needed_unrendered"):
        print(f"  {'':<12} NOT READ {c.get('defnews/render/needed_unrendered')} page(s) filled by "
              f"scripts: {c.stats.get('defnews/render/why_not')}: "
              f"{some(list(c.stats.get('defnews/render/needed_urls') or []))}", file=out)


def print_feed_sources(stats: dict[str, Any], out: TextIO) -> None:
    """Per feed source: entries read, kept, merged as duplicates, dropped (with reasons)."""
    prefix = "defnews/feeds/source/"
    per: dict[str, dict[str, int]] = {}
    for key, value in stats.items():
        if key.startswith(prefix):
            source, _, name = key[len(prefix):].partition("/")
            per.setdefault(source, {})[name] = int(value or 0)
    for source in sorted(per):
        n = per[source]
        # Kept first, then replaced by the copy of a source listed earlier: merged.
        superseded = int(stats.get(f"defnews/dedupe/superseded/{source}", 0) or 0)
        n["kept"] = n.get("kept", 0) - superseded
        n["merged"] = n.get("merged", 0) + superseded
        inferred = [
            f"{n[k]} {k.removeprefix('inferred/')} inferred"
            for k in sorted(n) if k.startswith("inferred/")
        ]
        if n.get("replaced_chars"):
            inferred.append(f"{n['replaced_chars']} invalid byte(s) replaced")
        print(
            f"  {'':<12} {source}: {n.get('read', 0)} entries read, {n.get('kept', 0)} kept, "
            f"{n.get('merged', 0)} merged as duplicates, {n.get('dropped', 0)} dropped"
            + (f", {n['failed']} failed" if n.get("failed") else "")
            + (f" ({', '.join(inferred)})" if inferred else ""),
            file=out,
        )
        # The totals never lie: every entry read is kept, merged, dropped or failed.
        lost = n.get("read", 0) - sum(n.get(k, 0) for k in ("kept", "merged", "dropped", "failed"))
        if lost:
            print(f"  {'':<12}   WARNING: {lost} entries unaccounted for (a bug: see log)",
                  file=out)
        for k in sorted(n):
            if k.startswith("dropped/"):
                print(f"  {'':<12}   dropped {n[k]}: {k.removeprefix('dropped/')}", file=out)


def print_build_report(report: BuildReport, public: Path, out: TextIO | None = None) -> None:
    out = out or _out()
    print(f"\nFeeds in {public}/ ({report.written} written, {report.unchanged} unchanged, "
          f"{report.rendered} feeds rendered)", file=out)
    for f in sorted(report.files, key=lambda f: (f.kind != "atom", str(f.path))):
        if f.kind != "atom":
            continue
        rel = f.path.relative_to(public) if f.path.is_relative_to(public) else f.path
        print(f"  {f.entries:>4} entries  {rel}  (+ .rss, .json)  {f.feed}", file=out)
    print(f"  index: {public / 'index.html'}   OPML: {public / 'opml.xml'}", file=out)
    feeds_removed = [p for p in report.removed if p.suffix in (".atom", ".rss", ".json")]
    for label, paths in (("removed (--prune)", feeds_removed),
                         ("no longer built, kept (--prune removes them)", report.stale)):
        if paths:
            print(f"  {len(paths)} feed file(s) {label}:", file=out)
            for path in paths:
                rel = path.relative_to(public) if path.is_relative_to(public) else path
                print(f"    {rel}", file=out)
    if report.pinged:
        failed = f", {len(report.ping_errors)} failed (see log)" if report.ping_errors else ""
        print(f"  WebSub: hub told of {len(report.pinged)} feed file(s) (changed, or missed before){failed}", file=out)


def _crawl_options(args: argparse.Namespace, settings: dict[str, Any]) -> CrawlOptions:
    return CrawlOptions(
        store=args.store,
        sources=args.sources,
        only=tuple(k for k in args.only.split(",") if k),
        output=args.overwrite_output or args.output,
        overwrite=args.overwrite_output is not None,
        base_url=args.base_url,
        settings=settings,
    )


def crawl_status(report: CrawlReport) -> int:
    """0 complete success; 128 + N when signal N stopped the crawl; 1 when a source failed."""
    if report.interrupted is not None:
        return 128 + report.interrupted
    if any(c.finish_reason.startswith("not started") for c in report.crawlers):
        return EXIT_USAGE  # a bad setting or component: the configuration's fault
    for c in report.crawlers:
        if c.stats.get("defnews/frontier/error"):  # the shared frontier's Redis went away
            print(f"defnews crawl: error: {c.stats['defnews/frontier/error']}", file=sys.stderr)
            return EXIT_USAGE
    if store_write_error(report):
        # Disk full, read-only, connection lost: the store is unusable (exit 2, as a store
        # refused at the start), and nothing is built from this crawl.
        print(f"defnews crawl: error: {store_write_error(report)}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK if report.ok else EXIT_FAILED


def store_write_error(report: CrawlReport) -> str | None:
    """The one-line reason a store write failed during the crawl, or None."""
    for c in report.crawlers:
        if c.stats.get("defnews/store/write_error"):
            return str(c.stats["defnews/store/write_error"])
    return None


def print_interruption(report: CrawlReport, out: TextIO | None = None) -> None:
    if report.interrupted is None:
        return
    import signal

    names = " then ".join(signal.Signals(s).name for s in report.signals)
    how = "stopped by force" if len(report.signals) > 1 else "stopped"
    print(f"  interrupted by {names}: crawl {how}; nothing built from it", file=out or _out())


def print_archive(store: str, report: CrawlReport, out: TextIO | None = None) -> None:
    """Per source whose archive walk has not reached the end: how far it came (the next run
    resumes it). Read from the store: completeness is the store's, not one crawl's."""
    from crawler.archive import summary
    from crawler.store import open_store
    from defnews.preflight import store_exists

    if not store_exists(store):
        return
    try:
        with open_store(store) as opened:
            lines = [(c.source, summary(opened.archive_walks(c.source),
                                        len(opened.archive_links(c.source))))
                     for c in sorted(report.crawlers, key=lambda c: c.source)]
    except Exception as exc:  # noqa: BLE001 - the summary must not hide the crawl's status
        logging.getLogger(__name__).warning("archive walk state not read from %s: %s",
                                            store, exc)
        return
    for source, line in lines:
        if line:
            print(f"  {source:<12} {line}", file=out or _out())


def crawl(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    started = datetime.now(UTC)
    report = run_crawl(_crawl_options(args, settings))
    print_crawl_report(report)
    print_interruption(report)
    status = crawl_status(report)
    if store_write_error(report):
        return status  # no health record either: the store takes no write
    print_archive(args.store, report)
    return max(status, judge_health(args.store, report, settings, started))


def judge_health(store: str, report: CrawlReport, settings: dict[str, Any],
                 started: datetime) -> int:
    """Record each source's run and verdict; 1 when a source is unhealthy. An interrupted
    crawl is not judged (nothing is built from it either)."""
    from defnews.health import per_source, recorded_verdicts

    if report.interrupted is not None or not report.crawlers:
        return EXIT_OK
    # A crawler that could not start (`-s DOWNLOAD_TIMEOUT=abc`) is the command line's mistake
    # (exit 2), not the source's: recording it would mark the source unhealthy, and the next
    # build would publish that in health.atom.
    started_crawlers = [c for c in report.crawlers if not c.finish_reason.startswith("not started")]
    if not started_crawlers:
        return EXIT_OK
    # Each crawl's HealthRecorder extension wrote the records (as under scrapy crawl and
    # Scrapyd); read back those of this crawl's sources.
    keys = [s.source for c in started_crawlers for s in per_source(c)]
    verdicts = recorded_verdicts(store, keys, started)
    print_health(verdicts)
    return EXIT_OK if all(v.healthy for v in verdicts) else EXIT_FAILED


def print_health(verdicts: list[Any], out: TextIO | None = None) -> None:
    out = out or _out()
    for v in verdicts:
        cov = v.record.get("coverage") or {}
        figures = ", ".join(f"{k} {r:.0%}" for k, r in sorted(cov.items()))
        state = "healthy" if v.healthy else "UNHEALTHY"
        if v.healthy and v.warnings:
            state += " with warnings"
        if v.record.get("archive_complete") is False:
            state += " but incomplete (archive walk resumes next run)"
        line = (f"  {v.source:<12} {state}: "
                f"{v.record.get('not_modified', 0)} not modified, "
                f"{v.record.get('known_skipped', 0)} stored articles skipped"
                + (f", coverage {figures}" if figures else "")
                + (f", {v.record['duration_s']:.1f} s" if v.record.get("duration_s") is not None
                   else ""))
        print(line, file=out)
        for reason in v.reasons:
            print(f"  {'':<12} unhealthy: {reason}", file=out)
        for warning in v.warnings:
            print(f"  {'':<12} warning: {warning}", file=out)


def check_build_source(store: str, public: Path, allow_empty: bool) -> None:
    """Refuse to build empty feeds over a public folder that has feeds, from a store that is
    missing or holds no article (a mistyped --store, a wrong working directory)."""
    from crawler.store import open_store
    from defnews.preflight import public_has_feeds, redact, store_error, store_exists
    from defnews.runner import UsageError

    if allow_empty or not public_has_feeds(public):
        return
    hint = f"{public}/ has feeds: not replacing them with empty ones (--allow-empty to force)"
    if not store_exists(store):
        raise UsageError(f"store {store} does not exist; {hint}")
    try:
        with open_store(store) as opened:
            count = opened.count_articles()
    except Exception as exc:  # noqa: BLE001 - one line, whatever the driver raised
        raise UsageError(store_error(store, exc)) from None
    if count == 0:
        raise UsageError(f"store {redact(store)} holds no article; {hint}")


def build(args: argparse.Namespace) -> int:
    check_build_source(args.store, args.public, getattr(args, "allow_empty", False))
    options = BuildOptions(
        store=args.store,
        public=args.public,
        sources=args.sources,
        feed_url=args.feed_url or DEFAULT_FEED_URL,
        hub_url=getattr(args, "websub_hub", None),
        limit=args.limit,
        prune=getattr(args, "prune", False),
    )
    print_build_report(build_or_refuse(options), args.public)
    return EXIT_OK


def build_or_refuse(options: BuildOptions) -> Any:
    """:func:`run_build`, with a public folder that cannot be written (disk full, read-only
    subfolder) or a store that cannot be read reported in one line (exit 2). Files are
    written atomically: every feed stays whole, old or new."""
    from defnews.preflight import store_error
    from defnews.runner import UsageError

    try:
        return run_build(options)
    except OSError as exc:
        where = exc.filename or options.public
        raise UsageError(f"--public {options.public}: cannot write {where}: "
                         f"{exc.strerror or reason_of(exc)}") from None
    except Exception as exc:
        import sqlite3

        if isinstance(exc, sqlite3.Error) or type(exc).__module__.startswith("psycopg"):
            raise UsageError(store_error(options.store, exc)) from None
        raise


def demo(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    """Serve the bundled fixture site and feeds, crawl them, build the feeds."""
    settings = {
        **settings,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    }
    with (
        as_file(files("defnews") / "demo_site") as site_dir,
        as_file(files("defnews") / "demo_feeds") as feeds_dir,
        as_file(files("defnews") / "demo_asagumo") as asagumo_dir,
        _server(Path(site_dir), DEMO_SITE_PORT) as site,
        _server(Path(asagumo_dir), DEMO_ASAGUMO_PORT) as asagumo,
        _server(Path(feeds_dir), DEMO_FEEDS_PORT) as feeds,
        tempfile.TemporaryDirectory(prefix="defnews-demo-") as tmp,
    ):
        template = (args.sources or Path(feeds_dir) / "sources.toml").read_text(encoding="utf-8")
        sources = Path(tmp) / "sources.toml"
        # Feeds are listed under the fixed port's address whatever port was free, and fetched
        # from the server's real one: their entries' ids never depend on the port.
        feeds_origin = f"http://127.0.0.1:{DEMO_FEEDS_PORT}/"
        sources.write_text(template.replace("{feeds_url}", feeds_origin), encoding="utf-8")
        print(f"Serving the fixture sites at {site.url} (Jディフェンスニュース) and {asagumo.url}"
              f" (朝雲), and fixture feeds at {feeds.url}")
        started = datetime.now(UTC)
        try:
            report = run_crawl(
                CrawlOptions(
                    store=args.store,
                    sources=sources,
                    output=args.overwrite_output or args.output,
                    overwrite=args.overwrite_output is not None,
                    # Each site from its own mirror (a sources file of one site: --base-url's).
                    site_mirrors={"jdefense": site.url, "asagumo": asagumo.url},
                    feeds_mirror=f"{feeds_origin}={feeds.url}" if feeds.url != feeds_origin
                    else None,
                    settings=settings,
                )
            )
        except SourcesError as exc:
            # Read from a copy with {feeds_url} filled in: the error names the user's file
            # (same lines: the placeholder sits inside one line).
            raise SourcesError(str(args.sources or "the bundled demo sources"), exc.line,
                               exc.reason) from None
        print_crawl_report(report)
        print_interruption(report)
        if report.interrupted is not None or store_write_error(report):
            return crawl_status(report)
        print_archive(args.store, report)
        health = judge_health(args.store, report, settings, started)
        built = build_or_refuse(
            BuildOptions(
                store=args.store,
                public=args.public,
                sources=sources,
                feed_url=args.feed_url or DEFAULT_FEED_URL,
        hub_url=getattr(args, "websub_hub", None),
                limit=args.limit,
                prune=getattr(args, "prune", False),
            )
        )
    print_build_report(built, args.public)
    print(f"\nOpen {args.public / 'index.html'}, or run `defnews serve --public {args.public}`.")
    return max(EXIT_OK if report.ok else EXIT_FAILED, health)


def _existing_store(location: str) -> Any:
    """The store at ``location`` opened for reading commands; a usage error in one line when
    it does not exist or cannot be opened (never a new empty store)."""
    from crawler.store import open_store
    from defnews.preflight import store_error, store_exists
    from defnews.runner import UsageError

    if not store_exists(location):
        raise UsageError(f"store {location} does not exist")
    try:
        return open_store(location)
    except Exception as exc:  # noqa: BLE001 - one line, whatever the driver raised
        raise UsageError(store_error(location, exc)) from None


def health(args: argparse.Namespace) -> int:
    from defnews.health import print_health_history

    store = _existing_store(args.store)
    configured: list[str] = []
    if args.sources is not None:
        configured = [src.key for src in load_sources(args.sources).sources if src.enabled]
    with store:
        return EXIT_OK if print_health_history(store, args.runs,
                                               configured=configured) else EXIT_FAILED


def serve(args: argparse.Namespace) -> int:
    from twisted.internet.error import CannotListenError

    from defnews.runner import UsageError

    if args.access_log is not None:
        handler = logging.FileHandler(args.access_log, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_logger.addHandler(handler)
        access_logger.propagate = False
    access_logger.setLevel(logging.INFO)

    def announce(url: str) -> None:
        print(f"Serving {args.public}/ at {url} (Ctrl-C to stop)", flush=True)

    try:
        stopped_by = serve_public(args.public, args.host, args.port, max_age=args.max_age,
                                  backlog=args.backlog, announce=announce,
                                  header_timeout=args.header_timeout,
                                  idle_timeout=args.idle_timeout,
                                  max_connections=args.max_connections)
    except CannotListenError as exc:
        reason = getattr(exc.socketError, "strerror", None) or exc.socketError
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {reason}") from None
    # Stopped by SIGINT / SIGTERM: 130 / 143, as every command says.
    return EXIT_OK if stopped_by is None else 128 + stopped_by


def sources(args: argparse.Namespace) -> int:
    config = load_sources(args.sources)
    print(f"{config.path}: {len(config.sources)} sources, {len(config.category_slugs)} categories")
    for s in config.sources:
        state = "" if s.enabled else "  (disabled)"
        status = f"  [{s.status}]" if s.status else ""
        if s.min_interval:
            state += f"  (at most every {format_interval(s.min_interval)})"
        print(f"  {s.key:<18} {s.kind:<5} {s.language:<3} {s.name}{status}{state}")
        for url in s.urls:
            print(f"  {'':<18} {url}")
    return EXIT_OK


def export(args: argparse.Namespace) -> int:
    """``defnews export``: the store's articles as JSON Lines."""
    from defnews.export import lines, selected, write_lines

    store = _existing_store(args.store)
    target = args.overwrite_output or args.output
    with store:
        count = write_lines(lines(selected(store, since=args.since, source=args.source)),
                            target, append=args.output is not None)
    if target is not None:
        print(f"{count} articles written to {target}", file=sys.stderr)
    return EXIT_OK


def db(args: argparse.Namespace) -> int:
    """``defnews db upgrade|status``: apply pending migrations / print the schema version."""
    from crawler import store_migrations
    from crawler.store import open_store
    from defnews.preflight import store_exists

    latest = store_migrations.latest_version()
    if args.action == "status" and not store_exists(args.store):
        # Asking the version must not create an empty store (`upgrade` creates one).
        print(f"{args.store}: does not exist: schema at version 0 of {latest} "
              "(out of date: run `defnews db upgrade`)")
        return EXIT_FAILED
    try:
        store = open_store(args.store, upgrade=None)
    except Exception as exc:  # the driver's own connection errors (sqlite3, psycopg)
        where = args.store.rsplit("@", 1)[-1]  # no credentials in the message
        print(f"defnews db: error: cannot open the store at {where}: {exc}", file=sys.stderr)
        return 2
    with store:
        if args.action == "upgrade":
            applied = store_migrations.upgrade(store.conn, store.dialect)
            done = ", ".join(str(v) for v in applied) if applied else "none (already current)"
            print(f"{args.store}: schema at version {latest}; migrations applied: {done}")
            return EXIT_OK
        version = store_migrations.current_version(store.conn, store.dialect)
    state = "current" if version >= latest else "out of date: run `defnews db upgrade`"
    print(f"{args.store}: schema at version {version} of {latest} ({state})")
    return EXIT_OK if version >= latest else EXIT_FAILED


def stories(args: argparse.Namespace) -> int:
    """``defnews stories [--rebuild]``: the stories of the store (issue #22)."""
    from crawler.store import open_store
    from crawler.stories.store import StoryStore, story_members

    with open_store(args.store) as store:
        if args.rebuild:
            report = StoryStore(store).rebuild(recompute=args.features)
            print(f"stories rebuilt: {report.articles} articles, {report.stories} stories "
                  f"({report.multi_article} of two or more articles); {report.moved} articles "
                  f"changed story; features read again for {report.recomputed}; "
                  f"{report.seconds:.1f} s")
        top = story_members(store, limit=args.top)
        for story, members in top:
            sources = ", ".join(dict.fromkeys(m.source for m in members))
            print(f"{story}  {len(members)} articles from {sources}: {members[0].title}")
    return EXIT_OK
