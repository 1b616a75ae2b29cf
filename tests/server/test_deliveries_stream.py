"""testWebhook over a real WebSocket against uvicorn, sending to a real receiver on 127.0.0.1."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from vonage_jwt.verify_jwt import verify_signature

from graph.relay import to_global_id
from models import deliveries as stored
from models.enums import MessagingApi
from resolvers import provisioning
from resolvers.principal import Role
from tests.conftest import Seeded, gql
from tests.deliveries import DeliveryEnv, MakeEnv, collect, configure
from tests.live import graphql_ws, live_server
from tests.server.receiver import Answer, closed_port, receiver

STEP_FIELDS = """
  deliveryId sequence kind at attempt detail address errorCode final status
  request { method url headers { name value } body }
  response { statusCode headers { name value } body durationMs }
"""
TEST_WEBHOOK = f"""
subscription($input: TestWebhookInput!) {{ testWebhook(input: $input) {{ {STEP_FIELDS} }} }}
"""
DELIVERIES = """
query($key: String!) {
  apiKey(key: $key) {
    testDeliveries(first: 10) { edges { node {
      id event url status errorCode createdAt finishedAt
      steps { sequence kind final status errorCode }
    } } }
  }
}
"""


def key_id(seeded: Seeded) -> str:
    return to_global_id("ApiKey", seeded.api_key_id)


async def send(
    env: DeliveryEnv, seeded: Seeded, auth: str | None = None, **input_values: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One testWebhook subscription over a fresh WebSocket: (steps, errors)."""
    variables = {"input": {"apiKeyId": key_id(seeded), **input_values}}
    async with live_server(env.app) as base, graphql_ws(base) as ws:
        await ws.init({"Authorization": auth or seeded.bearer()})
        return await collect(ws, TEST_WEBHOOK, variables)


def kinds(steps: list[dict[str, Any]]) -> list[str]:
    return [step["kind"] for step in steps]


async def test_a_delivery_streams_every_step_then_completes(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver() as rx:
        steps, errors = await send(env, seeded, event="MESSAGE_STATUS", url=rx.url())
    assert errors == []
    assert kinds(steps) == [
        "STARTED",
        "SIGNED",
        "RESOLVED",
        "CONNECTED",
        "REQUEST_SENT",
        "RESPONSE",
        "SUCCEEDED",
    ]
    assert [s["sequence"] for s in steps] == list(range(1, 8))
    assert [s["final"] for s in steps] == [False] * 6 + [True]
    assert [s["status"] for s in steps] == ["PENDING"] * 6 + ["SUCCEEDED"]
    assert len({s["deliveryId"] for s in steps}) == 1
    (received,) = rx.requests
    sent = steps[4]["request"]
    assert sent["body"] == received.body.decode()
    assert {"name": "Authorization", "value": "Bearer REDACTED"} in sent["headers"]
    token = received.header("Authorization").removeprefix("Bearer ")
    assert verify_signature(token, await env.signature_secret(seeded)) is True
    assert await env.signature_secret(seeded) not in json.dumps(steps)
    assert steps[5]["response"]["statusCode"] == 200 and steps[5]["response"]["body"] == "ok"
    assert steps[6]["attempt"] == 1 and steps[6]["errorCode"] is None


async def test_deliveries_are_listed_newest_first_with_their_steps(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver(Answer(), Answer(404)) as rx:
        await send(env, seeded, event="MESSAGE_STATUS", url=rx.url("/first"))
        await send(env, seeded, event="INBOUND_SMS", url=rx.url("/second"))
    transport = httpx.ASGITransport(app=env.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        body = await gql(client, DELIVERIES, {"key": seeded.api_key}, auth=seeded.basic)
    newest, oldest = [e["node"] for e in body["data"]["apiKey"]["testDeliveries"]["edges"]]
    assert (newest["event"], newest["status"], newest["errorCode"]) == (
        "INBOUND_SMS",
        "FAILED",
        "HTTP_STATUS",
    )
    assert newest["url"] == rx.url("/second") and newest["finishedAt"] is not None
    assert oldest["event"] == "MESSAGE_STATUS" and oldest["status"] == "SUCCEEDED"
    assert [s["sequence"] for s in oldest["steps"]] == list(range(1, 8))
    assert oldest["steps"][-1] == {
        "sequence": 7,
        "kind": "SUCCEEDED",
        "final": True,
        "status": "SUCCEEDED",
        "errorCode": None,
    }


async def test_a_server_error_is_retried_until_it_succeeds(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver(Answer(500, b"busy")) as rx:
        steps, _ = await send(env, seeded, event="DELIVERY_RECEIPT", url=rx.url())
    assert kinds(steps)[2:] == [
        "RESOLVED",
        "CONNECTED",
        "REQUEST_SENT",
        "RESPONSE",
        "RETRY_SCHEDULED",
        "RESOLVED",
        "CONNECTED",
        "REQUEST_SENT",
        "RESPONSE",
        "SUCCEEDED",
    ]
    assert [s["attempt"] for s in steps[2:]] == [1] * 5 + [2] * 5
    assert steps[5]["response"]["statusCode"] == 500
    assert "Attempt 2 of 3" in steps[6]["detail"]
    assert len(rx.requests) == 2
    assert rx.requests[0].body == rx.requests[1].body


async def test_429_is_retried_then_fails_with_http_status(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver(Answer(429), Answer(429), Answer(429)) as rx:
        steps, _ = await send(env, seeded, event="MESSAGE_STATUS", url=rx.url())
    assert kinds(steps).count("RETRY_SCHEDULED") == 2
    final = steps[-1]
    assert (final["kind"], final["errorCode"], final["attempt"]) == ("FAILED", "HTTP_STATUS", 3)
    assert "429" in final["detail"]
    assert len(rx.requests) == 3


async def test_a_client_error_is_not_retried(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver(Answer(401)) as rx:
        steps, _ = await send(env, seeded, event="MESSAGE_STATUS", url=rx.url())
    assert "RETRY_SCHEDULED" not in kinds(steps)
    assert steps[-1]["errorCode"] == "HTTP_STATUS"
    assert len(rx.requests) == 1


async def test_a_redirect_fails_without_being_followed(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver(Answer(301, b"", (("Location", "/moved"),))) as rx:
        steps, _ = await send(env, seeded, event="MESSAGE_STATUS", url=rx.url())
    assert (steps[-1]["kind"], steps[-1]["errorCode"]) == ("FAILED", "REDIRECT")
    assert len(rx.requests) == 1


async def test_a_huge_answer_fails_too_large(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver(Answer(body=b"z" * (65 * 1024))) as rx:
        steps, _ = await send(env, seeded, event="MESSAGE_STATUS", url=rx.url())
    assert steps[-1]["errorCode"] == "TOO_LARGE"
    assert len(steps[-2]["response"]["body"]) == 4096


async def test_a_refused_connection_fails_after_every_attempt(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    url = f"http://127.0.0.1:{closed_port()}/hook"
    steps, _ = await send(env, seeded, event="MESSAGE_STATUS", url=url)
    assert kinds(steps) == [
        "STARTED",
        "SIGNED",
        *(["RESOLVED", "RETRY_SCHEDULED"] * 2),
        "RESOLVED",
        "FAILED",
    ]
    assert steps[-1]["errorCode"] == "CONNECT_FAILED" and steps[-1]["attempt"] == 3
    assert "3 attempts" in steps[-1]["detail"]


async def test_a_host_that_does_not_resolve_fails_at_once(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    steps, _ = await send(
        env, seeded, event="MESSAGE_STATUS", url="http://switchboard-test.invalid/hook"
    )
    assert kinds(steps) == ["STARTED", "SIGNED", "FAILED"]
    assert steps[-1]["errorCode"] == "DNS_FAILED"


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.1", "[::1]", "localhost", "0x7f000001", "2130706433"]
)
async def test_loopback_is_blocked_when_private_targets_are_not_allowed(
    delivery_env: MakeEnv, host: str
) -> None:
    env = delivery_env(allow_private=False)
    seeded = await env.seed()
    async with receiver() as rx:
        steps, errors = await send(
            env, seeded, event="MESSAGE_STATUS", url=f"http://{host}:{rx.port}/hook"
        )
    assert errors == []
    assert kinds(steps) == ["STARTED", "SIGNED", "BLOCKED", "FAILED"]
    assert steps[-1]["errorCode"] == "BLOCKED_ADDRESS"
    assert "public address" in steps[2]["detail"]
    assert rx.requests == []
    delivery = await stored.TestDelivery.get(api_key_id=seeded.api_key_id)
    assert delivery.error_code == "BLOCKED_ADDRESS"


async def test_the_configured_webhook_is_used_when_no_url_is_given(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver() as rx:
        await configure(seeded, delivery_receipt_url=rx.url("/dlr"))
        steps, _ = await send(env, seeded, event="DELIVERY_RECEIPT")
    assert steps[-1]["kind"] == "SUCCEEDED"
    assert rx.requests[0].target == "/dlr"
    payload = json.loads(rx.requests[0].body)
    assert payload["api-key"] == seeded.api_key


async def test_a_number_uses_its_own_inbound_webhook_and_msisdn(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    number = await provisioning.add_number(
        api_key=seeded.api_key, msisdn="447700900321", country="GB"
    )
    async with receiver() as rx:
        await configure(seeded, api=MessagingApi.MESSAGES_API, inbound_url=rx.url("/key"))
        number.inbound_webhook_url = rx.url("/number")
        await number.save()
        steps, _ = await send(
            env, seeded, event="INBOUND_MESSAGE", numberId=to_global_id("Number", number.id)
        )
    assert steps[-1]["kind"] == "SUCCEEDED"
    (received,) = rx.requests
    assert received.target == "/number"
    assert json.loads(received.body)["to"] == "447700900321"


@pytest.mark.parametrize(
    ("configured", "reason"),
    [
        ({}, "No webhook URL is set"),
        ({"api": MessagingApi.MESSAGES_API, "delivery_receipt_url": "https://x.test/"}, "uses"),
    ],
)
async def test_nowhere_to_send_fails_with_no_url(
    delivery_env: MakeEnv, configured: dict[str, Any], reason: str
) -> None:
    env = delivery_env()
    seeded = await env.seed()
    await configure(seeded, **configured)
    steps, _ = await send(env, seeded, event="DELIVERY_RECEIPT")
    assert kinds(steps) == ["STARTED", "FAILED"]
    assert steps[-1]["errorCode"] == "NO_URL"
    assert reason in steps[-1]["detail"]
    assert (await stored.TestDelivery.get(api_key_id=seeded.api_key_id)).url == ""


async def test_refusals_are_errors_with_codes(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    other = await env.seed("Other")
    other_number = await provisioning.add_number(
        api_key=other.api_key, msisdn="447700900654", country="GB"
    )
    cases = [
        ({"apiKeyId": key_id(other)}, "NOT_FOUND", ["input", "apiKeyId"]),
        ({"apiKeyId": "bm9wZQ=="}, "NOT_FOUND", ["input", "apiKeyId"]),
        ({"numberId": to_global_id("Number", other_number.id)}, "NOT_FOUND", None),
        ({"url": "ftp://example.com/"}, "INVALID_URL", ["input", "url"]),
    ]
    async with live_server(env.app) as base, graphql_ws(base) as ws:
        await ws.init({"Authorization": seeded.bearer()})
        for overrides, code, field in cases:
            variables = {"input": {"apiKeyId": key_id(seeded), "event": "INBOUND_SMS", **overrides}}
            steps, errors = await collect(ws, TEST_WEBHOOK, variables)
            assert steps == []
            assert errors[0]["extensions"]["code"] == code, errors
            if field is not None:
                assert errors[0]["extensions"]["field"] == field
    assert await stored.TestDelivery.all().count() == 0


async def test_viewers_may_not_send(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver() as rx:
        steps, errors = await send(
            env, seeded, seeded.bearer(Role.VIEWER), event="MESSAGE_STATUS", url=rx.url()
        )
    assert steps == [] and errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert rx.requests == []
    assert await stored.DeliveryStep.all().count() == 0
