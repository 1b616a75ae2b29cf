"""ApiKey.signatureCheck: does a received webhook verify with the key's secret, and why not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models.enums import SignatureMethod
from models.webhooks import SignatureConfig
from resolvers.principal import Role
from resolvers.sealing import open_signature_secret
from signing.payloads import SampleContext, WebhookRequest, build_test_request
from tests.conftest import Seeded, gql, seed_account

CHECK = """
query($key: String!, $input: SignatureCheckInput!) {
  apiKey(key: $key) { signatureCheck(input: $input) { valid scheme method reason } }
}
"""


def now() -> datetime:
    # Read per call: the check's default freshness window (300 s) is shorter than a full
    # suite run, so a moment taken at import time would make "fresh" samples stale.
    return datetime.now(UTC).replace(microsecond=0)


async def secret_of(seeded: Seeded) -> str:
    config = await SignatureConfig.get(api_key_id=seeded.api_key_id)
    return open_signature_secret(
        seeded.deps, config.secret_ciphertext, seeded.api_key, seeded.api_key_id
    )


def sample(
    event: str, fmt: str, method: str, secret: str, api_key: str, at: datetime | None = None
) -> WebhookRequest:
    at = at or now()
    ctx = SampleContext(
        api_key=api_key,
        to="447700900999",
        sender="447700900000",
        now=at,
        message_id="0A00000012345678",
        message_uuid="aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
        client_ref="ref",
        nonce="nonce-1",
    )
    return build_test_request(
        event=event,
        url="https://hooks.example.com/in?team=ops",
        ctx=ctx,
        fmt=fmt,
        sign_sms=True,
        method=method,
        secret=secret,
        issued_at=int(at.timestamp()),
        jti="6d5c9a1e-43f2-4f5e-9c1a-2b8a0f1e7d3c",
    )


def as_input(request: WebhookRequest, **changes: Any) -> dict[str, Any]:
    return {
        "httpMethod": request.method,
        "url": request.url,
        "headers": [{"name": name, "value": value} for name, value in request.headers],
        "body": request.body.decode(),
        **changes,
    }


async def check(
    client: httpx.AsyncClient, seeded: Seeded, values: dict[str, Any], auth: str | None = None
) -> dict[str, Any]:
    body = await gql(
        client, CHECK, {"key": seeded.api_key, "input": values}, auth=auth or seeded.basic
    )
    assert "errors" not in body, body
    return body["data"]["apiKey"]["signatureCheck"]


@pytest.mark.parametrize("fmt", ["GET", "POST", "POST_JSON"])
async def test_a_signed_sms_webhook_verifies(
    client: httpx.AsyncClient, seeded: Seeded, fmt: str
) -> None:
    request = sample("INBOUND_SMS", fmt, "SHA256_HMAC", await secret_of(seeded), seeded.api_key)
    verdict = await check(client, seeded, as_input(request))
    assert verdict == {"valid": True, "scheme": "SMS_SIG", "method": "SHA256_HMAC", "reason": None}


async def test_the_keys_own_method_is_used(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await SignatureConfig.filter(api_key_id=seeded.api_key_id).update(
        method=SignatureMethod.MD5_HASH
    )
    secret = await secret_of(seeded)
    md5 = sample("DELIVERY_RECEIPT", "POST", "MD5_HASH", secret, seeded.api_key)
    sha = sample("DELIVERY_RECEIPT", "POST", "SHA512_HMAC", secret, seeded.api_key)
    assert (await check(client, seeded, as_input(md5)))["valid"] is True
    assert await check(client, seeded, as_input(sha)) == {
        "valid": False,
        "scheme": "SMS_SIG",
        "method": "MD5_HASH",
        "reason": "signature mismatch",
    }


async def test_a_messages_webhook_verifies_and_a_changed_body_says_why(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    secret = await secret_of(seeded)
    request = sample("MESSAGE_STATUS", "POST", "SHA256_HMAC", secret, seeded.api_key)
    assert await check(client, seeded, as_input(request)) == {
        "valid": True,
        "scheme": "MESSAGES_JWT",
        "method": None,
        "reason": None,
    }
    changed = as_input(request, body=request.body.decode().replace("delivered", "rejected"))
    assert (await check(client, seeded, changed))["reason"] == "payload hash mismatch"


async def test_another_keys_secret_does_not_verify(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    other = await seed_account(seeded.deps, "Other")
    request = sample("MESSAGE_STATUS", "POST", "SHA256_HMAC", await secret_of(other), "k")
    verdict = await check(client, seeded, as_input(request))
    assert verdict == {
        "valid": False,
        "scheme": "MESSAGES_JWT",
        "method": None,
        "reason": "bad signature",
    }


async def test_parsed_parameters_can_be_checked_directly(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    request = sample("INBOUND_SMS", "GET", "SHA256_HMAC", await secret_of(seeded), seeded.api_key)
    query = httpx.URL(request.url).params
    parameters = [{"name": name, "value": value} for name, value in query.multi_items()]
    verdict = await check(client, seeded, {"parameters": parameters})
    assert verdict["valid"] is True
    tampered = [p if p["name"] != "text" else {**p, "value": "STOP"} for p in parameters]
    assert (await check(client, seeded, {"parameters": tampered}))["reason"] == (
        "signature mismatch"
    )


async def test_an_unsigned_webhook_says_so(client: httpx.AsyncClient, seeded: Seeded) -> None:
    values = {"httpMethod": "POST", "headers": [], "body": ""}
    assert await check(client, seeded, values) == {
        "valid": False,
        "scheme": "NONE",
        "method": None,
        "reason": "no signature found",
    }


async def test_max_age_refuses_an_old_signature(client: httpx.AsyncClient, seeded: Seeded) -> None:
    secret = await secret_of(seeded)
    two_hours_ago = now() - timedelta(hours=2)
    key = seeded.api_key
    old = sample("INBOUND_SMS", "POST_JSON", "SHA256_HMAC", secret, key, at=two_hours_ago)
    assert (await check(client, seeded, as_input(old, maxAgeSeconds=3 * 3600)))["valid"] is True
    assert await check(client, seeded, as_input(old, maxAgeSeconds=3600)) == {
        "valid": False,
        "scheme": "SMS_SIG",
        "method": "SHA256_HMAC",
        "reason": "timestamp too old",
    }
    fresh = sample("INBOUND_SMS", "POST_JSON", "SHA256_HMAC", secret, key)
    assert (await check(client, seeded, as_input(fresh, maxAgeSeconds=3600)))["valid"] is True


@pytest.mark.parametrize(
    ("event", "reason"),
    [("INBOUND_SMS", "timestamp too old"), ("INBOUND_MESSAGE", "token expired")],
)
async def test_without_max_age_a_signature_older_than_five_minutes_is_refused(
    client: httpx.AsyncClient, seeded: Seeded, event: str, reason: str
) -> None:
    secret = await secret_of(seeded)
    key = seeded.api_key
    old = sample(event, "POST", "SHA256_HMAC", secret, key, at=now() - timedelta(minutes=6))
    assert (await check(client, seeded, as_input(old)))["reason"] == reason
    recent = sample(event, "POST", "SHA256_HMAC", secret, key, at=now() - timedelta(minutes=4))
    assert (await check(client, seeded, as_input(recent)))["valid"] is True


async def test_a_webhook_for_another_api_key_is_refused(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    secret = await secret_of(seeded)
    for event in ("INBOUND_SMS", "INBOUND_MESSAGE"):
        other = sample(event, "POST", "SHA256_HMAC", secret, "ffff0000")
        verdict = await check(client, seeded, as_input(other))
        assert verdict["valid"] is False and "another API key" in verdict["reason"], event


async def test_a_negative_max_age_is_a_bad_request(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    values = {"httpMethod": "POST", "maxAgeSeconds": -1}
    body = await gql(client, CHECK, {"key": seeded.api_key, "input": values}, auth=seeded.basic)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_viewers_may_check_and_the_secret_never_shows(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    secret = await secret_of(seeded)
    request = sample("INBOUND_SMS", "POST", "SHA256_HMAC", secret, seeded.api_key)
    body = await gql(
        client,
        CHECK,
        {"key": seeded.api_key, "input": as_input(request)},
        auth=seeded.bearer(Role.VIEWER),
    )
    assert body["data"]["apiKey"]["signatureCheck"]["valid"] is True
    assert secret not in str(body)
