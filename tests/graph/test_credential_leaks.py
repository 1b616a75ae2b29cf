"""Secret plaintext appears only in the payload field that hands it over, never anywhere else:
not in any database row, audit event, log record (DEBUG and up) or error message."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from tortoise.connection import get_connection

from graph.relay import to_global_id
from models.audit import AuditEvent
from models.credentials import ApiSecret
from resolvers.credentials import record_expired_secrets
from resolvers.deps import Deps
from tests.clock import FakeClock
from tests.conftest import Seeded, basic_header, gql, on_postgres

SESSION = """mutation($input: SessionCreateInput!) {
  sessionCreate(input: $input) { token expiresAt userErrors { field code message } } }"""
KEY_CREATE = """mutation($input: ApiKeyCreateInput!) {
  apiKeyCreate(input: $input) { apiKey { id key } secretPlaintext
    userErrors { field code message } } }"""
CREATE = """mutation($input: ApiSecretCreateInput!) {
  apiSecretCreate(input: $input) { apiSecret { id masked } secretPlaintext
    userErrors { field code message } } }"""
ROLL = """mutation($input: ApiSecretRollInput!) {
  apiSecretRoll(input: $input) { apiSecret { id } secretPlaintext previousSecret { id }
    userErrors { field code message } } }"""
REVOKE = """mutation($input: ApiSecretRevokeInput!) {
  apiSecretRevoke(input: $input) { revokedSecretId userErrors { field code message } } }"""
REVEAL = """mutation($input: ApiSecretRevealInput!) {
  apiSecretReveal(input: $input) { secretPlaintext userErrors { field code message } } }"""
AUDIT = """{ viewer { account { auditEvents(first: 100) { edges { node {
  action actor before after } } } } } }"""


class Recorder:
    """Runs mutations, remembering every plaintext in play and every response."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.plaintexts: set[str] = set()
        self.responses: list[dict[str, Any]] = []

    async def send(
        self, document: str, variables: dict[str, Any], auth: str | None = None
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql",
            json={"query": document, "variables": variables},
            headers={"Authorization": auth} if auth else {},
        )
        body = response.json()
        self.responses.append(body)
        return body

    async def mutate(self, document: str, auth: str | None = None, **fields: Any) -> dict:
        body = await self.send(document, {"input": fields}, auth)
        payload = next(iter((body.get("data") or {}).values()), None) or {}
        if payload.get("secretPlaintext"):
            self.plaintexts.add(payload["secretPlaintext"])
        return payload


def without_handover(value: Any) -> Any:
    """A response with the one field allowed to carry plaintext taken out."""
    if isinstance(value, dict):
        return {k: without_handover(v) for k, v in value.items() if k != "secretPlaintext"}
    if isinstance(value, list):
        return [without_handover(v) for v in value]
    return value


async def every_row() -> list[tuple[str, dict[str, Any]]]:
    connection = get_connection("default")
    if on_postgres():
        listing = "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
    else:
        listing = "SELECT name FROM sqlite_master WHERE type = 'table'"
    rows = []
    for table in await connection.execute_query_dict(listing):
        name = table["name"]
        for row in await connection.execute_query_dict(f'SELECT * FROM "{name}"'):
            rows.append((name, row))
    return rows


async def run_every_credential_operation(rec: Recorder, seeded: Seeded, clock: FakeClock) -> None:
    rec.plaintexts |= {seeded.secret, "Guess1Wrong", "Chosen9Secret", "nouppercase1", "Dup1icate9"}
    await rec.mutate(SESSION, apiKey=seeded.api_key, apiSecret="Guess1Wrong")
    await rec.mutate(SESSION, apiKey=seeded.api_key, apiSecret=seeded.secret, role="VIEWER")
    other = await rec.mutate(KEY_CREATE, seeded.basic, nickname="Leaks")
    other_auth = basic_header(other["apiKey"]["key"], other["secretPlaintext"])
    key_id = to_global_id("ApiKey", seeded.api_key_id)
    await rec.mutate(CREATE, seeded.basic, apiKeyId=key_id, secret="nouppercase1")
    created = await rec.mutate(CREATE, seeded.basic, apiKeyId=key_id, secret="Chosen9Secret")
    await rec.mutate(CREATE, other_auth, apiKeyId=other["apiKey"]["id"], secret="Dup1icate9")
    await rec.mutate(CREATE, other_auth, apiKeyId=other["apiKey"]["id"], secret="Dup1icate9")
    await rec.mutate(REVEAL, seeded.basic, secretId=created["apiSecret"]["id"])
    await rec.mutate(REVOKE, seeded.basic, secretId=created["apiSecret"]["id"])
    first = to_global_id(
        "ApiSecret", (await ApiSecret.filter(api_key_id=seeded.api_key_id).first()).id
    )
    rolled = await rec.mutate(ROLL, seeded.basic, secretId=first, expiresInSeconds=5)
    # Variables that fail GraphQL's own checks must not be echoed back either.
    await rec.send(SESSION, {"input": {"apiSecret": seeded.secret}})
    await rec.send(SESSION, {"input": {"apiKey": 1, "apiSecret": seeded.secret, "role": "ROOT"}})
    await rec.send(SESSION, {"input": {"apiKey": "k", "apiSecret": "x", "role": seeded.secret}})
    await rec.send(SESSION, {"input": {"apiSecret": "x", "apiKey": "k", "x": seeded.secret}})
    await rec.send(SESSION, {"input": seeded.secret})
    literal = 'mutation { sessionCreate(input: {apiSecret: "%s"}) { token } }'
    await rec.send(literal % seeded.secret, {})
    await rec.send(CREATE, {"input": {"apiKeyId": 7, "secret": ["Chosen9Secret"]}}, seeded.basic)
    clock.advance(5)
    assert await record_expired_secrets(deps=seeded.deps) == 1
    new_auth = basic_header(seeded.api_key, rolled["secretPlaintext"])
    rec.responses.append(await gql(rec.client, AUDIT, auth=new_auth))


async def test_plaintext_appears_only_where_it_is_handed_over(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps, caplog: pytest.LogCaptureFixture
) -> None:
    deps.clock = clock = FakeClock()
    caplog.set_level(logging.DEBUG)
    rec = Recorder(client)
    await run_every_credential_operation(rec, seeded, clock)
    # Three handed over (new key, roll, reveal of the chosen one) plus the five we chose or typed.
    assert len(rec.plaintexts) >= 7

    responses = json.dumps(without_handover(rec.responses), ensure_ascii=False)
    rows = await every_row()
    audit = [(e.before, e.after) for e in await AuditEvent.all()]
    records = caplog.records
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in records)
    # The checks can see what they look for: rows with the ciphertexts, SQL in the log.
    assert {name for name, _ in rows} >= {"api_secret", "audit_event", "api_key", "account"}
    assert any(r.name == "tortoise.db_client" and "api_secret" in r.getMessage() for r in records)
    assert len(audit) >= 8
    for plaintext in rec.plaintexts:
        at = responses.find(plaintext)
        assert at < 0, responses[max(0, at - 300) : at + 40]
        for table, row in rows:
            for column, value in row.items():
                assert plaintext not in str(value), (table, column)
        assert plaintext not in json.dumps(audit), plaintext
        assert plaintext not in logged, plaintext
