"""WebSub publishing: tell a hub which feeds changed (https://www.w3.org/TR/websub/).

WebSub leaves the publisher-to-hub call to each hub; every public hub (and the reference
implementations) accepts the form POST ``hub.mode=publish&hub.url=<feed URL>``, one per feed,
and answers 2xx. A hub that fails is logged and reported, never fatal: the feeds are already
written and readers still poll them.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable

logger = logging.getLogger(__name__)

TIMEOUT = 10.0


def ping_hub(hub_url: str, feed_urls: Iterable[str], *, timeout: float = TIMEOUT) -> list[str]:
    """POST one publish notification per feed URL; returns the errors, one line each."""
    errors: list[str] = []
    sent = 0
    for url in feed_urls:
        body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": url}).encode("ascii")
        request = urllib.request.Request(
            hub_url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
            sent += 1
        except (urllib.error.URLError, OSError) as exc:
            errors.append(f"{url}: {exc}")
            logger.warning("WebSub hub %s refused %s: %s", hub_url, url, exc)
    logger.info("WebSub: told %s of %d changed feed(s)", hub_url, sent)
    return errors
