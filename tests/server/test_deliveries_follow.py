"""Nothing lost: disconnects, replays, live following, redelivery, limits and shutdown."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from graph.relay import to_global_id
from models import deliveries as stored
from models.enums import DeliveryStatus
from resolvers.events import delivery_channel
from resolvers.principal import Role
from tests.brokers import two_replicas_brokers
from tests.conftest import Seeded, gql
from tests.deliveries import DeliveryEnv, MakeEnv, collect, configure
from tests.live import GraphQLWebSocket, graphql_ws, live_server
from tests.server.receiver import Answer, receiver
from tests.server.test_deliveries_stream import STEP_FIELDS, TEST_WEBHOOK, key_id

DELIVERY_STEPS = f"""
subscription($id: ID!) {{ deliverySteps(deliveryId: $id) {{ {STEP_FIELDS} }} }}
"""
REDELIVER = """
mutation($input: TestDeliveryRedeliverInput!) {
  testDeliveryRedeliver(input: $input) {
    delivery { id event url status finishedAt }
    userErrors { field code message }
  }
}
"""
FULL_RUN = ["STARTED", "SIGNED", "RESOLVED", "CONNECTED", "REQUEST_SENT", "RESPONSE", "SUCCEEDED"]


async def steps_until(ws: GraphQLWebSocket, kind: str) -> list[dict[str, Any]]:
    """Read `next` messages of the one open operation until a step of `kind` arrives."""
    steps: list[dict[str, Any]] = []
    while not steps or steps[-1]["kind"] != kind:
        message = await ws.receive()
        assert message["type"] == "next", message
        steps.append(next(iter(message["payload"]["data"].values())))
    return steps


async def rest_of(ws: GraphQLWebSocket) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    while (message := await ws.receive())["type"] == "next":
        steps.append(next(iter(message["payload"]["data"].values())))
    assert message["type"] == "complete", message
    return steps


def webhook_input(seeded: Seeded, url: str) -> dict[str, Any]:
    return {"input": {"apiKeyId": key_id(seeded), "event": "MESSAGE_STATUS", "url": url}}


async def redeliver(env: DeliveryEnv, auth: str, delivery_id: str) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=env.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        body = await gql(client, REDELIVER, {"input": {"deliveryId": delivery_id}}, auth=auth)
    assert "errors" not in body, body
    return body["data"]["testDeliveryRedeliver"]


async def test_a_client_that_disconnects_leaves_a_delivery_that_finishes(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env()
    seeded = await env.seed()
    gate = asyncio.Event()
    async with (
        receiver(Answer(gate=gate)) as rx,
        live_server(env.app) as base,
        graphql_ws(base) as ws,
    ):
        await ws.init({"Authorization": seeded.bearer()})
        await ws.subscribe(TEST_WEBHOOK, webhook_input(seeded, rx.url()))
        seen = await steps_until(ws, "REQUEST_SENT")
    delivery = await stored.TestDelivery.get(api_key_id=seeded.api_key_id)
    channel = delivery_channel(delivery.id)
    # The server drops the subscription once it notices the socket is gone.
    while channel in env.deps.broker._queues:  # type: ignore[attr-defined]  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    assert delivery.status is DeliveryStatus.PENDING
    gate.set()
    await env.tasks.wait()
    await delivery.refresh_from_db()
    assert delivery.status is DeliveryStatus.SUCCEEDED and delivery.finished_at is not None
    rows = await stored.DeliveryStep.filter(delivery_id=delivery.id).order_by("sequence")
    assert [row.kind.value for row in rows] == FULL_RUN
    assert [s["kind"] for s in seen] == FULL_RUN[:5]
    assert env.tasks.running == 0
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert others == []


async def test_delivery_steps_replays_a_finished_delivery(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with (
        receiver() as rx,
        live_server(env.app) as base,
        graphql_ws(base) as ws,
    ):
        await ws.init({"Authorization": seeded.bearer()})
        live, _ = await collect(ws, TEST_WEBHOOK, webhook_input(seeded, rx.url()))
    async with live_server(env.app) as base, graphql_ws(base) as ws:
        await ws.init({"Authorization": seeded.bearer(Role.VIEWER)})  # reading is enough
        replayed, errors = await collect(ws, DELIVERY_STEPS, {"id": live[0]["deliveryId"]})
    assert errors == []
    assert replayed == live
    assert [s["kind"] for s in replayed] == FULL_RUN


async def test_delivery_steps_follows_live_without_gaps_or_duplicates(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env()
    seeded = await env.seed()
    gate = asyncio.Event()
    async with (
        receiver(Answer(gate=gate)) as rx,
        live_server(env.app) as base,
        graphql_ws(base) as starter,
        graphql_ws(base) as follower,
    ):
        await starter.init({"Authorization": seeded.bearer()})
        await follower.init({"Authorization": seeded.bearer()})
        await starter.subscribe(TEST_WEBHOOK, webhook_input(seeded, rx.url()))
        first = await steps_until(starter, "REQUEST_SENT")
        await follower.subscribe(DELIVERY_STEPS, {"id": first[0]["deliveryId"]})
        followed = await steps_until(follower, "REQUEST_SENT")
        gate.set()
        started = first + await rest_of(starter)
        followed += await rest_of(follower)
    assert [s["sequence"] for s in followed] == list(range(1, 8))
    assert followed == started


async def test_foreign_deliveries_cannot_be_followed(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    other = await env.seed("Other")
    async with (
        receiver() as rx,
        live_server(env.app) as base,
        graphql_ws(base) as ws,
    ):
        await ws.init({"Authorization": other.bearer()})
        theirs, _ = await collect(ws, TEST_WEBHOOK, webhook_input(other, rx.url()))
    async with live_server(env.app) as base, graphql_ws(base) as ws:
        await ws.init({"Authorization": seeded.bearer()})
        for delivery_id in (theirs[0]["deliveryId"], to_global_id("TestDelivery", 999)):
            steps, errors = await collect(ws, DELIVERY_STEPS, {"id": delivery_id})
            assert steps == [] and errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_redeliver_sends_a_stored_delivery_again(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver(Answer(400)) as rx:
        async with live_server(env.app) as base, graphql_ws(base) as ws:
            await ws.init({"Authorization": seeded.bearer()})
            first, _ = await collect(ws, TEST_WEBHOOK, webhook_input(seeded, rx.url()))
        assert first[-1]["errorCode"] == "HTTP_STATUS"
        payload = await redeliver(env, seeded.bearer(), first[0]["deliveryId"])
        await env.tasks.wait()
    again = payload["delivery"]
    assert payload["userErrors"] == []
    assert again["id"] != first[0]["deliveryId"]
    assert (again["event"], again["url"], again["status"]) == (
        "MESSAGE_STATUS",
        rx.url(),
        "PENDING",
    )
    assert len(rx.requests) == 2
    # A fresh signature: the receiver can tell a redelivery from a replayed request.
    assert rx.requests[0].header("Authorization") != rx.requests[1].header("Authorization")
    async with live_server(env.app) as base, graphql_ws(base) as ws:
        await ws.init({"Authorization": seeded.bearer()})
        replayed, _ = await collect(ws, DELIVERY_STEPS, {"id": again["id"]})
    assert [s["kind"] for s in replayed] == FULL_RUN


async def test_a_redelivery_can_be_followed_from_its_start(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    gate = asyncio.Event()
    async with (
        receiver(Answer(), Answer(gate=gate)) as rx,
        live_server(env.app) as base,
        graphql_ws(base) as ws,
    ):
        await ws.init({"Authorization": seeded.bearer()})
        first, _ = await collect(ws, TEST_WEBHOOK, webhook_input(seeded, rx.url()))
        payload = await redeliver(env, seeded.bearer(), first[0]["deliveryId"])
        await ws.subscribe(DELIVERY_STEPS, {"id": payload["delivery"]["id"]})
        followed = await steps_until(ws, "REQUEST_SENT")
        gate.set()
        followed += await rest_of(ws)
    assert [s["sequence"] for s in followed] == list(range(1, 8))
    assert [s["kind"] for s in followed] == FULL_RUN


async def test_redeliver_refuses_viewers_and_foreign_deliveries(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    other = await env.seed("Other")
    async with (
        receiver() as rx,
        live_server(env.app) as base,
        graphql_ws(base) as ws,
    ):
        await ws.init({"Authorization": seeded.bearer()})
        mine, _ = await collect(ws, TEST_WEBHOOK, webhook_input(seeded, rx.url()))
    delivery_id = mine[0]["deliveryId"]
    viewer = await redeliver(env, seeded.bearer(Role.VIEWER), delivery_id)
    foreign = await redeliver(env, other.bearer(), delivery_id)
    assert viewer == {
        "delivery": None,
        "userErrors": [
            {"field": None, "code": "FORBIDDEN", "message": "This requires the ADMIN role."}
        ],
    }
    assert foreign["delivery"] is None
    assert foreign["userErrors"][0]["code"] == "NOT_FOUND"
    assert foreign["userErrors"][0]["field"] == ["input", "deliveryId"]
    assert await stored.TestDelivery.all().count() == 1


async def test_redelivering_a_delivery_that_had_no_url_uses_the_settings_now(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with live_server(env.app) as base, graphql_ws(base) as ws:
        await ws.init({"Authorization": seeded.bearer()})
        variables = {"input": {"apiKeyId": key_id(seeded), "event": "DELIVERY_RECEIPT"}}
        first, _ = await collect(ws, TEST_WEBHOOK, variables)
    assert first[-1]["errorCode"] == "NO_URL"
    async with receiver() as rx:
        await configure(seeded, delivery_receipt_url=rx.url("/fixed"))
        payload = await redeliver(env, seeded.bearer(), first[0]["deliveryId"])
        await env.tasks.wait()
    assert payload["delivery"]["url"] == rx.url("/fixed")
    assert [r.target for r in rx.requests] == ["/fixed"]


async def test_too_many_deliveries_in_flight_are_rate_limited(delivery_env: MakeEnv) -> None:
    env = delivery_env(max_deliveries_in_flight=1)
    seeded = await env.seed()
    gate = asyncio.Event()
    async with (
        receiver(Answer(gate=gate)) as rx,
        live_server(env.app) as base,
        graphql_ws(base) as ws,
        graphql_ws(base) as second,
    ):
        await ws.init({"Authorization": seeded.bearer()})
        await ws.subscribe(TEST_WEBHOOK, webhook_input(seeded, rx.url()))
        first = await steps_until(ws, "REQUEST_SENT")
        await second.init({"Authorization": seeded.bearer()})
        refused, errors = await collect(second, TEST_WEBHOOK, webhook_input(seeded, rx.url()))
        assert refused == [] and errors[0]["extensions"]["code"] == "RATE_LIMITED"
        payload = await redeliver(env, seeded.bearer(), first[0]["deliveryId"])
        assert payload["userErrors"][0]["code"] == "RATE_LIMITED"
        gate.set()
        assert (await rest_of(ws))[-1]["kind"] == "SUCCEEDED"
        again, errors = await collect(second, TEST_WEBHOOK, webhook_input(seeded, rx.url()))
        assert errors == [] and again[-1]["kind"] == "SUCCEEDED"
    assert await stored.TestDelivery.all().count() == 2


async def test_the_limit_is_per_account(delivery_env: MakeEnv) -> None:
    env = delivery_env(max_deliveries_in_flight=1)
    seeded = await env.seed()
    other = await env.seed("Other")
    gate = asyncio.Event()
    async with (
        receiver(Answer(gate=gate)) as rx,
        live_server(env.app) as base,
        graphql_ws(base) as ws,
        graphql_ws(base) as theirs,
    ):
        await ws.init({"Authorization": seeded.bearer()})
        await ws.subscribe(TEST_WEBHOOK, webhook_input(seeded, rx.url()))
        await steps_until(ws, "REQUEST_SENT")
        await theirs.init({"Authorization": other.bearer()})
        steps, errors = await collect(theirs, TEST_WEBHOOK, webhook_input(other, rx.url()))
        assert errors == [] and steps[-1]["kind"] == "SUCCEEDED"
        gate.set()
        await rest_of(ws)


async def test_shutdown_interrupts_a_running_delivery_and_stores_why(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env()
    seeded = await env.seed()
    gate = asyncio.Event()
    async with (
        receiver(Answer(gate=gate)) as rx,
        live_server(env.app) as base,
        graphql_ws(base) as ws,
    ):
        await ws.init({"Authorization": seeded.bearer()})
        await ws.subscribe(TEST_WEBHOOK, webhook_input(seeded, rx.url()))
        await steps_until(ws, "REQUEST_SENT")
        await env.tasks.close()
        (final,) = await rest_of(ws)
    # Its request had gone out: the receiver may have it, and the code says so.
    assert (final["kind"], final["errorCode"], final["final"]) == (
        "FAILED",
        "OUTCOME_UNKNOWN",
        True,
    )
    delivery = await stored.TestDelivery.get(api_key_id=seeded.api_key_id)
    assert delivery.status is DeliveryStatus.FAILED and delivery.error_code == "OUTCOME_UNKNOWN"
    assert env.tasks.running == 0


async def test_another_replica_follows_a_delivery_running_here(delivery_env: MakeEnv) -> None:
    here, there = delivery_env(), delivery_env()
    seeded = await here.seed()
    gate = asyncio.Event()
    async with (
        # Two server processes over one database and their own Redis clients (in-process
        # broker shared when TEST_REDIS_URL is unset).
        two_replicas_brokers() as (here_broker, there_broker),
        receiver(Answer(gate=gate)) as rx,
        live_server(here.app) as here_url,
        live_server(there.app) as there_url,
        graphql_ws(here_url) as starter,
        graphql_ws(there_url) as follower,
    ):
        here.deps.broker, there.deps.broker = here_broker, there_broker
        await starter.init({"Authorization": seeded.bearer()})
        await follower.init({"Authorization": seeded.bearer()})
        await starter.subscribe(TEST_WEBHOOK, webhook_input(seeded, rx.url()))
        first = await steps_until(starter, "REQUEST_SENT")
        await follower.subscribe(DELIVERY_STEPS, {"id": first[0]["deliveryId"]})
        followed = await steps_until(follower, "REQUEST_SENT")
        gate.set()
        followed += await rest_of(follower)
        await rest_of(starter)
    assert [s["kind"] for s in followed] == FULL_RUN
    assert there.tasks.running == 0 and here.tasks.running == 0
