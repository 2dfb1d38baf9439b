"""``defnews export``: the whole store (or a slice) as JSON Lines, one item a line.

The same JSON form as the crawl's ``-o`` items (:func:`crawler.items.to_json_dict`, valid
against ``crawler/schema/item.schema.json``), newest first. ``--since`` keeps the articles
first seen or changed since then; ``--source`` those of one source. ``-O FILE`` replaces FILE
(atomically: never half a file), ``-o FILE`` appends to it, neither writes to stdout.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from crawler.items import ArticleItem, to_json_dict
from crawler.store import SQLStore


def since_value(text: str) -> datetime:
    """``--since``: an ISO 8601 date or date-time; without an offset, UTC."""
    import argparse

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date such as 2026-03-01 or 2026-03-01T09:00+09:00, got {text!r}"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def selected(store: SQLStore, *, since: datetime | None = None,
             source: str | None = None) -> Iterator[ArticleItem]:
    for article in store.articles(source=source):
        if since is not None:
            changed = max(d for d in (article.first_seen, article.updated) if d is not None) \
                if (article.first_seen or article.updated) else None
            if changed is None or changed < since:
                continue
        yield article


def lines(items: Iterable[ArticleItem]) -> Iterator[bytes]:
    for item in items:
        yield (json.dumps(to_json_dict(item), ensure_ascii=False, sort_keys=True) + "\n").encode()


def write_lines(data: Iterable[bytes], path: Path | None, *, append: bool) -> int:
    """Write to ``path`` (replaced atomically, or appended to) or to stdout; the line count."""
    count = 0
    if path is None:
        out: IO[bytes] = sys.stdout.buffer
        for line in data:
            out.write(line)
            count += 1
        out.flush()
        return count
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if append and path.exists():
                with path.open("rb") as old:
                    shutil.copyfileobj(old, f)
            for line in data:
                f.write(line)
                count += 1
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count
