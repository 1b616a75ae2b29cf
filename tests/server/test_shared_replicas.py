"""Hundreds of settingsChanged sockets on one real replica: an edit made on the other replica
(through Redis when TEST_REDIS_URL is set; on the same replica otherwise) reaches every one
through one shared execution; revoking their credential closes every one through the
process's credential watcher; and the process keeps at most four Redis connections."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from graph.relay import pk_of
from resolvers.events import settings_channel
from server.redis_broker import POOL_SIZE
from tests.live import GraphQLWebSocket, graphql_ws
from tests.replicas import base_env, cli, free_port, post, replicas, seed, shared_database
from tests.server.served import Samples
from tests.server.test_replicas import REVOKE, VIEWER, basic, create_secret, wait_closed

SOCKETS = 200
SETTINGS_CHANGED = """subscription Watch($id: ID!) { settingsChanged(apiKeyId: $id) {
  kind section apiKey { id messaging { sms { deliveryReceiptUrl } } } } }"""
SMS_UPDATE = """mutation($input: SmsWebhooksUpdateInput!) {
  smsWebhooksUpdate(input: $input) { userErrors { code } } }"""
SHARED = "switchboard_shared_subscription_{}_total"
REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    async with shared_database(tmp_path) as database:
        environment = base_env(database, tmp_path, SWITCHBOARD_WS_RECHECK_SECONDS="0.5")
        cli(environment, "migrate")
        yield environment


async def scrape(port: int) -> Samples:
    async with httpx.AsyncClient() as http:
        return Samples((await http.get(f"http://127.0.0.1:{port}/metrics")).text)


async def edit(url: str, auth: str, key_id: str, receipt: str) -> None:
    variables = {"input": {"apiKeyId": key_id, "deliveryReceiptUrl": receipt}}
    body = (await post(url, SMS_UPDATE, variables, Authorization=auth)).json()
    assert body["data"]["smsWebhooksUpdate"]["userErrors"] == [], body


async def receipt_of(ws: GraphQLWebSocket, wait: float = 20) -> str:
    message = await ws.receive(wait=wait)
    assert message["type"] == "next", message
    return str(
        message["payload"]["data"]["settingsChanged"]["apiKey"]["messaging"]["sms"][
            "deliveryReceiptUrl"
        ]
    )


async def until_heard(ws: GraphQLWebSocket, receipt: str) -> None:
    """Skips what earlier edits sent: the first probe may or may not have been heard."""
    while await receipt_of(ws) != receipt:
        pass


async def redis_names() -> list[str]:
    assert REDIS_URL is not None
    redis = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        return [c.get("name") or "" for c in await redis.client_list()]
    finally:
        await redis.aclose()


async def numsub(channel: str) -> int:
    assert REDIS_URL is not None
    redis = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        ((_, count),) = await redis.pubsub_numsub(channel)
        return int(count)
    finally:
        await redis.aclose()


async def test_one_edit_reaches_every_socket_through_one_execution_and_revocation_closes_all(
    env: dict[str, str],
) -> None:
    account = seed(env)
    key, first = account["apiKey"], account["apiSecret"]
    owner = basic(key, first)
    metrics_port = free_port()
    with replicas(env, 2, first_only=("--metrics-port", str(metrics_port))) as (a, b):
        editor = b if REDIS_URL else a
        key_id, created = await create_secret(a.url, owner)
        held = basic(key, created["secretPlaintext"])
        # The shared rate limits in use on A: failed logins are counted (in Redis, if set).
        for _ in range(3):
            wrong = await post(a.url, VIEWER, Authorization=basic(key, "Wrong1secret"))
            assert wrong.status_code == 401
        async with contextlib.AsyncExitStack() as stack:
            opened = []
            for _ in range(SOCKETS):
                ws = await stack.enter_async_context(graphql_ws(a.url))
                assert (await ws.init({"Authorization": held}))["type"] == "connection_ack"
                opened.append(ws)
            # The first member's execution is subscribed once an edit reaches it; later
            # members join that execution.
            await opened[0].subscribe(SETTINGS_CHANGED, {"id": key_id})
            for attempt in range(20):
                await edit(editor.url, owner, key_id, f"https://example.com/probe-{attempt}")
                with contextlib.suppress(TimeoutError):
                    await receipt_of(opened[0], wait=5)
                    break
            for ws in opened[1:]:
                await ws.subscribe(SETTINGS_CHANGED, {"id": key_id})
            for _ in range(200):
                samples = await scrape(metrics_port)
                if (
                    samples.value("switchboard_subscriptions_open", kind="settingsChanged")
                    == SOCKETS
                ):
                    break
                await asyncio.sleep(0.05)
            executions = samples.value(SHARED.format("executions"), kind="settingsChanged")
            frames = samples.value(SHARED.format("frames"), kind="settingsChanged")
            await edit(editor.url, owner, key_id, "https://example.com/everyone")
            await asyncio.gather(
                *(until_heard(ws, "https://example.com/everyone") for ws in opened)
            )
            samples = await scrape(metrics_port)
            assert (
                samples.value(SHARED.format("executions"), kind="settingsChanged") - executions == 1
            )
            assert (
                samples.value(SHARED.format("frames"), kind="settingsChanged") - frames == SOCKETS
            )
            if REDIS_URL:
                names = await redis_names()
                own = [n for n in names if n.startswith(f"switchboard:{a.process.pid}:")]
                assert 2 <= len(own) <= 1 + POOL_SIZE, own
            # Revoking the secret they all hold closes every socket, by the one watcher.
            revoked = await post(
                b.url,
                REVOKE,
                {"input": {"secretId": created["apiSecret"]["id"]}},
                Authorization=owner,
            )
            assert revoked.json()["data"]["apiSecretRevoke"]["userErrors"] == []
            codes = await asyncio.gather(*(wait_closed(ws) for ws in opened))
            assert set(codes) == {4401}
        for _ in range(200):
            samples = await scrape(metrics_port)
            if samples.value("switchboard_subscriptions_open", kind="settingsChanged") == 0:
                break
            await asyncio.sleep(0.05)
        assert samples.value("switchboard_subscriptions_open", kind="settingsChanged") == 0
        if REDIS_URL:
            pk = pk_of(key_id, "ApiKey")
            assert pk is not None
            channel = env["SWITCHBOARD_REDIS_PREFIX"] + settings_channel(pk)
            for _ in range(200):
                if await numsub(channel) == 0:
                    break
                await asyncio.sleep(0.05)
            # The last member gone, the execution ended and A unsubscribed.
            assert await numsub(channel) == 0
