"""Links as feeds may carry them: the outlet's own link, made a valid URI only where it is not.

Validators (the W3C Feed Validator: "link must be a full and valid URL") and strict readers
refuse a link with a space, a quote, a bracket in its path, a backslash or raw non-ASCII text,
yet outlets publish such links and browsers follow them, percent-encoding what a URI may not
hold (WHATWG URL). :func:`published_uri` does what the browser does, and nothing to a link that
is valid already: that one stays byte-identical to the outlet's.

Hand-written (a few lines on :mod:`urllib.parse`) rather than a URL library: the only rule is
"percent-encode what RFC 3986 does not allow, keep the rest", and every library at hand also
normalises (case, dot segments, default ports), which would change the outlet's link.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

# Every character RFC 3986 allows in a URI reference (unreserved, reserved, "%").
_VALID = re.compile(r"^[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]*$")
_SAFE = "-._~:/?#@!$&'()*+,;=%"  # what quote() keeps in path, query and fragment


def published_uri(url: str) -> str:
    """``url`` with the characters a URI may not contain percent-encoded (UTF-8), an IDN host
    in punycode, and (http(s) only) backslashes before the query read as "/", as browsers do.

    >>> published_uri("https://example.org/a b/記事?q=x y#top")
    'https://example.org/a%20b/%E8%A8%98%E4%BA%8B?q=x%20y#top'
    >>> published_uri("http://www.example.org/p/?utm_source=rss#c4788")
    'http://www.example.org/p/?utm_source=rss#c4788'
    """
    url = url.strip()
    if _VALID.match(url) and not _stray_brackets(url):
        return url
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("http", "https"):
        head, sep, tail = url.partition("?")
        url = head.replace("\\", "/") + sep + tail
    parts = urlsplit(url)
    netloc = parts.netloc
    host = parts.hostname or ""
    if host and not host.isascii():
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError:  # a label IDNA 2003 refuses (an emoji, a long label)
            ascii_host = quote(host, safe="")
        netloc = netloc.replace(host, ascii_host) if host in netloc else ascii_host
    netloc = quote(netloc, safe=_SAFE + "[]")
    return urlunsplit((
        parts.scheme,
        netloc,
        quote(parts.path, safe=_SAFE),
        quote(parts.query, safe=_SAFE),
        quote(parts.fragment, safe=_SAFE),
    ))


def _stray_brackets(url: str) -> bool:
    """A "[" or "]" outside an IPv6 host: RFC 3986 allows them nowhere else."""
    if "[" not in url and "]" not in url:
        return False
    parts = urlsplit(url)
    return any(c in "[]" for c in parts.path + parts.query + parts.fragment)
