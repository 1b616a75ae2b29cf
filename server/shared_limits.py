"""Rate-limit counters in Redis, so every replica counts the same failures and reveals.

The counters borrow the event broker's publishing client (its bounded pool, short timeouts):
a process keeps the same few Redis connections whatever it counts (README, "Redis"), and a
slow or absent Redis costs a login at most about a second (the pool's wait and the socket
timeout are both the broker's 1 s) before the limits fall back to counting in this process."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable
from typing import TypeVar

from redis.asyncio import Redis

T = TypeVar("T")

# Each key is a sorted set of event timestamps (score) with unique members. Scripts run
# atomically in Redis, so replicas counting at once never lose or double an event.
_ADD = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[4]) + 1))
redis.call('PEXPIRE', KEYS[1], math.ceil(ARGV[2] * 1000))
return 1
"""
_ALLOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(ARGV[2] * 1000))
return 1
"""


class RedisCounters:
    """`resolvers.ratelimit.SharedCounters` in Redis."""

    # After a failure Redis is not asked again for this long: a login checks several limits,
    # and each waiting out the timeout would hold it for seconds.
    PAUSE_SECONDS = 5.0

    def __init__(self, client: Redis, *, prefix: str) -> None:
        # Not ours: the broker that lent it closes it.
        self.redis = client
        self.prefix = f"{prefix}limits:"
        self._add = self.redis.register_script(_ADD)
        self._allow = self.redis.register_script(_ALLOW)
        self._paused_until = 0.0

    async def _ask(self, call: Awaitable[T]) -> T:
        if time.monotonic() < self._paused_until:
            if hasattr(call, "close"):
                call.close()  # never awaited: say so, quietly
            raise ConnectionError("Redis did not answer a moment ago; counting locally")
        try:
            return await call
        except Exception:
            self._paused_until = time.monotonic() + self.PAUSE_SECONDS
            raise

    async def events(self, key: str, *, window: float, now: float) -> list[float]:
        found = await self._ask(
            self.redis.zrangebyscore(self.prefix + key, f"({now - window}", "+inf", withscores=True)
        )
        return [score for _, score in found]

    async def add(self, key: str, *, window: float, now: float, keep: int) -> None:
        await self._ask(self._add(keys=[self.prefix + key], args=[now, window, _member(now), keep]))

    async def allow(self, key: str, *, window: float, now: float, limit: int) -> bool:
        args = [now, window, _member(now), limit]
        return bool(await self._ask(self._allow(keys=[self.prefix + key], args=args)))

    async def close(self) -> None:
        """Nothing to close: the connections are the broker's."""


def _member(now: float) -> str:
    return f"{now!r}:{uuid.uuid4().hex[:12]}"
