"""graphql-transport-ws with credentials that must stay valid: every operation on a socket runs
with credentials checked when it starts, an open socket is re-checked every few seconds, and
each operation gets its own server-made request ID and access-log line."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
import uuid
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.utils.aio import aclosing

from graph.context import Context
from resolvers.auth import verify
from resolvers.errors import AuthenticationError
from resolvers.outages import is_unavailable
from server.persisted_ws import PersistedDocumentsWSHandler
from server.shared_subscriptions import SharedSubscriptionsHandler
from server.ws_access import log_operation_end

# Close codes this server adds to graphql-transport-ws (README, "WebSocket close codes").
CREDENTIALS_INVALID = 4401
CREDENTIALS_INVALID_REASON = "Credentials no longer valid"
# RFC 6455 "Try Again Later": the database could not check the credentials at connection_init.
TRY_AGAIN_LATER = 1013
UNAVAILABLE_REASON = "UNAVAILABLE: the service is temporarily unavailable"
UNAVAILABLE_MESSAGE = "The service is temporarily unavailable; try again shortly."

log = logging.getLogger("switchboard.websocket")


class ConnectUnavailable(Exception):
    """connection_init could not be judged: the database is unavailable."""


def authorization_of(context: Context) -> str | None:
    params = context.connection_params or {}
    header = params.get("Authorization") or params.get("authorization")
    return header if isinstance(header, str) else None


class SwitchboardWSHandler(PersistedDocumentsWSHandler, SharedSubscriptionsHandler):
    """Credentials re-checked before each `subscribe` (then persisted documents are looked
    up, then a shareable subscription joins its group, anything else Strawberry runs) and,
    by the server's one credential watcher, while the socket is open."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The Authorization value the process-wide watcher knows this socket by.
        self._watched: str | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except ConnectUnavailable:
            await self.websocket.close(code=TRY_AGAIN_LATER, reason=UNAVAILABLE_REASON)
            return
        # Done with: a finished task still holds its coroutine, per open socket.
        self.connection_init_timeout_task = None
        header = authorization_of(self.context)
        watcher = getattr(self.view, "credential_watcher", None)
        if self.connection_acknowledged and header is not None and watcher is not None:
            # Revocation, roll-away, expiry or logout elsewhere (any replica: the check reads
            # the database) closes the socket within one interval (server/credential_watch.py);
            # a delivery it started runs on.
            self._watched = header
            watcher.watch(header, self)

    async def shutdown(self) -> None:
        if self._watched is not None:
            self.view.credential_watcher.forget(self._watched, self)
            self._watched = None
        await super().shutdown()

    async def _still_valid(self) -> bool | None:
        """Whether the socket's credentials are valid now (the principal is refreshed);
        None when the database cannot say."""
        header = authorization_of(self.context)
        if header is None:
            return False
        try:
            self.context.principal = await verify(deps=self.context.deps, header=header)
        except AuthenticationError:
            return False
        except Exception as exc:
            if is_unavailable(exc):
                return None
            raise
        return True

    async def close_invalid(self) -> None:
        log.info(
            "websocket closed: credentials no longer valid",
            extra={"request_id": self.context.request_info.request_id},
        )
        await self.websocket.close(code=CREDENTIALS_INVALID, reason=CREDENTIALS_INVALID_REASON)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        op_id = message.get("id") if isinstance(message, dict) else None
        if not self.connection_acknowledged or not isinstance(op_id, str):
            await super().handle_subscribe(message)
            return
        valid = await self._still_valid()
        if valid is False:
            await self.close_invalid()
            return
        if valid is None:
            error = {
                "message": UNAVAILABLE_MESSAGE,
                "extensions": {"code": "UNAVAILABLE", "requestId": uuid.uuid4().hex},
            }
            await self.send_message({"id": op_id, "type": "error", "payload": [error]})
            return
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """As Strawberry runs an operation, but with a context of its own: its own request ID
        (its log lines and audit records carry it) and the principal checked when it began."""
        info = dataclasses.replace(self.context.request_info, request_id=uuid.uuid4().hex)
        context = dataclasses.replace(self.context, request_info=info)
        started = time.perf_counter()
        outcome = "cancelled"
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with aclosing(result_source):
                await self._send_result_stream(operation, result_source)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
            outcome = "complete"
        except _OperationStreamClosed:
            outcome = "closed"
            return
        except Exception as error:
            outcome = "error"
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise
        finally:
            self._log_operation(operation, context, outcome, started)

    def _log_operation(
        self, operation: Operation[Context, None], context: Context, outcome: str, started: float
    ) -> None:
        log_operation_end(
            request_info=context.request_info,
            request_id=context.request_info.request_id,
            principal=context.principal,
            operation_name=operation.operation_name,
            operation_id=operation.id,
            outcome=outcome,
            started=started,
        )
