"""Equal settingsChanged subscriptions share one execution per event (real sockets against a
real uvicorn in this process, so the broker and the metrics can be read exactly): what each
client sees is what an unshared subscription shows it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.routing import WebSocketRoute
from websockets.exceptions import ConnectionClosed

from graph.relay import to_global_id
from resolvers.deps import Deps
from resolvers.events import settings_channel
from resolvers.principal import Role
from server.shared_subscriptions import shareable_field
from tests.conftest import Seeded, gql, seed_account
from tests.live import GraphQLWebSocket, graphql_ws, live_server, next_payload

SETTINGS_CHANGED = """subscription Watch($id: ID!) { settingsChanged(apiKeyId: $id) {
  kind section apiKey { id messaging { sms { deliveryReceiptUrl } } } } }"""
SMS_UPDATE = """mutation($input: SmsWebhooksUpdateInput!) {
  smsWebhooksUpdate(input: $input) { userErrors { code } } }"""
KIND = "settingsChanged"


def counted(name: str) -> float:
    return (
        REGISTRY.get_sample_value(f"switchboard_shared_subscription_{name}_total", {"kind": KIND})
        or 0.0
    )


async def until(check: Any) -> None:
    for _ in range(2000):
        if await check():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("never happened")


@contextlib.asynccontextmanager
async def sockets(url: str, auths: list[str]) -> AsyncIterator[list[GraphQLWebSocket]]:
    async with contextlib.AsyncExitStack() as stack:
        opened = []
        for auth in auths:
            ws = await stack.enter_async_context(graphql_ws(url))
            assert (await ws.init({"Authorization": auth}))["type"] == "connection_ack"
            opened.append(ws)
        yield opened


async def edit(client: httpx.AsyncClient, seeded: Seeded, url: str) -> None:
    key_id = to_global_id("ApiKey", seeded.api_key_id)
    variables = {"input": {"apiKeyId": key_id, "deliveryReceiptUrl": url}}
    body = await gql(client, SMS_UPDATE, variables, auth=seeded.basic)
    assert body["data"]["smsWebhooksUpdate"]["userErrors"] == [], body


def test_only_single_allow_listed_root_fields_are_shared() -> None:
    assert shareable_field(SETTINGS_CHANGED, "Watch") == KIND
    assert shareable_field(SETTINGS_CHANGED, None) == KIND
    assert shareable_field(SETTINGS_CHANGED, "Other") is None
    for document in (
        "subscription { deliverySteps(deliveryId: 1) { kind } }",
        "subscription($i: TestWebhookInput!) { testWebhook(input: $i) { kind } }",
        "subscription { ...F } "
        "fragment F on Subscription { settingsChanged(apiKeyId: 1) { kind } }",
        "subscription { a: settingsChanged(apiKeyId: 1) { kind } b: settingsChanged(apiKeyId: 2) "
        "{ kind } }",
        "subscription { settingsChanged(apiKeyId: 1) @include(if: true) { kind } }",
        "query { viewer { role } }",
        "subscription { settingsChanged(",
    ):
        assert shareable_field(document, None) is None, document


async def test_equal_subscribers_share_one_execution_and_each_gets_its_own_frame(
    app: Any,
    client: httpx.AsyncClient,
    seeded: Seeded,
    deps: Deps,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="switchboard.access")
    channel = settings_channel(seeded.api_key_id)
    variables = {"id": to_global_id("ApiKey", seeded.api_key_id)}
    async with live_server(app) as url, sockets(url, [seeded.basic] * 20) as opened:
        ids = [await ws.subscribe(SETTINGS_CHANGED, variables) for ws in opened]
        # Twenty subscriptions, one stream on the broker.
        await until(lambda: _subscribed(deps, channel, 1))
        executions, frames = counted("executions"), counted("frames")
        await edit(client, seeded, "https://example.com/shared")
        payloads = [await next_payload(ws, op_id) for ws, op_id in zip(opened, ids, strict=True)]
        assert counted("executions") - executions == 1
        assert counted("frames") - frames == 20
        assert all(p == payloads[0] for p in payloads)
        change = payloads[0]["data"]["settingsChanged"]
        assert change["kind"] == "CHANGED"
        assert change["apiKey"]["messaging"]["sms"]["deliveryReceiptUrl"] == (
            "https://example.com/shared"
        )
        # One member's complete leaves the others running.
        await opened[0].complete(ids[0])
        await edit(client, seeded, "https://example.com/second")
        for ws, op_id in zip(opened[1:], ids[1:], strict=True):
            assert (await next_payload(ws, op_id))["data"]["settingsChanged"]["kind"] == "CHANGED"
        # Frames to a socket go out in order: a pong now means no frame was sent before it.
        await opened[0].send({"type": "ping"})
        assert (await opened[0].socket.recv()) == '{"type":"pong"}'
    # All closed: the execution ended and unsubscribed.
    await until(lambda: _subscribed(deps, channel, 0))
    ended = [r for r in caplog.records if r.name == "switchboard.access" and r.msg.startswith("WS")]
    assert len(ended) == 20
    assert len({r.request_id for r in ended}) == 20  # type: ignore[attr-defined]
    assert {r.outcome for r in ended} == {"cancelled"}  # type: ignore[attr-defined]


async def _subscribed(deps: Deps, channel: str, count: int) -> bool:
    return await deps.broker.subscribers(channel) == count


async def test_other_variables_or_another_role_get_executions_of_their_own(
    app: Any, client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    channel = settings_channel(seeded.api_key_id)
    variables = {"id": to_global_id("ApiKey", seeded.api_key_id)}
    auths = [seeded.bearer(Role.ADMIN), seeded.bearer(Role.ADMIN), seeded.bearer(Role.VIEWER)]
    async with live_server(app) as url, sockets(url, auths) as opened:
        ids = [await ws.subscribe(SETTINGS_CHANGED, variables) for ws in opened]
        # The same document with other (here: reordered, unused-free) text is another group.
        other = await opened[0].subscribe(
            SETTINGS_CHANGED.replace("kind section", "section kind"), variables
        )
        await until(lambda: _subscribed(deps, channel, 3))
        executions = counted("executions")
        await edit(client, seeded, "https://example.com/roles")
        # Groups are served in no set order: the first socket's two operations by id.
        first = {m["id"]: m for m in [await opened[0].receive(), await opened[0].receive()]}
        assert set(first) == {ids[0], other}
        for ws, op_id in zip(opened[1:], ids[1:], strict=True):
            assert (await next_payload(ws, op_id))["data"]["settingsChanged"]["kind"] == "CHANGED"
        # Two admins share; the viewer and the other document each run alone.
        assert counted("executions") - executions == 3


async def test_a_foreign_key_gives_every_member_not_found(
    app: Any, seeded: Seeded, deps: Deps
) -> None:
    other = await seed_account(deps, "Other")
    variables = {"id": to_global_id("ApiKey", other.api_key_id)}
    async with live_server(app) as url, sockets(url, [seeded.basic] * 5) as opened:
        ids = [await ws.subscribe(SETTINGS_CHANGED, variables) for ws in opened]
        for ws, op_id in zip(opened, ids, strict=True):
            payload = await next_payload(ws, op_id)
            assert payload["data"] is None
            assert payload["errors"][0]["extensions"]["code"] == "NOT_FOUND"
            assert await ws.receive() == {"id": op_id, "type": "complete"}
        # The id is free again once the stream ended.
        again = await opened[0].subscribe(SETTINGS_CHANGED, variables)
        assert again != ids[0]
        await opened[0].send(
            {
                "id": ids[0],
                "type": "subscribe",
                "payload": {"query": SETTINGS_CHANGED, "variables": variables},
            }
        )
        answers = {(await opened[0].receive())["id"] for _ in range(4)}
        assert answers == {again, ids[0]}
    assert await deps.broker.subscribers(settings_channel(other.api_key_id)) == 0


async def test_duplicate_ids_and_the_per_socket_limit_still_apply(
    app: Any, seeded: Seeded, deps: Deps
) -> None:
    variables = {"id": to_global_id("ApiKey", seeded.api_key_id)}
    payload = {"query": SETTINGS_CHANGED, "variables": variables}
    async with live_server(app) as url, sockets(url, [seeded.basic] * 2) as (first, second):
        for n in range(20):
            await first.send({"id": f"op{n}", "type": "subscribe", "payload": payload})
        await first.send({"id": "op20", "type": "subscribe", "payload": payload})
        refused = await first.receive()
        assert refused["id"] == "op20" and refused["type"] == "error"
        assert refused["payload"][0]["message"] == "Subscription limit reached"
        await second.send({"id": "same", "type": "subscribe", "payload": payload})
        await second.send({"id": "same", "type": "subscribe", "payload": payload})
        with pytest.raises(ConnectionClosed) as closed:
            await second.receive()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4409


def view_of(app: Any) -> Any:
    (route,) = [r for r in app.routes if isinstance(r, WebSocketRoute)]
    return route.endpoint


async def test_one_check_per_distinct_credential_however_many_sockets_hold_it(
    app: Any, seeded: Seeded
) -> None:
    watcher = view_of(app).credential_watcher
    admin, viewer = seeded.bearer(Role.ADMIN), seeded.bearer(Role.VIEWER)
    async with live_server(app) as url, sockets(url, [admin] * 10 + [viewer] * 5):
        assert watcher.credentials == 2
        checks = watcher.checks
        await watcher.check_all()
        assert watcher.checks - checks == 2
    await until(lambda: _no_credentials(watcher))


async def _no_credentials(watcher: Any) -> bool:
    return bool(watcher.credentials == 0)
