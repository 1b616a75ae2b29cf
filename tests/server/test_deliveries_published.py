"""Real test deliveries, as a real receiver gets them, checked against the published definitions.

The builders are checked over every combination in tests/signing/; here each transport
(SMS API GET, POST and POST_JSON, signed and unsigned; Messages API JSON on every channel)
goes through the running server to a receiver on 127.0.0.1, so what is checked is what
crossed the wire.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from graph.relay import pk_of, to_global_id
from models import deliveries as stored
from models.enums import MessagesChannel, SignatureMethod, WebhookFormat
from tests.deliveries import DeliveryEnv, MakeEnv, collect, configure
from tests.live import graphql_ws, live_server
from tests.server.receiver import Received, Receiver, receiver
from tests.server.test_deliveries_follow import redeliver
from tests.server.test_deliveries_stream import TEST_WEBHOOK, key_id
from tests.webhook_conformance import messages_webhook_problems, sms_webhook_problems

SMS_EVENTS = ("DELIVERY_RECEIPT", "INBOUND_SMS")
MESSAGES_EVENTS = ("MESSAGE_STATUS", "INBOUND_MESSAGE")
# GraphQL channel names and the `channel` each payload must carry.
CHANNELS = {channel.name: channel.value for channel in MessagesChannel}


def sms_problems(received: Received, port: int, event: str, fmt: str, signed: bool) -> list[str]:
    return sms_webhook_problems(
        event=event,
        fmt=fmt,
        signed=signed,
        method=received.method,
        url=f"http://127.0.0.1:{port}{received.target}",
        content_type=received.header("Content-Type"),
        body=received.body,
    )


async def test_sms_api_webhooks_on_the_wire_match_the_published_schema(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env()
    seeded = await env.seed()
    seen: list[tuple[str, str, bool]] = []
    async with receiver() as rx, live_server(env.app) as base, graphql_ws(base) as ws:
        await ws.init({"Authorization": seeded.bearer()})
        for signed in (True, False):
            await configure(seeded, method=SignatureMethod.SHA512_HMAC, sign_sms=signed)
            for fmt in WebhookFormat:
                await configure(seeded, fmt=fmt)
                for event in SMS_EVENTS:
                    url = rx.url(f"/{event}")
                    variables = {"input": {"apiKeyId": key_id(seeded), "event": event, "url": url}}
                    steps, errors = await collect(ws, TEST_WEBHOOK, variables)
                    assert errors == [] and steps[-1]["kind"] == "SUCCEEDED", steps[-1]
                    seen.append((event, fmt.value, signed))
    assert len(rx.requests) == len(seen) == 12
    for received, (event, fmt, signed) in zip(rx.requests, seen, strict=True):
        assert sms_problems(received, rx.port, event, fmt, signed) == [], (event, fmt, signed)


async def test_messages_api_webhooks_on_every_channel_match_the_published_schema(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env()
    seeded = await env.seed()
    secret = await env.signature_secret(seeded)
    seen: list[tuple[str, str]] = []
    async with receiver() as rx, live_server(env.app) as base, graphql_ws(base) as ws:
        await ws.init({"Authorization": seeded.bearer()})
        for channel in CHANNELS:
            for event in MESSAGES_EVENTS:
                variables = {
                    "input": {
                        "apiKeyId": key_id(seeded),
                        "event": event,
                        "url": rx.url(f"/{event}/{channel}"),
                        "channel": channel,
                    }
                }
                steps, errors = await collect(ws, TEST_WEBHOOK, variables)
                assert errors == [] and steps[-1]["kind"] == "SUCCEEDED", steps[-1]
                assert f"({CHANNELS[channel]} channel, JSON)" in steps[1]["detail"]
                seen.append((event, CHANNELS[channel]))
    assert len(rx.requests) == len(seen) == 10
    for received, (event, channel) in zip(rx.requests, seen, strict=True):
        assert json.loads(received.body)["channel"] == channel
        problems = messages_webhook_problems(
            event=event,
            channel=channel,
            method=received.method,
            headers=received.header_map,
            body=received.body,
            secret=secret,
        )
        assert problems == [], (event, channel)


async def resend(env: DeliveryEnv, auth: str, delivery_pk: int) -> dict[str, Any]:
    again = await redeliver(env, auth, to_global_id("TestDelivery", delivery_pk))
    assert again["userErrors"] == []
    return again


async def arrivals(rx: Receiver, count: int) -> None:
    """Wait (generously) until the receiver has `count` requests."""
    for _ in range(1000):
        if len(rx.requests) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{len(rx.requests)} of {count} webhooks arrived")


async def test_the_channel_defaults_to_sms_and_a_redelivery_keeps_it(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver() as rx, live_server(env.app) as base, graphql_ws(base) as ws:
        await ws.init({"Authorization": seeded.bearer()})
        for extra in ({}, {"channel": "MESSENGER"}):
            variables = {
                "input": {
                    "apiKeyId": key_id(seeded),
                    "event": "INBOUND_MESSAGE",
                    "url": rx.url(),
                    **extra,
                }
            }
            steps, errors = await collect(ws, TEST_WEBHOOK, variables)
            assert errors == [] and steps[-1]["kind"] == "SUCCEEDED"
        messenger = await stored.TestDelivery.filter(channel=MessagesChannel.MESSENGER).get()
        await resend(env, seeded.bearer(), messenger.id)
        await arrivals(rx, 3)
        # A row from before channels were stored (channel NULL) is resent as SMS, and says so.
        older = await stored.TestDelivery.filter(channel=MessagesChannel.SMS).get()
        await stored.TestDelivery.filter(id=older.id).update(channel=None)
        again = await resend(env, seeded.bearer(), older.id)
        await arrivals(rx, 4)
    channels = [json.loads(received.body)["channel"] for received in rx.requests]
    assert channels == ["sms", "messenger", "messenger", "sms"]
    resent_older = await stored.TestDelivery.get(id=pk_of(again["delivery"]["id"], "TestDelivery"))
    assert resent_older.channel is MessagesChannel.SMS
    first, resent = json.loads(rx.requests[1].body), json.loads(rx.requests[2].body)
    assert resent["message_uuid"] != first["message_uuid"]
    assert resent["from"] == first["from"] and resent["message_type"] == "text"


async def test_a_channel_on_an_sms_api_event_is_refused_naming_the_field(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with live_server(env.app) as base, graphql_ws(base) as ws:
        await ws.init({"Authorization": seeded.bearer()})
        variables = {
            "input": {
                "apiKeyId": key_id(seeded),
                "event": "DELIVERY_RECEIPT",
                "channel": "WHATSAPP",
            }
        }
        steps, errors = await collect(ws, TEST_WEBHOOK, variables)
        assert steps == []
        assert errors[0]["extensions"] == {"code": "INVALID_INPUT", "field": ["input", "channel"]}
        assert "has no channel" in errors[0]["message"]
        # SMS, the default, is accepted for every event, so existing clients are unchanged.
        variables["input"]["channel"] = "SMS"
        steps, errors = await collect(ws, TEST_WEBHOOK, variables)
        assert errors == [] and steps[-1]["final"]
    assert await stored.TestDelivery.filter(channel__isnull=False).count() == 0
