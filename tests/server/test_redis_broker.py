"""Events between replicas: two app instances share a broker (Redis at TEST_REDIS_URL, else one
in-process broker), and a change made through one reaches a subscriber of the other."""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
from typing import Any

import httpx
import pytest
import redis.asyncio as redis

from graph.relay import to_global_id
from resolvers.deps import Deps, is_events_missed
from resolvers.events import settings_channel
from server.app import create_app
from server.broker import InProcessBroker
from server.redis_broker import RedisBroker
from server.redis_publisher import QUEUE_LIMIT
from server.settings import Settings
from signing.crypto import SecretBox
from tests.brokers import REDIS_URL, redis_broker, two_replicas_brokers, unique_prefix
from tests.conftest import TEST_MASTER_KEY, Seeded
from tests.graph.test_settings_subscription import SETTINGS_CHANGED
from tests.live import graphql_ws, live_server, next_payload, wait_subscribed

needs_redis = pytest.mark.skipif(REDIS_URL is None, reason="TEST_REDIS_URL is not set")
SMS_UPDATE = """
mutation($input: SmsWebhooksUpdateInput!) { smsWebhooksUpdate(input: $input) {
  messaging { version } userErrors { code }
} }
"""
DLR = "https://example.com/from-instance-a"


def instance(settings: Settings, broker: Any) -> Any:
    deps = Deps(box=SecretBox(settings.master_key), broker=broker)
    return create_app(settings, deps=deps, init_database=False)


@pytest.mark.parametrize("transport", ["redis" if REDIS_URL else "shared-in-process"])
async def test_a_change_through_one_instance_reaches_a_subscriber_of_the_other(
    db: None, settings: Settings, seeded: Seeded, transport: str
) -> None:
    key_id = to_global_id("ApiKey", seeded.api_key_id)
    async with two_replicas_brokers() as (broker_a, broker_b):
        assert (broker_a is broker_b) == (transport == "shared-in-process")
        app_a, app_b = instance(settings, broker_a), instance(settings, broker_b)
        async with (
            live_server(app_a) as url_a,
            live_server(app_b) as url_b,
            graphql_ws(url_b) as ws,
            httpx.AsyncClient(base_url=url_a) as http,
        ):
            assert (await ws.init({"Authorization": seeded.basic}))["type"] == "connection_ack"
            op_id = await ws.subscribe(SETTINGS_CHANGED, {"id": key_id})
            # Instance A sees B's subscription: through Redis, not through shared memory.
            await wait_subscribed(broker_a, settings_channel(seeded.api_key_id))
            response = await http.post(
                "/graphql",
                json={
                    "query": SMS_UPDATE,
                    "variables": {"input": {"apiKeyId": key_id, "deliveryReceiptUrl": DLR}},
                },
                headers={"Authorization": seeded.basic},
            )
            assert response.json()["data"]["smsWebhooksUpdate"]["userErrors"] == []
            change = (await next_payload(ws, op_id))["data"]["settingsChanged"]
    assert change["section"] == "smsWebhooks"
    assert change["actor"] == f"key:{seeded.api_key}"
    assert change["apiKey"]["messaging"]["sms"]["deliveryReceiptUrl"] == DLR


@needs_redis
async def test_messages_round_trip_as_json_within_their_prefix() -> None:
    async with redis_broker() as broker, redis_broker() as elsewhere:
        async with (
            broker.subscribe("settings:7") as stream,
            elsewhere.subscribe("settings:7") as other_stream,
        ):
            assert await broker.subscribers("settings:7") == 1
            await broker.publish("settings:7", {"section": "signature", "n": [1, 2]})
            assert await asyncio.wait_for(anext(stream), 5) == {
                "section": "signature",
                "n": [1, 2],
            }
            # Another prefix is another deployment: it hears nothing.
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(anext(other_stream), 0.2)
        assert await broker.subscribers("settings:7") == 0


@needs_redis
async def test_messages_that_are_not_json_objects_are_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with redis_broker() as broker:
        raw = redis.from_url(REDIS_URL)
        try:
            async with broker.subscribe("settings:8") as stream:
                await raw.publish(broker.prefix + "settings:8", "not json")
                await raw.publish(broker.prefix + "settings:8", "[1, 2]")
                await broker.publish("settings:8", {"ok": True})
                with caplog.at_level(logging.WARNING, logger="switchboard.broker"):
                    assert await asyncio.wait_for(anext(stream), 5) == {"ok": True}
        finally:
            await raw.aclose()
    assert len([r for r in caplog.records if "not a JSON object" in r.getMessage()]) == 2


def closed_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_failed_publish_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    broker = RedisBroker(f"redis://127.0.0.1:{closed_loopback_port()}/0", prefix=unique_prefix())
    try:
        with caplog.at_level(logging.WARNING, logger="switchboard.broker"):
            # Publishing only queues: the mutation that published is never held by Redis.
            await broker.publish("settings:1", {"section": "messaging"})
            while not any("could not publish" in r.getMessage() for r in caplog.records):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    finally:
        await broker.close()
    assert any("could not publish" in r.getMessage() for r in caplog.records)


def test_redis_url_selects_the_redis_broker() -> None:
    settings = Settings.from_env(
        {
            "SWITCHBOARD_SECRET_KEY": TEST_MASTER_KEY.hex(),
            "REDIS_URL": "redis://127.0.0.1:6379/15",
            "SWITCHBOARD_REDIS_PREFIX": "staging:",
        }
    )
    broker = create_app(settings, init_database=False).state.deps.broker
    assert isinstance(broker, RedisBroker) and broker.prefix == "staging:"
    embedded = Settings.from_env({"SWITCHBOARD_SECRET_KEY": TEST_MASTER_KEY.hex()})
    assert isinstance(create_app(embedded, init_database=False).state.deps.broker, InProcessBroker)


async def test_the_app_closes_the_broker_it_built_and_only_that_one(settings: Settings) -> None:
    owned_app = create_app(settings, init_database=False)
    given = InProcessBroker()
    given_app = instance(settings, given)
    remaining = []
    for app, broker in ((owned_app, owned_app.state.deps.broker), (given_app, given)):
        async with broker.subscribe("settings:1"):
            async with app.router.lifespan_context(app):
                assert await broker.subscribers("settings:1") == 1
            remaining.append(await broker.subscribers("settings:1"))
    # Closing forgets every subscriber; a broker the caller brought is left running.
    assert remaining == [0, 1]


@needs_redis
async def test_a_burst_of_events_arrives_whole_and_in_order() -> None:
    async with redis_broker() as broker, broker.subscribe("delivery:9") as stream:

        async def burst() -> None:
            for n in range(3000):
                await broker.publish("delivery:9", {"n": n})
                if n % 100 == 0:
                    await asyncio.sleep(0)  # a subscriber reads as a real one would

        publishing = asyncio.create_task(burst())
        received: list[int | None] = []
        while not received or received[-1] != 2999:
            message = await asyncio.wait_for(anext(stream), 10)
            received.append(None if is_events_missed(message) else message["n"])
        await publishing
    # In order; and if this reader fell too far behind, every gap is announced.
    numbers = [n for n in received if n is not None]
    assert numbers == sorted(numbers) and received[0] in (0, None)
    for before, after in itertools.pairwise(received):
        if before is not None and after is not None:
            assert after == before + 1, (before, after)


async def test_events_waiting_for_an_absent_redis_are_bounded() -> None:
    broker = RedisBroker(f"redis://127.0.0.1:{closed_loopback_port()}/0", prefix=unique_prefix())
    try:
        for n in range(QUEUE_LIMIT + 50):
            await broker.publish("settings:1", {"n": n})
        publisher = broker._publisher
        assert publisher is not None
        assert publisher.queued <= QUEUE_LIMIT and publisher.dropped >= 50
    finally:
        await broker.close()
