"""Signed webhooks through the API: method and SMS signing, rotating and revealing the secret."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx

from graph.relay import to_global_id
from models.audit import AuditEvent
from models.webhooks import SignatureConfig
from resolvers.deps import Deps
from resolvers.principal import Role
from resolvers.sealing import open_signature_secret
from tests.conftest import Seeded, gql, seed_account

SIGNATURE = "signature { method maskedSecret signSmsWebhooks }"
SETTINGS_UPDATE = (
    "mutation($input: SignatureSettingsUpdateInput!) { signatureSettingsUpdate(input: $input) { "
    + SIGNATURE
    + " apiKey { key } userErrors { field code message } } }"
)
ROTATE = (
    "mutation($input: SignatureSecretRotateInput!) { signatureSecretRotate(input: $input) { "
    "secretPlaintext " + SIGNATURE + " userErrors { field code message } } }"
)
REVEAL = (
    "mutation($input: SignatureSecretRevealInput!) { signatureSecretReveal(input: $input) { "
    "secretPlaintext " + SIGNATURE + " userErrors { field code message } } }"
)
AUDIT = """
query { viewer { account { auditEvents(first: 50) { edges { node {
  action actor before after
} } } } } }
"""


async def call(
    client: httpx.AsyncClient, document: str, auth: str, **fields: Any
) -> dict[str, Any]:
    body = await gql(client, document, {"input": fields}, auth=auth)
    assert "errors" not in body, body
    (payload,) = body["data"].values()
    return payload


def key_id(seeded: Seeded) -> str:
    return to_global_id("ApiKey", seeded.api_key_id)


async def stored_secret(seeded: Seeded) -> str:
    row = await SignatureConfig.get(api_key_id=seeded.api_key_id)
    return open_signature_secret(
        seeded.deps, row.secret_ciphertext, seeded.api_key, seeded.api_key_id
    )


async def test_settings_are_a_partial_update(client: httpx.AsyncClient, seeded: Seeded) -> None:
    first = await call(
        client, SETTINGS_UPDATE, seeded.basic, apiKeyId=key_id(seeded), method="SHA512_HMAC"
    )
    assert first["signature"]["method"] == "SHA512_HMAC"
    assert first["signature"]["signSmsWebhooks"] is False
    second = await call(
        client, SETTINGS_UPDATE, seeded.basic, apiKeyId=key_id(seeded), signSmsWebhooks=True
    )
    assert second["signature"]["method"] == "SHA512_HMAC"
    assert second["signature"]["signSmsWebhooks"] is True
    assert second["apiKey"] == {"key": seeded.api_key}
    refused = await call(
        client,
        SETTINGS_UPDATE,
        seeded.basic,
        apiKeyId=key_id(seeded),
        method=None,
        signSmsWebhooks=None,
    )
    assert sorted((e["code"], e["field"][1]) for e in refused["userErrors"]) == [
        ("INVALID_INPUT", "method"),
        ("INVALID_INPUT", "signSmsWebhooks"),
    ]
    row = await SignatureConfig.get(api_key_id=seeded.api_key_id)
    assert (row.method.value, row.sign_sms_webhooks) == ("SHA512_HMAC", True)
    events = await AuditEvent.filter(action="signature_settings.update").order_by("id")
    assert [(e.before, e.after) for e in events] == [
        ({"method": "SHA256_HMAC"}, {"method": "SHA512_HMAC"}),
        ({"signSmsWebhooks": False}, {"signSmsWebhooks": True}),
    ]


async def test_rotation_shows_the_new_secret_once(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    old = await stored_secret(seeded)
    result = await call(client, ROTATE, seeded.basic, apiKeyId=key_id(seeded))
    new = result["secretPlaintext"]
    assert result["userErrors"] == []
    assert new != old and len(new) == 64 and int(new, 16) >= 0
    assert await stored_secret(seeded) == new
    assert result["signature"]["maskedSecret"] == "•" * 12 + new[-4:]
    (event,) = await AuditEvent.filter(action="signature_secret.rotate")
    assert event.before == {"maskedSecret": "•" * 12 + old[-4:]}
    assert event.after == {"maskedSecret": "•" * 12 + new[-4:]}
    body = await gql(client, AUDIT, auth=seeded.basic)
    assert new not in json.dumps(body) and old not in json.dumps(body)
    rows = await AuditEvent.filter(account_id=seeded.account_id).values("before", "after")
    assert new not in json.dumps(rows, default=str)


async def test_reveal_is_for_admins_and_audited(client: httpx.AsyncClient, seeded: Seeded) -> None:
    secret = await stored_secret(seeded)
    viewer = await call(client, REVEAL, seeded.bearer(Role.VIEWER), apiKeyId=key_id(seeded))
    assert viewer["secretPlaintext"] is None
    assert [e["code"] for e in viewer["userErrors"]] == ["FORBIDDEN"]
    admin = await call(client, REVEAL, seeded.bearer(Role.ADMIN), apiKeyId=key_id(seeded))
    assert admin["secretPlaintext"] == secret
    assert admin["signature"]["maskedSecret"].endswith(secret[-4:])
    (event,) = await AuditEvent.filter(action="signature_secret.reveal")
    assert event.actor == f"session:key:{seeded.api_key}"
    assert secret not in json.dumps({"before": event.before, "after": event.after})


async def test_reveals_are_rate_limited_per_caller(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    now = deps.clock()
    deps.clock = lambda: now
    allowed = deps.credential_limits.signature_reveals.limit
    for _ in range(allowed):
        ok = await call(client, REVEAL, seeded.basic, apiKeyId=key_id(seeded))
        assert ok["secretPlaintext"]
    limited = await call(client, REVEAL, seeded.basic, apiKeyId=key_id(seeded))
    assert limited["secretPlaintext"] is None
    assert [e["code"] for e in limited["userErrors"]] == ["RATE_LIMITED"]
    # Another caller has its own allowance.
    other = await call(client, REVEAL, seeded.bearer(), apiKeyId=key_id(seeded))
    assert other["secretPlaintext"]
    deps.clock = lambda: now + timedelta(seconds=61)
    again = await call(client, REVEAL, seeded.basic, apiKeyId=key_id(seeded))
    assert again["secretPlaintext"]
    count = await AuditEvent.filter(action="signature_secret.reveal").count()
    assert count == allowed + 2


async def test_foreign_keys_are_not_found_for_every_signature_mutation(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    other = await seed_account(deps, "Other")
    before = await SignatureConfig.get(api_key_id=other.api_key_id)
    foreign = to_global_id("ApiKey", other.api_key_id)
    for document, fields in (
        (SETTINGS_UPDATE, {"method": "MD5_HASH"}),
        (ROTATE, {}),
        (REVEAL, {}),
    ):
        result = await call(client, document, seeded.basic, apiKeyId=foreign, **fields)
        assert [(e["code"], e["field"]) for e in result["userErrors"]] == [
            ("NOT_FOUND", ["input", "apiKeyId"])
        ]
        assert result.get("secretPlaintext") is None
    after = await SignatureConfig.get(api_key_id=other.api_key_id)
    assert (after.method, after.secret_ciphertext) == (before.method, before.secret_ciphertext)
    assert await AuditEvent.filter(account_id=seeded.account_id).count() == 0


async def test_viewers_may_not_rotate_or_change_settings(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    before = await stored_secret(seeded)
    viewer = seeded.bearer(Role.VIEWER)
    rotate = await call(client, ROTATE, viewer, apiKeyId=key_id(seeded))
    update = await call(client, SETTINGS_UPDATE, viewer, apiKeyId=key_id(seeded), method="MD5_HASH")
    assert [e["code"] for e in rotate["userErrors"] + update["userErrors"]] == [
        "FORBIDDEN",
        "FORBIDDEN",
    ]
    assert await stored_secret(seeded) == before
