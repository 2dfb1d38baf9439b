"""Canonical URLs: the identity of an article across pages, runs and sources.

w3lib does the RFC work (percent-encoding, query order, fragments); the rules on top of it
are editorial choices no library makes for us: one scheme (https), no ``www.``, no trailing
slash on paths, no tracking parameters.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import SplitResult, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

from crawler.items import article_id

# Query parameters that identify a campaign or a click, never a document.
_TRACKING = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|yclid|_hsenc|_hsmi|igshid|"
    r"ref|ref_src|cmpid|ocid|spm|share|rss|from)$",
    re.IGNORECASE,
)


# A crawl meets the same addresses again and again (the ranking sidebar of every page, an
# item's URL then its id): remember the answers. Bounded, so a long run stays small.
CACHE_SIZE = 16_384


class BadURL(ValueError):
    """A URL the standard library cannot parse (``https://ww].ikaros.jp/``: "Invalid IPv6
    URL", a port out of range or not a number). Its message names the URL and the reason."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"bad URL {url!r}: {reason}")
        self.url = url
        self.reason = reason


# -- the one safe way to parse a URL ---------------------------------------------------------
# urllib raises ValueError from urlsplit (an unbalanced "[" or "]" in the host), from
# urljoin (the same), and from .port (out of range, not a number) only when asked. Every URL
# that comes from outside (links, canonicals, feed fields) goes through these functions,
# which never raise: a bad URL is None (or ""), and the caller skips that one link.


@functools.lru_cache(maxsize=CACHE_SIZE)
def split_url(url: str | None) -> SplitResult | None:
    """``urlsplit(url)`` with the port checked, or None when ``url`` cannot be parsed."""
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range or not a number
    except ValueError:
        return None
    return parts


def url_problem(url: str | None) -> str | None:
    """Why ``url`` cannot be parsed (urllib's own words), or None when it can."""
    if url is None:
        return "no URL"
    try:
        urlsplit(url).port  # noqa: B018
    except ValueError as exc:
        return str(exc) or type(exc).__name__
    return None


def join_url(base: str, href: str | None) -> str | None:
    """``urljoin(base, href)``, or None when either cannot be parsed (or href is empty)."""
    if not href:
        return None
    try:
        joined = urljoin(base, href)
    except ValueError:
        return None
    return joined if split_url(joined) is not None else None


def url_path(url: str | None) -> str:
    """The path of ``url``; "" when it cannot be parsed."""
    parts = split_url(url)
    return parts.path if parts is not None else ""


def url_host(url: str | None) -> str:
    """The lower-case host of ``url``; "" when it has none or cannot be parsed."""
    parts = split_url(url)
    return (parts.hostname or "") if parts is not None else ""


@functools.lru_cache(maxsize=CACHE_SIZE)
def url_netloc(url: str | None) -> str:
    """host, or host:port when the URL names a port (a mirror on 127.0.0.1:PORT); "" when the
    URL cannot be parsed."""
    parts = split_url(url)
    if parts is None:
        return ""
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def canonical_url_or_none(url: str | None) -> str | None:
    """:func:`canonical_url`, or None for a URL that cannot be parsed."""
    if not url:
        return None
    try:
        return canonical_url(url)
    except BadURL:
        return None


@functools.lru_cache(maxsize=CACHE_SIZE)
def canonical_url(url: str) -> str:
    """Normalize ``url`` so that the same document always gets the same string.

    >>> canonical_url("http://www.example.com/news/1/?utm_source=rss&b=2&a=1#top")
    'https://example.com/news/1?a=1&b=2'
    """
    url = url.strip()
    parts = split_url(url)
    if parts is None:
        raise BadURL(url, url_problem(url) or "cannot be parsed")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    netloc = host
    if parts.port and parts.port not in (80, 443):
        netloc = f"{host}:{parts.port}"
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        # Local test servers (127.0.0.1 with a port) keep their scheme: they speak plain http.
        if parts.port is None or parts.port in (80, 443):
            scheme = "https"
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    rebuilt = urlunsplit((scheme, netloc, path, urlencode(query), ""))
    try:
        return canonicalize_url(rebuilt, keep_fragments=False)
    except ValueError as exc:  # w3lib re-parses (an IDNA host it cannot encode...)
        raise BadURL(url, str(exc) or type(exc).__name__) from None


def id_for_url(url: str) -> str:
    """The stable item id of the document at ``url``."""
    return article_id(canonical_url(url))
