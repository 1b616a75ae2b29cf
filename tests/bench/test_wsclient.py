"""The bench's raw WebSocket client against a real server: it upgrades, authenticates, sends
masked frames the server accepts (short and 16-bit lengths), parses the server's frames, and
reports a refused socket instead of hanging; and the process-tree CPU it sums is real."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from typing import Any

import httpx
import pytest

from bench import wsclient
from bench.load import process_tree, tree_cpu_seconds
from graph.relay import to_global_id
from resolvers.deps import Deps
from resolvers.events import settings_channel
from tests.conftest import Seeded, gql
from tests.live import live_server, wait_subscribed

# Longer than 125 bytes once wrapped in a subscribe message: the 16-bit length form.
SETTINGS_CHANGED = """
subscription($id: ID!) { settingsChanged(apiKeyId: $id) {
  section actor at apiKey { id key signature { method signSmsWebhooks } } } }
"""
SIGNATURE_UPDATE = """
mutation($input: SignatureSettingsUpdateInput!) { signatureSettingsUpdate(input: $input) {
  userErrors { code } } }
"""


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _first_next(socket: wsclient.GraphQLSocket) -> asyncio.Future[dict[str, Any]]:
    """The first `next` message, decoded (it arrives through `on_next`, as in the bench)."""
    first: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    def record(_at: float, payload: bytes) -> None:
        if not first.done():
            first.set_result(json.loads(payload))

    socket.on_next = record
    return first


async def test_every_socket_receives_the_change_in_its_own_next_frame(
    app: Any, client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    key_id = to_global_id("ApiKey", seeded.api_key_id)
    async with live_server(app) as url:
        sockets = await wsclient.connect_many(
            _port(url), {"Authorization": seeded.bearer()}, 3, concurrency=2
        )
        firsts = [_first_next(socket) for socket in sockets]
        for socket in sockets:
            socket.subscribe("1", SETTINGS_CHANGED, {"id": key_id})
        # Equal subscriptions share one broker stream (server/shared_subscriptions.py), and a
        # subscribe has no ack: a socket whose subscribe was not handled yet gets a later edit.
        await wait_subscribed(deps.broker, settings_channel(seeded.api_key_id))
        methods = itertools.cycle(["SHA1_HMAC", "MD5_HASH"])
        for _ in range(20):
            variables = {"input": {"apiKeyId": key_id, "method": next(methods)}}
            body = await gql(client, SIGNATURE_UPDATE, variables, auth=seeded.basic)
            assert body["data"]["signatureSettingsUpdate"]["userErrors"] == []
            _, waiting = await asyncio.wait(firsts, timeout=1)
            if not waiting:
                break
        messages = await asyncio.wait_for(asyncio.gather(*firsts), 30)
        for socket in sockets:
            socket.close()
    for message in messages:
        assert message["id"] == "1"
        assert message["payload"]["data"]["settingsChanged"]["apiKey"]["signature"]["method"] in (
            "SHA1_HMAC",
            "MD5_HASH",
        )
        change = message["payload"]["data"]["settingsChanged"]
        assert change["section"] == "signature"
        assert change["apiKey"] == {
            "id": key_id,
            "key": seeded.api_key,
            "signature": {
                # The edit this socket heard first (each edit flips the method).
                "method": change["apiKey"]["signature"]["method"],
                "signSmsWebhooks": change["apiKey"]["signature"]["signSmsWebhooks"],
            },
        }
    assert all(socket.others == [] for socket in sockets)


async def test_a_refused_socket_raises_instead_of_waiting(app: Any, seeded: Seeded) -> None:
    async with live_server(app) as url:
        with pytest.raises(ConnectionError):
            await wsclient.connect(_port(url), {"Authorization": "Bearer not-a-token"})


def test_the_process_tree_holds_the_children_and_sums_their_cpu() -> None:
    child = os.fork()
    if child == 0:
        deadline = os.times().elapsed + 0.3
        while os.times().elapsed < deadline:
            pass
        os._exit(0)
    try:
        assert child in process_tree(os.getpid())
        assert (tree_cpu_seconds([os.getpid()]) or 0) >= (tree_cpu_seconds([child]) or 0)
    finally:
        os.waitpid(child, 0)
