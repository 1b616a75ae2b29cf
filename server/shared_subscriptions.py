"""Shared execution of equal subscriptions: one execution per event for every subscriber of
a replica whose document, variables and viewer scope are equal, one encoded payload.

Every open console tab holds a `settingsChanged` subscription. Run one by one, each event
cost every subscriber a task, a read of the key, a GraphQL execution and a JSON encoding.
Here subscribers that would see the same result form a group: the group runs the document
once (through Strawberry, as an unshared operation does, so errors, NOT_FOUND and
EVENTS_MAY_BE_MISSED come out the same), encodes each `next` payload once, and hands every
member a frame made by concatenating its operation id with those bytes. A member is a few
small objects: no task, no async generator.

What is shared is an allow-list of root fields (SHAREABLE_FIELDS) whose result depends only
on the document, the variables and the viewer scope (VIEWER_SCOPE). Never shared:
`testWebhook` (each subscribe starts a delivery) and `deliverySteps` (it replays the steps
each follower has not yet seen). Documents with several root fields, a root fragment or a
directive at the root run the ordinary way.

Equal results, equal lifecycle as a client sees them: each member keeps its own operation
id, request ID and access-log line; a member's `complete` leaves the others running; the
last member to leave (complete or socket close) cancels the execution, which unsubscribes
from the broker. A slow or dead socket never holds the others back (server/ws_outbox.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
import uuid
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from graph.limits import DocumentLimits
from server import metrics
from server.ws_access import log_operation_end
from server.ws_frames import FrameCheckedHandler
from server.ws_outbox import Outbox

if TYPE_CHECKING:
    from resolvers.principal import Principal

log = logging.getLogger("switchboard.websocket")

SHAREABLE_FIELDS = frozenset({"settingsChanged"})
# Everything in a Principal that a shareable result can depend on: what the ownership check
# reads (account, the one key a non-primary key may touch), what the ApiKey type's fields
# read (role for admin-only fields, the key authenticated with). `actor`, the secret and the
# session only name who is asking; they change no result.
VIEWER_SCOPE = ("account_id", "role", "api_key_id", "via_api_key_id")
_MAX_TOKENS = DocumentLimits().max_tokens


@lru_cache(maxsize=256)
def shareable_field(query: str, operation_name: str | None) -> str | None:
    """The root field a document's operation selects, when sharing it is known to be safe;
    None for anything else (which then runs unshared, and is refused there if malformed)."""
    try:
        document = parse(query, no_location=True, max_tokens=_MAX_TOKENS)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return None
    (operation,) = operations
    selections = operation.selection_set.selections
    if operation.operation is not OperationType.SUBSCRIPTION or operation.directives:
        return None
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return None
    field = selections[0]
    if field.directives or field.name.value not in SHAREABLE_FIELDS:
        return None
    return field.name.value


def group_key(
    query: str, operation_name: str | None, variables: Any, principal: Principal
) -> tuple[Any, ...]:
    scope = tuple(getattr(principal, name) for name in VIEWER_SCOPE)
    encoded = json.dumps(variables or {}, sort_keys=True, separators=(",", ":"))
    return (query, operation_name, encoded, scope)


class SharedOperation(Operation[Any, Any]):
    """An operation the handler tracks (ids, limits) whose results come from its group."""

    __slots__ = ("group", "outbox", "prefix", "request_id", "started")

    def __init__(self, handler: Any, op_id: str, payload: dict[str, Any]) -> None:
        super().__init__(
            handler, op_id, payload["query"], payload.get("variables"), payload.get("operationName")
        )
        self.request_id = uuid.uuid4().hex
        self.started = time.perf_counter()
        self.group: SharedGroup | None = None
        # The start of this member's `next` frame; the shared payload and `}` complete it.
        self.prefix = '{"id":' + json.dumps(op_id) + ',"type":"next","payload":'
        socket = handler.websocket
        self.outbox = Outbox(socket.ws.send_text, _closer(socket))

    def finish(self, frame: str | None, outcome: str) -> None:
        """The group ended this member: the id is free again, then its last frame goes out."""
        if self.handler.operations.get(self.id) is self:
            del self.handler.operations[self.id]
        if frame is not None:
            self.outbox.put(frame)
        self.ended(outcome)

    def ended(self, outcome: str) -> None:
        metrics.subscriptions_open.get(self.group.field if self.group else "other").dec()
        context = self.handler.context
        log_operation_end(
            request_info=context.request_info,
            request_id=self.request_id,
            principal=context.principal,
            operation_name=self.operation_name,
            operation_id=self.id,
            outcome=outcome,
            started=self.started,
        )


def _closer(socket: Any) -> Any:
    async def close(code: int, reason: str) -> None:
        await socket.close(code=code, reason=reason)

    return close


class SharedGroup:
    """The members with one key, and the one execution that serves them."""

    def __init__(self, registry: SharedSubscriptions, key: tuple[Any, ...], field: str) -> None:
        self.registry = registry
        self.key = key
        self.field = field
        self.members: dict[SharedOperation, None] = {}
        self.task: asyncio.Task[None] | None = None

    def join(self, member: SharedOperation) -> None:
        member.group = self
        self.members[member] = None
        metrics.subscriptions_open.get(self.field).inc()

    def leave(self, member: SharedOperation) -> None:
        """The client completed it, or its socket closed."""
        if member in self.members:
            del self.members[member]
            member.outbox.cancel()
            member.ended("cancelled")
        if not self.members:
            # The last one out stops the execution; a new subscriber starts a new group.
            self.registry.forget(self)
            if self.task is not None:
                self.task.cancel()

    def start(self, first: SharedOperation) -> None:
        handler = first.handler
        info = dataclasses.replace(handler.context.request_info, request_id=uuid.uuid4().hex)
        context = dataclasses.replace(handler.context, request_info=info)
        # The operation metrics count members as open subscriptions, not this execution.
        context.shared_execution = True
        self.task = asyncio.create_task(
            self._run(handler.schema, first, context), name=f"switchboard:shared:{self.field}"
        )

    async def _run(self, schema: Any, first: SharedOperation, context: Any) -> None:
        try:
            source = await schema.stream(
                first.query,
                variable_values=first.variables,
                context_value=context,
                root_value=None,
                operation_name=first.operation_name,
            )
            async with aclosing(source):
                async for result in source:
                    if isinstance(result, PreExecutionError) or not isinstance(
                        result, ExecutionResult
                    ):
                        self._end(_errors(result), "error")
                        return
                    self._fan_out(_next_payload(result))
            self._end('"type":"complete"}', "complete")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("shared subscription failed")
            self._end('"type":"complete"}', "error")

    def _fan_out(self, payload: str) -> None:
        metrics.shared_executions.get(self.field).inc()
        tail = payload + "}"
        for member in self.members:
            member.outbox.put(member.prefix + tail)
        metrics.shared_frames.get(self.field).inc(len(self.members))

    def _end(self, rest: str, outcome: str) -> None:
        """Every member's last frame: `rest` follows each one's `{"id":...,`."""
        self.registry.forget(self)
        members, self.members = list(self.members), {}
        for member in members:
            member.finish('{"id":' + json.dumps(member.id) + "," + rest, outcome)


def _next_payload(result: ExecutionResult) -> str:
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return json.dumps(payload, separators=(",", ":"))


def _errors(result: Any) -> str:
    if isinstance(result, ExecutionResult) and result.errors:
        errors = [error.formatted for error in result.errors]
    else:
        message = "Incremental delivery is not supported over graphql-transport-ws"
        errors = [GraphQLError(message).formatted]
    return '"type":"error","payload":' + json.dumps(errors, separators=(",", ":")) + "}"


class SharedSubscriptions:
    """The groups of one server (one per view): found by key, dropped when they end."""

    def __init__(self) -> None:
        self._groups: dict[tuple[Any, ...], SharedGroup] = {}

    def join(self, member: SharedOperation, field: str, principal: Principal) -> None:
        key = group_key(member.query, member.operation_name, member.variables, principal)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = SharedGroup(self, key, field)
            group.join(member)
            group.start(member)
        else:
            group.join(member)

    def forget(self, group: SharedGroup) -> None:
        if self._groups.get(group.key) is group:
            del self._groups[group.key]

    @property
    def groups(self) -> int:
        return len(self._groups)

    @property
    def members(self) -> int:
        return sum(len(group.members) for group in self._groups.values())


class SharedSubscriptionsHandler(FrameCheckedHandler):
    """Runs a shareable `subscribe` as a member of its group (after the persisted-documents
    handler put the document's text in it), every other one the ordinary way."""

    async def handle_subscribe(self, message: Any) -> None:
        payload = message.get("payload")
        principal = getattr(self.context, "principal", None)
        registry = getattr(self.view, "shared_subscriptions", None)
        field = None
        if self.connection_acknowledged and principal is not None and registry is not None:
            query = payload.get("query") if isinstance(payload, dict) else None
            name = payload.get("operationName") if isinstance(payload, dict) else None
            if isinstance(query, str) and isinstance(name, str | None):
                field = shareable_field(query, name)
        if field is None:
            await super().handle_subscribe(message)
            return
        # The protocol's rules, as Strawberry applies them to every operation.
        op_id = message["id"]
        if op_id in self.operations:
            await self.websocket.close(code=4409, reason=f"Subscriber for {op_id} already exists")
            return
        limit = self.max_subscriptions_per_connection
        if limit is not None and len(self.operations) >= limit:
            error = GraphQLError("Subscription limit reached")
            await self.send_message({"id": op_id, "type": "error", "payload": [error.formatted]})
            return
        member = SharedOperation(self, op_id, payload)
        self.operations[op_id] = member
        registry.join(member, field, principal)

    async def cleanup_operation(self, operation_id: str) -> None:
        operation = self.operations.get(operation_id)
        if not isinstance(operation, SharedOperation):
            await super().cleanup_operation(operation_id)
            return
        del self.operations[operation_id]
        if operation.group is not None:
            operation.group.leave(operation)
