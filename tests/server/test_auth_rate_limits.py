"""Failed authentication is limited per client address and per key: 429 with Retry-After."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from resolvers.deps import Deps
from tests.conftest import Seeded, basic_header
from tests.live import graphql_ws, live_server

QUERY = {"query": "{ viewer { role } }"}


@asynccontextmanager
async def client_from(app: Any, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


def freeze(deps: Deps) -> None:
    now = deps.clock()
    deps.clock = lambda: now


async def test_an_address_that_keeps_failing_is_refused_even_with_right_credentials(
    app: Any, seeded: Seeded, deps: Deps
) -> None:
    freeze(deps)
    allowed = deps.credential_limits.login_failures_by_address.limit
    wrong = basic_header(seeded.api_key, "Wrong-secret-1")
    async with (
        client_from(app, "203.0.113.7") as attacker,
        client_from(app, "198.51.100.2") as other,
    ):
        for _ in range(allowed):
            assert (
                await attacker.post("/graphql", json=QUERY, headers={"Authorization": wrong})
            ).status_code == 401
        refused = await attacker.post(
            "/graphql", json=QUERY, headers={"Authorization": seeded.basic}
        )
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert 0 < int(refused.headers["retry-after"]) <= 300
        # Another address is not punished for it.
        ok = await other.post("/graphql", json=QUERY, headers={"Authorization": seeded.basic})
        assert ok.status_code == 200
        # The window slides: later the address may try again.
        later = deps.clock() + timedelta(seconds=301)
        deps.clock = lambda: later
        again = await attacker.post("/graphql", json=QUERY, headers={"Authorization": seeded.basic})
        assert again.status_code == 200


async def test_a_key_guessed_from_many_addresses_is_refused_everywhere(
    app: Any, seeded: Seeded, deps: Deps
) -> None:
    freeze(deps)
    allowed = deps.credential_limits.login_failures_by_key.limit
    wrong = basic_header(seeded.api_key, "Wrong-secret-1")
    for n in range(allowed):
        async with client_from(app, f"192.0.2.{n + 1}") as guesser:
            await guesser.post("/graphql", json=QUERY, headers={"Authorization": wrong})
    async with client_from(app, "198.51.100.9") as owner:
        refused = await owner.post("/graphql", json=QUERY, headers={"Authorization": seeded.basic})
        assert refused.status_code == 429
        # Session tokens do not name a key, so the owner's dashboard session still works.
        ok = await owner.post("/graphql", json=QUERY, headers={"Authorization": seeded.bearer()})
        assert ok.status_code == 200


async def test_websocket_connect_counts_and_is_refused_too(
    app: Any, seeded: Seeded, deps: Deps
) -> None:
    freeze(deps)
    limits = deps.credential_limits.login_failures_by_address
    for _ in range(limits.limit):
        limits.hit("address:127.0.0.1", deps.clock())
    async with live_server(app) as url, graphql_ws(url) as ws:
        await ws.send({"type": "connection_init", "payload": {"Authorization": seeded.basic}})
        with pytest.raises(ConnectionClosed) as closed:
            await ws.receive()
        assert closed.value.rcvd.code == 4403


SESSION_CREATE = """mutation($input: SessionCreateInput!) {
  sessionCreate(input: $input) { token userErrors { code } } }"""


async def test_failed_logins_and_failed_requests_share_one_budget(
    app: Any, seeded: Seeded, deps: Deps
) -> None:
    freeze(deps)
    allowed = deps.credential_limits.login_failures_by_address.limit
    bad = {"input": {"apiKey": seeded.api_key, "apiSecret": "Wrong-secret-1"}}
    async with client_from(app, "203.0.113.50") as client:
        for _ in range(allowed):
            body = (
                await client.post("/graphql", json={"query": SESSION_CREATE, "variables": bad})
            ).json()
            assert body["data"]["sessionCreate"]["userErrors"][0]["code"] == "FORBIDDEN"
        # Switching from sessionCreate to Basic on every request buys nothing.
        refused = await client.post("/graphql", json=QUERY, headers={"Authorization": seeded.basic})
        assert refused.status_code == 429
