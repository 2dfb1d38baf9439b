"""The ``defnews`` command.

Exit codes: 0 success; 1 a source failed (a crawl ended abnormally, a feed could not be
read, or a site gave no item) — pages skipped one by one are logged and counted, not
failures; 2 bad usage or configuration (bad sources file, unknown source, bad option).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from defnews import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

DEFAULT_STORE = os.environ.get("DEFNEWS_STORE", "defnews.sqlite3")


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
    p.add_argument("--base-url", metavar="URL", help="fetch the site spider's pages from this mirror of the site")
    p.add_argument("--no-throttle", action="store_true",
                   help="no download delay or AutoThrottle (only for mirrors you own)")
    p.add_argument("--redis", default=os.environ.get("DEFNEWS_REDIS_URL") or None, metavar="URL",
                   help="share one crawl frontier in Redis with other crawl processes "
                   "(default: $DEFNEWS_REDIS_URL)")
    _add_crawl_tuning(p)


def _add_crawl_tuning(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output", "-o", type=Path, metavar="FILE", help="also write the items as JSON Lines here")
    p.add_argument("--max-index-pages", type=int, metavar="N", help="section index pages followed per section")
    p.add_argument("--counter-walk", type=int, metavar="N", help="article numbers probed below the highest seen")
    p.add_argument("-s", "--set", dest="settings", action="append", default=[],
                   type=_parse_setting, metavar="NAME=VALUE", help="a Scrapy setting")


def _add_build(p: argparse.ArgumentParser) -> None:
    p.add_argument("--public", type=Path, default=Path("public"), metavar="DIR",
                   help="where the feeds are written (default: %(default)s)")
    p.add_argument("--feed-url", default=None, metavar="URL",
                   help="the URL public/ is served at, for self links (default: http://localhost:8000/)")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="entries per feed (default: %(default)s)")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="defnews",
        description="Turn defense-news websites into clean, deduplicated Atom/RSS feeds.",
        epilog="Exit status: 0 success; 1 a source failed (see the summary and the log); "
        "2 bad usage or configuration. Start with `defnews demo`.",
    )
    parser.add_argument("--version", action="version", version=f"defnews {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--log-file", type=Path, metavar="FILE", help="write the log here instead of stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("crawl", help="crawl the sources into the store",
                       description="Crawl every enabled source into the store.")
    _add_store(p)
    _add_crawl(p)
    p = sub.add_parser("build", help="build the feeds from the store",
                       description="Write Atom and RSS feeds, OPML and index.html from the store.")
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
    p = sub.add_parser("db", help="manage the store's schema",
                       description="Create or upgrade the store's schema (versioned migrations, "
                       "safe when several processes run it at once).")
    p.add_argument("action", choices=["upgrade", "status"],
                   help="upgrade: apply pending migrations; status: print the schema version")
    _add_store(p)
    p = sub.add_parser("serve", help="serve the built feeds over HTTP",
                       description="Serve --public over HTTP (for a quick look; use any web server "
                       "or CDN in production).")
    p.add_argument("--public", type=Path, default=Path("public"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    return parser


def _setup_logging(args: argparse.Namespace) -> str:
    level = "WARNING" if args.quiet else "DEBUG" if args.verbose else "INFO"
    handler: logging.Handler = (
        logging.FileHandler(args.log_file, encoding="utf-8") if args.log_file else logging.StreamHandler()
    )
    # The level sits on the handler too: Scrapy resets the root logger's level when it starts.
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s"))
    logging.root.addHandler(handler)
    logging.root.setLevel(level)
    return level


def _crawl_settings(args: argparse.Namespace, level: str) -> dict[str, object]:
    settings: dict[str, object] = {"LOG_LEVEL": level}
    if args.log_file:
        settings["LOG_FILE"] = str(args.log_file)
    if getattr(args, "max_index_pages", None) is not None:
        settings["DEFNEWS_JDEFENSE_MAX_INDEX_PAGES"] = args.max_index_pages
    if getattr(args, "counter_walk", None) is not None:
        settings["DEFNEWS_JDEFENSE_COUNTER_WALK"] = args.counter_walk
    if getattr(args, "no_throttle", False):
        settings.update(DOWNLOAD_DELAY=0, AUTOTHROTTLE_ENABLED=False, CONCURRENT_REQUESTS_PER_DOMAIN=8)
    if getattr(args, "redis", None):
        settings["DEFNEWS_REDIS_URL"] = args.redis
    settings.update(dict(getattr(args, "settings", [])))
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    level = _setup_logging(args)
    from crawler.sources import SourcesError
    from defnews import commands
    from defnews.runner import UsageError

    try:
        if args.command == "crawl":
            return commands.crawl(args, _crawl_settings(args, level))
        if args.command == "build":
            return commands.build(args)
        if args.command == "run":
            status = commands.crawl(args, _crawl_settings(args, level))
            return max(status, commands.build(args))
        if args.command == "demo":
            return commands.demo(args, _crawl_settings(args, level))
        if args.command == "serve":
            return commands.serve(args)
        if args.command == "sources":
            return commands.sources(args)
        if args.command == "db":
            return commands.db(args)
    except (SourcesError, UsageError, FileNotFoundError) as exc:
        print(f"defnews {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`defnews sources | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print(f"defnews {args.command}: interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE  # pragma: no cover - parser.error exits


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
