"""WebSocket subscriptions authenticate in connection_init, over a real socket to uvicorn."""

from __future__ import annotations

from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import Seeded, basic_header
from tests.live import graphql_ws, live_server


async def _closed_with(app: Any, payload: dict[str, Any] | None) -> int:
    async with live_server(app) as url, graphql_ws(url) as ws:
        await ws.send({"type": "connection_init", "payload": payload or {}})
        with pytest.raises(ConnectionClosed) as closed:
            await ws.receive()
        return closed.value.rcvd.code


async def test_valid_session_token_is_acknowledged(app: Any, seeded: Seeded) -> None:
    async with live_server(app) as url, graphql_ws(url) as ws:
        assert (await ws.init({"Authorization": seeded.bearer()}))["type"] == "connection_ack"


async def test_valid_basic_credentials_are_acknowledged(app: Any, seeded: Seeded) -> None:
    async with live_server(app) as url, graphql_ws(url) as ws:
        assert (await ws.init({"authorization": seeded.basic}))["type"] == "connection_ack"


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {"Authorization": "Bearer forged.token.value"},
        {"Authorization": 42},
        {"Authorization": "Basic !!!"},
    ],
)
async def test_missing_or_bad_credentials_close_with_4403(
    app: Any, seeded: Seeded, payload: dict[str, Any] | None
) -> None:
    assert await _closed_with(app, payload) == 4403


async def test_wrong_secret_closes_with_4403(app: Any, seeded: Seeded) -> None:
    payload = {"Authorization": basic_header(seeded.api_key, "Wrong-secret-1")}
    assert await _closed_with(app, payload) == 4403


async def test_cross_origin_websockets_need_a_configured_origin(app: Any, seeded: Seeded) -> None:
    from websockets.exceptions import InvalidStatus

    async with live_server(app) as url:
        with pytest.raises(InvalidStatus):
            async with graphql_ws(url, origin="https://evil.example"):
                pass
        # Same-origin (and non-browser clients, which send no Origin) are fine.
        async with graphql_ws(url, origin=url) as ws:
            assert (await ws.init({"Authorization": seeded.basic}))["type"] == "connection_ack"


async def test_a_connection_holds_at_most_twenty_subscriptions(app: Any, seeded: Seeded) -> None:
    from graph.relay import to_global_id

    query = "subscription($id: ID!) { settingsChanged(apiKeyId: $id) { section } }"
    variables = {"id": to_global_id("ApiKey", seeded.api_key_id)}
    async with live_server(app) as url, graphql_ws(url) as ws:
        await ws.init({"Authorization": seeded.basic})
        ids = [await ws.subscribe(query, variables) for _ in range(21)]
        refused = await ws.receive()
    assert (refused["type"], refused["id"]) == ("error", ids[-1])
    assert refused["payload"][0]["message"] == "Subscription limit reached"
