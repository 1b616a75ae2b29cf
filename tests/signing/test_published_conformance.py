"""Every test webhook the builders make, checked against the platform's published definitions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from signing.messages_payloads import INBOUND_MESSAGE_TYPES, MESSAGES_CHANNELS, inbound_message
from signing.payloads import (
    SMS_EVENTS,
    SMS_FORMATS,
    SampleContext,
    WebhookRequest,
    build_messages_request,
    build_test_request,
    json_body,
)
from signing.sms import SIGNATURE_METHODS
from signing.webhook_jwt import messages_jwt
from tests import published_webhooks as published
from tests.webhook_conformance import (
    messages_webhook_problems,
    payload_problems,
    sms_webhook_problems,
)

SECRET = "conformance-signature-secret-0123456789"
NOW = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
CTX = SampleContext(
    api_key="abcd1234",
    to="447700900123",
    sender="447700900999",
    now=NOW,
    message_id="0A0000001234ABCD",
    message_uuid="aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
    client_ref="switchboard-test-7",
    nonce="5f1c0b7e-6b0a-4f3e-9d61-2c8f3a1e0b99",
)
URL = "https://example.com/webhooks/hook"
SIGNING = [None, *SIGNATURE_METHODS]  # unsigned, then each of the five methods


def build(
    event: str, fmt: str = "POST_JSON", method: str | None = None, **extra: str
) -> WebhookRequest:
    return build_test_request(
        event=event,
        url=URL,
        ctx=CTX,
        fmt=fmt,
        sign_sms=method is not None,
        method=method or "SHA256_HMAC",
        secret=SECRET,
        issued_at=int(NOW.timestamp()),
        jti="6d5c9a1e-43f2-4f5e-9c1a-2b8a0f1e7d3c",
        **extra,
    )


def sms_problems(request: WebhookRequest, event: str, fmt: str, signed: bool) -> list[str]:
    return sms_webhook_problems(
        event=event,
        fmt=fmt,
        signed=signed,
        method=request.method,
        url=request.url,
        content_type=dict(request.headers).get("Content-Type"),
        body=request.body,
    )


@pytest.mark.parametrize("method", SIGNING)
@pytest.mark.parametrize("fmt", SMS_FORMATS)
@pytest.mark.parametrize("event", SMS_EVENTS)
def test_sms_api_webhooks_match_the_published_schema(
    event: str, fmt: str, method: str | None
) -> None:
    request = build(event, fmt, method)
    assert sms_problems(request, event, fmt, signed=method is not None) == []


@pytest.mark.parametrize("channel", MESSAGES_CHANNELS)
@pytest.mark.parametrize("event", ["MESSAGE_STATUS", "INBOUND_MESSAGE"])
def test_messages_api_webhooks_match_the_published_schema(event: str, channel: str) -> None:
    request = build(event, channel=channel)
    problems = messages_webhook_problems(
        event=event,
        channel=channel,
        method=request.method,
        headers=dict(request.headers),
        body=request.body,
        secret=SECRET,
    )
    assert problems == []


@pytest.mark.parametrize(
    ("channel", "message_type"),
    [(c, t) for c in MESSAGES_CHANNELS for t in INBOUND_MESSAGE_TYPES[c] if c != "sms"],
)
def test_every_inbound_message_type_matches_the_published_schema(
    channel: str, message_type: str
) -> None:
    payload = inbound_message(CTX, channel, message_type)
    token = messages_jwt(
        json_body(payload), SECRET, api_key=CTX.api_key, issued_at=1, jti=CTX.message_uuid
    )
    request = build_messages_request(URL, payload, jwt=token)
    problems = messages_webhook_problems(
        event="INBOUND_MESSAGE",
        channel=channel,
        method=request.method,
        headers=dict(request.headers),
        body=request.body,
        secret=SECRET,
    )
    assert problems == []


def test_every_published_channel_is_offered() -> None:
    assert set(MESSAGES_CHANNELS) == set(published.MESSAGES_CHANNELS)


# The check itself must fail on what the published definitions refuse.


def test_the_check_names_a_missing_nonce_and_an_undescribed_field() -> None:
    request = build("DELIVERY_RECEIPT", "POST_JSON", "MD5_HMAC")
    params = json.loads(request.body)
    del params["nonce"]
    params["team"] = "ops"
    altered = WebhookRequest(request.method, request.url, request.headers, json_body(params))
    assert sms_problems(altered, "DELIVERY_RECEIPT", "POST_JSON", signed=True) == [
        "team: not described by the published schema",
        "nonce: sent with signatures enabled, missing",
    ]


def test_the_check_names_signature_fields_on_an_unsigned_webhook() -> None:
    request = build("INBOUND_SMS", "GET", "MD5_HASH")
    problems = sms_problems(request, "INBOUND_SMS", "GET", signed=False)
    assert problems == ["timestamp, nonce, sig: only included with signatures enabled"]


def test_the_check_names_transport_mistakes() -> None:
    request = build("INBOUND_SMS", "POST", None)
    assert sms_problems(request, "INBOUND_SMS", "POST_JSON", signed=False)[:1] == [
        "Content-Type: 'application/x-www-form-urlencoded', expected 'application/json'"
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"status": "read"}, "status: 'read' is not one of"),
        ({"timestamp": "2024-05-06 07:08:09"}, "timestamp: '2024-05-06 07:08:09' is not in"),
        ({"usage": {"currency": "EUR", "price": 0.0333}}, "usage.price: expected a string"),
        ({"channel": "whatsapp"}, "channel: 'whatsapp' is not one of ['sms']"),
        ({"message_uuid": None}, "message_uuid: expected a string"),
    ],
)
def test_the_check_names_bad_values(change: dict, problem: str) -> None:
    payload = {**json.loads(build("MESSAGE_STATUS").body), **change}
    problems = payload_problems(payload, published.message_status("sms"))
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_the_check_names_a_missing_required_field() -> None:
    payload = json.loads(build("INBOUND_MESSAGE", channel="messenger").body)
    del payload["text"]
    problems = payload_problems(payload, published.inbound_message("messenger", "text"))
    assert problems == ["text: required by the published schema, missing"]
