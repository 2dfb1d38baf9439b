"""A shared crawl frontier in Redis (the scheduler itself: ``crawler/frontier_scheduler.py``): several ``defnews crawl`` processes, one queue, one seen-set.

``--redis URL`` (or ``DEFNEWS_REDIS_URL``) swaps Scrapy's scheduler and duplicate filter for
scrapy-redis's (``redis_settings``). The scrapy-redis scheduler alone is not enough for
several processes that start and stop on their own, so :class:`SharedFrontierScheduler`
extends it (scrapy-redis 0.9 works with Scrapy 2.19 as it is; what it lacks is behaviour):

- **Each URL fetched once in total**: the seen-set (scrapy-redis ``RFPDupeFilter``) and the
  request queue are shared by every process crawling the same spider. Marking a URL seen and
  queueing it is one atomic step (scrapy-redis does two: a process killed between them lost
  the URL for everyone).
- **No request lost when a process dies.** scrapy-redis pops a request and forgets it: a
  process killed with requests in flight loses them. Here a pop moves the request atomically
  (``LMOVE``, Redis's reliable-queue pattern) into the process's own *processing* list, and
  it leaves that list only once Scrapy is done with it: downloaded, parsed, its new requests
  queued and its items through the pipelines (the batched store write included). Every
  process renews a heartbeat key (``DEFNEWS_REDIS_WORKER_TIMEOUT``); when one stops renewing,
  the others move its processing list back to the queue. So delivery is at least once: a
  request in flight at a crash is fetched again, and the store's upsert (by id, inside the
  database) keeps the article single.
- **One end for all.** A process with nothing to do does not close while the queue has work
  or another live process has requests in flight (they may still find new URLs); the crawl
  ends for everyone when the whole frontier is empty.
- **The seen-set is per crawl.** The last process to leave a finished crawl deletes its keys,
  so the next crawl fetches the listing pages again. A crawl stopped part-way (SIGTERM, or
  every process killed) keeps its queue, with the in-flight requests put back, for the next
  crawl to resume; all keys expire after ``DEFNEWS_REDIS_TTL`` seconds without a process.
- **Every process crawls as one would.** Incremental state (#10) is taken from the store as
  it was when the crawl began (``<prefix>:<spider>:started``, set by the first process to
  join, atomically with clearing the last crawl's keys): a process joining late does not count
  the articles the others stored meanwhile as known, so skips, pagination stops and the
  counter walk are the same in every process. Every article number a process sees goes to
  ``…:numbers``, and each process's counter walk (once the whole frontier is empty) starts
  from all of them. (Store timestamps come from each writer's clock: machines sharing a
  crawl keep their clocks in sync, as NTP does.)
- **Redis gone**: Redis calls time out after a few seconds, the crawl stops with the reason
  ``redis_unavailable`` and ``defnews`` exits with status 2, naming the URL.

The Lua scripts run atomically on a single Redis server (not Redis Cluster: they touch keys
they do not declare).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

DEFAULT_PREFIX = "defnews"


class RedisUnavailable(RuntimeError):
    """Redis cannot be reached: a configuration problem for the operator (exit status 2)."""


def redacted(url: str) -> str:
    """The Redis URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def redis_settings(url: str, prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """The Scrapy settings that put the scheduler and the duplicate filter in Redis."""
    return {
        "DEFNEWS_REDIS_URL": url,
        "SCHEDULER": "crawler.frontier_scheduler.SharedFrontierScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "crawler.frontier_scheduler.ReliableFifoQueue",
        "SCHEDULER_QUEUE_KEY": f"{prefix}:%(spider)s:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:%(spider)s:dupefilter",
        # Several processes share the keys: never flush them on close (the last one out does).
        "SCHEDULER_PERSIST": True,
        "REDIS_URL": url,
        # Fail within seconds, not the 30 s (and retries) scrapy-redis defaults to.
        "REDIS_PARAMS": {"socket_timeout": 5, "socket_connect_timeout": 3,
                         "retry_on_timeout": False},
    }


class RedisFrontier:
    """Scrapy add-on: with ``DEFNEWS_REDIS_URL`` set, the frontier moves to Redis.

    Settings alone switch it (``scrapy crawl -s DEFNEWS_REDIS_URL=…``, Scrapyd's
    ``setting=``); without the URL the add-on changes nothing. ``DEFNEWS_REDIS_PREFIX``
    (default ``defnews``) starts every key: crawls with other prefixes do not share.
    """

    def update_settings(self, settings: Any) -> None:
        url = settings.get("DEFNEWS_REDIS_URL")
        if url:
            prefix = settings.get("DEFNEWS_REDIS_PREFIX") or DEFAULT_PREFIX
            settings.update(redis_settings(url, prefix), priority="addon")


def check_redis(url: str) -> None:
    """Ping Redis once, or raise :class:`RedisUnavailable` naming the URL."""
    try:
        import redis
        import scrapy_redis  # noqa: F401 - the scheduler needs it
    except ImportError as exc:
        raise RedisUnavailable(
            f"--redis needs scrapy-redis: pip install 'defnews[redis]' ({exc})"
        ) from exc

    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise RedisUnavailable(f"Redis URL {redacted(url)}: expected redis://, rediss:// or "
                               "unix://")
    db = parts.path.strip("/")
    if parts.scheme != "unix" and db and not db.isdigit():
        # redis-py reads a database it cannot parse as 0: another crawl's keys, silently.
        raise RedisUnavailable(f"Redis URL {redacted(url)}: database {db!r} is not a number "
                               "(redis://host:6379/0)")
    try:
        client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
        client.ping()
        client.close()
    except (redis.exceptions.RedisError, ValueError) as exc:
        raise RedisUnavailable(f"Redis at {redacted(url)} is not reachable: {exc}") from exc
