"""WebSub publishing: tell a hub which feeds changed (https://www.w3.org/TR/websub/).

WebSub leaves the publisher-to-hub call to each hub; every public hub (and the reference
implementations) accepts the form POST ``hub.mode=publish&hub.url=<feed URL>``, one per feed,
and answers 2xx. A hub that fails is logged and reported, never fatal: the feeds are already
written and readers still poll them. The feeds it was not told of are kept in
``.defnews-websub.json`` in the public folder (hidden: never served) and pinged again by the
next build, with that build's changes, until the hub accepts them.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path

logger = logging.getLogger(__name__)

TIMEOUT = 10.0
PENDING_FILE = ".defnews-websub.json"


def ping_hub(hub_url: str, feed_urls: Iterable[str], *, timeout: float = TIMEOUT,
             failed: list[str] | None = None) -> list[str]:
    """POST one publish notification per feed URL; returns the errors, one line each (and
    appends the URLs the hub did not accept to ``failed``)."""
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
            if failed is not None:
                failed.append(url)
            logger.warning("WebSub hub %s refused %s: %s", hub_url, url, exc)
    logger.info("WebSub: told %s of %d changed feed(s)", hub_url, sent)
    return errors


def _pending(out_dir: Path, hub_url: str) -> list[str]:
    try:
        doc = json.loads((out_dir / PENDING_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return []
    urls = doc.get(hub_url) if isinstance(doc, dict) else None
    return [u for u in urls if isinstance(u, str)] if isinstance(urls, list) else []


def publish(hub_url: str, out_dir: Path, changed_urls: Iterable[str], *,
            timeout: float = TIMEOUT) -> tuple[list[str], list[str]]:
    """Tell the hub of the feeds this build changed and of those earlier builds could not;
    remember the ones it does not accept for the next build. Returns (URLs pinged, errors)."""
    from feeds.write import write_if_changed

    urls = list(dict.fromkeys([*_pending(out_dir, hub_url), *changed_urls]))
    if not urls:
        return [], []
    failed: list[str] = []
    errors = ping_hub(hub_url, urls, timeout=timeout, failed=failed)
    path = out_dir / PENDING_FILE
    if failed or path.exists():
        try:
            doc = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        except (ValueError, UnicodeDecodeError):
            doc = {}
        doc = doc if isinstance(doc, dict) else {}
        if failed:
            doc[hub_url] = failed
            logger.warning("WebSub: %d feed(s) to tell %s of at the next build", len(failed),
                           hub_url)
        else:
            doc.pop(hub_url, None)
        if doc:
            write_if_changed(path, (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode())
        else:
            path.unlink(missing_ok=True)
    return urls, errors
