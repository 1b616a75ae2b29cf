"""The Redis event broker: events reach subscribers on every server replica via pub/sub."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from server import metrics

DEFAULT_PREFIX = "switchboard:"
log = logging.getLogger("switchboard.broker")


class RedisBroker:
    """JSON messages on `<prefix><channel>`. Each open subscription holds its own pub/sub
    connection: simple and isolated, and fine for dashboards; thousands of subscribers per
    process would want one shared connection fanning out instead."""

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX) -> None:
        # Pub/sub channels ignore the database number in the URL, so the prefix is what
        # keeps deployments (and test runs) sharing one Redis apart.
        self.prefix = prefix
        self._redis = redis.from_url(url, decode_responses=True)
        metrics.count_redis_connections(self._redis)

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        try:
            await self._redis.publish(self.prefix + channel, json.dumps(message))
        except (RedisError, OSError):
            metrics.REDIS_PUBLISH_FAILURES.inc()
            # Publishing follows a committed change: a lost notification must not turn a
            # change that happened into an error the caller would retry.
            log.warning("could not publish an event on %s", channel, exc_info=True)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.prefix + channel)
            yield _messages(pubsub, channel)
        finally:
            # Closing drops the connection, which ends the subscription on the server.
            await pubsub.aclose()

    async def subscribers(self, channel: str) -> int:
        """How many subscriptions to `channel` Redis knows of, across every replica."""
        ((_, count),) = await self._redis.pubsub_numsub(self.prefix + channel)
        return int(count)

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


async def _messages(pubsub: PubSub, channel: str) -> AsyncIterator[dict[str, Any]]:
    async for message in pubsub.listen():
        if message.get("type") != "message":
            continue
        try:
            payload = json.loads(message["data"])
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            yield payload
        else:
            log.warning("ignoring a message on %s that is not a JSON object", channel)
