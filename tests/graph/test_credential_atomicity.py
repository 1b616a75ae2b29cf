"""Nothing half-done: when the last step of a change fails (here the audit write, because its
table is gone), the secret or key rows it already touched are rolled back, and a reveal that
cannot be audited reveals nothing."""

from __future__ import annotations

import logging

import httpx
import pytest
from tortoise.connection import get_connection

from graph.relay import to_global_id
from models.credentials import ApiKey, ApiSecret
from models.webhooks import MessagingConfig, SignatureConfig
from tests.conftest import Seeded, gql

CREATE = """mutation($input: ApiSecretCreateInput!) {
  apiSecretCreate(input: $input) { secretPlaintext userErrors { code } } }"""
ROLL = """mutation($input: ApiSecretRollInput!) {
  apiSecretRoll(input: $input) { secretPlaintext userErrors { code } } }"""
REVOKE = """mutation($input: ApiSecretRevokeInput!) {
  apiSecretRevoke(input: $input) { revokedSecretId userErrors { code } } }"""
REVEAL = """mutation($input: ApiSecretRevealInput!) {
  apiSecretReveal(input: $input) { secretPlaintext userErrors { code } } }"""
KEY_CREATE = """mutation($input: ApiKeyCreateInput!) {
  apiKeyCreate(input: $input) { secretPlaintext userErrors { code } } }"""
KEY_UPDATE = """mutation($input: ApiKeyUpdateInput!) {
  apiKeyUpdate(input: $input) { apiKey { nickname } userErrors { code } } }"""


async def snapshot(seeded: Seeded) -> list[tuple]:
    secrets = await ApiSecret.all().order_by("id").values_list("id", "expires_at", "revoked_at")
    keys = await ApiKey.all().order_by("id").values_list("id", "nickname")
    configs = (await MessagingConfig.all().count(), await SignatureConfig.all().count())
    return [*secrets, *keys, configs]


async def test_a_failed_audit_write_undoes_the_whole_change(
    client: httpx.AsyncClient, seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key_id = to_global_id("ApiKey", seeded.api_key_id)
    second = await gql(client, CREATE, {"input": {"apiKeyId": key_id}}, auth=seeded.basic)
    assert second["data"]["apiSecretCreate"]["secretPlaintext"]
    first_id = to_global_id("ApiSecret", (await ApiSecret.all().order_by("id").first()).id)
    before = await snapshot(seeded)
    await get_connection("default").execute_script('DROP TABLE "audit_event"')

    attempts = [
        (ROLL, {"secretId": first_id, "expiresInSeconds": 0}),
        (REVOKE, {"secretId": first_id}),
        (REVEAL, {"secretId": first_id}),
        (KEY_CREATE, {"nickname": "half"}),
        (KEY_UPDATE, {"apiKeyId": key_id, "nickname": "half"}),
    ]
    for document, fields in attempts:
        body = await gql(client, document, {"input": fields}, auth=seeded.basic)
        assert body["data"] is None, body
        assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
        assert seeded.secret not in str(body)
    assert await snapshot(seeded) == before
    assert seeded.secret not in caplog.text
