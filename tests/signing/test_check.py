"""The signature check helper, fed with the very requests test deliveries send."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
from vonage_http_client.auth import Auth

from signing.check import check_webhook_signature, received_params
from signing.payloads import (
    MESSAGES_EVENTS,
    SMS_FORMATS,
    WEBHOOK_EVENTS,
    SampleContext,
    WebhookRequest,
    build_sms_request,
    build_test_request,
    json_body,
)
from signing.sms import SIGNATURE_METHODS, sign_sms_params
from signing.verdict import SignatureVerdict

SECRET = "check-signature-secret-0123456789abcdef"
OTHER_SECRET = "another-signature-secret-9876543210"
URL = "https://example.com/webhooks/inbound?token=abc%7E1&team=ops"
CTX = SampleContext(
    api_key="abcd1234",
    to="447700900123",
    sender="447700900999",
    now=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
    message_id="0A0000001234ABCD",
    message_uuid="aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
    client_ref="order=42&batch=7",
    nonce="5f1c0b7e-6b0a-4f3e-9d61-2c8f3a1e0b99",
)
ISSUED_AT = 1_715_000_000
VONAGE_DIGESTS = {
    "MD5_HMAC": "md5",
    "SHA1_HMAC": "sha1",
    "SHA256_HMAC": "sha256",
    "SHA512_HMAC": "sha512",
}


def build(
    event: str, fmt: str, method: str, *, url: str = URL, sign_sms: bool = True
) -> WebhookRequest:
    return build_test_request(
        event=event,
        url=url,
        ctx=CTX,
        fmt=fmt,
        sign_sms=sign_sms,
        method=method,
        secret=SECRET,
        issued_at=ISSUED_AT,
        jti="6d5c9a1e-43f2-4f5e-9c1a-2b8a0f1e7d3c",
    )


def check(
    request: WebhookRequest, method: str, secret: str = SECRET, **changes: object
) -> SignatureVerdict:
    arguments: dict = {
        "http_method": request.method,
        "url": request.url,
        "headers": dict(request.headers),
        "body": request.body,
        "secret": secret,
        "method": method,
        # The vectors are signed at a fixed moment; check them just after it.
        "now": ISSUED_AT + 1,
        **changes,
    }
    return check_webhook_signature(**arguments)


def expected_scheme(event: str, method: str) -> str:
    return "MESSAGES_JWT" if event in MESSAGES_EVENTS else f"SMS_SIG:{method}"


@pytest.mark.parametrize("event", WEBHOOK_EVENTS)
@pytest.mark.parametrize("fmt", SMS_FORMATS)
@pytest.mark.parametrize("method", SIGNATURE_METHODS)
def test_every_test_delivery_verifies(event: str, fmt: str, method: str) -> None:
    verdict = check(build(event, fmt, method), method)
    assert verdict == SignatureVerdict(
        valid=True, scheme=expected_scheme(event, method), reason=None
    )


@pytest.mark.parametrize("event", WEBHOOK_EVENTS)
@pytest.mark.parametrize("fmt", SMS_FORMATS)
@pytest.mark.parametrize("method", SIGNATURE_METHODS)
def test_every_test_delivery_fails_with_the_wrong_secret(event: str, fmt: str, method: str) -> None:
    verdict = check(build(event, fmt, method), method, secret=OTHER_SECRET)
    assert not verdict.valid
    assert verdict.scheme == expected_scheme(event, method)
    assert verdict.reason == ("bad signature" if event in MESSAGES_EVENTS else "signature mismatch")


@pytest.mark.parametrize("event", ["DELIVERY_RECEIPT", "INBOUND_SMS"])
@pytest.mark.parametrize("fmt", SMS_FORMATS)
@pytest.mark.parametrize("method", sorted(VONAGE_DIGESTS))
def test_vonage_verifier_accepts_what_a_receiver_reads(event: str, fmt: str, method: str) -> None:
    request = build(event, fmt, method)
    params, problem = received_params(
        request.method, request.url, dict(request.headers).get("Content-Type"), request.body
    )
    assert problem is None
    auth = Auth(
        api_key="abcd1234", signature_secret=SECRET, signature_method=VONAGE_DIGESTS[method]
    )
    assert auth.check_signature(params) is True


def test_get_delivery_keeps_and_signs_the_customers_query() -> None:
    request = build("DELIVERY_RECEIPT", "GET", "SHA256_HMAC")
    query = urlsplit(request.url).query
    assert request.url.startswith("https://example.com/webhooks/inbound?token=abc%7E1&team=ops&")
    params = dict(parse_qsl(query))
    assert (params["token"], params["team"], params["client-ref"]) == (
        "abc~1",
        "ops",
        "order=42&batch=7",
    )
    dropped = request.url.replace("token=abc%7E1&", "")
    assert (
        check(WebhookRequest("GET", dropped, [], b""), "SHA256_HMAC").reason == "signature mismatch"
    )


def test_form_values_with_ampersands_and_equals_survive() -> None:
    request = build("DELIVERY_RECEIPT", "POST", "SHA256_HMAC")
    assert b"client-ref=order%3D42%26batch%3D7" in request.body
    assert dict(parse_qsl(request.body.decode()))["client-ref"] == "order=42&batch=7"
    assert check(request, "SHA256_HMAC").valid


@pytest.mark.parametrize("fmt", SMS_FORMATS)
def test_a_changed_value_is_caught(fmt: str) -> None:
    request = build("DELIVERY_RECEIPT", fmt, "SHA512_HMAC")
    tampered = WebhookRequest(
        request.method,
        request.url.replace("status=delivered", "status=failed"),
        request.headers,
        request.body.replace(b"delivered", b"failed"),
    )
    verdict = check(tampered, "SHA512_HMAC")
    assert (verdict.valid, verdict.reason) == (False, "signature mismatch")


def test_a_changed_messages_body_is_caught() -> None:
    request = build("MESSAGE_STATUS", "POST_JSON", "SHA256_HMAC")
    tampered = WebhookRequest(
        request.method, request.url, request.headers, request.body.replace(b"delivered", b"read")
    )
    assert check(tampered, "SHA256_HMAC").reason == "payload hash mismatch"


def test_header_names_are_case_insensitive() -> None:
    request = build("INBOUND_MESSAGE", "POST_JSON", "SHA256_HMAC")
    shouted = {name.upper(): value for name, value in request.headers}
    assert check(request, "SHA256_HMAC", headers=shouted).valid
    sms = build("INBOUND_SMS", "POST", "SHA256_HMAC")
    lowered = {name.lower(): value for name, value in sms.headers}
    assert check(sms, "SHA256_HMAC", headers=lowered).valid


def test_uppercase_sig_is_accepted() -> None:
    request = build("INBOUND_SMS", "POST_JSON", "SHA1_HMAC")
    body = json.loads(request.body)
    body["sig"] = body["sig"].upper()
    shouted = WebhookRequest(request.method, request.url, request.headers, json_body(body))
    assert check(shouted, "SHA1_HMAC").valid


def test_unsigned_sms_webhook_has_no_signature() -> None:
    verdict = check(build("DELIVERY_RECEIPT", "GET", "SHA256_HMAC", sign_sms=False), "SHA256_HMAC")
    assert verdict == SignatureVerdict(valid=False, scheme="NONE", reason="no signature found")


def test_basic_authorization_falls_back_to_sms_sig() -> None:
    request = build("DELIVERY_RECEIPT", "POST", "SHA256_HMAC")
    headers = {**dict(request.headers), "Authorization": "Basic YWJjOmRlZg=="}
    assert check(request, "SHA256_HMAC", headers=headers).valid


def test_a_bearer_header_means_a_jwt_even_on_an_sms_webhook() -> None:
    request = build("DELIVERY_RECEIPT", "POST", "SHA256_HMAC")
    headers = {**dict(request.headers), "Authorization": "Bearer nonsense"}
    verdict = check(request, "SHA256_HMAC", headers=headers)
    assert (verdict.valid, verdict.scheme, verdict.reason) == (
        False,
        "MESSAGES_JWT",
        "malformed token",
    )


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("application/json", b"{not json", "body is not valid JSON"),
        ("application/json", b"\xff\xfe{", "body is not valid JSON"),
        ("application/json", b'["sig"]', "JSON body is not an object"),
        (
            "application/json",
            b'{"sig":"ab","usage":{"price":"1"}}',
            "JSON body is not a flat object of strings",
        ),
        (
            "application/json",
            b'{"sig":"ab","timestamp":1}',
            "JSON body is not a flat object of strings",
        ),
        ("application/x-www-form-urlencoded", b"sig=ab&text=%ff", "form body is not valid UTF-8"),
        ("application/x-www-form-urlencoded", b"sig=ab&a=1&a=2", "duplicate parameter 'a'"),
        ("text/plain", b"sig=ab", "unsupported content type text/plain"),
        (None, b"sig=ab", "unsupported content type (none)"),
    ],
)
def test_unreadable_bodies_say_why(content_type: str | None, body: bytes, reason: str) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    request = WebhookRequest("POST", URL, list(headers.items()), body)
    verdict = check(request, "MD5_HMAC")
    assert (verdict.valid, verdict.scheme, verdict.reason) == (False, "SMS_SIG:MD5_HMAC", reason)


def test_json_content_type_parameters_and_suffixes_are_understood() -> None:
    params = sign_sms_params({"a": "1"}, SECRET, "SHA256_HMAC", timestamp=1)
    for content_type in (
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.x+json",
    ):
        request = WebhookRequest("POST", URL, [("content-type", content_type)], json_body(params))
        assert check(request, "SHA256_HMAC", now=1).valid, content_type


def test_duplicate_query_params_are_refused() -> None:
    signed = build_sms_request(
        "https://example.com/h",
        sign_sms_params({"a": "1"}, SECRET, "SHA256_HMAC", timestamp=1),
        "GET",
    )
    repeated = WebhookRequest("GET", signed.url + "&a=2", [], b"")
    assert check(repeated, "SHA256_HMAC").reason == "duplicate parameter 'a'"


def test_empty_post_has_no_signature() -> None:
    assert check(WebhookRequest("POST", URL, [], b""), "SHA256_HMAC").reason == "no signature found"


def test_freshness_is_passed_through() -> None:
    sms = build("INBOUND_SMS", "GET", "SHA256_HMAC")
    assert check(sms, "SHA256_HMAC", max_age=60, now=1_715_000_060).valid
    assert check(sms, "SHA256_HMAC", max_age=60, now=1_715_000_061).reason == "timestamp too old"
    messages = build("INBOUND_MESSAGE", "GET", "SHA256_HMAC")
    assert check(messages, "SHA256_HMAC", max_age=60, now=1_715_000_061).reason == "token too old"


def test_freshness_applies_by_default() -> None:
    # A signature copied from a log must not verify long after it was made.
    for event in ("INBOUND_SMS", "INBOUND_MESSAGE"):
        request = build(event, "POST", "SHA256_HMAC")
        assert check(request, "SHA256_HMAC", now=1_715_000_000 + 299).valid, event
        stale = check(request, "SHA256_HMAC", now=1_715_000_000 + 400)
        assert not stale.valid and stale.reason in {"timestamp too old", "token expired"}, event


def test_the_issuer_and_api_key_are_checked_when_given() -> None:
    messages = build("INBOUND_MESSAGE", "GET", "SHA256_HMAC")
    assert check(messages, "SHA256_HMAC", now=1_715_000_001, issuer="Vonage", api_key="abcd1234")
    other_iss = check(messages, "SHA256_HMAC", now=1_715_000_001, issuer="Acme")
    assert other_iss.reason == "iss claim is not 'Acme'"
    other_key = check(messages, "SHA256_HMAC", now=1_715_000_001, api_key="ffff0000")
    assert other_key.reason == "api_key claim names another API key"
    sms = build("INBOUND_SMS", "POST", "SHA256_HMAC")
    assert check(sms, "SHA256_HMAC", now=1_715_000_001, api_key="abcd1234").valid
    assert check(sms, "SHA256_HMAC", now=1_715_000_001, api_key="ffff0000").reason == (
        "api-key parameter names another API key"
    )
