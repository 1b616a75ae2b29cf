"""Generated frames over a real WebSocket to a real uvicorn: whatever arrives, the server
answers with protocol messages and coded errors, or closes with a code; it never drops the
socket (1006) or answers INTERNAL."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from graph.relay import to_global_id
from tests.conftest import Seeded
from tests.graph.test_fuzz import GRAPHQL, KNOWN_CODES, selection
from tests.live import graphql_ws, live_server

# Closes graphql-transport-ws and RFC 6455 name for a client's mistakes.
EXPECTED_CLOSES = {4400, 4401, 4403, 4409, 4429, 1009}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
subscription_documents = st.one_of(
    st.sampled_from(
        [
            "{ __typename }",
            "subscription {",
            "query Q { viewer { role } }",
            'mutation { sessionCreate(input: {apiKey: "k", apiSecret: "s"}) { token } }',
        ]
    ),
    selection(GRAPHQL.subscription_type, 0).map(lambda s: "subscription " + s),
)
requests = st.fixed_dictionaries(
    {},
    optional={
        "query": st.one_of(subscription_documents, json_values),
        "variables": st.one_of(
            st.fixed_dictionaries({"id": st.sampled_from([to_global_id("ApiKey", 1), "x"])}),
            json_values,
        ),
        "operationName": st.one_of(st.none(), st.text(max_size=4), json_values),
        "extensions": json_values,
    },
)
frames = st.one_of(
    json_values.map(json.dumps),
    st.text(max_size=20),
    st.fixed_dictionaries(
        {
            "type": st.one_of(
                st.sampled_from(
                    ["connection_init", "ping", "pong", "subscribe", "complete", "next", "x"]
                ),
                json_values,
            )
        },
        optional={
            "id": st.one_of(st.sampled_from(["1", "2", ""]), json_values),
            "payload": st.one_of(requests, json_values),
        },
    ).map(json.dumps),
)


async def _answers(ws: Any) -> tuple[list[dict[str, Any]], int | None]:
    """Messages until the pong that follows our ping, or the close code."""
    seen: list[dict[str, Any]] = []
    try:
        while True:
            message = json.loads(await asyncio.wait_for(ws.socket.recv(), 10))
            if message.get("type") == "pong":
                return seen, None
            seen.append(message)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "the socket dropped without a close frame"
        return seen, closed.rcvd.code


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@given(initialise=st.booleans(), sent=st.lists(frames, min_size=1, max_size=4))
async def test_generated_frames_never_drop_the_socket(
    app: Any, seeded: Seeded, initialise: bool, sent: list[str]
) -> None:
    async with live_server(app) as url, graphql_ws(url) as ws:
        if initialise:
            assert (await ws.init({"Authorization": seeded.basic}))["type"] == "connection_ack"
        with contextlib.suppress(ConnectionClosed):  # closed early: the close is checked below
            for frame in sent:
                await ws.socket.send(frame)
            await ws.send({"type": "ping"})
        seen, close = await _answers(ws)
    assert close is None or close in EXPECTED_CLOSES, close
    for message in seen:
        errors = message.get("payload") if message.get("type") == "error" else []
        errors += (
            (message.get("payload") or {}).get("errors", [])
            if message.get("type") == "next"
            else []
        )
        for error in errors:
            assert error.get("extensions", {}).get("code") in KNOWN_CODES, error
