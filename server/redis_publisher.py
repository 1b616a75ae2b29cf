"""Publishing to Redis off the request path: a bounded queue drained by one task."""

# A change is committed before its event is published, so a publish that waits on Redis
# only delays the caller for nothing: measured with the old code, a Redis that accepted
# connections but never answered held every mutation ~5 s. Here `publish` only queues;
# one task sends what has queued up as one pipeline (one round trip however many events),
# in the order they were queued, and retries a failed batch with back-off until its
# events are too old to be worth sending. Subscribers that miss events meanwhile hear
# about it from the subscription side when its connection comes back.

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from dataclasses import dataclass

import redis.asyncio as redis
from redis.exceptions import RedisError

from server import metrics

log = logging.getLogger("switchboard.broker")

# Events waiting for Redis beyond this many are dropped, oldest first, so a Redis outage
# under load costs bounded memory.
QUEUE_LIMIT = 10_000
# One pipeline carries at most this many events.
BATCH_LIMIT = 500
# An event not sent within this long is given up: a subscriber shown it later would show
# stale news, and reconnecting subscribers are told to refetch anyway.
GIVE_UP_SECONDS = 10.0
RETRY_FIRST_SECONDS = 0.1
RETRY_MAX_SECONDS = 2.0
QUEUE_FULL = f"more than {QUEUE_LIMIT} were waiting for Redis"


@dataclass(frozen=True)
class _Event:
    channel: str
    data: str
    queued_at: float


class Publisher:
    """Queues events and sends them in order through `client` (a small bounded pool)."""

    def __init__(self, client: redis.Redis, *, give_up_seconds: float = GIVE_UP_SECONDS) -> None:
        self._client = client
        self._give_up = give_up_seconds
        self._queue: collections.deque[_Event] = collections.deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self.dropped = 0
        self.sent = 0
        self._unreported = 0
        self._reported_at = -1.0
        # How many events at the head of the queue are being sent right now.
        self._in_flight = 0

    def publish(self, channel: str, data: str) -> None:
        """Queue one event; never waits."""
        if len(self._queue) >= QUEUE_LIMIT:
            # The oldest event not in the batch being sent (that batch is popped after).
            del self._queue[min(self._in_flight, len(self._queue) - 1)]
            self._note_dropped(1, QUEUE_FULL)
        self._queue.append(_Event(channel, data, time.monotonic()))
        self._idle.clear()
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="switchboard:redis-publisher")

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def drained(self, within_seconds: float) -> bool:
        """Until every queued event is sent or given up (True), or the time passes."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), within_seconds)
        return self._idle.is_set()

    async def close(self, within_seconds: float = 1.0) -> None:
        """Send what is queued if Redis takes it within the time, then stop."""
        await self.drained(within_seconds)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._queue:
            self._note_dropped(len(self._queue), "the broker closed")
            self._queue.clear()

    async def _run(self) -> None:
        delay = RETRY_FIRST_SECONDS
        while True:
            if not self._queue:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = [self._queue[i] for i in range(min(BATCH_LIMIT, len(self._queue)))]
            self._in_flight = len(batch)
            try:
                await self._send(batch)
            except (RedisError, OSError) as error:
                self._in_flight = 0
                log.warning("could not publish %d events (%s); retrying", len(batch), error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                self._give_up_old()
                continue
            except Exception:
                # Not Redis being away: retrying would fail the same way forever.
                metrics.REDIS_PUBLISH_FAILURES.inc(len(batch))
                log.exception("could not publish %d events; dropped", len(batch))
                self._pop_batch(len(batch))
                self.dropped += len(batch)
                continue
            delay = RETRY_FIRST_SECONDS
            self.sent += len(batch)
            # Events queued meanwhile stay behind the batch, so order is kept.
            self._pop_batch(len(batch))

    def _pop_batch(self, size: int) -> None:
        for _ in range(size):
            self._queue.popleft()
        self._in_flight = 0

    async def _send(self, batch: list[_Event]) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            for event in batch:
                pipe.publish(event.channel, event.data)
            await pipe.execute()

    def _give_up_old(self) -> None:
        cutoff = time.monotonic() - self._give_up
        old = 0
        while self._queue and self._queue[0].queued_at < cutoff:
            self._queue.popleft()
            old += 1
        if old:
            self._note_dropped(old, f"Redis did not take them within {self._give_up:g} s")

    def _note_dropped(self, count: int, why: str) -> None:
        # Counted as events given up, not attempts: a retried batch that gets through is none.
        metrics.REDIS_PUBLISH_FAILURES.inc(count)
        self.dropped += count
        self._unreported += count
        now = time.monotonic()
        # A full queue drops one event per publish: say so once a second, not every time.
        if now - self._reported_at >= 1.0 or why != QUEUE_FULL:
            log.warning("could not publish %d events: %s", self._unreported, why)
            self._unreported, self._reported_at = 0, now
