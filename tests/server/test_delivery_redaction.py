"""Sent signatures never reach the delivery log: redacted when streamed, stored and read back."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jwt

from models import deliveries as stored
from models.enums import DeliveryStepKind, SignatureMethod, WebhookFormat
from resolvers.principal import Role
from signing.sms import sms_signature_base
from tests.conftest import Seeded, gql
from tests.deliveries import DeliveryEnv, MakeEnv, collect, configure
from tests.live import graphql_ws, live_server
from tests.server.receiver import Received, receiver
from tests.server.test_deliveries_matrix import params_read_by_a_receiver
from tests.server.test_deliveries_stream import key_id

STEP = """
  kind request { method url headers { name value } body signature { scheme claims signedBase } }
"""
STEPS = f"""
query($key: String!) {{
  apiKey(key: $key) {{ testDeliveries(first: 10) {{ edges {{ node {{ steps {{ {STEP} }} }} }} }} }}
}}
"""
TEST_WEBHOOK = f"""
subscription($input: TestWebhookInput!) {{ testWebhook(input: $input) {{ {STEP} }} }}
"""
CHECK = """
query($key: String!, $input: SignatureCheckInput!) {
  apiKey(key: $key) { signatureCheck(input: $input) { valid scheme reason } }
}
"""


async def send(
    env: DeliveryEnv, seeded: Seeded, **input_values: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One testWebhook subscription, its steps as streamed: (steps, errors)."""
    variables = {"input": {"apiKeyId": key_id(seeded), **input_values}}
    async with live_server(env.app) as base, graphql_ws(base) as ws:
        await ws.init({"Authorization": seeded.bearer()})
        return await collect(ws, TEST_WEBHOOK, variables)


async def read_steps(env: DeliveryEnv, seeded: Seeded, auth: str) -> list[dict[str, Any]]:
    transport = httpx.ASGITransport(app=env.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        body = await gql(client, STEPS, {"key": seeded.api_key}, auth=auth)
    assert "errors" not in body, body
    edges = body["data"]["apiKey"]["testDeliveries"]["edges"]
    return [step for edge in edges for step in edge["node"]["steps"]]


def request_sent(steps: list[dict[str, Any]]) -> dict[str, Any]:
    (step,) = [step for step in steps if step["kind"] == "REQUEST_SENT"]
    return step["request"]


async def stored_requests() -> str:
    rows = await stored.DeliveryStep.filter(kind=DeliveryStepKind.REQUEST_SENT).all()
    return json.dumps([row.request for row in rows])


def replay_input(received: Received, port: int) -> dict[str, Any]:
    return {
        "httpMethod": received.method,
        "url": f"http://127.0.0.1:{port}{received.target}",
        "headers": [{"name": name, "value": value} for name, value in received.header_map.items()],
        "body": received.body.decode(),
    }


async def test_a_messages_jwt_is_redacted_and_its_claims_shown(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver() as rx:
        streamed, errors = await send(env, seeded, event="MESSAGE_STATUS", url=rx.url())
    assert errors == []
    (received,) = rx.requests
    token = received.header("Authorization").removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 300
    signature = token.rsplit(".", 1)[1]
    readers = [seeded.bearer(Role.VIEWER), seeded.bearer(Role.ADMIN), seeded.basic]
    for steps in [streamed] + [await read_steps(env, seeded, auth) for auth in readers]:
        sent = request_sent(steps)
        assert token not in json.dumps(steps) and signature not in json.dumps(steps)
        assert {"name": "Authorization", "value": "Bearer REDACTED"} in sent["headers"]
        assert sent["signature"] == {"scheme": "MESSAGES_JWT", "claims": claims, "signedBase": None}
        assert sent["body"] == received.body.decode()
    assert signature not in await stored_requests()


async def test_an_sms_sig_is_redacted_and_its_base_string_shown(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    await configure(seeded, method=SignatureMethod.SHA256_HMAC, sign_sms=True)
    for fmt in WebhookFormat:
        await configure(seeded, fmt=fmt)
        async with receiver() as rx:
            await send(env, seeded, event="INBOUND_SMS", url=rx.url(f"/{fmt.value}?team=ops"))
        params = params_read_by_a_receiver(rx.requests[0])
        steps = await read_steps(env, seeded, seeded.bearer(Role.VIEWER))
        # Deliveries are listed newest first: the first REQUEST_SENT is this format's.
        sent = next(step["request"] for step in steps if step["kind"] == "REQUEST_SENT")
        assert params["sig"] not in json.dumps(steps), fmt
        assert "sig=REDACTED" in sent["url"] + (sent["body"] or "") or (
            json.loads(sent["body"])["sig"] == "REDACTED"
        )
        assert sent["signature"] == {
            "scheme": "SMS_SIG",
            "claims": None,
            "signedBase": sms_signature_base(params),
        }
        assert params["sig"] not in await stored_requests()


async def test_what_a_viewer_reads_cannot_be_replayed_through_the_check(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver() as rx:
        await send(env, seeded, event="MESSAGE_STATUS", url=rx.url())
    sent = request_sent(await read_steps(env, seeded, seeded.bearer(Role.VIEWER)))
    values = {
        "httpMethod": sent["method"],
        "url": sent["url"],
        "headers": sent["headers"],
        "body": sent["body"],
    }
    transport = httpx.ASGITransport(app=env.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        body = await gql(
            client,
            CHECK,
            {"key": seeded.api_key, "input": values},
            auth=seeded.bearer(Role.VIEWER),
        )
        verdict = body["data"]["apiKey"]["signatureCheck"]
        assert verdict["valid"] is False
        # The exact bytes the receiver got still verify while fresh (the helper works).
        fresh = await gql(
            client,
            CHECK,
            {"key": seeded.api_key, "input": replay_input(rx.requests[0], rx.port)},
            auth=seeded.basic,
        )
    assert fresh["data"]["apiKey"]["signatureCheck"]["valid"] is True


async def test_a_step_stored_verbatim_before_this_release_is_redacted_when_read(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver() as rx:
        await send(env, seeded, event="MESSAGE_STATUS", url=rx.url())
    received = rx.requests[0]
    # What the old code stored: the request exactly as sent, token and all.
    row = await stored.DeliveryStep.get(kind=DeliveryStepKind.REQUEST_SENT)
    row.request = {
        "method": "POST",
        "url": rx.url(),
        "headers": [["Authorization", received.header("Authorization")]],
        "body": received.body.decode(),
    }
    await row.save()
    sent = request_sent(await read_steps(env, seeded, seeded.bearer(Role.VIEWER)))
    assert sent["headers"] == [{"name": "Authorization", "value": "Bearer REDACTED"}]
    assert sent["signature"]["claims"]["api_key"] == seeded.api_key
