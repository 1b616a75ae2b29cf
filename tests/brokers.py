"""Event brokers for tests that span replicas: Redis at TEST_REDIS_URL, else one shared
in-process broker (so the path is exercised on a machine without Redis too)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from server.broker import InProcessBroker
from server.redis_broker import RedisBroker

REDIS_URL = os.environ.get("TEST_REDIS_URL") or None


def unique_prefix() -> str:
    return f"switchboard-test-{uuid.uuid4().hex}:"


@asynccontextmanager
async def redis_broker(prefix: str | None = None) -> AsyncIterator[RedisBroker]:
    assert REDIS_URL is not None
    broker = RedisBroker(REDIS_URL, prefix=prefix or unique_prefix())
    try:
        # TEST_REDIS_URL set but Redis unreachable is a failure, never a skip.
        await broker.ping()
        yield broker
    finally:
        await broker.close()


@asynccontextmanager
async def two_replicas_brokers() -> AsyncIterator[tuple[Any, Any]]:
    """Separate Redis clients on one prefix; without Redis, one in-process broker shared."""
    if REDIS_URL is None:
        shared = InProcessBroker()
        yield shared, shared
        return
    prefix = unique_prefix()
    async with redis_broker(prefix) as first, redis_broker(prefix) as second:
        yield first, second
