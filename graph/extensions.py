"""Schema extensions: stable error codes on every error, and unexpected failures masked."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from graphql.error import GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError

from resolvers.errors import AuthenticationError, BadRequest
from resolvers.outages import is_unavailable

log = logging.getLogger("switchboard.graphql")
LONE_SURROGATE_MESSAGE = (
    "A text input to this field holds a lone surrogate (an unpaired \\ud800-style escape), "
    "which is not UTF-8 text."
)
UNAVAILABLE_MESSAGE = "The service is temporarily unavailable; try again shortly."
INTERNAL_MESSAGE = "Internal server error; quote the request ID when reporting it."
# graphql-core quotes the offending input in its messages ("found: {'apiSecret': ...}"), which
# would echo a login's or a chosen secret back into errors (and anything that logs them): keep
# the reason, drop the value.
_ECHOED_VALUES = (
    (re.compile(r"(?s),? [Ff]ound: .*$"), "."),
    (re.compile(r"(?s)(cannot represent [^:]*value): .*$"), r"\1."),
    (re.compile(r"(?s)\bValue .* does not exist in"), "The value given does not exist in"),
)


def without_echoed_values(message: str) -> str:
    for pattern, replacement in _ECHOED_VALUES:
        message = pattern.sub(replacement, message)
    return message.replace("?.", "?")


def _code_for(error: GraphQLError) -> str | None:
    original = error.original_error
    if original is None:
        # Parse and validation errors come without an original exception.
        if isinstance(error, GraphQLSyntaxError):
            return "GRAPHQL_PARSE_FAILED"
        return (error.extensions or {}).get("code") or "GRAPHQL_VALIDATION_FAILED"
    if isinstance(original, GraphQLError):
        return (original.extensions or {}).get("code") or "BAD_USER_INPUT"
    if isinstance(original, BadRequest):
        return "BAD_USER_INPUT"
    if isinstance(original, AuthenticationError):
        return "UNAUTHENTICATED"
    if isinstance(original, CannotGetOperationTypeError):
        # An unknown operationName, or several operations and none named.
        return "BAD_REQUEST"
    if isinstance(original, UnicodeEncodeError):
        # A JSON "\\ud800" escape decodes to a lone surrogate, which no encoder accepts.
        return "BAD_USER_INPUT"
    if is_unavailable(original):
        return "UNAVAILABLE"
    return None


class ErrorCodes(SchemaExtension):
    """Gives each error an `extensions.code`; anything unexpected becomes INTERNAL with the
    request ID, its details only in the server log."""

    def on_operation(self) -> Iterator[None]:
        yield
        self._give_codes(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        # Subscription events bypass on_execute: each streamed result is coded here.
        self._give_codes(result)
        yield

    def _give_codes(self, result: Any) -> None:
        if result is None or not getattr(result, "errors", None):
            return
        context = self.execution_context.context
        request_id = getattr(getattr(context, "request_info", None), "request_id", None)
        masked = []
        for error in result.errors:
            code = _code_for(error)
            if code is None:
                log.error(
                    "unexpected error in %s (request %s)",
                    error.path,
                    request_id,
                    exc_info=error.original_error,
                )
                error = GraphQLError(
                    INTERNAL_MESSAGE,
                    nodes=error.nodes,
                    path=error.path,
                    extensions={"code": "INTERNAL", "requestId": request_id},
                )
            elif isinstance(error.original_error, UnicodeEncodeError):
                error.message = LONE_SURROGATE_MESSAGE
                error.extensions = {**(error.extensions or {}), "code": code}
            elif code == "UNAVAILABLE":
                log.warning("service unavailable in %s (request %s)", error.path, request_id)
                error = GraphQLError(
                    UNAVAILABLE_MESSAGE,
                    nodes=error.nodes,
                    path=error.path,
                    extensions={"code": code, "requestId": request_id},
                )
            else:
                error.message = without_echoed_values(error.message)
                error.extensions = {**(error.extensions or {}), "code": code}
            masked.append(error)
        result.errors = masked


class OperationName(SchemaExtension):
    """Notes the operation's name (or type) on the request, for the access log."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        note = getattr(context, "note_operation", None)
        ctx = self.execution_context
        if note is None or ctx.graphql_document is None:
            return
        try:
            operation_type = ctx.operation_type.value
        except RuntimeError:  # several operations and no operation name chosen
            operation_type = None
        note(ctx.operation_name or operation_type)
