"""settingsChanged over a real WebSocket: changes arrive with the key read afresh, and the
subscription refuses keys the caller cannot see."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from graph.relay import to_global_id
from models.account import Account
from resolvers import provisioning
from resolvers.deps import Deps
from resolvers.events import settings_channel
from resolvers.principal import Role
from tests.conftest import Seeded, basic_header, gql, seed_account
from tests.live import graphql_ws, live_server, next_payload, wait_subscribed

SETTINGS_CHANGED = """
subscription($id: ID!) { settingsChanged(apiKeyId: $id) {
  section actor at
  apiKey { id key messaging { version sms { deliveryReceiptUrl } } signature { method } }
} }
"""
SMS_UPDATE = """
mutation($input: SmsWebhooksUpdateInput!) { smsWebhooksUpdate(input: $input) {
  userErrors { code }
} }
"""
SIGNATURE_UPDATE = """
mutation($input: SignatureSettingsUpdateInput!) { signatureSettingsUpdate(input: $input) {
  userErrors { code }
} }
"""
DLR = "https://example.com/dlr"


async def test_a_change_reaches_the_subscriber_with_the_fresh_key(
    app: Any, client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    key_id = to_global_id("ApiKey", seeded.api_key_id)
    async with live_server(app) as url, graphql_ws(url) as ws:
        assert (await ws.init({"Authorization": seeded.bearer(Role.VIEWER)}))["type"] == (
            "connection_ack"
        )
        op_id = await ws.subscribe(SETTINGS_CHANGED, {"id": key_id})
        await wait_subscribed(deps.broker, settings_channel(seeded.api_key_id))
        for document, fields in (
            (SMS_UPDATE, {"deliveryReceiptUrl": DLR}),
            (SIGNATURE_UPDATE, {"method": "SHA1_HMAC"}),
        ):
            body = await gql(
                client, document, {"input": {"apiKeyId": key_id, **fields}}, auth=seeded.basic
            )
            assert "errors" not in body, body
        first = (await next_payload(ws, op_id))["data"]["settingsChanged"]
        second = (await next_payload(ws, op_id))["data"]["settingsChanged"]
    assert first["section"] == "smsWebhooks"
    assert first["actor"] == f"key:{seeded.api_key}"
    assert first["at"]
    # The key is read when each event arrives, never from a loader cache of the socket:
    # the second event shows the signature the second change wrote.
    assert first["apiKey"]["id"] == key_id
    assert first["apiKey"]["messaging"] == {"version": 2, "sms": {"deliveryReceiptUrl": DLR}}
    assert second["section"] == "signature"
    assert second["apiKey"]["signature"] == {"method": "SHA1_HMAC"}


async def test_foreign_malformed_and_missing_keys_end_the_stream_alike(
    app: Any, seeded: Seeded, deps: Deps
) -> None:
    other = await seed_account(deps, "Other")
    answers = []
    async with live_server(app) as url, graphql_ws(url) as ws:
        await ws.init({"Authorization": seeded.basic})
        for key_id in (
            to_global_id("ApiKey", other.api_key_id),
            to_global_id("ApiKey", 999_999),
            "not-a-global-id",
        ):
            op_id = await ws.subscribe(SETTINGS_CHANGED, {"id": key_id})
            payload = await next_payload(ws, op_id)
            assert await ws.receive() == {"id": op_id, "type": "complete"}
            answers.append(payload)
    assert all(answer == answers[0] for answer in answers)
    (error,) = answers[0]["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert answers[0]["data"] is None
    # Nothing was ever subscribed on the other account's channel.
    assert await deps.broker.subscribers(settings_channel(other.api_key_id)) == 0


async def test_a_non_primary_key_may_not_watch_the_primary(
    app: Any, seeded: Seeded, deps: Deps
) -> None:
    account = await Account.get(id=seeded.account_id)
    second, secret = await provisioning.create_api_key(
        deps=deps, account=account, nickname="Testing", is_primary=False
    )
    async with live_server(app) as url, graphql_ws(url) as ws:
        await ws.init({"Authorization": basic_header(second.key, secret)})
        op_id = await ws.subscribe(
            SETTINGS_CHANGED, {"id": to_global_id("ApiKey", seeded.api_key_id)}
        )
        payload = await next_payload(ws, op_id)
    assert payload["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_completing_the_subscription_unsubscribes(
    app: Any, seeded: Seeded, deps: Deps
) -> None:
    channel = settings_channel(seeded.api_key_id)
    async with live_server(app) as url, graphql_ws(url) as ws:
        await ws.init({"Authorization": seeded.basic})
        op_id = await ws.subscribe(
            SETTINGS_CHANGED, {"id": to_global_id("ApiKey", seeded.api_key_id)}
        )
        await wait_subscribed(deps.broker, channel)
        await ws.complete(op_id)
        for _ in range(1000):
            if await deps.broker.subscribers(channel) == 0:
                break
            await asyncio.sleep(0.005)
        assert await deps.broker.subscribers(channel) == 0
