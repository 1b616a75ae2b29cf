"""Starting a test delivery by mutation, following it by ID, and idempotency keys: what a page
needs so a re-render, a reconnect or a retry never sends a second webhook."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
from typing import Any

import httpx

from models import deliveries as stored
from resolvers.principal import Role
from tests.conftest import Seeded, gql
from tests.deliveries import DeliveryEnv, MakeEnv, collect
from tests.live import graphql_ws, live_server
from tests.server.receiver import receiver
from tests.server.test_deliveries_stream import TEST_WEBHOOK, key_id

START = """
mutation($input: TestDeliveryStartInput!) {
  testDeliveryStart(input: $input) {
    delivery { id status url }
    deliveryEdge { cursor node { id status } }
    userErrors { field code message }
  }
}
"""
FOLLOW = """
subscription($id: ID!) {
  deliverySteps(deliveryId: $id) {
    id sequence kind final status errorCode
    delivery { id status errorCode finishedAt }
  }
}
"""
STEP_NODE = """
query($id: ID!) { node(id: $id) { id ... on DeliveryStep { sequence kind delivery { id } } } }
"""
LIST = """
query($key: String!) {
  apiKey(key: $key) { testDeliveries(first: 10) { totalCount edges { cursor node { id } } } }
}
"""
REDELIVER = """
mutation($input: TestDeliveryRedeliverInput!) {
  testDeliveryRedeliver(input: $input) {
    delivery { id } deliveryEdge { cursor node { id status } } userErrors { code }
  }
}
"""


async def post(env: DeliveryEnv, document: str, variables: dict[str, Any], auth: str) -> Any:
    transport = httpx.ASGITransport(app=env.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        body = await gql(client, document, variables, auth=auth)
    assert "errors" not in body, body
    (payload,) = body["data"].values()
    return payload


async def start(env: DeliveryEnv, seeded: Seeded, auth: str | None = None, **values: Any) -> Any:
    variables = {"input": {"apiKeyId": key_id(seeded), "event": "MESSAGE_STATUS", **values}}
    return await post(env, START, variables, auth or seeded.bearer())


async def follow(env: DeliveryEnv, seeded: Seeded, delivery_id: str) -> list[dict[str, Any]]:
    async with live_server(env.app) as base, graphql_ws(base) as ws:
        await ws.init({"Authorization": seeded.bearer()})
        steps, errors = await collect(ws, FOLLOW, {"id": delivery_id})
    assert errors == []
    return steps


async def finished(delivery_id: str) -> None:
    pk = int(base64.urlsafe_b64decode(delivery_id).decode().split(":")[1])
    for _ in range(1000):
        row = await stored.TestDelivery.get(id=pk)
        if row.finished_at is not None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the delivery never finished")


async def test_a_mutation_starts_a_delivery_and_its_steps_link_back_to_it(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver() as rx:
        payload = await start(env, seeded, url=rx.url())
        assert payload["userErrors"] == []
        delivery = payload["delivery"]
        assert delivery["status"] == "PENDING"
        assert payload["deliveryEdge"]["node"]["id"] == delivery["id"]
        steps = await follow(env, seeded, delivery["id"])
        # Following again (a re-render, a reconnect) replays; it never sends again.
        again = await follow(env, seeded, delivery["id"])
    assert len(rx.requests) == 1
    assert [step["id"] for step in again] == [step["id"] for step in steps]
    assert len({step["id"] for step in steps}) == len(steps)
    assert all(step["delivery"]["id"] == delivery["id"] for step in steps)
    final = steps[-1]
    assert final["final"] is True
    assert final["delivery"]["status"] == "SUCCEEDED"
    assert final["delivery"]["finishedAt"] is not None
    # The edge's cursor is the one the list gives that delivery.
    listed = await post(env, LIST, {"key": seeded.api_key}, seeded.bearer())
    edges = listed["testDeliveries"]["edges"]
    assert edges[0] == {"cursor": payload["deliveryEdge"]["cursor"], "node": {"id": delivery["id"]}}
    assert listed["testDeliveries"]["totalCount"] == 1


async def test_a_step_is_a_node_the_owner_can_refetch(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    other = await env.seed("Other")
    async with receiver() as rx:
        delivery_id = (await start(env, seeded, url=rx.url()))["delivery"]["id"]
        steps = await follow(env, seeded, delivery_id)
    second = steps[1]
    found = await post(env, STEP_NODE, {"id": second["id"]}, seeded.bearer())
    assert found == {
        "id": second["id"],
        "sequence": 2,
        "kind": second["kind"],
        "delivery": {"id": delivery_id},
    }
    assert await post(env, STEP_NODE, {"id": second["id"]}, other.bearer()) is None


async def test_a_failed_delivery_names_its_error_as_an_enum(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    # The seeded key has no webhook configured: nowhere to send it.
    delivery_id = (await start(env, seeded))["delivery"]["id"]
    steps = await follow(env, seeded, delivery_id)
    assert steps[-1]["errorCode"] == "NO_URL"
    assert steps[-1]["delivery"] == {
        "id": delivery_id,
        "status": "FAILED",
        "errorCode": "NO_URL",
        "finishedAt": steps[-1]["delivery"]["finishedAt"],
    }


async def test_the_same_idempotency_key_returns_the_same_delivery(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver() as rx:
        first = await start(env, seeded, url=rx.url(), idempotencyKey="click-1")
        await finished(first["delivery"]["id"])
        # Even with other input: the key names the delivery, whatever else is sent.
        second = await start(env, seeded, url=rx.url("/other"), idempotencyKey="click-1")
        third = await start(env, seeded, url=rx.url(), idempotencyKey="click-2")
        await finished(third["delivery"]["id"])
    assert second["delivery"]["id"] == first["delivery"]["id"]
    assert third["delivery"]["id"] != first["delivery"]["id"]
    assert [request.target for request in rx.requests] == ["/hook", "/hook"]


async def test_an_idempotency_key_is_per_api_key_and_expires(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    other = await env.seed("Other")
    async with receiver() as rx:
        mine = await start(env, seeded, url=rx.url(), idempotencyKey="k")
        theirs = await start(env, other, url=rx.url(), idempotencyKey="k")
        assert theirs["delivery"]["id"] != mine["delivery"]["id"]
        await finished(mine["delivery"]["id"])
        await finished(theirs["delivery"]["id"])
        await stored.TestDelivery.filter(api_key_id=seeded.api_key_id).update(
            created_at=env.deps.clock() - timedelta(hours=25)
        )
        later = await start(env, seeded, url=rx.url(), idempotencyKey="k")
        await finished(later["delivery"]["id"])
    assert later["delivery"]["id"] != mine["delivery"]["id"]
    assert len(rx.requests) == 3


async def test_two_replicas_racing_on_one_key_send_once(delivery_env: MakeEnv) -> None:
    one, two = delivery_env(), delivery_env()
    seeded = await one.seed()
    async with receiver() as rx:
        starts = [
            start(env, seeded, url=rx.url(), idempotencyKey="same") for env in (one, two, one, two)
        ]
        answers = await asyncio.gather(*starts)
        ids = {answer["delivery"]["id"] for answer in answers}
        assert len(ids) == 1
        await finished(ids.pop())
    assert len(rx.requests) == 1
    assert await stored.TestDelivery.filter(api_key_id=seeded.api_key_id).count() == 1


async def test_a_bad_idempotency_key_or_a_viewer_is_refused(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    too_long = await start(env, seeded, url="http://127.0.0.1:9/", idempotencyKey="x" * 256)
    assert too_long["delivery"] is None and too_long["deliveryEdge"] is None
    assert [(e["field"], e["code"]) for e in too_long["userErrors"]] == [
        (["input", "idempotencyKey"], "INVALID_INPUT")
    ]
    viewer = await start(env, seeded, auth=seeded.bearer(Role.VIEWER), url="http://127.0.0.1:9/")
    assert [e["code"] for e in viewer["userErrors"]] == ["FORBIDDEN"]
    assert await stored.TestDelivery.all().count() == 0


async def test_resubscribing_test_webhook_with_a_key_follows_one_delivery(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver() as rx, live_server(env.app) as base:
        variables = {
            "input": {
                "apiKeyId": key_id(seeded),
                "event": "MESSAGE_STATUS",
                "url": rx.url(),
                "idempotencyKey": "mount-1",
            }
        }
        runs = []
        for _ in range(2):  # React StrictMode mounts twice
            async with graphql_ws(base) as ws:
                await ws.init({"Authorization": seeded.bearer()})
                steps, errors = await collect(ws, TEST_WEBHOOK, variables)
                assert errors == []
                runs.append(steps)
    assert len(rx.requests) == 1
    assert runs[0] == runs[1]
    assert runs[0][-1]["status"] == "SUCCEEDED"


async def test_a_redelivery_returns_its_edge(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver() as rx:
        original = (await start(env, seeded, url=rx.url()))["delivery"]["id"]
        await finished(original)
        payload = await post(env, REDELIVER, {"input": {"deliveryId": original}}, seeded.bearer())
        await finished(payload["delivery"]["id"])
    edge = payload["deliveryEdge"]
    assert edge["node"] == {"id": payload["delivery"]["id"], "status": "PENDING"}
    listed = await post(env, LIST, {"key": seeded.api_key}, seeded.bearer())
    assert listed["testDeliveries"]["edges"][0]["cursor"] == edge["cursor"]
    assert listed["testDeliveries"]["totalCount"] == 2
