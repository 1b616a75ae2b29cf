"""Redacting sent requests: signatures out, what they signed in, and nothing else changed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from signing.check import received_params
from signing.payloads import SMS_FORMATS, SampleContext, build_test_request
from signing.redact import redact_request
from signing.sms import sms_signature_base

SECRET = "redact-signature-secret-0123456789"
CTX = SampleContext(
    api_key="abcd1234",
    to="447700900123",
    sender="447700900999",
    now=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
    message_id="0A0000001234ABCD",
    message_uuid="aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
    client_ref="sig=1&x=2",
    nonce="nonce-1",
)


def sent(event: str, fmt: str) -> dict:
    request = build_test_request(
        event=event,
        url="https://example.com/in?team=ops",
        ctx=CTX,
        fmt=fmt,
        sign_sms=True,
        method="SHA256_HMAC",
        secret=SECRET,
        issued_at=1_715_000_000,
        jti="jti-1",
    )
    return {
        "method": request.method,
        "url": request.url,
        "headers": [list(pair) for pair in request.headers],
        "body": request.body.decode() or None,
    }


@pytest.mark.parametrize("fmt", SMS_FORMATS)
def test_an_sms_sig_is_replaced_and_its_base_string_given(fmt: str) -> None:
    request = sent("INBOUND_SMS", fmt)
    redacted = redact_request(request)
    content_type = dict(request["headers"]).get("Content-Type")
    body = (request["body"] or "").encode()
    params, _ = received_params(request["method"], request["url"], content_type, body)
    assert "REDACTED" in redacted["url"] + (redacted["body"] or "")
    assert params["sig"] not in json.dumps(redacted)
    assert redacted["signature"] == {"scheme": "SMS_SIG", "signedBase": sms_signature_base(params)}
    assert params["sig"] in json.dumps(request)  # the caller's copy is not changed
    assert redact_request(redacted) == redacted


def test_json_bodies_stay_json_with_only_sig_changed() -> None:
    request = sent("DELIVERY_RECEIPT", "POST_JSON")
    redacted = redact_request(request)
    before, after = json.loads(request["body"]), json.loads(redacted["body"])
    assert after["sig"] == "REDACTED"
    assert {k: v for k, v in after.items() if k != "sig"} == {
        k: v for k, v in before.items() if k != "sig"
    }
    assert redacted["signature"]["signedBase"] == sms_signature_base(before)


def test_a_bearer_token_becomes_its_claims() -> None:
    request = sent("MESSAGE_STATUS", "POST")
    redacted = redact_request(request)
    assert ["Authorization", "Bearer REDACTED"] in redacted["headers"]
    claims = redacted["signature"]["claims"]
    assert claims["exp"] == claims["iat"] + 300 and claims["api_key"] == "abcd1234"
    assert redacted["body"] == request["body"]
    assert redact_request(redacted) == redacted


def test_an_unsigned_request_is_unchanged() -> None:
    request = {"method": "GET", "url": "https://example.com/?a=1", "headers": [], "body": None}
    assert redact_request(request) == request
