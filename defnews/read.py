"""``defnews read FILE|URL``: how defnews reads one page — its fields and the layer of each.

What an operator runs to see why a page came out as it did. A file is read from disk (its
address given by ``--url``, else its ``file:`` URL); a URL is fetched once, only when one is
given (with defnews's User-Agent, no cache). ``--profile KEY`` reads with a site's profile
(any ``kind = "site"`` source of the sources file: ``jdefense``, ``asagumo``); without one the generic reader reads it.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crawler.pages.html import PageParseError

EXIT_OK, EXIT_NOT_ARTICLE, EXIT_USAGE = 0, 1, 2
FETCH_TIMEOUT = 30  # seconds
MAX_BYTES = 20 * 1024 * 1024  # a page is never bigger; anything more is not read


def profiles(sources: str | None = None) -> dict[str, Callable[[str | bytes, str], dict[str, Any]]]:
    """Profile keys → the reader with that profile: the generic reader, and every site
    (``kind = "site"``) of the sources file (the packaged one by default), read with its
    profile as its crawl reads it."""
    from functools import partial

    from crawler.pages import site
    from crawler.pages.profiles import profile_of, with_bundled_profile
    from crawler.pages.reader import read_article
    from crawler.sources import load_sources

    readers: dict[str, Callable[[str | bytes, str], dict[str, Any]]] = {"generic": read_article}
    for source in load_sources(sources).sources:
        if source.kind == "site":
            profile = profile_of(with_bundled_profile(source))
            readers[source.key] = partial(site.parse_article, profile=profile)
    return readers


def _fetch(url: str) -> tuple[bytes, str]:
    from crawler.settings import USER_AGENT

    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
        return response.read(MAX_BYTES), response.geturl()


def read(target: str, url: str | None, profile: str | None, sources: str | None = None) -> int:
    from crawler.sources import SourcesError

    try:
        readers = profiles(sources)
    except (SourcesError, OSError) as exc:
        print(f"defnews read: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    key = profile or "generic"
    if key not in readers:
        print(f"defnews read: error: unknown profile {key!r} (known: {', '.join(readers)})",
              file=sys.stderr)
        return EXIT_USAGE
    if target.startswith(("http://", "https://")):
        try:
            html, final = _fetch(target)
        except OSError as exc:
            print(f"defnews read: error: {target}: {exc}", file=sys.stderr)
            return EXIT_NOT_ARTICLE
        address = url or final
    else:
        path = Path(target)
        if not path.is_file():
            print(f"defnews read: error: no such file: {target}", file=sys.stderr)
            return EXIT_USAGE
        html = path.read_bytes()
        address = url or path.resolve().as_uri()
    try:
        item = readers[key](html, address)
    except PageParseError as exc:
        print(json.dumps({"url": address, "error": str(exc)}, ensure_ascii=False, indent=2))
        return EXIT_NOT_ARTICLE
    layers = item.get("provenance", {})
    out = {"profile": key, **item, "layers": layers}
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return EXIT_OK
