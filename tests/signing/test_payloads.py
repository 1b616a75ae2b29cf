"""Sample webhook payloads and the requests that carry them."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest

from signing.messages_payloads import (
    MESSAGES_CHANNELS,
    SAMPLE_IMAGE_URL,
    SAMPLE_MESSENGER_PAGE_ID,
    SAMPLE_MESSENGER_USER_ID,
    SAMPLE_VIBER_SERVICE_ID,
)
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


# The signed delivery receipt of CTX at timestamp 1715000000, base string written out by hand
# from the published algorithm (sorted names, & and = in values -> _), nonce included.
SIGNED_RECEIPT_BASE = (
    "&api-key=abcd1234&client-ref=order-42&err-code=0&message-timestamp=2024-05-06 07:08:09"
    "&messageId=0A0000001234ABCD&msisdn=447700900123&network-code=23410"
    "&nonce=5f1c0b7e-6b0a-4f3e-9d61-2c8f3a1e0b99&price=0.03330000&scts=2405060708"
    "&status=delivered&timestamp=1715000000&to=447700900999"
)
# Computed once with hashlib/hmac over SIGNED_RECEIPT_BASE and SECRET, apart from signing/.
SIGNED_RECEIPT_SIGS = {
    "MD5_HASH": "11d6b373e190006ec427de503e50433e",
    "MD5_HMAC": "4326b348ab9b39dcb4ec8e33e03aabe7",
    "SHA1_HMAC": "b838fd758587dd0870d27fba8e781fa8ba361042",
    "SHA256_HMAC": "6925167349a6caa801d7e35a302b37123723c75b91236dcd9ec929bbb3f81506",
    "SHA512_HMAC": (
        "f0d7839a9c7d9018ebc8ca360accf7e4bfce14a86a89450b0a055260b3c1bf19"
        "bc4cac4e1c6ef647f03da85c3a6224c621e4653ffe32d08c8ee7cbd977d5b214"
    ),
}


@pytest.mark.parametrize("method", sorted(SIGNED_RECEIPT_SIGS))
@pytest.mark.parametrize("fmt", ["GET", "POST", "POST_JSON"])
def test_signed_delivery_receipt_carries_a_nonce_under_the_sig(method: str, fmt: str) -> None:
    request = request_for("DELIVERY_RECEIPT", method=method, fmt=fmt)
    if fmt == "GET":
        params = dict(parse_qsl(urlsplit(request.url).query))
    elif fmt == "POST":
        params = dict(parse_qsl(request.body.decode()))
    else:
        params = json.loads(request.body)
    assert params == {
        **delivery_receipt(CTX),
        "nonce": CTX.nonce,
        "timestamp": "1715000000",
        "sig": SIGNED_RECEIPT_SIGS[method],
    }


def test_signed_receipt_known_answer_covers_the_nonce() -> None:
    # The vector itself, checked once more against its base string.
    expected = hmac.new(SECRET.encode(), SIGNED_RECEIPT_BASE.encode(), hashlib.sha256).hexdigest()
    assert SIGNED_RECEIPT_SIGS["SHA256_HMAC"] == expected
    assert "&nonce=" + CTX.nonce in SIGNED_RECEIPT_BASE


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


@pytest.mark.parametrize("channel", MESSAGES_CHANNELS)
def test_message_status_names_its_channel(channel: str) -> None:
    status = message_status(CTX, channel)
    assert status["channel"] == channel
    assert status["status"] == "delivered"
    assert ("whatsapp" in status) == (channel == "whatsapp")


def test_messenger_and_viber_address_by_id() -> None:
    messenger = message_status(CTX, "messenger")
    assert (messenger["from"], messenger["to"]) == (
        SAMPLE_MESSENGER_PAGE_ID,
        SAMPLE_MESSENGER_USER_ID,
    )
    inbound = inbound_message(CTX, "messenger")
    assert (inbound["to"], inbound["from"]) == (SAMPLE_MESSENGER_PAGE_ID, SAMPLE_MESSENGER_USER_ID)
    viber = inbound_message(CTX, "viber_service")
    assert (viber["to"], viber["from"]) == (SAMPLE_VIBER_SERVICE_ID, CTX.to)
    assert message_status(CTX, "viber_service")["from"] == SAMPLE_VIBER_SERVICE_ID


def test_inbound_whatsapp_text() -> None:
    assert inbound_message(CTX, "whatsapp") == {
        "channel": "whatsapp",
        "message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
        "to": "447700900999",
        "from": "447700900123",
        "timestamp": "2024-05-06T07:08:09.123Z",
        "profile": {"name": "Switchboard Test"},
        "message_type": "text",
        "text": "Status of order 4821?",
    }


def test_inbound_mms_is_an_image_and_refuses_text() -> None:
    mms = inbound_message(CTX, "mms")
    assert (mms["message_type"], mms["image"]) == ("image", {"url": SAMPLE_IMAGE_URL})
    assert "text" not in mms
    with pytest.raises(ValueError, match="carries no inbound 'text'"):
        inbound_message(CTX, "mms", "text")


@pytest.mark.parametrize("channel", ["whatsapp", "viber_service", "messenger"])
def test_inbound_image_where_the_channel_carries_it(channel: str) -> None:
    image = inbound_message(CTX, channel, "image")
    assert image["message_type"] == "image" and "text" not in image


def test_unknown_channel_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown Messages channel"):
        request_for("MESSAGE_STATUS", channel="telegram")
    with pytest.raises(ValueError, match="unknown Messages channel"):
        inbound_message(CTX, "telegram")


@pytest.mark.parametrize("channel", MESSAGES_CHANNELS)
@pytest.mark.parametrize("event", ["MESSAGE_STATUS", "INBOUND_MESSAGE"])
def test_channel_requests_are_signed_over_their_own_body(event: str, channel: str) -> None:
    request = request_for(event, channel=channel)
    assert json.loads(request.body)["channel"] == channel
    token = dict(request.headers)["Authorization"].removeprefix("Bearer ")
    # Signed at the sample's fixed instant, long expired now: the signature is what counts.
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["payload_hash"] == hashlib.sha256(request.body).hexdigest()
