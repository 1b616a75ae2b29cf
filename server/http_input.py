"""What the HTTP door accepts before GraphQL runs: bounded JSON, object bodies, no subscriptions."""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.http.async_base_view import AsyncHTTPRequestAdapter
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from server.json_input import MalformedJson, decode_json

SUBSCRIPTION_PROTOCOL = "graphql-transport-ws"


class RequestRefused(HTTPException):
    """A 4xx with its own machine-readable code (HTTPException carries only a reason)."""

    def __init__(self, status_code: int, code: str, reason: str) -> None:
        super().__init__(status_code, reason)
        self.code = code


def websocket_url(request: Request) -> str:
    scheme = "wss" if request.url.scheme == "https" else "ws"
    return str(request.url.replace(scheme=scheme, query=None, fragment=None))


class HttpInputRules:
    """Mixed into the view ahead of Strawberry's: its JSON decoding and single execution."""

    def decode_json(self, data: str | bytes) -> object:
        # Strawberry hands request bodies in as bytes and GET parameters as text.
        what = "The request body" if isinstance(data, bytes) else "A query parameter"
        try:
            value = decode_json(data, what)
        except MalformedJson as exc:
            raise RequestRefused(400, "BAD_REQUEST", str(exc)) from None
        if isinstance(data, bytes) and not isinstance(value, dict):
            raise RequestRefused(
                400,
                "BAD_REQUEST",
                'The request body must be a JSON object such as {"query": "{ __typename }"} '
                "(batches are not accepted).",
            )
        return value

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Strawberry's, but subscriptions are refused before they run: over plain HTTP a
        subscription would run as a query and fail inside (and unmasked as INTERNAL)."""
        method = request_adapter.method
        allowed = OperationType.from_http(method) - {OperationType.SUBSCRIPTION}
        try:
            return await self.schema.execute(  # type: ignore[attr-defined]
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as exc:
            raise RequestRefused(400, "BAD_REQUEST", exc.as_http_error_reason()) from None
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.SUBSCRIPTION:
                raise RequestRefused(
                    400,
                    "SUBSCRIPTION_OVER_HTTP",
                    f"Subscriptions are served over WebSocket: connect to "
                    f"{websocket_url(request)} with the {SUBSCRIPTION_PROTOCOL} protocol.",
                ) from None
            raise HTTPException(400, exc.as_http_error_reason(method)) from None
        except MissingQueryError:
            raise RequestRefused(
                400, "BAD_REQUEST", "No GraphQL query found in the request."
            ) from None
