"""Redis as a dependency that fails: connections per process stay constant, a killed
connection is reconnected with streams kept open, and a Redis that refuses or hangs costs
mutations nothing and makes /readyz say so."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from starlette.routing import WebSocketRoute

from graph.relay import to_global_id
from models import deliveries as stored
from resolvers.events import settings_channel
from server.redis_broker import POOL_SIZE, RedisBroker
from server.settings import Settings
from tests.brokers import REDIS_URL, unique_prefix
from tests.conftest import Seeded
from tests.deliveries import MakeEnv
from tests.live import GraphQLWebSocket, graphql_ws, live_server, next_payload
from tests.server.receiver import Answer, closed_port, receiver
from tests.server.test_deliveries_follow import (
    DELIVERY_STEPS,
    FULL_RUN,
    rest_of,
    steps_until,
    webhook_input,
)
from tests.server.test_deliveries_stream import TEST_WEBHOOK
from tests.server.test_redis_broker import SMS_UPDATE, instance

needs_redis = pytest.mark.skipif(REDIS_URL is None, reason="TEST_REDIS_URL is not set")
KIND_SUBSCRIPTION = "subscription($id: ID!) { settingsChanged(apiKeyId: $id) { kind section } }"


async def own_clients(broker: RedisBroker) -> list[dict[str, Any]]:
    """This broker's connections as Redis lists them (found by client name, never others')."""
    assert REDIS_URL is not None
    admin = redis.from_url(REDIS_URL, decode_responses=True)
    try:
        clients = await admin.client_list()
    finally:
        await admin.aclose()
    return [c for c in clients if c["name"].startswith(broker.client_name + ":")]


async def kill_own(broker: RedisBroker, role: str) -> int:
    """CLIENT KILL every connection of this broker whose name ends in `:role`."""
    assert REDIS_URL is not None
    admin = redis.from_url(REDIS_URL, decode_responses=True)
    killed = 0
    try:
        for client in await own_clients(broker):
            if client["name"].endswith(f":{role}"):
                killed += await admin.client_kill_filter(_id=client["id"])
    finally:
        await admin.aclose()
    return killed


@contextlib.asynccontextmanager
async def silent_redis() -> AsyncIterator[str]:
    """A listener on 127.0.0.1 that accepts connections and never answers: a hung Redis."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        with contextlib.suppress(Exception):
            while await reader.read(4096):
                pass

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        for writer in held:
            writer.close()
        server.close()


async def edit(http: httpx.AsyncClient, seeded: Seeded, url: str) -> tuple[float, dict[str, Any]]:
    """One settings mutation: (seconds it took, its payload)."""
    variables = {
        "input": {"apiKeyId": to_global_id("ApiKey", seeded.api_key_id), "deliveryReceiptUrl": url}
    }
    started = time.monotonic()
    response = await http.post(
        "/graphql",
        json={"query": SMS_UPDATE, "variables": variables},
        headers={"Authorization": seeded.basic},
    )
    took = time.monotonic() - started
    return took, response.json()["data"]["smsWebhooksUpdate"]


async def subscribe_many(
    base: str, seeded: Seeded, count: int, stack: contextlib.AsyncExitStack
) -> list[tuple[GraphQLWebSocket, str]]:
    """`count` settingsChanged streams, 20 to a socket (the per-socket limit)."""
    streams = []
    key = to_global_id("ApiKey", seeded.api_key_id)
    for start in range(0, count, 20):
        ws = await stack.enter_async_context(graphql_ws(base))
        assert (await ws.init({"Authorization": seeded.basic}))["type"] == "connection_ack"
        for _ in range(min(20, count - start)):
            streams.append((ws, await ws.subscribe(KIND_SUBSCRIPTION, {"id": key})))
    return streams


def shared_of(app: Any) -> Any:
    (route,) = [r for r in app.routes if isinstance(r, WebSocketRoute)]
    return route.endpoint.shared_subscriptions


async def wait_local(broker: RedisBroker, channel: str, count: int) -> None:
    for _ in range(2000):
        if broker.local_subscribers(channel) >= count:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{count} subscribers never appeared on {channel}")


@needs_redis
async def test_150_streams_share_one_pubsub_connection_and_publishing_still_works(
    db: None, settings: Settings, seeded: Seeded
) -> None:
    assert REDIS_URL is not None
    broker = RedisBroker(REDIS_URL, prefix=unique_prefix())
    app = instance(settings, broker)
    channel = settings_channel(seeded.api_key_id)
    try:
        async with (
            contextlib.AsyncExitStack() as stack,
            live_server(app) as base,
            httpx.AsyncClient(base_url=base) as http,
        ):
            streams = await subscribe_many(base, seeded, 150, stack)
            # Equal subscriptions share one execution: one stream on the broker serves all.
            await until(lambda: shared_of(app).members == 150)
            assert broker.local_subscribers(channel) == 1
            _, payload = await edit(http, seeded, "https://example.com/after-150")
            assert payload["userErrors"] == []
            heard = set()
            for ws in dict.fromkeys(ws for ws, _ in streams):
                for _ in range(sum(1 for other, _ in streams if other is ws)):
                    message = await ws.receive()
                    change = message["payload"]["data"]["settingsChanged"]
                    assert change == {"kind": "CHANGED", "section": "smsWebhooks"}
                    heard.add((ws, message["id"]))
            assert heard == set(streams)
            names = sorted(c["name"] for c in await own_clients(broker))
    finally:
        await broker.close()
    # One pub/sub connection whatever the number of streams, and a bounded publishing pool.
    assert names.count(f"{broker.client_name}:sub") == 1
    assert 1 <= names.count(f"{broker.client_name}:pub") <= POOL_SIZE
    assert len(names) <= 1 + POOL_SIZE


@needs_redis
async def test_a_killed_pubsub_connection_is_reconnected_and_streams_stay_open(
    delivery_env: MakeEnv,
) -> None:
    assert REDIS_URL is not None
    env = delivery_env(redis_url=REDIS_URL, redis_prefix=unique_prefix())
    broker = env.deps.broker
    assert isinstance(broker, RedisBroker)
    seeded = await env.seed()
    gate = asyncio.Event()
    try:
        async with (
            receiver(Answer(gate=gate)) as rx,
            live_server(env.app) as base,
            graphql_ws(base) as sender,
            graphql_ws(base) as follower,
            graphql_ws(base) as dashboard,
            httpx.AsyncClient(base_url=base) as http,
        ):
            await sender.init({"Authorization": seeded.bearer()})
            await sender.subscribe(TEST_WEBHOOK, webhook_input(seeded, rx.url()))
            started = await steps_until(sender, "REQUEST_SENT")
            delivery_id = started[0]["deliveryId"]
            await follower.init({"Authorization": seeded.bearer()})
            follow_id = await follower.subscribe(DELIVERY_STEPS, {"id": delivery_id})
            assert len(await steps_until(follower, "REQUEST_SENT")) == 5
            await dashboard.init({"Authorization": seeded.basic})
            watch_id = await dashboard.subscribe(
                KIND_SUBSCRIPTION, {"id": to_global_id("ApiKey", seeded.api_key_id)}
            )
            await wait_local(broker, settings_channel(seeded.api_key_id), 1)

            # Both kinds of connection go; the answer arrives while they are away.
            assert await kill_own(broker, "sub") == 1
            await kill_own(broker, "pub")
            gate.set()

            notice = (await next_payload(dashboard, watch_id))["data"]["settingsChanged"]
            assert notice == {"kind": "EVENTS_MAY_BE_MISSED", "section": "*"}
            # The delivery's follower ends on the stored final step, whatever was lost live.
            rest = await rest_of(follower)
            _, payload = await edit(http, seeded, "https://example.com/after-reconnect")
            assert payload["userErrors"] == []
            change = (await next_payload(dashboard, watch_id))["data"]["settingsChanged"]
            assert change == {"kind": "CHANGED", "section": "smsWebhooks"}
            assert follow_id
        await env.tasks.wait()
    finally:
        await broker.close()
    kinds = [s["kind"] for s in rest]
    assert kinds == FULL_RUN[5:], kinds
    delivery = await stored.TestDelivery.get(api_key_id=seeded.api_key_id)
    assert delivery.status.value == "SUCCEEDED"
    assert broker.reconnects >= 1


@pytest.mark.parametrize("redis_state", ["refusing", "hung"])
async def test_an_unreachable_redis_costs_mutations_nothing_and_fails_readiness(
    db: None, settings: Settings, seeded: Seeded, redis_state: str
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        if redis_state == "hung":
            url = await stack.enter_async_context(silent_redis())
        else:
            url = f"redis://127.0.0.1:{closed_port()}/0"
        broker = RedisBroker(url, prefix=unique_prefix())
        stack.push_async_callback(broker.close)
        app = instance(settings, broker)
        # The test database is built from the models: readiness is about Redis here.
        app.state.migrations_applied = True
        base = await stack.enter_async_context(live_server(app))
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=base))
        ws = await stack.enter_async_context(graphql_ws(base))
        assert (await ws.init({"Authorization": seeded.basic}))["type"] == "connection_ack"
        op_id = await ws.subscribe(
            KIND_SUBSCRIPTION, {"id": to_global_id("ApiKey", seeded.api_key_id)}
        )
        timings = []
        for n in range(3):
            took, payload = await edit(http, seeded, f"https://example.com/while-{n}")
            assert payload["userErrors"] == []
            timings.append(took)
        ready = await http.get("/readyz")
        # The subscription is neither ended nor failed: it waits for Redis to come back.
        with pytest.raises(TimeoutError):
            await ws.receive(wait=1.5)
        assert op_id
    # Generous: the old broker held each mutation ~5 s on a hung Redis.
    assert max(timings) < 2.5, timings
    assert ready.status_code == 503
    assert ready.json()["redis"] == "unreachable"


@needs_redis
async def test_readiness_reports_a_reachable_redis(db: None, settings: Settings) -> None:
    assert REDIS_URL is not None
    broker = RedisBroker(REDIS_URL, prefix=unique_prefix())
    app = instance(settings, broker)
    app.state.migrations_applied = True
    try:
        async with live_server(app) as base, httpx.AsyncClient(base_url=base) as http:
            ready = await http.get("/readyz")
    finally:
        await broker.close()
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "redis": "ok"}


class RedisProxy:
    """Forwards a port on 127.0.0.1 to the test Redis, and can hang: while frozen it
    accepts connections and reads, but passes nothing on either way (a Redis that stopped
    answering mid-connection, as a stalled host or a full network buffer makes it)."""

    def __init__(self, target: str) -> None:
        parsed = target.removeprefix("redis://").split("/", 1)
        host, _, port = parsed[0].rpartition(":")
        self.target = (host or "127.0.0.1", int(port or 6379))
        self.database = parsed[1] if len(parsed) > 1 else "0"
        self.flowing = asyncio.Event()
        self.flowing.set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> RedisProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"redis://127.0.0.1:{port}/{self.database}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.flowing.set()
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer)),
            asyncio.create_task(self._pump(up_reader, writer)),
        ]
        self._tasks.update(pumps)
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
                self._tasks.discard(pump)
            writer.close()
            up_writer.close()

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                await self.flowing.wait()
                sink.write(data)
                await sink.drain()


async def until(condition: Callable[[], bool], within: float = 15.0) -> None:
    for _ in range(int(within / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not true within {within:g} s")


@needs_redis
async def test_a_redis_that_hangs_mid_connection_is_left_and_rejoined(
    db: None, settings: Settings, seeded: Seeded
) -> None:
    assert REDIS_URL is not None
    key = to_global_id("ApiKey", seeded.api_key_id)
    async with RedisProxy(REDIS_URL) as proxy:
        broker = RedisBroker(proxy.url, prefix=unique_prefix(), keepalive_seconds=1)
        app = instance(settings, broker)
        app.state.migrations_applied = True
        try:
            async with (
                live_server(app) as base,
                graphql_ws(base) as ws,
                httpx.AsyncClient(base_url=base) as http,
            ):
                assert (await ws.init({"Authorization": seeded.basic}))["type"] == "connection_ack"
                op_id = await ws.subscribe(KIND_SUBSCRIPTION, {"id": key})
                await wait_local(broker, settings_channel(seeded.api_key_id), 1)
                await until(lambda: broker.connected)

                proxy.flowing.clear()
                took, payload = await edit(http, seeded, "https://example.com/while-hung")
                assert payload["userErrors"] == []
                hung_ready = await http.get("/readyz")
                # The silent pub/sub connection is given up (PING unanswered).
                await until(lambda: not broker.connected)

                proxy.flowing.set()
                kinds = []
                while "EVENTS_MAY_BE_MISSED" not in kinds:
                    change = (await next_payload(ws, op_id))["data"]["settingsChanged"]
                    kinds.append(change["kind"])
                _, payload = await edit(http, seeded, "https://example.com/after-hang")
                assert payload["userErrors"] == []
                change = (await next_payload(ws, op_id))["data"]["settingsChanged"]
                while change["kind"] != "CHANGED":
                    change = (await next_payload(ws, op_id))["data"]["settingsChanged"]
                ready = await http.get("/readyz")
        finally:
            await broker.close()
    assert took < 2.5, took
    assert hung_ready.status_code == 503 and ready.status_code == 200
    assert broker.reconnects >= 1
