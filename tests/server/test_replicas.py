"""Two real server processes on one database (and one Redis when TEST_REDIS_URL is set):
revocation made on one is in force on the other, limits are counted across both, and proxy
headers are believed only from the proxies the operator names."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from websockets.exceptions import ConnectionClosed

from server.redis_broker import POOL_SIZE
from tests.live import graphql_ws
from tests.replicas import base_env, cli, post, replicas, seed, shared_database

VIEWER = "{ viewer { role apiKey { id } } }"
LOGIN = """mutation($input: SessionCreateInput!) {
  sessionCreate(input: $input) { token userErrors { code } } }"""
CREATE_SECRET = """mutation($input: ApiSecretCreateInput!) {
  apiSecretCreate(input: $input) { apiSecret { id } secretPlaintext userErrors { code } } }"""
REVOKE = """mutation($input: ApiSecretRevokeInput!) {
  apiSecretRevoke(input: $input) { revokedSecretId userErrors { code } } }"""
LOGOUT = "mutation { sessionRevoke { revoked } }"
REVEAL = """mutation($input: ApiSecretRevealInput!) {
  apiSecretReveal(input: $input) { secretPlaintext userErrors { code } } }"""
SETTINGS_CHANGED = "subscription($id: ID!) { settingsChanged(apiKeyId: $id) { section } }"


async def create_secret(url: str, owner: str) -> tuple[str, dict[str, Any]]:
    """A second secret for the owner's key, made on the server at `url`: the key's global ID
    and the apiSecretCreate payload (with its plaintext)."""
    viewer = (await post(url, VIEWER, Authorization=owner)).json()["data"]["viewer"]
    key_id = viewer["apiKey"]["id"]
    variables = {"input": {"apiKeyId": key_id}}
    created = (await post(url, CREATE_SECRET, variables, Authorization=owner)).json()
    return key_id, created["data"]["apiSecretCreate"]


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    async with shared_database(tmp_path) as database:
        environment = base_env(database, tmp_path, SWITCHBOARD_WS_RECHECK_SECONDS="0.5")
        cli(environment, "migrate")
        yield environment


async def login(url: str, key: str, secret: str) -> str:
    variables = {"input": {"apiKey": key, "apiSecret": secret}}
    body = (await post(url, LOGIN, variables)).json()
    token = body["data"]["sessionCreate"]["token"]
    assert token, body
    return f"Bearer {token}"


async def viewer_status(url: str, auth: str) -> int:
    return (await post(url, VIEWER, Authorization=auth)).status_code


async def wait_closed(ws: Any) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await ws.receive(wait=20)
    assert closed.value.rcvd is not None
    return int(closed.value.rcvd.code)


async def test_revocation_on_one_replica_ends_the_session_on_the_other(
    env: dict[str, str],
) -> None:
    account = seed(env)
    key, first = account["apiKey"], account["apiSecret"]
    with replicas(env, 2) as (a, b):
        owner = basic(key, first)
        key_id, created = await create_secret(a.url, owner)
        token = await login(a.url, key, created["secretPlaintext"])
        assert await viewer_status(b.url, token) == 200
        async with graphql_ws(b.url) as ws:
            assert (await ws.init({"Authorization": token}))["type"] == "connection_ack"
            await ws.subscribe(SETTINGS_CHANGED, {"id": key_id})
            revoked = await post(
                a.url,
                REVOKE,
                {"input": {"secretId": created["apiSecret"]["id"]}},
                Authorization=owner,
            )
            assert revoked.json()["data"]["apiSecretRevoke"]["userErrors"] == []
            # By the next request on the other replica, and its open socket is closed.
            assert await viewer_status(b.url, token) == 401
            assert await wait_closed(ws) == 4401
        # Logging out on B ends a token on A as well.
        other = await login(b.url, key, first)
        assert (await post(b.url, LOGOUT, Authorization=other)).json()["data"]["sessionRevoke"][
            "revoked"
        ]
        assert await viewer_status(a.url, other) == 401


async def test_a_cli_token_ends_with_the_secret_it_is_bound_to(env: dict[str, str]) -> None:
    account = seed(env)
    key, first = account["apiKey"], account["apiSecret"]
    token = "Bearer " + cli(env, "token", "--api-key", key).strip()
    with replicas(env, 1) as (a,):
        owner = basic(key, first)
        assert await viewer_status(a.url, token) == 200
        _key_id, created = await create_secret(a.url, owner)
        second = basic(key, created["secretPlaintext"])
        secrets = (
            await post(a.url, "{ viewer { apiKey { secrets { id } } } }", Authorization=second)
        ).json()["data"]["viewer"]["apiKey"]["secrets"]
        original = next(s["id"] for s in secrets if s["id"] != created["apiSecret"]["id"])
        revoked = await post(a.url, REVOKE, {"input": {"secretId": original}}, Authorization=second)
        assert revoked.json()["data"]["apiSecretRevoke"]["userErrors"] == []
        assert await viewer_status(a.url, token) == 401


requires_redis = pytest.mark.skipif(
    not os.environ.get("TEST_REDIS_URL"), reason="fleet-wide limits need TEST_REDIS_URL"
)


@requires_redis
async def test_failed_logins_and_reveals_are_counted_across_replicas(env: dict[str, str]) -> None:
    account = seed(env)
    key, secret = account["apiKey"], account["apiSecret"]
    wrong = basic(key, "Wrong1secret")
    with replicas(env, 2) as (a, b):
        # Per (key, address) ten failures are allowed: five on each replica spend them.
        for replica in (a, b) * 5:
            assert await viewer_status(replica.url, wrong) == 401
        for replica in (a, b):
            refused = await post(replica.url, VIEWER, Authorization=basic(key, secret))
            assert refused.status_code == 429, refused.text
        redis = Redis.from_url(os.environ["TEST_REDIS_URL"], decode_responses=True)
        try:
            names = [c.get("name") or "" for c in await redis.client_list()]
        finally:
            await redis.aclose()
        for replica in (a, b):
            # The limits counted through the broker's publishing pool: no client of their own,
            # and the process's connections (named after its pid) stay within four.
            own = [n for n in names if n.startswith(f"switchboard:{replica.process.pid}:")]
            assert any(n.endswith(":pub") for n in own), names
            assert len(own) <= 1 + POOL_SIZE


@requires_redis
async def test_secret_reveals_are_limited_across_replicas(env: dict[str, str]) -> None:
    account = seed(env)
    token = "Bearer " + cli(env, "token", "--api-key", account["apiKey"]).strip()
    with replicas(env, 2) as (a, b):
        secrets = (
            await post(a.url, "{ viewer { apiKey { secrets { id } } } }", Authorization=token)
        ).json()["data"]["viewer"]["apiKey"]["secrets"]
        variables = {"input": {"secretId": secrets[0]["id"]}}
        codes = []
        for replica in (a, b) * 6:
            body = (await post(replica.url, REVEAL, variables, Authorization=token)).json()
            errors = body["data"]["apiSecretReveal"]["userErrors"]
            codes.append(errors[0]["code"] if errors else "OK")
        assert codes == ["OK"] * 10 + ["RATE_LIMITED"] * 2


async def test_forwarded_addresses_are_believed_only_from_trusted_proxies(
    env: dict[str, str],
) -> None:
    account = seed(env)
    key, secret = account["apiKey"], account["apiSecret"]
    wrong, right = basic(key, "Wrong1secret"), basic(key, secret)

    async def as_client(url: str, address: str, auth: str) -> int:
        response = await post(url, VIEWER, Authorization=auth, X_Forwarded_For=address)
        return response.status_code

    with replicas(env, 1, "--forwarded-allow-ips", "127.0.0.1") as (proxied,):
        for _ in range(10):
            assert await as_client(proxied.url, "203.0.113.1", wrong) == 401
        # The guessing client is held back; another client behind the same proxy is not.
        assert await as_client(proxied.url, "203.0.113.1", right) == 429
        assert await as_client(proxied.url, "203.0.113.2", right) == 200
    env = {**env, "SWITCHBOARD_REDIS_PREFIX": env.get("SWITCHBOARD_REDIS_PREFIX", "") + "2:"}
    other = seed(env)
    wrong, right = (
        basic(other["apiKey"], "Wrong1secret"),
        basic(other["apiKey"], other["apiSecret"]),
    )
    with replicas(env, 1) as (direct,):
        # No trusted proxy: a forwarded address is ignored (anyone could send one).
        for n in range(10):
            assert await as_client(direct.url, f"203.0.113.{n + 10}", wrong) == 401
        assert await as_client(direct.url, "203.0.113.99", right) == 429


async def test_serve_help_names_the_new_settings(env: dict[str, str]) -> None:
    text = await asyncio.to_thread(cli, env, "serve", "--help")
    for name in (
        "--forwarded-allow-ips",
        "SWITCHBOARD_TRUSTED_PROXIES",
        "SWITCHBOARD_WS_RECHECK_SECONDS",
        "REDIS_URL",
    ):
        assert name in text
