"""Malformed frames over a real WebSocket to a real uvicorn: a close frame with a code and a
reason, or an error message with a code; never a dropped socket (1006) or INTERNAL."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from graph.relay import to_global_id
from server.cli import UVICORN_OPTIONS
from tests.conftest import Seeded
from tests.live import GraphQLWebSocket, graphql_ws, live_server

SUBSCRIPTION = "subscription($id: ID!) { settingsChanged(apiKeyId: $id) { section } }"


async def closed_with(ws: GraphQLWebSocket) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(5):
            await ws.receive()
    assert closed.value.rcvd is not None, "dropped without a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        ("[1,2]", "JSON object"),
        ('"x"', "JSON object"),
        ("42", "JSON object"),
        ("null", "JSON object"),
        ('{"type": 5}', "`type`"),
        ('{"type": "ping", "payload": "x"}', "`payload`"),
        ('{"id": {}, "type": "subscribe", "payload": {"query": "{ __typename }"}}', "`id`"),
        ('{"id": "1", "type": "subscribe", "payload": "x"}', "`payload`"),
        ('{"id": "1", "type": "complete", "id": 7}', "`id`"),
        ('{"type": "subscribe", "id": "1", "payload": {"query": "{ __typename }"}', "JSON"),
        ('{"a": ' + "[" * 5000 + "]" * 5000 + "}", "nested"),
        ('{"type": "nope"}', "Unknown message type"),
    ],
)
async def test_malformed_frames_close_with_4400_and_a_reason(
    app: Any, seeded: Seeded, frame: str, words: str
) -> None:
    async with live_server(app) as url, graphql_ws(url) as ws:
        assert (await ws.init({"Authorization": seeded.basic}))["type"] == "connection_ack"
        await ws.socket.send(frame)
        code, reason = await closed_with(ws)
    assert code == 4400 and words in reason, (code, reason)


async def test_binary_frames_close_with_4400_logged_once(
    app: Any, seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with live_server(app) as url, graphql_ws(url) as ws:
        await ws.socket.send(b'{"type": "connection_init", "payload": {"k": "Hunter2"}}')
        code, reason = await closed_with(ws)
    assert code == 4400 and "text" in reason
    logged = [r for r in caplog.records if r.name == "switchboard.websocket"]
    assert len(logged) == 1 and logged[0].exc_info is None
    assert "Hunter2" not in logged[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "payload",
    [
        {"Authorization": "Basic \ud800"},
        {"Authorization": "Basic " + "ü" * 10},
        {"Authorization": ["Basic x"]},
        {"Authorization": "Bearer " + "x" * 5000},
        {"authorization": None},
    ],
)
async def test_odd_connection_params_are_refused_with_4403(app: Any, payload: Any) -> None:
    async with live_server(app) as url, graphql_ws(url) as ws:
        await ws.socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        code, _ = await closed_with(ws)
    assert code == 4403


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"query": None}, "`query`"),
        ({"query": SUBSCRIPTION, "operationName": 5}, "`operationName`"),
        ({"query": SUBSCRIPTION, "variables": [1]}, "`variables`"),
        ({"query": SUBSCRIPTION, "operationName": "Nope"}, "Nope"),
        ({"query": "subscription {"}, "Syntax Error"),
    ],
)
async def test_a_bad_request_in_a_subscribe_is_an_error_with_a_code(
    app: Any, seeded: Seeded, payload: dict[str, Any], words: str
) -> None:
    async with live_server(app) as url, graphql_ws(url) as ws:
        await ws.init({"Authorization": seeded.basic})
        await ws.send({"id": "a", "type": "subscribe", "payload": payload})
        answer = await ws.receive()
        assert answer["type"] == "error" and answer["id"] == "a", answer
        error = answer["payload"][0]
        assert error["extensions"]["code"] in {"BAD_REQUEST", "GRAPHQL_PARSE_FAILED"}, error
        assert words in error["message"], error
        # The socket stays open for the next operation.
        await ws.send({"type": "ping"})
        assert (await ws.socket.recv()) == '{"type":"pong"}'


async def test_a_message_past_64_kib_is_closed_with_1009(app: Any, seeded: Seeded) -> None:
    variables = {"id": to_global_id("ApiKey", seeded.api_key_id), "pad": "x" * 70_000}
    frame = {
        "id": "big",
        "type": "subscribe",
        "payload": {"query": SUBSCRIPTION, "variables": variables},
    }
    # The handler's own check (a server started with uvicorn's 16 MiB default) ...
    async with live_server(app) as url, graphql_ws(url) as ws:
        await ws.init({"Authorization": seeded.basic})
        await ws.send(frame)
        code, reason = await closed_with(ws)
    assert code == 1009 and "64 KiB" in reason
    # ... and uvicorn's, as `switchboard serve` runs it: the frame is never buffered whole.
    options = {k: v for k, v in UVICORN_OPTIONS.items() if k.startswith("ws_")}
    async with live_server(app, **options) as url, graphql_ws(url) as ws:
        await ws.init({"Authorization": seeded.basic})
        await ws.send(frame)
        code, _ = await closed_with(ws)
    assert code == 1009
