"""graphql-transport-ws frames checked before Strawberry's handler reads them."""

# Strawberry's handler catches only KeyError around a frame: `[1,2]`, `"x"`, `null` or
# `id: {}` raised past it and the socket dropped without a close frame (1006). Here every
# frame is read as text, bounded like an HTTP body, decoded with the HTTP door's JSON rules
# and given the shape the protocol names before the handler sees it. A malformed frame closes
# the socket with 4400 and a reason, as graphql-transport-ws asks; a well-formed subscribe
# whose GraphQL request is wrong (query not a string, operationName not a string, an unknown
# operation) gets an `error` message with a code, as the same request gets over HTTP.

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError
from starlette.websockets import WebSocketState
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from server.json_input import MalformedJson, decode_json
from server.limits import MAX_BODY_BYTES
from server.persisted import ID_FIELDS

log = logging.getLogger("switchboard.websocket")

MAX_MESSAGE_BYTES = MAX_BODY_BYTES
MESSAGE_TOO_BIG = 1009  # RFC 6455
MALFORMED = 4400  # graphql-transport-ws
# Close reasons must fit a control frame: 123 bytes.
MAX_REASON = 120
_OPTIONAL_OBJECT = (dict, type(None))


def envelope_problem(frame: object) -> str | None:
    """What makes `frame` not a graphql-transport-ws message, or None."""
    if not isinstance(frame, dict):
        return "A message must be a JSON object with a `type`."
    kind = frame.get("type")
    if not isinstance(kind, str):
        return "A message's `type` must be a string."
    if kind in ("connection_init", "ping", "pong"):
        if not isinstance(frame.get("payload"), _OPTIONAL_OBJECT):
            return f"A {kind} message's `payload` must be an object."
    elif kind in ("subscribe", "complete"):
        operation_id = frame.get("id")
        if not isinstance(operation_id, str) or not operation_id:
            return f"A {kind} message's `id` must be a non-empty string."
        if kind == "subscribe" and not isinstance(frame.get("payload"), dict):
            return "A subscribe message's `payload` must be an object."
    return None


def request_problem(payload: dict[str, Any]) -> str | None:
    """What makes a subscribe payload not a GraphQL request, or None (as the HTTP door says).
    A payload naming a persisted document by ID may leave `query` out: the persisted-documents
    handler fills it in, or refuses the ID with its own code."""
    names_document = any(payload.get(name) is not None for name in ID_FIELDS)
    if not isinstance(payload.get("query"), str) and not names_document:
        return "The subscribe payload's `query` must be a string."
    if not isinstance(payload.get("operationName"), str | None):
        return "The subscribe payload's `operationName` must be a string or null."
    for name in ("variables", "extensions"):
        if not isinstance(payload.get(name), _OPTIONAL_OBJECT):
            return f"The subscribe payload's `{name}` must be an object or null."
    return None


class FrameCheckedHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """Strawberry's graphql-transport-ws handler behind a frame check."""

    async def handle(self) -> None:
        self.on_request_accepted()
        try:
            async for frame in self._frames():
                await self.handle_message(frame)
        except WebSocketDisconnected:
            pass
        finally:
            await self.shutdown()

    async def _frames(self) -> AsyncIterator[Any]:
        socket = self.websocket.ws  # type: ignore[attr-defined]
        while socket.application_state != WebSocketState.DISCONNECTED:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                await self.refuse(MALFORMED, "Messages must be text frames holding JSON.")
                return
            if len(text) > MAX_MESSAGE_BYTES // 4 and len(text.encode()) > MAX_MESSAGE_BYTES:
                limit = f"{MAX_MESSAGE_BYTES // 1024} KiB"
                await self.refuse(MESSAGE_TOO_BIG, f"A message may be at most {limit}.")
                return
            try:
                frame = decode_json(text, "The message")
            except MalformedJson as exc:
                await self.refuse(MALFORMED, str(exc))
                return
            yield frame

    async def handle_message(self, message: Any) -> None:
        problem = envelope_problem(message)
        if problem is not None:
            await self.refuse(MALFORMED, problem)
            return
        if message["type"] == "subscribe":
            problem = request_problem(message["payload"])
            if problem is not None and self.connection_acknowledged:
                await self.refuse_operation(message["id"], problem)
                return
        await super().handle_message(message)

    async def refuse(self, code: int, reason: str) -> None:
        log.info("websocket closed: %s", reason, extra={"close_code": code})
        await self.websocket.close(code=code, reason=reason[:MAX_REASON])

    async def refuse_operation(self, operation_id: str, reason: str) -> None:
        log.info("websocket operation refused: %s", reason, extra={"code": "BAD_REQUEST"})
        error = GraphQLError(reason, extensions={"code": "BAD_REQUEST"})
        await self.send_message({"id": operation_id, "type": "error", "payload": [error.formatted]})

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        # Parse errors and unknown operation names answer an `error` message with a code, as
        # over HTTP, instead of closing every other subscription of the socket.
        return None
