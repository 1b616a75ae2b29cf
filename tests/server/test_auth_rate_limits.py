"""Failed authentication is limited per client address and per key: 429 with Retry-After; and
nobody is locked out by someone else's failures."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from resolvers.deps import Deps
from server.redis_broker import RedisBroker
from server.shared_limits import RedisCounters
from tests.conftest import Seeded, basic_header
from tests.live import graphql_ws, live_server

QUERY = {"query": "{ viewer { role } }"}
SESSION_CREATE = """mutation($input: SessionCreateInput!) {
  sessionCreate(input: $input) { token userErrors { code } } }"""


@asynccontextmanager
async def client_from(app: Any, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


def freeze(deps: Deps) -> None:
    now = deps.clock()
    deps.clock = lambda: now


async def test_an_address_guessing_one_key_is_refused_even_with_right_credentials(
    app: Any, seeded: Seeded, deps: Deps
) -> None:
    freeze(deps)
    allowed = deps.credential_limits.login_failures_by_key_source.limit
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


async def test_an_address_failing_against_many_keys_is_refused(
    app: Any, seeded: Seeded, deps: Deps
) -> None:
    freeze(deps)
    allowed = deps.credential_limits.login_failures_by_address.limit
    async with client_from(app, "203.0.113.8") as attacker:
        for n in range(allowed):
            wrong = basic_header(f"{n:08x}", "Wrong-secret-1")
            response = await attacker.post("/graphql", json=QUERY, headers={"Authorization": wrong})
            assert response.status_code == 401
        refused = await attacker.post(
            "/graphql", json=QUERY, headers={"Authorization": seeded.basic}
        )
        assert refused.status_code == 429


async def test_a_key_guessed_from_many_addresses_does_not_lock_its_owner_out(
    app: Any, seeded: Seeded, deps: Deps
) -> None:
    freeze(deps)
    limits = deps.credential_limits
    wrong = basic_header(seeded.api_key, "Wrong-secret-1")
    # Enough addresses, each with the few tries it gets, to spend the key's whole budget.
    guessers = [f"192.0.2.{n + 1}" for n in range(limits.login_failures_by_key.limit)]
    for address in guessers:
        async with client_from(app, address) as guesser:
            for _ in range(limits.tries_under_attack):
                await guesser.post("/graphql", json=QUERY, headers={"Authorization": wrong})
    async with client_from(app, guessers[0]) as guesser:
        # A guessing address is no longer judged, even with the right secret ...
        refused = await guesser.post(
            "/graphql", json=QUERY, headers={"Authorization": seeded.basic}
        )
        assert refused.status_code == 429
    async with client_from(app, "198.51.100.9") as owner:
        # ... but the owner's right secret from elsewhere still gets in, Basic and login alike.
        ok = await owner.post("/graphql", json=QUERY, headers={"Authorization": seeded.basic})
        assert ok.status_code == 200
        login = {"input": {"apiKey": seeded.api_key, "apiSecret": seeded.secret}}
        body = await owner.post("/graphql", json={"query": SESSION_CREATE, "variables": login})
        assert body.json()["data"]["sessionCreate"]["token"]
        # A fresh address guessing gets a few tries against the key, not ten.
        async with client_from(app, "192.0.2.250") as fresh:
            codes = [
                (
                    await fresh.post("/graphql", json=QUERY, headers={"Authorization": wrong})
                ).status_code
                for _ in range(limits.tries_under_attack + 1)
            ]
        assert codes == [401] * limits.tries_under_attack + [429]


async def test_a_valid_session_token_is_never_refused_for_others_failures(
    app: Any, seeded: Seeded, deps: Deps
) -> None:
    freeze(deps)
    limits = deps.credential_limits
    async with client_from(app, "203.0.113.9") as shared_address:
        for n in range(limits.login_failures_by_address.limit):
            wrong = basic_header(f"{n:08x}", "Wrong-secret-1")
            await shared_address.post("/graphql", json=QUERY, headers={"Authorization": wrong})
        for _ in range(3):
            bad_token = {"Authorization": "Bearer not-a-token"}
            assert (
                await shared_address.post("/graphql", json=QUERY, headers=bad_token)
            ).status_code == 401
        ok = await shared_address.post(
            "/graphql", json=QUERY, headers={"Authorization": seeded.bearer()}
        )
        assert ok.status_code == 200


async def test_websocket_connect_counts_and_is_refused_too(
    app: Any, seeded: Seeded, deps: Deps
) -> None:
    freeze(deps)
    limits = deps.credential_limits.login_failures_by_address
    for _ in range(limits.limit):
        await limits.hit("address:127.0.0.1", deps.clock())
    async with live_server(app) as url, graphql_ws(url) as ws:
        await ws.send({"type": "connection_init", "payload": {"Authorization": seeded.basic}})
        with pytest.raises(ConnectionClosed) as closed:
            await ws.receive()
        assert closed.value.rcvd.code == 4403


async def test_failed_logins_and_failed_requests_share_one_budget(
    app: Any, seeded: Seeded, deps: Deps
) -> None:
    freeze(deps)
    allowed = deps.credential_limits.login_failures_by_key_source.limit
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


@asynccontextmanager
async def silent_listener() -> AsyncIterator[int]:
    """A loopback port that accepts connections and never answers: a hung Redis."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        for writer in held:
            writer.close()
        server.close()


@pytest.mark.parametrize("redis_state", ["refusing", "hung"])
async def test_an_unreachable_redis_falls_back_to_counting_in_this_process(
    app: Any, seeded: Seeded, deps: Deps, redis_state: str
) -> None:
    freeze(deps)
    async with contextlib.AsyncExitStack() as stack:
        if redis_state == "hung":
            port = await stack.enter_async_context(silent_listener())
        else:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
        # The counters borrow a broker's publishing pool, as the app wires them.
        broker = RedisBroker(f"redis://127.0.0.1:{port}/0", prefix="switchboard-test:")
        stack.push_async_callback(broker.close)
        counters = RedisCounters(broker.client, prefix="switchboard-test:")
        stack.push_async_callback(counters.close)
        deps.credential_limits.share(counters)
        wrong = basic_header(seeded.api_key, "Wrong-secret-1")
        started = time.monotonic()
        async with client_from(app, "203.0.113.77") as client:
            ok = await client.post("/graphql", json=QUERY, headers={"Authorization": seeded.basic})
            assert ok.status_code == 200
            allowed = deps.credential_limits.login_failures_by_key_source.limit
            for _ in range(allowed):
                response = await client.post(
                    "/graphql", json=QUERY, headers={"Authorization": wrong}
                )
                assert response.status_code == 401
            limited = await client.post("/graphql", json=QUERY, headers={"Authorization": wrong})
            assert limited.status_code == 429
        # One request waits out Redis's short timeout; the rest do not ask it again at once.
        assert time.monotonic() - started < 15
