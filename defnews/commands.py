"""The subcommands behind ``defnews``: thin wiring of runner, server and printing."""

from __future__ import annotations

import argparse
import sys
import tempfile
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any, TextIO

from crawler.sources import load_sources
from defnews.runner import (
    DEFAULT_FEED_URL,
    BuildOptions,
    CrawlOptions,
    CrawlReport,
    run_build,
    run_crawl,
)
from defnews.server import StaticServer
from feeds.build import BuildReport

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# The demo prefers fixed ports: feed entries with relative links are resolved against the
# feed's address, so a new port every run would "update" them on every run.
DEMO_SITE_PORT, DEMO_FEEDS_PORT = 18931, 18932


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
        if c.stats.get("defnews/frontier/worker"):
            requeued = c.get("defnews/frontier/requeued")
            print(f"  {'':<12} shared frontier: {c.get('scheduler/dequeued/redis')} requests "
                  f"taken from Redis by worker {c.stats['defnews/frontier/worker']}"
                  + (f", {requeued} put back from a dead worker" if requeued else ""), file=out)
        skipped = c.get("defnews/parse_errors")
        for reason, n in sorted(dropped.items()):
            print(f"  {'':<12} skipped {n}: {reason}", file=out)
        if skipped:
            print(f"  {'':<12} skipped {skipped}: page could not be parsed (see log)", file=out)
        if c.get("httperror/response_ignored_count"):
            print(f"  {'':<12} skipped {c.get('httperror/response_ignored_count')}: HTTP error "
                  "responses (see log)", file=out)
        if c.get("log_count/ERROR") and not (skipped or c.get("defnews/feeds/errors")):
            print(f"  {'':<12} errors logged: {c.get('log_count/ERROR')} (see log)", file=out)
        if c.get("defnews/jdefense/truncated_pages"):
            print(f"  {'':<12} stored {c.get('defnews/jdefense/truncated_pages')} truncated "
                  "page(s) as read (see log)", file=out)
        if c.get("defnews/feeds/errors"):
            print(f"  {'':<12} feed errors: {c.get('defnews/feeds/errors')} (see log)", file=out)
        if c.failed:
            print(f"  {'':<12} FAILED: {c.failed}", file=out)
    if report.output:
        print(f"  items written to {report.output}", file=out)


def print_build_report(report: BuildReport, public: Path, out: TextIO | None = None) -> None:
    out = out or _out()
    print(f"\nFeeds in {public}/ ({report.written} written, {report.unchanged} unchanged)", file=out)
    for f in sorted(report.files, key=lambda f: (f.kind != "atom", str(f.path))):
        if f.kind != "atom":
            continue
        rel = f.path.relative_to(public) if f.path.is_relative_to(public) else f.path
        print(f"  {f.entries:>4} entries  {rel}  (+ .rss)  {f.feed}", file=out)
    print(f"  index: {public / 'index.html'}   OPML: {public / 'opml.xml'}", file=out)


def _crawl_options(args: argparse.Namespace, settings: dict[str, Any]) -> CrawlOptions:
    return CrawlOptions(
        store=args.store,
        sources=args.sources,
        only=tuple(k for k in args.only.split(",") if k),
        output=args.output,
        base_url=args.base_url,
        settings=settings,
    )


def crawl(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    report = run_crawl(_crawl_options(args, settings))
    print_crawl_report(report)
    for c in report.crawlers:
        if c.stats.get("defnews/frontier/error"):  # the shared frontier's Redis went away
            print(f"defnews crawl: error: {c.stats['defnews/frontier/error']}", file=sys.stderr)
            return EXIT_USAGE
    return EXIT_OK if report.ok else EXIT_FAILED


def build(args: argparse.Namespace) -> int:
    options = BuildOptions(
        store=args.store,
        public=args.public,
        sources=args.sources,
        feed_url=args.feed_url or DEFAULT_FEED_URL,
        limit=args.limit,
    )
    print_build_report(run_build(options), args.public)
    return EXIT_OK


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
        _server(Path(site_dir), DEMO_SITE_PORT) as site,
        _server(Path(feeds_dir), DEMO_FEEDS_PORT) as feeds,
        tempfile.TemporaryDirectory(prefix="defnews-demo-") as tmp,
    ):
        template = (args.sources or Path(feeds_dir) / "sources.toml").read_text(encoding="utf-8")
        sources = Path(tmp) / "sources.toml"
        sources.write_text(template.replace("{feeds_url}", feeds.url), encoding="utf-8")
        print(f"Serving the fixture site at {site.url} and fixture feeds at {feeds.url}")
        report = run_crawl(
            CrawlOptions(
                store=args.store,
                sources=sources,
                output=args.output,
                base_url=site.url,
                settings=settings,
            )
        )
        print_crawl_report(report)
        built = run_build(
            BuildOptions(
                store=args.store,
                public=args.public,
                sources=sources,
                feed_url=args.feed_url or DEFAULT_FEED_URL,
                limit=args.limit,
            )
        )
    print_build_report(built, args.public)
    print(f"\nOpen {args.public / 'index.html'}, or run `defnews serve --public {args.public}`.")
    return EXIT_OK if report.ok else EXIT_FAILED


def serve(args: argparse.Namespace) -> int:
    server = StaticServer(args.public, host=args.host, port=args.port)
    print(f"Serving {args.public}/ at {server.url} (Ctrl-C to stop)")
    server.serve_forever()
    return EXIT_OK


def sources(args: argparse.Namespace) -> int:
    config = load_sources(args.sources)
    print(f"{config.path}: {len(config.sources)} sources, {len(config.category_slugs)} categories")
    for s in config.sources:
        state = "" if s.enabled else "  (disabled)"
        status = f"  [{s.status}]" if s.status else ""
        print(f"  {s.key:<18} {s.kind:<5} {s.language:<3} {s.name}{status}{state}")
        for url in s.urls:
            print(f"  {'':<18} {url}")
    return EXIT_OK



def db(args: argparse.Namespace) -> int:
    """``defnews db upgrade|status``: apply pending migrations / print the schema version."""
    from crawler import store_migrations
    from crawler.store import open_store

    latest = store_migrations.latest_version()
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
