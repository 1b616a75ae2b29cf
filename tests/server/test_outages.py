"""A database outage answers as an outage on every door: HTTP 503 with extensions.code
UNAVAILABLE and Retry-After (Basic, session token, unauthenticated GraphQL), and on
WebSockets a 1013 close at connection_init or an UNAVAILABLE error for an operation.

PostgreSQL: a real server process reaches the database through a local gate this test
controls; shutting the gate drops every connection and refuses new ones. SQLite: the
database file becomes unopenable (its path turns into a directory) under a live app."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from tortoise import connections
from tortoise.contrib.test import tortoise_test_context
from websockets.exceptions import ConnectionClosed

from models.config import MODEL_MODULES
from resolvers.deps import Deps
from resolvers.outages import is_unavailable
from server.app import create_app
from server.settings import Settings
from tests.conftest import basic_header, database_url, on_postgres, seed_account
from tests.live import graphql_ws, live_server
from tests.replicas import base_env, cli, replicas_async, seed, shared_database

VIEWER = {"query": "{ viewer { role } }"}
LOGIN = """mutation($input: SessionCreateInput!) {
  sessionCreate(input: $input) { token userErrors { code } } }"""
SETTINGS = "{ viewer { apiKey { id nickname } } }"


class Gate:
    """A loopback listener forwarding to PostgreSQL while open. Shut, it drops every
    forwarded connection and closes new ones as soon as they arrive."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.open = True
        self._links: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._links.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._links.difference_update((writer, up_writer))

    def shut(self) -> None:
        self.open = False
        for link in list(self._links):
            link.close()

    def reopen(self) -> None:
        self.open = True

    async def stop(self) -> None:
        self.shut()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)


Break = Callable[[], Awaitable[None]]


async def http_door(url: str, key: str, secret: str, token: str, door: str) -> None:
    auth = {"basic": basic_header(key, secret), "token": token}.get(door)
    headers = {"Authorization": auth} if auth else {}
    login = {"query": LOGIN, "variables": {"input": {"apiKey": key, "apiSecret": secret}}}
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            url + "/graphql", json=VIEWER if auth else login, headers=headers
        )
    assert response.status_code == 503, (door, response.text)
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert int(response.headers["retry-after"]) > 0
    assert "x-request-id" in response.headers


async def socket_init_door(url: str, token: str) -> None:
    async with graphql_ws(url) as ws:
        await ws.send({"type": "connection_init", "payload": {"Authorization": token}})
        with pytest.raises(ConnectionClosed) as closed:
            await ws.receive(wait=30)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1013
        assert closed.value.rcvd.reason.startswith("UNAVAILABLE")


async def socket_operation_door(url: str, token: str, break_database: Break) -> None:
    async with graphql_ws(url) as ws:
        assert (await ws.init({"Authorization": token}))["type"] == "connection_ack"
        await break_database()
        op = await ws.subscribe(SETTINGS)
        message = await ws.receive(wait=30)
        assert message["id"] == op and message["type"] == "error", message
        assert message["payload"][0]["extensions"]["code"] == "UNAVAILABLE"
        assert len(message["payload"][0]["extensions"]["requestId"]) == 32


async def through_door(
    door: str, url: str, key: str, secret: str, token: str, break_database: Break
) -> None:
    if door == "socket-operation":
        await socket_operation_door(url, token, break_database)
        return
    await break_database()
    if door == "socket-init":
        await socket_init_door(url, token)
    else:
        await http_door(url, key, secret, token, door)


DOORS = ["socket-operation", "basic", "token", "anonymous", "socket-init"]


async def token_for(url: str, key: str, secret: str) -> str:
    async with httpx.AsyncClient(timeout=30) as http:
        variables = {"input": {"apiKey": key, "apiSecret": secret}}
        response = await http.post(url + "/graphql", json={"query": LOGIN, "variables": variables})
    return "Bearer " + response.json()["data"]["sessionCreate"]["token"]


@pytest.fixture
async def gated(tmp_path: Path) -> AsyncIterator[tuple[dict[str, str], Gate]]:
    if not on_postgres():
        pytest.skip("the gate stands between a server and PostgreSQL")
    target = urlsplit(database_url())
    gate = Gate(target.hostname or "127.0.0.1", target.port or 5432)
    await gate.start()
    try:
        async with shared_database(tmp_path) as database:
            env = base_env(database, tmp_path)
            cli(env, "migrate")
            parts = urlsplit(database)
            user = f"{parts.username}@" if parts.username else ""
            through_gate = f"{parts.scheme}://{user}127.0.0.1:{gate.port}{parts.path}"
            yield {**env, "DATABASE_URL": through_gate}, gate
            gate.reopen()
    finally:
        await gate.stop()


async def test_a_postgresql_outage_answers_503_unavailable_on_every_door(
    gated: tuple[dict[str, str], Gate],
) -> None:
    env, gate = gated
    # Off the loop: the gate this loop serves stands between these processes and PostgreSQL.
    account = await asyncio.to_thread(seed, env)
    key, secret = account["apiKey"], account["apiSecret"]
    async with replicas_async(env, 1) as (server,):
        token = await token_for(server.url, key, secret)

        async def shut() -> None:
            gate.shut()

        for door in DOORS:
            await through_door(door, server.url, key, secret, token, shut)
        # When the database is back, so is the service.
        gate.reopen()
        async with httpx.AsyncClient(timeout=30) as http:
            for _ in range(3):  # the first requests may still meet dropped pool connections
                response = await http.post(
                    server.url + "/graphql", json=VIEWER, headers={"Authorization": token}
                )
                if response.status_code == 200:
                    break
            assert response.status_code == 200, response.text


# Tortoise's SQLite client keeps its lock when reopening the file fails, so every later
# statement would wait: each door gets a database of its own and one request.
@pytest.mark.parametrize("door", DOORS)
async def test_an_unopenable_sqlite_database_answers_503_unavailable(
    tmp_path: Path, settings: Settings, deps: Deps, door: str
) -> None:
    if on_postgres():
        pytest.skip("SQLite's own outage")
    path = tmp_path / "outage.sqlite3"
    moved = tmp_path / "moved.sqlite3"
    async with tortoise_test_context(MODEL_MODULES, db_url=f"sqlite://{path}"):
        seeded = await seed_account(deps)
        app: Any = create_app(settings, deps=deps, init_database=False)

        async def unopenable() -> None:
            await connections.get("default").close()
            path.rename(moved)
            path.mkdir()

        try:
            async with live_server(app) as url:
                token = await token_for(url, seeded.api_key, seeded.secret)
                await through_door(door, url, seeded.api_key, seeded.secret, token, unopenable)
        finally:
            if moved.exists():
                path.rmdir()
                moved.rename(path)


@pytest.mark.skipif(not on_postgres(), reason="PostgreSQL's own refusal")
async def test_postgresql_out_of_connection_slots_is_an_outage() -> None:
    """A PostgreSQL with no connection slot left (here a role whose limit is 0, as a server
    past max_connections answers) is an outage to retry, not a bug: 503, not 500."""
    parts = urlsplit(database_url().replace("{}", "postgres"))
    admin = await asyncpg.connect(
        host=parts.hostname, port=parts.port, user=parts.username, database="postgres"
    )
    role = f"switchboard_no_slots_{uuid.uuid4().hex[:8]}"
    await admin.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0")
    try:
        with pytest.raises(asyncpg.exceptions.TooManyConnectionsError) as refused:
            await asyncpg.connect(
                host=parts.hostname, port=parts.port, user=role, database="postgres"
            )
        assert is_unavailable(refused.value)
    finally:
        await admin.execute(f"DROP ROLE {role}")
        await admin.close()
