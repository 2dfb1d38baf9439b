"""Canonical URLs: the identity of an article across pages, runs and sources.

w3lib does the RFC work (percent-encoding, query order, fragments); the rules on top of it
are editorial choices no library makes for us: one scheme (https), no ``www.``, no trailing
slash on paths, no tracking parameters.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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


@functools.lru_cache(maxsize=CACHE_SIZE)
def canonical_url(url: str) -> str:
    """Normalize ``url`` so that the same document always gets the same string.

    >>> canonical_url("http://www.example.com/news/1/?utm_source=rss&b=2&a=1#top")
    'https://example.com/news/1?a=1&b=2'
    """
    url = url.strip()
    parts = urlsplit(url)
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
    return canonicalize_url(rebuilt, keep_fragments=False)


def id_for_url(url: str) -> str:
    """The stable item id of the document at ``url``."""
    return article_id(canonical_url(url))
