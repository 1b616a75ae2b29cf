"""The Redis event broker: events reach subscribers on every server replica via pub/sub."""

# Connections per process stay constant whatever the number of streams: ONE pub/sub
# connection carries every channel this process listens to (a channel is subscribed on it
# when its first local subscriber arrives and unsubscribed when its last leaves), and a
# pool of at most POOL_SIZE connections publishes, answers probes and counts the shared rate
# limits (server/shared_limits.py borrows `client`): four connections in all. One Redis message is
# decoded once and handed to every local subscriber of its channel.
#
# Redis can fail. Every connection has short connect and socket timeouts, publishing never
# waits (server/redis_publisher.py), and when the pub/sub connection drops or stops
# answering the reader reconnects with back-off and subscribes every channel again. Open
# streams stay open; each subscriber that may have missed events meanwhile then receives
# EVENTS_MAY_BE_MISSED, so what it shows can be read afresh.

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as redis
from redis.asyncio.connection import BlockingConnectionPool, Connection
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from resolvers.deps import EVENTS_MAY_BE_MISSED
from server import metrics
from server.broker import QUEUE_LIMIT
from server.redis_publisher import Publisher

DEFAULT_PREFIX = "switchboard:"
POOL_SIZE = 3
TIMEOUT_SECONDS = 1.0
# A silent pub/sub connection is sent a PING after this long; no answer within as long
# again and it is taken for dead.
KEEPALIVE_SECONDS = 3.0
RECONNECT_FIRST_SECONDS = 0.1
RECONNECT_MAX_SECONDS = 5.0
log = logging.getLogger("switchboard.broker")


class _Subscriber:
    __slots__ = ("missed", "queue")

    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        # True while events may have been published that this subscriber will never get.
        self.missed = False

    def put(self, message: dict[str, Any]) -> None:
        if self.queue.full():
            # Too far behind to keep everything: what is waiting is dropped and the reader
            # told so, rather than losing events without a word.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(EVENTS_MAY_BE_MISSED)
        self.queue.put_nowait(message)


class _Channel:
    __slots__ = ("ready", "subscribers")

    def __init__(self) -> None:
        self.subscribers: set[_Subscriber] = set()
        # Set once Redis confirmed the subscription on the current connection.
        self.ready = asyncio.Event()


class RedisBroker:
    """JSON messages on `<prefix><channel>`, multiplexed over one pub/sub connection."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        client_name: str | None = None,
        timeout_seconds: float = TIMEOUT_SECONDS,
        keepalive_seconds: float = KEEPALIVE_SECONDS,
    ) -> None:
        # Pub/sub channels ignore the database number in the URL, so the prefix is what
        # keeps deployments (and test runs) sharing one Redis apart.
        self.prefix = prefix
        # Named so an operator (or a test) can find this process's connections in CLIENT LIST.
        self.client_name = client_name or f"switchboard:{os.getpid()}:{secrets.token_hex(3)}"
        self.timeout = timeout_seconds
        self.keepalive = keepalive_seconds
        options: dict[str, Any] = {
            "socket_timeout": timeout_seconds,
            "socket_connect_timeout": timeout_seconds,
            "decode_responses": True,
            # RESP2: pub/sub messages come back from read_response (RESP3 pushes them aside).
            "protocol": 2,
            # Retries are this module's business: redis-py's own would multiply the timeouts.
            "retry": Retry(NoBackoff(), 0),
        }
        self._pool = BlockingConnectionPool.from_url(
            url,
            max_connections=POOL_SIZE,
            timeout=timeout_seconds,
            client_name=f"{self.client_name}:pub",
            **options,
        )
        self._redis = redis.Redis(connection_pool=self._pool)
        metrics.count_redis_connections(self._redis)
        # The publishing client, lent to the shared rate limits (they never close it).
        self.client = self._redis
        # The pub/sub connection is made by hand, a fresh one per attempt, as the URL says.
        parsed = BlockingConnectionPool.from_url(
            url, client_name=f"{self.client_name}:sub", **options
        )
        self._sub_class = metrics.counted_connection_class(parsed.connection_class)
        self._sub_options = dict(parsed.connection_kwargs)
        self._publisher: Publisher | None = None
        self._channels: dict[str, _Channel] = {}
        # SUBSCRIBE commands sent on the current connection and not yet confirmed, by name.
        self._unconfirmed: Counter[str] = Counter()
        self._link: Connection | None = None
        self._connecting = True
        self._send_lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None
        self._closed = False
        self.reconnects = 0

    # --- publishing -----------------------------------------------------------------------

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Queue the event for every replica; never waits on Redis (the change it reports is
        already stored, and a lost notification must not turn it into an error)."""
        if self._publisher is None:
            self._publisher = Publisher(self._redis)
        self._publisher.publish(self.prefix + channel, json.dumps(message))

    async def drained(self, within_seconds: float = 5.0) -> bool:
        """Until every queued event is sent or given up (for tests and shutdown)."""
        return self._publisher is None or await self._publisher.drained(within_seconds)

    # --- subscribing ----------------------------------------------------------------------

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Messages of `channel` until the block ends; EVENTS_MAY_BE_MISSED after a gap."""
        self._start_reader()
        subscriber = _Subscriber()
        entry = self._channels.get(channel)
        if entry is None:
            entry = self._channels[channel] = _Channel()
            await self._send_subscribe([channel])
        entry.subscribers.add(subscriber)
        try:
            if not entry.ready.is_set() and (self._link is not None or self._connecting):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(entry.ready.wait(), self.timeout * 2)
            if not entry.ready.is_set():
                # Redis is away: the stream opens all the same, and is told to refetch
                # once the subscription is in place.
                subscriber.missed = True
            yield _drain(subscriber.queue)
        finally:
            entry.subscribers.discard(subscriber)
            if not entry.subscribers and self._channels.get(channel) is entry:
                del self._channels[channel]
                await self._send(["UNSUBSCRIBE", self.prefix + channel])

    def local_subscribers(self, channel: str) -> int:
        """How many streams of this process listen to `channel`."""
        entry = self._channels.get(channel)
        return len(entry.subscribers) if entry else 0

    async def subscribers(self, channel: str) -> int:
        """How many pub/sub connections (one per listening process) Redis counts on `channel`."""
        ((_, count),) = await self._redis.pubsub_numsub(self.prefix + channel)
        return int(count)

    # --- health and lifetime --------------------------------------------------------------

    async def ping(self) -> None:
        await self._redis.ping()

    @property
    def connected(self) -> bool:
        """Whether the pub/sub connection is up right now."""
        return self._link is not None

    async def close(self) -> None:
        self._closed = True
        if self._publisher is not None:
            await self._publisher.close(self.timeout)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._channels.clear()
        await self._redis.aclose()
        await self._pool.disconnect()

    # --- the pub/sub connection -----------------------------------------------------------

    def _start_reader(self) -> None:
        if self._reader is None and not self._closed:
            self._reader = asyncio.create_task(self._run(), name="switchboard:redis-subscriber")

    async def _send_subscribe(self, channels: list[str]) -> None:
        if self._link is None:
            return  # subscribed with every other channel once connected
        for channel in channels:
            self._unconfirmed[channel] += 1
        await self._send(["SUBSCRIBE", *(self.prefix + c for c in channels)])

    async def _send(self, command: list[str]) -> None:
        link = self._link
        # A connection redis-py closed after an error would silently reconnect on send,
        # without the subscriptions: leave that to the reader.
        if link is None or not link.is_connected:
            return
        try:
            async with self._send_lock:
                await link.send_command(*command)
        except (RedisError, OSError) as error:
            # The reader notices the broken connection too, and reconnects.
            log.warning("could not send %s to Redis: %s", command[0], error)

    async def _run(self) -> None:
        delay = RECONNECT_FIRST_SECONDS
        while not self._closed:
            self._connecting = True
            link: Connection | None = None
            try:
                link = self._sub_class(**self._sub_options)
                await link.connect()
                await self._listen(link)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, TimeoutError) as error:
                if self._link is not None:
                    delay = RECONNECT_FIRST_SECONDS  # it worked for a while: retry soon
                log.warning("Redis pub/sub connection lost (%s); reconnecting", error)
            except Exception:
                log.exception("Redis pub/sub reader failed; reconnecting")
            finally:
                self._lost()
                if link is not None:
                    await link.disconnect(nowait=True)
            self._connecting = False
            # Jitter: replicas that lost Redis together do not all come back at once.
            await asyncio.sleep(delay * (0.5 + random.random()))  # noqa: S311
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)
            self.reconnects += 1

    async def _listen(self, link: Connection) -> None:
        names = list(self._channels)
        self._link = link
        self._connecting = False
        if names:
            await self._send_subscribe(names)
        awaiting_pong = False
        read = 0
        while True:
            read += 1
            if read % 100 == 0:
                # A burst already buffered would otherwise be read without a pause, and
                # streams get no turn to take their events before their queues fill up.
                await asyncio.sleep(0)
            response = await link.read_response(timeout=self.keepalive)
            if response is None:
                if awaiting_pong:
                    raise TimeoutError("Redis did not answer PING on the pub/sub connection")
                await self._send(["PING"])
                awaiting_pong = True
                continue
            awaiting_pong = False
            self._handle(response)

    def _handle(self, response: Any) -> None:
        if not isinstance(response, list) or len(response) < 2:
            return
        kind, name = response[0], response[1]
        if not isinstance(name, str) or not name.startswith(self.prefix):
            return
        channel = name[len(self.prefix) :]
        if kind == "message" and len(response) == 3:
            self._dispatch(channel, response[2])
        elif kind == "subscribe":
            self._confirmed(channel)

    def _confirmed(self, channel: str) -> None:
        if self._unconfirmed[channel] > 0:
            self._unconfirmed[channel] -= 1
        if self._unconfirmed[channel] > 0:
            return  # a later SUBSCRIBE of the same channel is still on its way
        del self._unconfirmed[channel]
        entry = self._channels.get(channel)
        if entry is None:
            return
        entry.ready.set()
        for subscriber in entry.subscribers:
            if subscriber.missed:
                subscriber.missed = False
                subscriber.put(EVENTS_MAY_BE_MISSED)

    def _dispatch(self, channel: str, data: str) -> None:
        entry = self._channels.get(channel)
        if entry is None:
            return
        try:
            message = json.loads(data)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            log.warning("ignoring a message on %s that is not a JSON object", channel)
            return
        # Decoded once, the same object for every subscriber: readers must not change it.
        for subscriber in entry.subscribers:
            subscriber.put(message)

    def _lost(self) -> None:
        """The connection is gone: everything subscribed on it must be subscribed again,
        and every open stream may miss what is published until then."""
        self._link = None
        self._unconfirmed.clear()
        for entry in self._channels.values():
            entry.ready = asyncio.Event()
            for subscriber in entry.subscribers:
                subscriber.missed = True


async def _drain(queue: asyncio.Queue[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    while True:
        yield await queue.get()
