"""Graceful shutdown: open subscriptions are closed with a proper code, not dropped."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from graph.relay import to_global_id
from tests.conftest import Seeded
from tests.live import LiveServer, graphql_ws

SETTINGS_CHANGED = "subscription($id: ID!) { settingsChanged(apiKeyId: $id) { section } }"


async def test_open_subscriptions_are_closed_with_going_away_on_shutdown(
    app: Any, seeded: Seeded
) -> None:
    server = LiveServer(app)
    async with graphql_ws(await server.start()) as ws:
        assert (await ws.init({"Authorization": seeded.basic}))["type"] == "connection_ack"
        await ws.subscribe(SETTINGS_CHANGED, {"id": to_global_id("ApiKey", seeded.api_key_id)})
        stopping = asyncio.create_task(server.stop())
        with pytest.raises(ConnectionClosed) as closed:
            await ws.receive(wait=10)
        await stopping
    # 1012 "service restart": clients know to reconnect (to another replica).
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
