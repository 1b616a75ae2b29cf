"""sessionCreate, apiKeyCreate and apiKeyUpdate through the real app."""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime, timedelta

import httpx
import pytest

from graph.relay import to_global_id
from models.account import Account
from models.audit import AuditEvent
from models.credentials import ApiKey, ApiSecret
from resolvers.deps import Deps
from resolvers.events import settings_channel
from resolvers.principal import Role
from tests.clock import FakeClock
from tests.conftest import Seeded, basic_header, gql, seed_account

SESSION_CREATE = """
mutation($input: SessionCreateInput!) {
  sessionCreate(input: $input) { token expiresAt userErrors { field code message } }
}
"""
VIEWER = (
    "{ viewer { role apiKey { key } account { apiKeys(first: 20) { edges { node { key } } } } } }"
)
KEY_CREATE = """
mutation($input: ApiKeyCreateInput!) {
  apiKeyCreate(input: $input) {
    apiKey {
      id key nickname isPrimary
      secrets { id masked expiresAt }
      messaging { api sms { format } }
      signature { method maskedSecret }
    }
    secretPlaintext
    userErrors { field code message }
  }
}
"""
KEY_UPDATE = """
mutation($input: ApiKeyUpdateInput!) {
  apiKeyUpdate(input: $input) { apiKey { id nickname } userErrors { field code message } }
}
"""
AUDIT = """{ viewer { account { auditEvents(first: 50) { edges { node {
  action actor role targetId clientAddress requestId before after } } } } } }"""


@pytest.fixture
def clock(deps: Deps) -> FakeClock:
    deps.clock = FakeClock()
    return deps.clock


async def session(client: httpx.AsyncClient, key: str, secret: str, role: str | None = None):
    variables = {"input": {"apiKey": key, "apiSecret": secret, "role": role}}
    return (await gql(client, SESSION_CREATE, variables))["data"]["sessionCreate"]


async def create_key(client: httpx.AsyncClient, auth: str, nickname: str | None = None) -> dict:
    body = await gql(client, KEY_CREATE, {"input": {"nickname": nickname}}, auth=auth)
    return body["data"]["apiKeyCreate"]


async def audit_actions(client: httpx.AsyncClient, auth: str) -> list[dict]:
    body = await gql(client, AUDIT, auth=auth)
    return [e["node"] for e in body["data"]["viewer"]["account"]["auditEvents"]["edges"]]


async def test_session_create_needs_no_auth_and_issues_a_working_token(
    client: httpx.AsyncClient, seeded: Seeded, clock: FakeClock
) -> None:
    result = await session(client, seeded.api_key, seeded.secret)
    assert result["userErrors"] == []
    assert datetime.fromisoformat(result["expiresAt"]) == clock() + timedelta(seconds=3600)
    body = await gql(client, VIEWER, auth=f"Bearer {result['token']}")
    assert body["data"]["viewer"]["role"] == "ADMIN"
    assert body["data"]["viewer"]["apiKey"] == {"key": seeded.api_key}
    (login,) = await audit_actions(client, seeded.basic)
    assert login["action"] == "session.create" and login["after"]["role"] == "ADMIN"
    assert login["clientAddress"] == "127.0.0.1"


async def test_viewer_role_on_request_and_never_more_than_the_key(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    viewer = await session(client, seeded.api_key, seeded.secret, "VIEWER")
    auth = f"Bearer {viewer['token']}"
    assert (await gql(client, VIEWER, auth=auth))["data"]["viewer"]["role"] == "VIEWER"
    refused = await create_key(client, auth, "nope")
    assert refused["apiKey"] is None and refused["secretPlaintext"] is None
    assert refused["userErrors"][0]["code"] == "FORBIDDEN"
    # Asking for ADMIN with a key gives ADMIN (what a key allows), never more.
    admin = await session(client, seeded.api_key, seeded.secret, "ADMIN")
    body = await gql(client, VIEWER, auth=f"Bearer {admin['token']}")
    assert body["data"]["viewer"]["role"] == "ADMIN"


async def test_non_primary_key_gets_a_token_scoped_to_itself(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    other = await create_key(client, seeded.basic, "Testing")
    result = await session(client, other["apiKey"]["key"], other["secretPlaintext"])
    body = await gql(client, VIEWER, auth=f"Bearer {result['token']}")
    keys = [e["node"]["key"] for e in body["data"]["viewer"]["account"]["apiKeys"]["edges"]]
    assert keys == [other["apiKey"]["key"]]


async def test_wrong_secret_and_unknown_key_answer_alike(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    wrong_secret = await session(client, seeded.api_key, "Wrong1Secret")
    unknown_key = await session(client, "00000000", seeded.secret)
    garbage = await session(client, "", "")
    expected = {
        "token": None,
        "expiresAt": None,
        "userErrors": [
            {
                "field": ["input", "apiSecret"],
                "code": "FORBIDDEN",
                "message": "Unknown API key or wrong API secret.",
            }
        ],
    }
    assert wrong_secret == unknown_key == garbage == expected


async def test_expired_secret_cannot_log_in(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps, clock: FakeClock
) -> None:
    await ApiSecret.filter(api_key_id=seeded.api_key_id).update(
        expires_at=clock() + timedelta(seconds=10)
    )
    assert (await session(client, seeded.api_key, seeded.secret))["token"]
    clock.advance(10)
    result = await session(client, seeded.api_key, seeded.secret)
    assert result["token"] is None and result["userErrors"][0]["code"] == "FORBIDDEN"


async def test_failed_logins_are_rate_limited_per_address(
    client: httpx.AsyncClient, seeded: Seeded, clock: FakeClock
) -> None:
    for _ in range(20):
        assert (await session(client, seeded.api_key, "Wrong1Secret"))["token"] is None
    # Past the limit even the right secret is refused, so a lucky guess is never confirmed.
    limited = await session(client, seeded.api_key, seeded.secret)
    assert limited["token"] is None
    assert limited["userErrors"][0]["code"] == "RATE_LIMITED"
    assert limited["userErrors"][0]["field"] is None
    clock.advance(300)
    assert (await session(client, seeded.api_key, seeded.secret))["token"]


async def test_api_key_create_defaults(client: httpx.AsyncClient, seeded: Seeded) -> None:
    created = await create_key(client, seeded.basic, "  Production  ")
    assert created["userErrors"] == []
    key = created["apiKey"]
    assert len(key["key"]) == 8 and int(key["key"], 16) >= 0 and key["key"] != seeded.api_key
    assert (key["nickname"], key["isPrimary"]) == ("Production", False)
    assert key["messaging"] == {"api": "SMS_API", "sms": {"format": "POST_JSON"}}
    assert key["signature"]["method"] == "SHA256_HMAC"
    (secret,) = key["secrets"]
    plaintext = created["secretPlaintext"]
    assert secret["masked"] == "•" * 12 + plaintext[-4:] and secret["expiresAt"] is None
    # The plaintext works, once shown; later reads only ever show the mask.
    body = await gql(client, VIEWER, auth=basic_header(key["key"], plaintext))
    assert body["data"]["viewer"]["apiKey"] == {"key": key["key"]}
    assert plaintext not in str(await gql(client, VIEWER, auth=seeded.basic))
    (event,) = [e for e in await audit_actions(client, seeded.basic)]
    assert event["action"] == "api_key.create" and event["targetId"] == key["id"]
    assert event["after"]["nickname"] == "Production"


@pytest.mark.parametrize(
    ("nickname", "expected"),
    [(None, None), ("", None), ("   ", None), ("x" * 80, "x" * 80), (" é漢字 ", "é漢字")],
)
async def test_nickname_is_trimmed_and_blank_means_none(
    client: httpx.AsyncClient, seeded: Seeded, nickname: str | None, expected: str | None
) -> None:
    created = await create_key(client, seeded.basic, nickname)
    assert created["userErrors"] == [] and created["apiKey"]["nickname"] == expected


@pytest.mark.parametrize("nickname", ["x" * 81, "line\nbreak", "tab\there"])
async def test_bad_nickname_is_refused_and_nothing_created(
    client: httpx.AsyncClient, seeded: Seeded, nickname: str
) -> None:
    created = await create_key(client, seeded.basic, nickname)
    assert created["apiKey"] is None
    (error,) = created["userErrors"]
    assert (error["field"], error["code"]) == (["input", "nickname"], "INVALID_INPUT")
    assert await ApiKey.filter(account_id=seeded.account_id).count() == 1


async def test_key_limit_default_and_per_account(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    deps.max_api_keys = 3
    assert [bool((await create_key(client, seeded.basic))["apiKey"]) for _ in range(3)] == [
        True,
        True,
        False,
    ]
    refused = await create_key(client, seeded.basic)
    assert refused["userErrors"][0]["code"] == "API_KEY_LIMIT_REACHED"
    assert "3" in refused["userErrors"][0]["message"]
    await Account.filter(id=seeded.account_id).update(api_key_limit=4)
    assert (await create_key(client, seeded.basic))["apiKey"] is not None
    assert (await create_key(client, seeded.basic))["userErrors"][0]["code"] == (
        "API_KEY_LIMIT_REACHED"
    )


async def test_only_an_account_wide_admin_creates_keys(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    other = await create_key(client, seeded.basic, "Testing")
    scoped = basic_header(other["apiKey"]["key"], other["secretPlaintext"])
    refused = await create_key(client, scoped, "more")
    assert refused["userErrors"][0]["code"] == "FORBIDDEN" and refused["apiKey"] is None
    body = await gql(client, KEY_CREATE, {"input": {}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["data"] is None


async def test_api_key_update_renames_clears_and_keeps(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    key_id = to_global_id("ApiKey", seeded.api_key_id)

    async def update(**fields: object) -> dict:
        body = await gql(
            client, KEY_UPDATE, {"input": {"apiKeyId": key_id, **fields}}, auth=seeded.basic
        )
        return body["data"]["apiKeyUpdate"]

    async with seeded.deps.broker.subscribe(settings_channel(seeded.api_key_id)) as events:
        assert (await update(nickname=" Production "))["apiKey"]["nickname"] == "Production"
        heard = await asyncio.wait_for(anext(events), 1)
    assert heard["section"] == "apiKey"
    assert (await update())["apiKey"]["nickname"] == "Production"
    assert (await update(nickname=None))["apiKey"]["nickname"] is None
    assert (await update(nickname="Again"))["apiKey"]["nickname"] == "Again"
    assert (await update(nickname=""))["apiKey"]["nickname"] is None
    events = [
        e for e in await audit_actions(client, seeded.basic) if e["action"] == "api_key.update"
    ]
    # Newest first; leaving the nickname out changed nothing and recorded nothing.
    assert [(e["before"]["nickname"], e["after"]["nickname"]) for e in events] == [
        ("Again", None),
        (None, "Again"),
        ("Production", None),
        (None, "Production"),
    ]


async def test_api_key_update_foreign_malformed_and_missing_look_alike(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    stranger = await seed_account(deps, "Stranger")
    viewer_auth = seeded.bearer(Role.VIEWER)
    answers = []
    for key_id in [
        to_global_id("ApiKey", stranger.api_key_id),
        to_global_id("ApiKey", 10**9),
        to_global_id("ApiSecret", seeded.api_key_id),
        "not an id",
        base64.b64encode(b"ApiKey:abc").decode(),
    ]:
        body = await gql(
            client, KEY_UPDATE, {"input": {"apiKeyId": key_id, "nickname": "x"}}, auth=seeded.basic
        )
        answers.append(body["data"]["apiKeyUpdate"])
    assert all(a == answers[0] for a in answers)
    assert answers[0]["userErrors"][0]["field"] == ["input", "apiKeyId"]
    assert answers[0]["userErrors"][0]["code"] == "NOT_FOUND"
    body = await gql(
        client,
        KEY_UPDATE,
        {"input": {"apiKeyId": to_global_id("ApiKey", seeded.api_key_id), "nickname": "x"}},
        auth=viewer_auth,
    )
    assert body["data"]["apiKeyUpdate"]["userErrors"][0]["code"] == "FORBIDDEN"
    assert await AuditEvent.filter(action="api_key.update").count() == 0
