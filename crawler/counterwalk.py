"""Where the counter walk starts: only article numbers the site itself confirmed.

The walk probes the numbers below the newest article for articles no page links to. Which
number is "the newest" is the whole risk: one link to ``…/999001.html`` (off-site and dropped,
or dead on the site) made the walk probe 998971–999000 and miss every real article. So the
top is the highest number of an article page *of the site that answered 200* (this crawl's,
or stored by an earlier one); a number only linked is never trusted, and one more than
``limit`` above the top is named in the log (it may be a new article the crawl could not
read, or a typo; either way it is not a place to start from).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

logger = logging.getLogger(__name__)


def walk_top(confirmed: Iterable[int], linked: Iterable[int], limit: int) -> int | None:
    """The number the walk goes down from: the highest confirmed one (None: no walk). Linked
    numbers far above it are logged, never used."""
    confirmed = set(confirmed)
    if not confirmed:
        return None
    top = max(confirmed)
    beyond = sorted(n for n in set(linked) - confirmed if n > top + max(limit, 0))
    if beyond:
        logger.warning("counter walk: %d linked article number(s) far above the highest "
                       "confirmed %d ignored (never seen answering 200 on the site): %s",
                       len(beyond), top, ", ".join(map(str, beyond[:5])))
    return top


def walk_numbers(top: int, limit: int) -> range:
    """The numbers probed, newest first: the ``limit`` below ``top``."""
    return range(top - 1, max(top - limit, 0) - 1, -1)
