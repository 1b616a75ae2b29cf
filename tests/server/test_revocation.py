"""Revocation ends access at once: session tokens are bound to the secret that made them,
`sessionRevoke` ends one token, and open WebSockets lose their authority (close 4401)."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from websockets.exceptions import ConnectionClosed

from graph.relay import to_global_id
from models.account import Account
from models.audit import AuditEvent
from models.credentials import ApiKey, ApiSecret, RevokedSession
from resolvers import provisioning
from resolvers.deps import Deps
from resolvers.sessions import prune_revoked_sessions
from server.app import create_app
from server.settings import Settings
from tests.conftest import Seeded, basic_header, gql
from tests.live import GraphQLWebSocket, graphql_ws, live_server
from tests.server.test_auth import _claims

VIEWER = "{ viewer { role } }"
LOGIN = """mutation($input: SessionCreateInput!) {
  sessionCreate(input: $input) { token userErrors { code } } }"""
LOGOUT = "mutation { sessionRevoke { revoked userErrors { code message } } }"
REVOKE = """mutation($input: ApiSecretRevokeInput!) {
  apiSecretRevoke(input: $input) { revokedSecretId userErrors { code } } }"""
ROLL = """mutation($input: ApiSecretRollInput!) {
  apiSecretRoll(input: $input) { secretPlaintext userErrors { code } } }"""
REVEAL_SIGNATURE = """mutation($input: SignatureSecretRevealInput!) {
  signatureSecretReveal(input: $input) { secretPlaintext userErrors { code } } }"""
SETTINGS_CHANGED = "subscription($id: ID!) { settingsChanged(apiKeyId: $id) { section } }"
SECOND = "Second1secret"


async def second_secret(seeded: Seeded, deps: Deps) -> ApiSecret:
    key = await (await Account.get(id=seeded.account_id)).api_keys.all().first()
    assert key is not None
    return await provisioning.store_secret(deps=deps, api_key=key, plaintext=SECOND)


async def login(client: httpx.AsyncClient, seeded: Seeded, secret: str) -> str:
    variables = {"input": {"apiKey": seeded.api_key, "apiSecret": secret}}
    body = await gql(client, LOGIN, variables)
    token = body["data"]["sessionCreate"]["token"]
    assert token, body
    return f"Bearer {token}"


async def status(client: httpx.AsyncClient, auth: str) -> int:
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": auth}
    )
    return response.status_code


def secret_gid(secret_id: int | None) -> str:
    assert secret_id is not None
    return to_global_id("ApiSecret", secret_id)


async def test_revoking_a_secret_ends_the_sessions_it_made(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    second = await second_secret(seeded, deps)
    doomed = await login(client, seeded, SECOND)
    kept = await login(client, seeded, seeded.secret)
    assert await status(client, doomed) == 200
    body = await gql(client, REVOKE, {"input": {"secretId": secret_gid(second.id)}}, auth=kept)
    assert body["data"]["apiSecretRevoke"]["userErrors"] == []
    refused = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": doomed}
    )
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # It cannot mint a new working secret either; the other secret's session is untouched.
    assert await status(client, kept) == 200


async def test_rolling_with_zero_grace_ends_the_old_secrets_sessions(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    doomed = await login(client, seeded, seeded.secret)
    variables = {"input": {"secretId": secret_gid(seeded.secret_id), "expiresInSeconds": 0}}
    body = await gql(client, ROLL, variables, auth=doomed)
    assert body["data"]["apiSecretRoll"]["secretPlaintext"]
    assert await status(client, doomed) == 401
    fresh = await login(client, seeded, body["data"]["apiSecretRoll"]["secretPlaintext"])
    assert await status(client, fresh) == 200


async def test_a_secret_that_expires_takes_its_sessions_with_it(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    second = await second_secret(seeded, deps)
    token = await login(client, seeded, SECOND)
    await ApiSecret.filter(id=second.id).update(expires_at=deps.clock() - timedelta(seconds=1))
    assert await status(client, token) == 401


async def test_session_revoke_logs_out_one_token(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    first = await login(client, seeded, seeded.secret)
    second = await login(client, seeded, seeded.secret)
    body = await gql(client, LOGOUT, auth=first)
    assert body["data"]["sessionRevoke"] == {"revoked": True, "userErrors": []}
    assert await status(client, first) == 401
    assert await status(client, second) == 200
    assert await AuditEvent.filter(action="session.revoke").count() == 1
    # Basic credentials have no session to end.
    basic = await gql(client, LOGOUT, auth=seeded.basic)
    assert basic["data"]["sessionRevoke"]["userErrors"][0]["code"] == "INVALID_INPUT"
    # Revocations are forgotten once the token has expired anyway.
    assert await RevokedSession.all().count() == 1
    assert await prune_revoked_sessions(deps.clock()) == 0
    assert await prune_revoked_sessions(deps.clock() + timedelta(hours=2)) == 1


def fast_recheck_app(settings: Settings, deps: Deps) -> Any:
    quick = Settings(master_key=settings.master_key, ws_recheck_seconds=0.2)
    return create_app(quick, deps=deps, init_database=False)


async def closed_code(ws: GraphQLWebSocket) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await ws.receive(wait=15)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


@pytest.mark.parametrize("door", ["token", "basic"])
async def test_an_operation_on_a_socket_whose_secret_was_revoked_closes_it(
    app: Any, client: httpx.AsyncClient, seeded: Seeded, deps: Deps, door: str
) -> None:
    second = await second_secret(seeded, deps)
    auth = (
        await login(client, seeded, SECOND)
        if door == "token"
        else basic_header(seeded.api_key, SECOND)
    )
    key_id = to_global_id("ApiKey", seeded.api_key_id)
    async with live_server(app) as url, graphql_ws(url) as ws:
        assert (await ws.init({"Authorization": auth}))["type"] == "connection_ack"
        await ApiSecret.filter(id=second.id).update(revoked_at=deps.clock())
        # The default re-check interval (10 s) has not passed: the operation itself checks.
        await ws.subscribe(REVEAL_SIGNATURE, {"input": {"apiKeyId": key_id}})
        message = None
        with pytest.raises(ConnectionClosed) as closed:
            message = await ws.receive()
        assert message is None, "the revoked socket answered: " + str(message)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401
        assert closed.value.rcvd.reason == "Credentials no longer valid"
    assert await AuditEvent.filter(action="signature_secret.reveal").count() == 0


async def test_an_open_subscription_ends_when_its_session_is_logged_out(
    settings: Settings, deps: Deps, client: httpx.AsyncClient, seeded: Seeded
) -> None:
    token = await login(client, seeded, seeded.secret)
    key_id = to_global_id("ApiKey", seeded.api_key_id)
    async with live_server(fast_recheck_app(settings, deps)) as url, graphql_ws(url) as ws:
        assert (await ws.init({"Authorization": token}))["type"] == "connection_ack"
        await ws.subscribe(SETTINGS_CHANGED, {"id": key_id})
        await asyncio.sleep(0.5)  # re-checked while valid: stays open
        assert (await gql(client, LOGOUT, auth=token))["data"]["sessionRevoke"]["revoked"]
        assert await closed_code(ws) == 4401


async def test_each_socket_operation_has_its_own_server_made_request_id(
    app: Any, seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    rename = """mutation($input: ApiKeyUpdateInput!) {
      apiKeyUpdate(input: $input) { userErrors { code } } }"""
    key_id = to_global_id("ApiKey", seeded.api_key_id)
    # A client's ID far over the audit column's 64 characters no longer breaks anything.
    headers = {"X-Request-ID": "c" * 200}
    caplog.set_level(logging.INFO, logger="switchboard.access")
    async with (
        live_server(app) as url,
        graphql_ws(url, additional_headers=headers) as ws,
    ):
        await ws.init({"Authorization": seeded.basic})
        for name in ("One", "Two"):
            op = await ws.subscribe(rename, {"input": {"apiKeyId": key_id, "nickname": name}})
            message = await ws.receive()
            assert message["id"] == op and message["type"] == "next", message
            assert message["payload"]["data"]["apiKeyUpdate"]["userErrors"] == []
            assert (await ws.receive())["type"] == "complete"
    ids = [e.request_id for e in await AuditEvent.filter(action="api_key.update").order_by("id")]
    assert len(ids) == 2
    assert ids[0] != ids[1]
    assert all(i and len(i) == 32 and not i.startswith("cccc") for i in ids), ids
    # One access-log line per socket operation, carrying the same ID as its audit record.
    lines = [r for r in caplog.records if r.name == "switchboard.access" and r.msg.startswith("WS")]
    assert [getattr(r, "request_id", None) for r in lines] == ids
    assert all(getattr(r, "outcome", None) == "complete" for r in lines)
    # The client's over-long ID is not taken, not even as the separate field.
    assert all(getattr(r, "client_request_id", None) is None for r in lines)


async def test_a_socket_whose_session_token_expired_runs_nothing_more(
    app: Any, seeded: Seeded
) -> None:
    expires = int(time.time()) + 2
    claims = _claims(seeded, exp=expires)
    token = "Bearer " + jwt.encode(claims, seeded.deps.box.session_signing_key, "HS256")
    rename = """mutation($input: ApiKeyUpdateInput!) {
      apiKeyUpdate(input: $input) { userErrors { code } } }"""
    key_id = to_global_id("ApiKey", seeded.api_key_id)
    async with live_server(app) as url, graphql_ws(url) as ws:
        assert (await ws.init({"Authorization": token}))["type"] == "connection_ack"
        await asyncio.sleep(max(0.0, expires - time.time()) + 0.2)
        await ws.subscribe(rename, {"input": {"apiKeyId": key_id, "nickname": "Expired"}})
        assert await closed_code(ws) == 4401
    assert (await ApiKey.get(id=seeded.api_key_id)).nickname != "Expired"
