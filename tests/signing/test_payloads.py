"""Sample webhook payloads and the requests that carry them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest

from signing.payloads import (
    SampleContext,
    WebhookRequest,
    build_messages_request,
    build_sms_request,
    build_test_request,
    delivery_receipt,
    inbound_message,
    inbound_sms,
    json_body,
    keyword_of,
    message_status,
)

SECRET = "payload-signature-secret-0123456789abcdef"
CTX = SampleContext(
    api_key="abcd1234",
    to="447700900123",
    sender="447700900999",
    now=datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
    message_id="0A0000001234ABCD",
    message_uuid="aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
    client_ref="order-42",
    nonce="5f1c0b7e-6b0a-4f3e-9d61-2c8f3a1e0b99",
)
URL = "https://example.com/webhooks/delivery-receipt"


def request_for(event: str, **overrides: object) -> WebhookRequest:
    arguments: dict = {
        "event": event,
        "url": URL,
        "ctx": CTX,
        "fmt": "POST_JSON",
        "sign_sms": True,
        "method": "SHA256_HMAC",
        "secret": SECRET,
        "issued_at": 1_715_000_000,
        "jti": "6d5c9a1e-43f2-4f5e-9c1a-2b8a0f1e7d3c",
        **overrides,
    }
    return build_test_request(**arguments)


def test_delivery_receipt_fields() -> None:
    assert delivery_receipt(CTX) == {
        "msisdn": "447700900123",
        "to": "447700900999",
        "network-code": "23410",
        "messageId": "0A0000001234ABCD",
        "price": "0.03330000",
        "status": "delivered",
        "scts": "2405060708",
        "err-code": "0",
        "api-key": "abcd1234",
        "message-timestamp": "2024-05-06 07:08:09",
        "client-ref": "order-42",
    }


def test_inbound_sms_fields() -> None:
    assert inbound_sms(CTX) == {
        "api-key": "abcd1234",
        "msisdn": "447700900123",
        "to": "447700900999",
        "messageId": "0A0000001234ABCD",
        "text": "Status of order 4821?",
        "type": "text",
        "keyword": "STATUS",
        "message-timestamp": "2024-05-06 07:08:09",
    }


def test_message_status_fields() -> None:
    assert message_status(CTX) == {
        "message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
        "to": "447700900123",
        "from": "447700900999",
        "timestamp": "2024-05-06T07:08:09.123Z",
        "status": "delivered",
        "channel": "sms",
        "client_ref": "order-42",
        "usage": {"currency": "EUR", "price": "0.0333"},
    }


def test_inbound_message_fields() -> None:
    assert inbound_message(CTX) == {
        "channel": "sms",
        "message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
        "to": "447700900999",
        "from": "447700900123",
        "timestamp": "2024-05-06T07:08:09.123Z",
        "text": "Status of order 4821?",
        "sms": {"num_messages": "1", "keyword": "STATUS"},
        "usage": {"currency": "EUR", "price": "0.0333"},
    }


def test_timestamps_are_converted_to_utc() -> None:
    paris = timezone(timedelta(hours=2))
    local = replace(CTX, now=datetime(2024, 5, 6, 9, 8, 9, tzinfo=paris))
    assert delivery_receipt(local)["message-timestamp"] == "2024-05-06 07:08:09"
    assert delivery_receipt(local)["scts"] == "2405060708"
    assert message_status(local)["timestamp"] == "2024-05-06T07:08:09.000Z"
    naive = replace(CTX, now=datetime(2024, 5, 6, 7, 8, 9))
    assert inbound_sms(naive)["message-timestamp"] == "2024-05-06 07:08:09"


def test_builders_are_deterministic_and_do_not_share_state() -> None:
    first = message_status(CTX)
    first["usage"]["price"] = "9"
    assert message_status(CTX)["usage"]["price"] == "0.0333"
    assert inbound_sms(CTX) == inbound_sms(CTX)


@pytest.mark.parametrize(
    ("text", "keyword"), [("hello world", "HELLO"), ("  stop", "STOP"), ("", ""), ("Ünï ok", "ÜNÏ")]
)
def test_keyword_is_the_first_word_upper_cased(text: str, keyword: str) -> None:
    assert keyword_of(text) == keyword


def test_json_body_is_compact_utf8_in_field_order() -> None:
    assert json_body({"b": "ü", "a": {"x": "1"}}) == '{"b":"ü","a":{"x":"1"}}'.encode()


def test_get_request_keeps_the_existing_query() -> None:
    url = "https://example.com/hook?token=a%7Eb&flag&x=1#frag"
    request = build_sms_request(url, {"status": "delivered", "text": "a&b=c d"}, "GET")
    parts = urlsplit(request.url)
    assert parts.query.startswith("token=a%7Eb&flag&x=1&")
    assert parts.fragment == "frag"
    assert parse_qsl(parts.query, keep_blank_values=True) == [
        ("token", "a~b"),
        ("flag", ""),
        ("x", "1"),
        ("status", "delivered"),
        ("text", "a&b=c d"),
    ]
    assert (request.method, request.body) == ("GET", b"")
    assert request.headers == [("User-Agent", "Switchboard-Webhooks/1.0")]


def test_get_request_replaces_a_param_already_in_the_query() -> None:
    request = build_sms_request(
        "https://example.com/hook?to=me&keep=1&to=you", {"to": "447"}, "GET"
    )
    assert urlsplit(request.url).query == "to=447&keep=1"


def test_post_request_is_a_form_body() -> None:
    params = {"text": "a&b=c d+e", "client-ref": "x=1"}
    request = build_sms_request(URL, params, "POST")
    assert (request.method, request.url) == ("POST", URL)
    assert ("Content-Type", "application/x-www-form-urlencoded") in request.headers
    assert request.body == b"text=a%26b%3Dc+d%2Be&client-ref=x%3D1"
    assert dict(parse_qsl(request.body.decode())) == params


def test_post_json_request_is_a_json_body() -> None:
    params = {"text": "a&b=c", "status": "delivered"}
    request = build_sms_request(URL, params, "POST_JSON")
    assert ("Content-Type", "application/json") in request.headers
    assert request.body == json_body(params)
    assert json.loads(request.body) == params


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown webhook format"):
        build_sms_request(URL, {}, "XML")
    with pytest.raises(ValueError, match="unknown webhook format"):
        request_for("DELIVERY_RECEIPT", fmt="XML")


def test_messages_request_carries_the_jwt() -> None:
    payload = message_status(CTX)
    request = build_messages_request(URL, payload, jwt="a.b.c")
    assert request.method == "POST"
    assert request.body == json_body(payload)
    assert request.headers == [
        ("User-Agent", "Switchboard-Webhooks/1.0"),
        ("Content-Type", "application/json"),
        ("Authorization", "Bearer a.b.c"),
    ]
    unsigned = build_messages_request(URL, payload, jwt=None)
    assert all(name != "Authorization" for name, _ in unsigned.headers)


def test_unsigned_sms_test_request_has_no_signature_fields() -> None:
    request = request_for("INBOUND_SMS", sign_sms=False)
    assert json.loads(request.body) == inbound_sms(CTX)


def test_signed_inbound_sms_adds_nonce_timestamp_and_sig() -> None:
    body = json.loads(request_for("INBOUND_SMS").body)
    assert body["nonce"] == CTX.nonce
    assert body["timestamp"] == "1715000000"
    assert len(body["sig"]) == 64
    assert {k: v for k, v in body.items() if k not in ("nonce", "timestamp", "sig")} == inbound_sms(
        CTX
    )


def test_signed_delivery_receipt_has_no_nonce() -> None:
    body = json.loads(request_for("DELIVERY_RECEIPT").body)
    assert set(body) == {*delivery_receipt(CTX), "timestamp", "sig"}


@pytest.mark.parametrize("fmt", ["GET", "POST", "POST_JSON"])
def test_sms_test_request_follows_the_format(fmt: str) -> None:
    request = request_for("INBOUND_SMS", fmt=fmt)
    assert request.method == ("GET" if fmt == "GET" else "POST")
    assert (request.body == b"") == (fmt == "GET")


@pytest.mark.parametrize("event", ["MESSAGE_STATUS", "INBOUND_MESSAGE"])
@pytest.mark.parametrize("sign_sms", [True, False])
def test_messages_test_request_is_always_signed(event: str, sign_sms: bool) -> None:
    request = request_for(event, sign_sms=sign_sms, fmt="GET", method="MD5_HASH")
    authorization = dict(request.headers)["Authorization"]
    claims = jwt.decode(
        authorization.removeprefix("Bearer "),
        SECRET,
        algorithms=["HS256"],
        options={"verify_exp": False},  # signed at a fixed moment in 2024
    )
    assert claims["exp"] == claims["iat"] + 300
    assert claims["payload_hash"] == hashlib.sha256(request.body).hexdigest()
    assert claims["api_key"] == CTX.api_key
    assert claims["iat"] == 1_715_000_000
    assert claims["iss"] == "Vonage"
    assert request.method == "POST"


def test_messages_test_request_carries_the_configured_issuer() -> None:
    request = request_for("MESSAGE_STATUS", issuer="Acme Webhooks")
    authorization = dict(request.headers)["Authorization"]
    claims = jwt.decode(authorization.removeprefix("Bearer "), options={"verify_signature": False})
    assert claims["iss"] == "Acme Webhooks"


def test_unknown_event_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown webhook event"):
        request_for("VOICE_EVENT")
