"""A real uvicorn server on 127.0.0.1 (random port) in the test's own event loop, and a minimal
graphql-transport-ws client over a real WebSocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
import websockets
from starlette.types import ASGIApp


class LiveServer:
    """uvicorn serving `app` on a free loopback port, in this event loop and context (so it
    shares the test's database context)."""

    def __init__(self, app: ASGIApp, *, lifespan: str = "off", **options: Any) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan=lifespan, **options
        )
        self.server = uvicorn.Server(config)
        self.url = ""
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> str:
        self._task = asyncio.create_task(self.server.serve())
        for _ in range(500):
            if self.server.started or self._task.done():
                break
            await asyncio.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        """Shut down as uvicorn does on SIGTERM: open connections are closed, not dropped."""
        self.server.should_exit = True
        if self._task is not None:
            await asyncio.wait_for(self._task, timeout=10)


@asynccontextmanager
async def live_server(app: ASGIApp, *, lifespan: str = "off", **options: Any) -> AsyncIterator[str]:
    """Serve `app` until the block ends (uvicorn `options` as given); yields the base URL."""
    server = LiveServer(app, lifespan=lifespan, **options)
    try:
        yield await server.start()
    finally:
        await server.stop()


class GraphQLWebSocket:
    """Speaks graphql-transport-ws: connection_init, subscribe, next/error/complete."""

    def __init__(self, socket: websockets.ClientConnection) -> None:
        self.socket = socket
        self._next_id = 0

    async def init(self, payload: dict[str, Any] | None) -> dict[str, Any]:
        await self.send({"type": "connection_init", "payload": payload or {}})
        return await self.receive()

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self, wait: float = 10) -> dict[str, Any]:
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), wait))
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self._next_id += 1
        op_id = str(self._next_id)
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": op_id, "type": "subscribe", "payload": payload})
        return op_id

    async def complete(self, op_id: str) -> None:
        await self.send({"id": op_id, "type": "complete"})


@asynccontextmanager
async def graphql_ws(base_url: str, **connect_args: Any) -> AsyncIterator[GraphQLWebSocket]:
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(
        url, subprotocols=["graphql-transport-ws"], **connect_args
    ) as socket:
        yield GraphQLWebSocket(socket)


async def wait_subscribed(broker: Any, channel: str, count: int = 1) -> None:
    """Until the broker knows of `count` subscriptions: a WebSocket subscribe has no ack."""
    for _ in range(1000):
        if await broker.subscribers(channel) >= count:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"no subscriber appeared on {channel}")


async def next_payload(ws: GraphQLWebSocket, op_id: str) -> dict[str, Any]:
    message = await ws.receive()
    assert message["id"] == op_id, message
    assert message["type"] == "next", message
    return message["payload"]
