"""ApiKey.signatureCheck: does a received webhook verify with the key's secret, and why not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models.enums import SignatureMethod
from models.webhooks import SignatureConfig
from resolvers.principal import Role
from resolvers.provisioning import signature_context
from signing.payloads import SampleContext, WebhookRequest, build_test_request
from tests.conftest import Seeded, gql, seed_account

CHECK = """
query($key: String!, $input: SignatureCheckInput!) {
  apiKey(key: $key) { signatureCheck(input: $input) { valid scheme method reason } }
}
"""
NOW = datetime.now(UTC).replace(microsecond=0)


async def secret_of(seeded: Seeded) -> str:
    config = await SignatureConfig.get(api_key_id=seeded.api_key_id)
    return seeded.deps.box.decrypt(
        config.secret_ciphertext, context=signature_context(seeded.api_key)
    )


def sample(
    event: str, fmt: str, method: str, secret: str, api_key: str, now: datetime = NOW
) -> WebhookRequest:
    ctx = SampleContext(
        api_key=api_key,
        to="447700900999",
        sender="447700900000",
        now=now,
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
        issued_at=int(now.timestamp()),
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
    request = sample("MESSAGE_STATUS", "POST", "SHA256_HMAC", await secret_of(seeded), "k")
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
    two_hours_ago = NOW - timedelta(hours=2)
    old = sample("INBOUND_SMS", "POST_JSON", "SHA256_HMAC", secret, "k", now=two_hours_ago)
    assert (await check(client, seeded, as_input(old)))["valid"] is True
    assert await check(client, seeded, as_input(old, maxAgeSeconds=3600)) == {
        "valid": False,
        "scheme": "SMS_SIG",
        "method": "SHA256_HMAC",
        "reason": "timestamp too old",
    }
    fresh = sample("INBOUND_SMS", "POST_JSON", "SHA256_HMAC", secret, "k")
    assert (await check(client, seeded, as_input(fresh, maxAgeSeconds=3600)))["valid"] is True


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
