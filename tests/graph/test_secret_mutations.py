"""apiSecretCreate, apiSecretRevoke, apiSecretRoll and apiSecretReveal through the real app."""

from __future__ import annotations

import base64

import httpx
import pytest

from graph.relay import to_global_id
from models.credentials import ApiSecret
from resolvers.credentials import record_expired_secrets
from resolvers.deps import Deps
from resolvers.principal import Role
from tests.clock import FakeClock
from tests.conftest import Seeded, gql, seed_account

SECRET_FIELDS = "id masked createdAt lastUsedAt expiresAt"
CREATE = f"""
mutation($input: ApiSecretCreateInput!) {{
  apiSecretCreate(input: $input) {{
    apiSecret {{ {SECRET_FIELDS} }}
    secretPlaintext
    apiKey {{ id secrets {{ {SECRET_FIELDS} }} }}
    userErrors {{ field code message }}
  }}
}}
"""
REVOKE = f"""
mutation($input: ApiSecretRevokeInput!) {{
  apiSecretRevoke(input: $input) {{
    revokedSecretId
    apiKey {{ id secrets {{ {SECRET_FIELDS} }} }}
    userErrors {{ field code message }}
  }}
}}
"""
ROLL = f"""
mutation($input: ApiSecretRollInput!) {{
  apiSecretRoll(input: $input) {{
    apiSecret {{ {SECRET_FIELDS} }}
    secretPlaintext
    previousSecret {{ {SECRET_FIELDS} }}
    apiKey {{ id secrets {{ {SECRET_FIELDS} }} }}
    userErrors {{ field code message }}
  }}
}}
"""
REVEAL = """
mutation($input: ApiSecretRevealInput!) {
  apiSecretReveal(input: $input) { secretPlaintext userErrors { field code message } }
}
"""
SECRETS = "{ viewer { apiKey { secrets { id masked expiresAt } } } }"
AUDIT = """{ viewer { account { auditEvents(first: 50) { edges { node {
  action actor role targetId clientAddress requestId before after } } } } } }"""


@pytest.fixture
def clock(deps: Deps) -> FakeClock:
    deps.clock = FakeClock()
    return deps.clock


def key_id(seeded: Seeded) -> str:
    return to_global_id("ApiKey", seeded.api_key_id)


async def secret_ids(seeded: Seeded) -> list[str]:
    rows = await ApiSecret.filter(api_key_id=seeded.api_key_id).order_by("id")
    return [to_global_id("ApiSecret", row.id) for row in rows]


async def call(client: httpx.AsyncClient, document: str, auth: str, **fields: object) -> dict:
    body = await gql(client, document, {"input": fields}, auth=auth)
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


async def test_create_second_secret_then_limit(client: httpx.AsyncClient, seeded: Seeded) -> None:
    created = await call(client, CREATE, seeded.basic, apiKeyId=key_id(seeded))
    assert created["userErrors"] == []
    plaintext = created["secretPlaintext"]
    assert created["apiSecret"]["masked"] == "•" * 12 + plaintext[-4:]
    assert [s["id"] for s in created["apiKey"]["secrets"]] == await secret_ids(seeded)
    refused = await call(client, CREATE, seeded.basic, apiKeyId=key_id(seeded))
    assert refused["apiSecret"] is None and refused["secretPlaintext"] is None
    (error,) = refused["userErrors"]
    assert (error["field"], error["code"]) == (["input", "apiKeyId"], "SECRET_LIMIT_REACHED")


async def test_chosen_secret_rule_is_named(client: httpx.AsyncClient, seeded: Seeded) -> None:
    refused = await call(client, CREATE, seeded.basic, apiKeyId=key_id(seeded), secret="abc")
    (error,) = refused["userErrors"]
    assert (error["field"], error["code"]) == (["input", "secret"], "SECRET_COMPLEXITY")
    assert error["message"] == "API secret must be 8 to 25 characters long."
    chosen = await call(
        client, CREATE, seeded.basic, apiKeyId=key_id(seeded), secret="MyOwn2Secret"
    )
    assert chosen["secretPlaintext"] == "MyOwn2Secret"


async def test_revoke_and_last_secret(client: httpx.AsyncClient, seeded: Seeded) -> None:
    (original,) = await secret_ids(seeded)
    last = await call(client, REVOKE, seeded.basic, secretId=original)
    assert last["revokedSecretId"] is None
    assert last["userErrors"][0]["field"] == ["input", "secretId"]
    assert last["userErrors"][0]["code"] == "LAST_SECRET"
    created = await call(client, CREATE, seeded.basic, apiKeyId=key_id(seeded))
    revoked = await call(client, REVOKE, seeded.basic, secretId=original)
    assert revoked["revokedSecretId"] == original
    assert [s["id"] for s in revoked["apiKey"]["secrets"]] == [created["apiSecret"]["id"]]
    # The old secret no longer authenticates.
    await gql(client, SECRETS, auth=seeded.basic, expect_status=401)


async def test_roll_expires_the_old_secret_by_itself(
    client: httpx.AsyncClient, seeded: Seeded, clock: FakeClock
) -> None:
    (original,) = await secret_ids(seeded)
    rolled = await call(client, ROLL, seeded.basic, secretId=original, expiresInSeconds=120)
    assert rolled["userErrors"] == []
    assert rolled["previousSecret"]["id"] == original
    assert rolled["previousSecret"]["expiresAt"] is not None
    assert rolled["apiSecret"]["expiresAt"] is None
    assert len(rolled["apiKey"]["secrets"]) == 2
    # During the grace period both work; at its end the old one stops and disappears.
    assert (
        len((await gql(client, SECRETS, auth=seeded.basic))["data"]["viewer"]["apiKey"]["secrets"])
        == 2
    )
    clock.advance(120)
    await gql(client, SECRETS, auth=seeded.basic, expect_status=401)
    new_auth = (
        "Basic "
        + base64.b64encode(f"{seeded.api_key}:{rolled['secretPlaintext']}".encode()).decode()
    )
    shown = (await gql(client, SECRETS, auth=new_auth))["data"]["viewer"]["apiKey"]["secrets"]
    assert [s["id"] for s in shown] == [rolled["apiSecret"]["id"]]
    # The sweeper records the expiry; the audit log lists it first (newest first).
    assert await record_expired_secrets(deps=seeded.deps) == 1
    events = (await gql(client, AUDIT, auth=new_auth))["data"]["viewer"]["account"]
    actions = [e["node"]["action"] for e in events["auditEvents"]["edges"]]
    assert actions == ["api_secret.expire", "api_secret.roll", "api_secret.create"]
    expire = events["auditEvents"]["edges"][0]["node"]
    assert (expire["actor"], expire["targetId"]) == ("system", original)


async def test_roll_bounds(client: httpx.AsyncClient, seeded: Seeded) -> None:
    (original,) = await secret_ids(seeded)
    for seconds in (-1, 7 * 24 * 3600 + 1):
        refused = await call(
            client, ROLL, seeded.basic, secretId=original, expiresInSeconds=seconds
        )
        assert refused["userErrors"][0]["field"] == ["input", "expiresInSeconds"]
        assert refused["userErrors"][0]["code"] == "INVALID_INPUT"
    assert len(await secret_ids(seeded)) == 1


async def test_reveal_for_admins_only(client: httpx.AsyncClient, seeded: Seeded) -> None:
    (original,) = await secret_ids(seeded)
    shown = await call(client, REVEAL, seeded.bearer(), secretId=original)
    assert shown == {"secretPlaintext": seeded.secret, "userErrors": []}
    hidden = await call(client, REVEAL, seeded.bearer(Role.VIEWER), secretId=original)
    assert hidden["secretPlaintext"] is None
    assert hidden["userErrors"][0]["code"] == "FORBIDDEN"
    assert seeded.secret not in str(hidden)
    (event,) = [
        e["node"]
        for e in (await gql(client, AUDIT, auth=seeded.basic))["data"]["viewer"]["account"][
            "auditEvents"
        ]["edges"]
        if e["node"]["action"] == "api_secret.reveal"
    ]
    assert event["role"] == "ADMIN" and event["targetId"] == original
    assert event["clientAddress"] == "127.0.0.1" and event["requestId"]


async def test_reveal_is_rate_limited(
    client: httpx.AsyncClient, seeded: Seeded, clock: FakeClock
) -> None:
    (original,) = await secret_ids(seeded)
    auth = seeded.bearer()
    for _ in range(10):
        assert (await call(client, REVEAL, auth, secretId=original))["secretPlaintext"]
    limited = await call(client, REVEAL, auth, secretId=original)
    assert limited["secretPlaintext"] is None
    assert limited["userErrors"][0]["code"] == "RATE_LIMITED"
    clock.advance(60)
    assert (await call(client, REVEAL, auth, secretId=original))["secretPlaintext"]


async def test_foreign_malformed_and_missing_secret_ids_look_alike(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    stranger = await seed_account(deps, "Stranger")
    (foreign,) = await secret_ids(stranger)
    (own,) = await secret_ids(seeded)
    revoked = await ApiSecret.create(
        api_key_id=seeded.api_key_id, ciphertext="x", digest="0" * 64, hint="abcd"
    )
    await ApiSecret.filter(id=revoked.id).update(revoked_at=deps.clock())
    candidates = [
        foreign,
        to_global_id("ApiSecret", 10**9),
        to_global_id("ApiSecret", revoked.id),
        to_global_id("ApiKey", int(base64.b64decode(own).split(b":")[1])),
        "garbage",
        "",
    ]
    for document, extra in ((REVOKE, {}), (ROLL, {"expiresInSeconds": 10}), (REVEAL, {})):
        answers = [
            await call(client, document, seeded.basic, secretId=gid, **extra) for gid in candidates
        ]
        assert all(a == answers[0] for a in answers), answers
        (error,) = answers[0]["userErrors"]
        assert (error["field"], error["code"]) == (["input", "secretId"], "NOT_FOUND")
    answers = [
        await call(client, CREATE, seeded.basic, apiKeyId=gid)
        for gid in (to_global_id("ApiKey", stranger.api_key_id), "garbage", own)
    ]
    assert all(a == answers[0] for a in answers)
    assert answers[0]["userErrors"][0]["code"] == "NOT_FOUND"
    assert await ApiSecret.filter(api_key_id=stranger.api_key_id).count() == 1


async def test_unauthenticated_mutations_are_refused(client: httpx.AsyncClient) -> None:
    for document, fields in (
        (CREATE, {"apiKeyId": "x"}),
        (REVOKE, {"secretId": "x"}),
        (ROLL, {"secretId": "x"}),
        (REVEAL, {"secretId": "x"}),
    ):
        body = await gql(client, document, {"input": fields})
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_viewer_session_changes_nothing(client: httpx.AsyncClient, seeded: Seeded) -> None:
    (original,) = await secret_ids(seeded)
    auth = seeded.bearer(Role.VIEWER)
    for document, fields in (
        (CREATE, {"apiKeyId": key_id(seeded)}),
        (REVOKE, {"secretId": original}),
        (ROLL, {"secretId": original}),
    ):
        answer = await call(client, document, auth, **fields)
        assert answer["userErrors"][0]["code"] == "FORBIDDEN"
    assert await secret_ids(seeded) == [original]


async def test_an_eight_character_secret_shows_at_most_two_of_them(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    chosen = "Zq7wXy4k"
    variables = {"input": {"apiKeyId": to_global_id("ApiKey", seeded.api_key_id), "secret": chosen}}
    created = (await gql(client, CREATE, variables, auth=seeded.basic))["data"]["apiSecretCreate"]
    assert created["userErrors"] == []
    assert created["apiSecret"]["masked"] == "•" * 14 + "4k"
    viewer = seeded.bearer(Role.VIEWER)
    shown = (await gql(client, SECRETS, auth=viewer))["data"]["viewer"]["apiKey"]["secrets"]
    assert "•" * 14 + "4k" in [s["masked"] for s in shown]
    audit = await gql(client, AUDIT, auth=viewer)
    assert "y4k" not in str(audit) and "•" * 14 + "4k" in str(audit)
