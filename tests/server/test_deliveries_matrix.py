"""Every signature method, SMS format and event, verified on what the receiver actually got."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qsl, urlsplit

import pytest
from vonage_http_client.auth import Auth
from vonage_jwt.verify_jwt import verify_signature

from models.enums import MessagingApi, SignatureMethod, WebhookFormat
from signing.check import check_webhook_signature
from tests.deliveries import MakeEnv, collect, configure
from tests.live import graphql_ws, live_server
from tests.server.receiver import Received, receiver
from tests.server.test_deliveries_stream import TEST_WEBHOOK, key_id

VONAGE_DIGESTS = {"MD5_HMAC": "md5", "SHA1_HMAC": "sha1", "SHA256_HMAC": "sha256"}
VONAGE_DIGESTS["SHA512_HMAC"] = "sha512"
SMS_EVENTS = ("DELIVERY_RECEIPT", "INBOUND_SMS")
MESSAGES_EVENTS = ("MESSAGE_STATUS", "INBOUND_MESSAGE")


def params_read_by_a_receiver(received: Received) -> dict[str, str]:
    """The SMS API parameters, parsed the way a customer's framework would."""
    if received.method == "GET":
        return dict(parse_qsl(urlsplit(received.target).query, keep_blank_values=True))
    if received.header("Content-Type") == "application/x-www-form-urlencoded":
        return dict(parse_qsl(received.body.decode(), keep_blank_values=True))
    return json.loads(received.body)


def md5_hash_signature(params: dict[str, str], secret: str) -> str:
    """The published legacy algorithm, written out here independently of signing/."""
    base = "".join(
        "&{}={}".format(name, params[name].replace("&", "_").replace("=", "_"))
        for name in sorted(params)
        if name != "sig"
    )
    return hashlib.md5((base + secret).encode()).hexdigest()


def assert_platform_verifies(received: Received, method: str, secret: str, api_key: str) -> None:
    params = params_read_by_a_receiver(received)
    assert {"timestamp", "sig"} <= set(params)
    if method == "MD5_HASH":
        assert params["sig"] == md5_hash_signature(params, secret)
    else:
        auth = Auth(
            api_key=api_key, signature_secret=secret, signature_method=VONAGE_DIGESTS[method]
        )
        assert auth.check_signature(params) is True


@pytest.mark.parametrize("method", [m.value for m in SignatureMethod])
async def test_every_format_and_event_verifies_at_the_receiver(
    delivery_env: MakeEnv, method: str
) -> None:
    env = delivery_env()
    seeded = await env.seed()
    secret = await env.signature_secret(seeded)
    await configure(seeded, method=SignatureMethod(method), sign_sms=True)
    sent = 0
    async with receiver() as rx, live_server(env.app) as base, graphql_ws(base) as ws:
        await ws.init({"Authorization": seeded.bearer()})
        for fmt in WebhookFormat:
            await configure(seeded, fmt=fmt)
            for event in (*SMS_EVENTS, *MESSAGES_EVENTS):
                url = rx.url(f"/{event}/{fmt.value}?team=ops")
                variables = {"input": {"apiKeyId": key_id(seeded), "event": event, "url": url}}
                steps, errors = await collect(ws, TEST_WEBHOOK, variables)
                assert errors == [] and steps[-1]["kind"] == "SUCCEEDED", steps[-1]
                received = rx.requests[sent]
                sent += 1
                verdict = check_webhook_signature(
                    http_method=received.method,
                    url=f"http://127.0.0.1:{rx.port}{received.target}",
                    headers=received.header_map,
                    body=received.body,
                    secret=secret,
                    method=method,
                )
                assert verdict.valid, (event, fmt, verdict)
                if event in SMS_EVENTS:
                    assert received.method == ("GET" if fmt is WebhookFormat.GET else "POST")
                    assert verdict.scheme == f"SMS_SIG:{method}"
                    assert_platform_verifies(received, method, secret, seeded.api_key)
                    assert params_read_by_a_receiver(received)["api-key"] == seeded.api_key
                else:
                    assert received.method == "POST"
                    assert received.header("Content-Type") == "application/json"
                    token = received.header("Authorization").removeprefix("Bearer ")
                    assert verify_signature(token, secret) is True
    assert sent == 12


async def test_unsigned_sms_webhooks_carry_no_signature(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    await configure(seeded, fmt=WebhookFormat.POST, sign_sms=False)
    async with receiver() as rx, live_server(env.app) as base, graphql_ws(base) as ws:
        await ws.init({"Authorization": seeded.bearer()})
        variables = {"input": {"apiKeyId": key_id(seeded), "event": "INBOUND_SMS", "url": rx.url()}}
        steps, _ = await collect(ws, TEST_WEBHOOK, variables)
    assert "not signed" in steps[1]["detail"]
    params = params_read_by_a_receiver(rx.requests[0])
    assert not {"sig", "timestamp", "nonce"} & set(params)
    assert params["keyword"] == params["text"].split()[0].upper()


async def test_message_status_goes_to_the_status_url_with_the_spec_fields(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env()
    seeded = await env.seed()
    async with receiver() as rx, live_server(env.app) as base, graphql_ws(base) as ws:
        await configure(seeded, api=MessagingApi.MESSAGES_API, status_url=rx.url("/status"))
        await ws.init({"Authorization": seeded.bearer()})
        variables = {"input": {"apiKeyId": key_id(seeded), "event": "MESSAGE_STATUS"}}
        steps, _ = await collect(ws, TEST_WEBHOOK, variables)
    assert steps[-1]["kind"] == "SUCCEEDED"
    payload = json.loads(rx.requests[0].body)
    assert set(payload) == {
        "message_uuid",
        "to",
        "from",
        "timestamp",
        "status",
        "channel",
        "client_ref",
        "usage",
    }
