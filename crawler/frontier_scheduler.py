"""The shared-frontier scheduler and queue (see ``crawler/frontier.py`` for the design).

Imported only when ``DEFNEWS_REDIS_URL`` is set: scrapy-redis is an optional dependency.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import RedisError
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.queue import FifoQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from crawler.frontier import RedisUnavailable, redacted

logger = logging.getLogger(__name__)


class ReliableFifoQueue(FifoQueue):
    """scrapy-redis's FIFO queue whose pop moves the request into a processing list."""

    def pop_into(self, processing_key: str) -> tuple[Request, bytes] | None:
        data = self.server.lmove(self.key, processing_key, "RIGHT", "LEFT")
        if data is None:
            return None
        return self._decode_request(data), data


# Move the processing lists of workers whose heartbeat expired back to the queue.
_RECOVER = """
local base, me = ARGV[1], ARGV[2]
local live, moved, inflight = 0, 0, 0
for _, w in ipairs(redis.call('SMEMBERS', base .. ':workers')) do
  if w ~= me then
    if redis.call('EXISTS', base .. ':worker:' .. w) == 1 then
      live = live + 1
      inflight = inflight + redis.call('LLEN', base .. ':processing:' .. w)
    else
      while redis.call('LMOVE', base .. ':processing:' .. w, base .. ':requests', 'LEFT', 'RIGHT') do
        moved = moved + 1
      end
      redis.call('SREM', base .. ':workers', w)
    end
  end
end
"""

# Mark seen and queue in one step: scrapy-redis does SADD, then LPUSH; a process killed
# between the two leaves a URL marked seen that no queue holds, lost for the whole crawl.
_ENQUEUE = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[2], ARGV[2])
  return 1
end
return 0
"""

_STATUS = _RECOVER + """
return {redis.call('LLEN', base .. ':requests'), inflight, moved, live}
"""

_JOIN = _RECOVER + """
local queued = redis.call('LLEN', base .. ':requests')
if live == 0 and queued == 0 then
  redis.call('DEL', base .. ':dupefilter', base .. ':numbers', base .. ':confirmed', base .. ':claims',
             base .. ':started')
end
redis.call('SET', base .. ':started', ARGV[4], 'NX')
redis.call('SADD', base .. ':workers', me)
redis.call('SET', base .. ':worker:' .. me, '1', 'PX', ARGV[3])
return {live, queued, moved, redis.call('GET', base .. ':started')}
"""

_LEAVE = _RECOVER + """
while redis.call('LMOVE', base .. ':processing:' .. me, base .. ':requests', 'LEFT', 'RIGHT') do
  moved = moved + 1
end
redis.call('SREM', base .. ':workers', me)
redis.call('DEL', base .. ':worker:' .. me)
local queued = redis.call('LLEN', base .. ':requests')
if live == 0 and queued == 0 then
  redis.call('DEL', base .. ':dupefilter', base .. ':numbers', base .. ':confirmed', base .. ':claims',
             base .. ':requests', base .. ':workers', base .. ':started')
end
return {live, queued, moved}
"""


class SharedFrontierScheduler(Scheduler):
    """scrapy-redis's scheduler, safe for processes that come, go and die (module docstring).

    Settings: ``DEFNEWS_REDIS_WORKER_TIMEOUT`` (seconds without a heartbeat before a process
    counts as dead, 30), ``DEFNEWS_REDIS_POLL`` (how often a process looks at the shared
    queue when it has nothing to do, 0.5), ``DEFNEWS_REDIS_TTL`` (keys of a crawl without any
    process expire after this, 86400).
    """

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedFrontierScheduler:
        url = crawler.settings.get("REDIS_URL") or ""
        try:
            instance = cls.from_settings(crawler.settings)
        except RedisError as exc:  # the ping of scrapy-redis's from_settings
            raise RedisUnavailable(f"Redis at {redacted(url)} is not reachable: {exc}") from exc
        instance.stats = crawler.stats
        instance.crawler = crawler
        instance.url = url
        settings = crawler.settings
        instance.worker_timeout = settings.getfloat("DEFNEWS_REDIS_WORKER_TIMEOUT", 30.0)
        instance.poll = settings.getfloat("DEFNEWS_REDIS_POLL", 0.5)
        instance.ttl = settings.getint("DEFNEWS_REDIS_TTL", 86400)
        return instance

    # -- lifecycle ----------------------------------------------------------------------
    def open(self, spider: Any) -> None:
        self.worker = f"{uuid.uuid4().hex[:12]}"
        self.local: deque[Request] = deque()  # data: requests (the ranking) stay in this process
        self.inflight: list[tuple[Request, bytes]] = []
        self.lost: str | None = None
        super().open(spider)
        self.base = self.queue.key.rsplit(":", 1)[0]  # "<prefix>:<spider>"
        self.processing = f"{self.base}:processing:{self.worker}"
        live, queued, moved, started = self.server.eval(
            _JOIN, 0, self.base, self.worker, int(self.worker_timeout * 1000),
            datetime.now(UTC).isoformat(),
        )
        # When the crawl began: set by the process that started it (atomically with clearing
        # the last crawl's keys), the same for every process that joins later.
        self.started = datetime.fromisoformat(started.decode() if isinstance(started, bytes)
                                              else started)
        if moved:
            self.stats.inc_value("defnews/frontier/requeued", moved)
        logger.info(
            "shared frontier %s at %s: worker %s joins %d other live worker(s); %d queued requests%s",
            self.base, redacted(self.url), self.worker, live, queued,
            " (resuming an unfinished crawl)" if queued and not live else "",
        )
        self.stats.set_value("defnews/frontier/worker", self.worker)
        spider.frontier = self
        self._heartbeat()
        self.loop = task.LoopingCall(self._tick)
        self.loop.start(self.poll, now=False)

    def close(self, reason: str) -> None:
        if getattr(self, "loop", None) is not None and self.loop.running:
            self.loop.stop()
        if self.lost:
            return
        try:
            self._reap()
            live, queued, moved = self.server.eval(_LEAVE, 0, self.base, self.worker)
        except RedisError as exc:
            logger.error("shared frontier: could not leave cleanly (%s)", exc)
            return
        if moved:
            logger.info("shared frontier: %d request(s) in flight put back in the queue", moved)
        if not live:
            if queued:
                logger.info("shared frontier: last worker out; %d requests kept for the next "
                            "crawl to resume", queued)
            else:
                logger.info("shared frontier: last worker out; crawl finished, seen-set cleared")

    # -- requests -------------------------------------------------------------------------
    def enqueue_request(self, request: Request) -> bool:
        if request.url.startswith("data:"):
            self.local.append(request)
            return True
        if self.lost:
            return False
        try:
            data = self.queue._encode_request(request)
            if request.dont_filter:
                self.server.lpush(self.queue.key, data)
            elif not self.server.eval(_ENQUEUE, 2, self.df.key, self.queue.key,
                                      self.df.request_fingerprint(request), data):
                self.df.log(request, self.spider)
                return False
        except RedisError as exc:
            self._lose(exc)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        if self.local:
            return self.local.popleft()
        if self.lost:
            return None
        try:
            self._reap()
            popped = self.queue.pop_into(self.processing)
        except RedisError as exc:
            self._lose(exc)
            return None
        if popped is None:
            return None
        request, data = popped
        self.inflight.append((request, data))
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        """True while anything is left anywhere: the queue, or another live process's
        requests in flight (which may still add to it)."""
        if self.local:
            return True
        if self.lost:
            return False
        try:
            queued, others, moved, _live = self.server.eval(_STATUS, 0, self.base, self.worker)
        except RedisError as exc:
            self._lose(exc)
            return False
        if moved:
            self._requeued(moved)
        return bool(queued or others)

    def __len__(self) -> int:
        return len(self.local) + (0 if self.lost else len(self.queue))

    # -- shared state for the spider ------------------------------------------------------
    def claim(self, name: str) -> bool:
        """True for exactly one process of this crawl (for work done once per crawl)."""
        try:
            return bool(self.server.hsetnx(f"{self.base}:claims", name, self.worker))
        except RedisError as exc:
            self._lose(exc)
            return False

    def add_numbers(self, *numbers: int, key: str = "numbers") -> None:
        """Article numbers seen (linked or requested) by any process; ``key="confirmed"``:
        numbers whose article page answered 200 (where the counter walk may start)."""
        if numbers and not self.lost:
            try:
                self.server.sadd(f"{self.base}:{key}", *numbers)
            except RedisError as exc:
                self._lose(exc)

    def numbers(self, key: str = "numbers") -> set[int]:
        if self.lost:
            return set()
        try:
            return {int(n) for n in self.server.smembers(f"{self.base}:{key}")}
        except RedisError as exc:
            self._lose(exc)
            return set()

    # -- internals ------------------------------------------------------------------------
    def _reap(self) -> None:
        """Drop from the processing list the requests Scrapy has finished with."""
        if not self.inflight:
            return
        engine = self.crawler.engine
        # The engine's slot keeps each request from download until its scrape (callback,
        # new requests, item pipelines) is done. No public API says when a request is done.
        slot = getattr(engine, "_slot", None)
        busy = slot.inprogress if slot is not None else set()
        done = [(r, d) for r, d in self.inflight if r not in busy]
        if not done:
            return
        self.inflight = [(r, d) for r, d in self.inflight if r in busy]
        pipe = self.server.pipeline(transaction=False)
        for _, data in done:
            pipe.lrem(self.processing, 1, data)
        pipe.execute()

    def _heartbeat(self) -> None:
        pipe = self.server.pipeline(transaction=False)
        pipe.set(f"{self.base}:worker:{self.worker}", "1", px=int(self.worker_timeout * 1000))
        pipe.sadd(f"{self.base}:workers", self.worker)
        for suffix in ("requests", "dupefilter", "numbers", "confirmed", "claims", "workers",
                       "started"):
            pipe.expire(f"{self.base}:{suffix}", self.ttl)
        pipe.expire(self.processing, self.ttl)
        pipe.execute()

    def _tick(self) -> None:
        if self.lost:
            return
        try:
            self._heartbeat()
            self._reap()
            queued, _others, moved, _live = self.server.eval(_STATUS, 0, self.base, self.worker)
        except RedisError as exc:
            self._lose(exc)
            return
        if moved:
            self._requeued(moved)
        if queued:
            # Wake the engine: it otherwise looks at a scheduler that said "pending but
            # nothing now" only every 5 seconds.
            slot = getattr(self.crawler.engine, "_slot", None)
            if slot is not None:
                slot.nextcall.schedule()

    def _requeued(self, moved: int) -> None:
        self.stats.inc_value("defnews/frontier/requeued", moved)
        logger.warning("shared frontier: %d request(s) of a dead worker put back in the queue",
                       moved)

    def _lose(self, exc: Exception) -> None:
        if self.lost:
            return
        self.lost = f"Redis at {redacted(self.url)} is not reachable: {exc}"
        logger.error("shared frontier: %s; stopping the crawl", self.lost)
        self.stats.set_value("defnews/frontier/error", self.lost)
        engine = self.crawler.engine
        if engine is not None:
            deferred_from_coro(engine.close_spider_async(reason="redis_unavailable"))
