"""The ``defnews`` command.

Exit codes: 0 success; 1 a source failed (a crawl ended abnormally, a feed could not be
read, or a site gave no item, or a source is unhealthy: among others, pages filled by scripts
that could not be rendered, --render never or without the render extra) — pages skipped one
by one are logged and counted, not failures; 2 bad usage or configuration (bad sources file, unknown source, bad option);
75 another run holds the store's lock; 128 + N stopped by signal N (130 SIGINT, 143 SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from defnews import __version__
from defnews.export import since_value
from defnews.preflight import (
    duration,
    feed_url,
    http_url,
    interval,
    non_negative_int,
    positive_int,
    tcp_port,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

DEFAULT_STORE = os.environ.get("DEFNEWS_STORE", "defnews.sqlite3")


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (the option and the value), exit status 2; --help has the rest."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parse_setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _add_store(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        default=DEFAULT_STORE,
        metavar="PATH|DSN",
        help="SQLite file or postgresql:// DSN (default: $DEFNEWS_STORE or %(default)s)",
    )
    p.add_argument("--sources", type=Path, metavar="FILE", help="sources file (default: the packaged list)")


def _add_crawl(p: argparse.ArgumentParser) -> None:
    p.add_argument("--only", default="", metavar="KEYS", help="comma-separated source keys to crawl")
    p.add_argument("--base-url", type=http_url, metavar="URL", help="fetch the site spider's pages from this mirror of the site")
    p.add_argument("--no-throttle", action="store_true",
                   help="no download delay or AutoThrottle (only for mirrors you own)")
    p.add_argument("--redis", default=os.environ.get("DEFNEWS_REDIS_URL") or None, metavar="URL",
                   help="share one crawl frontier in Redis with other crawl processes "
                   "(default: $DEFNEWS_REDIS_URL)")
    p.add_argument("--render", choices=("auto", "never", "always"), default=None,
                   help="render script-filled pages in Chromium: auto (default) only pages whose "
                   "HTML lacks their links, ranking or body; never; always (every site page). "
                   "Needs the render extra and /usr/bin/chromium-headless-shell or /usr/bin/chromium")
    _add_crawl_tuning(p)


def _add_crawl_tuning(p: argparse.ArgumentParser) -> None:
    out = p.add_mutually_exclusive_group()
    out.add_argument("--output", "-o", type=Path, metavar="FILE",
                     help="also append this run's items to FILE as JSON Lines (as scrapy -o)")
    out.add_argument("--overwrite-output", "-O", type=Path, metavar="FILE",
                     help="also write this run's items to FILE as JSON Lines, replacing it "
                     "(as scrapy -O; `defnews export` writes the whole store)")
    p.add_argument("--max-index-pages", type=non_negative_int, metavar="N", help="section index pages followed per section")
    p.add_argument("--counter-walk", type=non_negative_int, metavar="N", help="article numbers probed below the highest seen")
    p.add_argument("--refresh", action="store_true",
                   help="fetch every article again, stored or not (default: only new ones)")
    p.add_argument("--revisit-age", type=duration, metavar="DURATION",
                   help="also fetch stored articles last fetched longer ago than this (e.g. 7d)")
    p.add_argument("-s", "--set", dest="settings", action="append", default=[],
                   type=_parse_setting, metavar="NAME=VALUE", help="a Scrapy setting")


def _add_build(p: argparse.ArgumentParser) -> None:
    p.add_argument("--public", type=Path, default=Path("public"), metavar="DIR",
                   help="where the feeds are written (default: %(default)s)")
    p.add_argument("--feed-url", type=feed_url, default=None, metavar="URL",
                   help="the URL public/ is served at, for self links (default: http://localhost:8000/)")
    p.add_argument("--limit", type=positive_int, default=50, metavar="N",
                   help="entries per feed (default: %(default)s)")
    p.add_argument("--prune", action="store_true",
                   help="remove the feeds this build no longer makes (default: keep them and "
                   "list them); those of a source or category in the sources file are kept")
    p.add_argument("--allow-empty", action="store_true",
                   help="build even from a missing or empty store over a public folder with feeds")
    p.add_argument("--websub-hub", default=os.environ.get("DEFNEWS_WEBSUB_HUB") or None, metavar="URL",
                   type=http_url,
                   help="a WebSub hub: feeds link to it and each build pings it for the feeds it "
                   "changed (default: $DEFNEWS_WEBSUB_HUB, else none)")


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="defnews",
        description="Turn defense-news websites into clean, deduplicated Atom/RSS feeds.",
        epilog="Exit status: 0 success; 1 a source failed or is unhealthy (see the summary and "
        "the log); 2 bad usage or configuration; 75 another run holds the store's lock; "
        "130/143 stopped by SIGINT/SIGTERM. Start with `defnews demo`.",
    )
    parser.add_argument("--version", action="version", version=f"defnews {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print nothing when all goes well: warnings, errors and the "
                        "summary of a run that failed only")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log debug messages, Scrapy's own log included (else from WARNING)")
    parser.add_argument("--log-file", type=Path, metavar="FILE", help="write the log here instead of stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("crawl", help="crawl the sources into the store",
                       description="Crawl every enabled source into the store.")
    _add_store(p)
    _add_crawl(p)
    p = sub.add_parser("build", help="build the feeds from the store",
                       description="Write Atom, RSS and JSON feeds, OPML, index.html and the health files from the store.")
    _add_store(p)
    _add_build(p)
    p = sub.add_parser("run", help="crawl, then build",
                       description="Crawl every enabled source, then build the feeds.")
    _add_store(p)
    _add_crawl(p)
    _add_build(p)
    p = sub.add_parser(
        "demo",
        help="crawl the bundled fixture site offline and build its feeds",
        description="Serve the bundled copy of the site and feeds on 127.0.0.1, crawl them with "
        "the real spiders, and build the feeds into --public.",
    )
    p.add_argument("--store", default="defnews-demo.sqlite3",
                   help="SQLite file for the demo (default: %(default)s)")
    p.add_argument("--sources", type=Path, metavar="FILE",
                   help="demo sources file; {feeds_url} stands for the fixture feed server "
                   "(default: the bundled one)")
    _add_crawl_tuning(p)
    _add_build(p)
    p = sub.add_parser("sources", help="check a sources file and list its sources",
                       description="Read the sources file (errors name the line) and list every "
                       "source with its kind, status and URLs.")
    p.add_argument("--sources", type=Path, metavar="FILE",
                   help="sources file (default: the packaged list)")
    p = sub.add_parser("export", help="write the store's articles as JSON Lines",
                       description="Write every article of the store (or those of --source, "
                       "first seen or changed --since a date) as JSON Lines, valid against "
                       "crawler/schema/item.schema.json, newest first: to stdout, -O FILE "
                       "(replaced atomically) or -o FILE (appended).")
    p.add_argument("--store", default=DEFAULT_STORE, metavar="PATH|DSN",
                   help="SQLite file or postgresql:// DSN (default: $DEFNEWS_STORE or %(default)s)")
    p.add_argument("--since", type=since_value, metavar="DATE",
                   help="only articles first seen or changed since DATE (ISO 8601; UTC "
                   "without an offset)")
    p.add_argument("--source", metavar="KEY", help="only the articles of this source")
    out = p.add_mutually_exclusive_group()
    out.add_argument("-o", "--output", type=Path, metavar="FILE", help="append to FILE")
    out.add_argument("-O", "--overwrite-output", type=Path, metavar="FILE",
                     help="write FILE, replacing it")
    p = sub.add_parser("db", help="manage the store's schema",
                       description="Create or upgrade the store's schema (versioned migrations, "
                       "safe when several processes run it at once).")
    p.add_argument("action", choices=["upgrade", "status"],
                   help="upgrade: apply pending migrations; status: print the schema version")
    _add_store(p)
    p = sub.add_parser("stories", help="the stories in the store; --rebuild decides them again",
                       description="Print how many stories the store holds and the largest "
                       "recent ones; --rebuild decides every article's story again from the "
                       "store, in the order they were first decided, and says how many changed.")
    p.add_argument("--rebuild", action="store_true",
                   help="recompute every story from the stored articles")
    p.add_argument("--features", action="store_true",
                   help="with --rebuild: also read every article's features again")
    p.add_argument("--top", type=int, default=10, metavar="N",
                   help="how many multi-source stories to list (default %(default)s)")
    _add_store(p)
    p = sub.add_parser("serve", help="serve the built feeds over HTTP",
                       description="Serve --public over HTTP with Twisted: ETag and "
                       "Last-Modified (304), gzip when asked, Cache-Control, no directory "
                       "listing, nothing outside the folder, an access log. Behind nginx or a "
                       "CDN in production (README: Serving).")
    p.add_argument("--public", type=Path, default=Path("public"), metavar="DIR",
                   help="the folder to serve, as `defnews build` wrote it (default: %(default)s)")
    p.add_argument("--host", default="127.0.0.1", metavar="ADDR",
                   help="address to listen on; 0.0.0.0 for every interface (default: %(default)s)")
    p.add_argument("--port", type=tcp_port, default=8000, metavar="N",
                   help="TCP port; 0 picks a free one and prints it (default: %(default)s)")
    p.add_argument("--max-age", type=non_negative_int, default=300, metavar="SECONDS",
                   help="Cache-Control max-age sent with every file (default: %(default)s)")
    p.add_argument("--backlog", type=positive_int, default=1024, metavar="N",
                   help="connections the kernel queues while the server is busy "
                   "(default: %(default)s)")
    p.add_argument("--access-log", type=Path, metavar="FILE",
                   help="append the access log (combined format) here instead of the log")
    p.add_argument("--header-timeout", type=duration, default=10.0, metavar="DURATION",
                   help="close a connection that has not sent a whole request head in this "
                   "time: slow clients, slowloris (default: 10s)")
    p.add_argument("--idle-timeout", type=duration, default=15.0, metavar="DURATION",
                   help="close a kept-alive connection idle this long (default: 15s)")
    p.add_argument("--max-connections", type=positive_int, default=None, metavar="N",
                   help="open connections at most; past it the oldest idle one is closed, "
                   "or 503 when all are busy (default: half the open-file limit less 64)")
    _add_schedule(sub)
    p = sub.add_parser("health", help="each source's health and its last runs",
                       description="Print each source's state (healthy or not, since when, why) "
                       "and its last runs: pages, 304s, new, updated, dropped, coverage, duration. "
                       "Exit status 1 when a source is unhealthy, or none (or one of --sources) "
                       "has run: a monitoring check.")
    p.add_argument("--store", default=DEFAULT_STORE, metavar="PATH|DSN",
                   help="SQLite file or postgresql:// DSN (default: $DEFNEWS_STORE or %(default)s)")
    p.add_argument("--runs", type=positive_int, default=5, metavar="N",
                   help="runs shown per source (default: %(default)s)")
    p.add_argument("--sources", type=Path, metavar="FILE",
                   help="also exit 1 for an enabled source of FILE that never ran")
    p = sub.add_parser("read", help="read one page as defnews does: its fields and their layers",
                       description="Read an article page (a file, or a URL fetched once) with the "
                       "generic reader or a site's profile and print its fields and the layer "
                       "each came from as JSON. Exit status 1 when the page is not an article.")
    p.add_argument("target", metavar="FILE|URL", help="a saved page, or a URL to fetch")
    p.add_argument("--url", metavar="URL", help="the page's address (for a file: links, dates)")
    p.add_argument("--profile", metavar="KEY", help="a site of the sources file (jdefense, asagumo); default: generic")
    p.add_argument("--sources", type=Path, metavar="FILE",
                   help="the sources file whose sites are the profiles (default: the packaged list)")
    for name, sub_parser in sub.choices.items():
        _add_global(sub_parser, name)
    return parser


def _add_global(p: argparse.ArgumentParser, name: str) -> None:
    """-q, -v and --log-file after the command too (``defnews run ... -q``). SUPPRESS keeps the
    value given before the command when none is given after it."""
    p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                   help="print nothing when all goes well: warnings, errors and the summary "
                   "of a run that failed only")
    p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                   help="log debug messages" if name != "demo" else
                   "log debug messages (the demo logs warnings only otherwise)")
    p.add_argument("--log-file", type=Path, metavar="FILE", default=argparse.SUPPRESS,
                   help="write the log here instead of stderr")


def _add_schedule(sub: Any) -> None:
    p = sub.add_parser(
        "schedule", help="crawl and build on an interval, until stopped",
        description="Run `defnews run` every --every (with jitter), one run at a time, until "
        "SIGINT or SIGTERM. A failing source is reported and the next run goes ahead; an "
        "interrupted crawl is never built.",
    )
    _add_store(p)
    _add_crawl(p)
    _add_build(p)
    p.add_argument("--every", type=interval, required=True, metavar="DURATION",
                   help="interval between runs, with its unit: 15m, 2h, 1d (at least 1m; "
                   "shorter only with --base-url)")
    p.add_argument("--jitter", type=duration, default=None, metavar="DURATION",
                   help="random extra wait added to each interval (default: a tenth of --every)")
    p.add_argument("--runs", type=positive_int, default=None, metavar="N",
                   help="stop after N runs (default: run until stopped)")


class OneLineFormatter(logging.Formatter):
    """A logged exception as one line (its type and message), not a traceback: a site that is
    down must not fill a cron mail with hundreds of Scrapy tracebacks. `-v` logs them whole."""

    def format(self, record: logging.LogRecord) -> str:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None:
            return super().format(record)
        short = logging.makeLogRecord(record.__dict__)
        short.exc_info = short.exc_text = None
        short.stack_info = None
        text = super().format(short)
        if str(exc).strip() and str(exc) in text:
            return text
        from crawler.failures import reason_of

        return f"{text} ({reason_of(exc)})"  # never an empty reason: "(TimeoutError)"


def _setup_logging(args: argparse.Namespace) -> str:
    level = "WARNING" if args.quiet else "DEBUG" if args.verbose else "INFO"
    if args.command == "demo" and not args.verbose:
        # The demo prints its summary and feed list; the crawl log only when something is wrong.
        level = "WARNING"
    handler: logging.Handler = (
        logging.FileHandler(args.log_file, encoding="utf-8") if args.log_file else logging.StreamHandler()
    )
    # The level sits on the handler too: Scrapy resets the root logger's level when it starts.
    handler.setLevel(level)
    fmt = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"
    handler.setFormatter(logging.Formatter(fmt) if level == "DEBUG" else OneLineFormatter(fmt))
    logging.root.addHandler(handler)
    logging.root.setLevel(level)
    if level != "DEBUG":
        # Scrapy's own log (start-up banner, settings, middlewares, the stats dump: some 280
        # lines a crawl) only from WARNING on; defnews's own lines (progress, what was skipped
        # and why) at the chosen level. -v logs everything. A filter on the handler, since
        # Scrapy sets its loggers' levels again when a crawl starts.
        handler.addFilter(_library_warnings_only)
    return level


def _library_warnings_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or not record.name.startswith(_LIBRARY_LOGGERS)


_LIBRARY_LOGGERS = ("scrapy", "twisted", "py.warnings", "asyncio", "filelock", "protego",
                    "hpack")
# Commands whose summary goes to stdout: with -q it is printed only when something is wrong
# (exit status not 0), so cron mails nothing after a run that went well.
_QUIET_SUMMARY = ("crawl", "run", "build", "demo", "schedule")


def _crawl_settings(args: argparse.Namespace, level: str) -> dict[str, object]:
    settings: dict[str, object] = {"LOG_LEVEL": level}
    if args.log_file:
        settings["LOG_FILE"] = str(args.log_file)
    if getattr(args, "max_index_pages", None) is not None:
        settings["DEFNEWS_JDEFENSE_MAX_INDEX_PAGES"] = args.max_index_pages
    if getattr(args, "counter_walk", None) is not None:
        settings["DEFNEWS_JDEFENSE_COUNTER_WALK"] = args.counter_walk
    if getattr(args, "refresh", False):
        settings["DEFNEWS_REFRESH"] = True
    if getattr(args, "revisit_age", None) is not None:
        settings["DEFNEWS_REVISIT_AGE"] = args.revisit_age
    if getattr(args, "no_throttle", False):
        settings.update(DOWNLOAD_DELAY=0, AUTOTHROTTLE_ENABLED=False, CONCURRENT_REQUESTS_PER_DOMAIN=8)
    if getattr(args, "redis", None):
        settings["DEFNEWS_REDIS_URL"] = args.redis
    if getattr(args, "render", None):
        settings["DEFNEWS_RENDER"] = args.render
    settings.update(dict(getattr(args, "settings", [])))
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    args.argv = None if argv is None else list(argv)
    from crawler.sources import SourcesError
    from defnews.lock import EXIT_LOCKED, LockHeld
    from defnews.preflight import check_log_file
    from defnews.runner import Interrupted, UsageError

    try:
        check_log_file(args.log_file)
    except UsageError as exc:
        print(f"defnews {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    level = _setup_logging(args)

    try:
        if args.quiet and args.command in _QUIET_SUMMARY:
            return _quietly(args, level)
        return _dispatch(args, level)
    except (SourcesError, UsageError, FileNotFoundError) as exc:
        print(f"defnews {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LockHeld as exc:
        print(f"defnews {args.command}: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except BrokenPipeError:
        # The reader went away (`defnews sources | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Interrupted as exc:
        print(f"defnews {args.command}: interrupted ({_signal_name(exc.signum)})", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print(f"defnews {args.command}: interrupted", file=sys.stderr)
        return 130


def _quietly(args: argparse.Namespace, level: str) -> int:
    """``-q``: the command's stdout is held back and printed only if it does not succeed."""
    import io

    held = io.StringIO()
    status = EXIT_FAILED
    try:
        with contextlib.redirect_stdout(held):
            status = _dispatch(args, level)
        return status
    finally:
        if status != EXIT_OK:
            sys.stdout.write(held.getvalue())
            sys.stdout.flush()


def _signal_name(signum: int) -> str:
    import signal

    return signal.Signals(signum).name


def _crawl_lock(args: argparse.Namespace, command: str) -> Any:
    """The store's lock: one crawl at a time. Not with a shared Redis frontier, where several
    crawl processes on one store are the point (the frontier shares the work; the store's
    upserts settle each article's identity inside the database)."""
    from defnews.lock import store_lock

    if getattr(args, "redis", None):
        return contextlib.nullcontext()
    return store_lock(args.store, command)


def _dispatch(args: argparse.Namespace, level: str) -> int:
    from defnews import commands
    from defnews.lock import store_lock
    from defnews.preflight import check_public, check_store

    if args.command in ("build", "run", "demo", "schedule"):
        check_public(args.public)
    if args.command == "read":
        from defnews.read import read

        return read(args.target, args.url, args.profile, str(args.sources) if args.sources else None)
    if args.command == "schedule":
        from defnews.schedule import schedule

        return schedule(args, sys.argv[1:] if args.argv is None else args.argv)
    if args.command in ("crawl", "run"):
        from defnews.runner import check_crawl_options

        # A bad sources file, a wrong --only, --base-url or --redis: refused before the store
        # is made (no empty store left behind).
        check_crawl_options(commands._crawl_options(args, _crawl_settings(args, level)))
    if args.command in ("crawl", "run", "demo"):
        check_store(args.store)
    if args.command == "crawl":
        with _crawl_lock(args, "crawl"):
            return commands.crawl(args, _crawl_settings(args, level))
    if args.command == "build":
        from defnews.runner import restore_signal_handlers

        # SIGTERM (cron, systemd) stops a build like Ctrl-C: its temporary files are removed,
        # every feed stays whole, exit 143; Python's default would kill it on the spot.
        restore_signal_handlers()
        commands.check_build_source(args.store, args.public, args.allow_empty)
        check_store(args.store)
        # A build only reads the store (each read is one consistent transaction), so it takes
        # no store lock: builds into one public folder take turns on that folder's own lock.
        return commands.build(args)
    if args.command == "run":
        with _crawl_lock(args, "run"):
            status = commands.crawl(args, _crawl_settings(args, level))
            if status >= 128 or status == EXIT_USAGE:
                # Interrupted: never build from a partial crawl. A crawl that could not start
                # (a bad -s setting) or lost its Redis frontier: a mistake, nothing built.
                return status
            return max(status, commands.build(args))
    if args.command == "demo":
        with store_lock(args.store, "demo"):
            return commands.demo(args, _crawl_settings(args, level))
    if args.command == "health":
        return commands.health(args)
    if args.command == "db":
        return commands.db(args)
    if args.command == "export":
        return commands.export(args)
    if args.command == "serve":
        return commands.serve(args)
    if args.command == "stories":
        check_store(args.store)
        if args.rebuild:
            with store_lock(args.store, "stories"):
                return commands.stories(args)
        return commands.stories(args)
    if args.command == "sources":
        return commands.sources(args)
    raise AssertionError(f"unknown command {args.command}")  # pragma: no cover - argparse


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
