"""Strawberry's ASGI view, made to follow GraphQL over HTTP: media types, status codes, errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry import Schema
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from graph.context import Context
from resolvers.auth import authenticate
from resolvers.deps import Deps
from resolvers.errors import AuthenticationError, TooManyAttempts
from server import metrics
from server.auth import PRINCIPAL_KEY, REQUEST_INFO_KEY, request_info
from server.graphiql import graphiql_html
from server.negotiation import GRAPHQL_RESPONSE_JSON, JSON, error_response, response_media_type


class SwitchboardGraphQL(GraphQL):
    """Our context, WebSocket authentication, offline GraphiQL, and spec-conformant responses."""

    def __init__(self, *, schema: Schema, deps: Deps, allowed_origins: tuple[str, ...]) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=20,
            allowed_origins=allowed_origins,
        )
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        media_type = response_media_type(request.headers.get("accept"))
        if media_type is None and not self._wants_ide(request):
            response: Response = error_response(
                406,
                "NOT_ACCEPTABLE",
                "Accept application/graphql-response+json or application/json.",
                JSON,
            )
        else:
            try:
                response = await self.run(request)
            except HTTPException as exc:
                response = _http_error(exc, request, media_type or JSON)
        await response(scope, receive, send)

    def _wants_ide(self, request: Request) -> bool:
        return request.method == "GET" and "text/html" in request.headers.get("accept", "")

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        accept = request.headers.get("accept")
        sub_response.media_type = response_media_type(accept) or JSON
        return sub_response

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        media_type = sub_response.media_type or JSON
        response.headers["content-type"] = f"{media_type}; charset=utf-8"
        if media_type == GRAPHQL_RESPONSE_JSON and _is_request_error(response_data):
            # A request that never executed: no `data` entry, and 400 (GraphQL over HTTP §6.4.2).
            response_data.pop("data", None)
            response.body = response.render(self.encode_json(response_data))
            response.headers["content-length"] = str(len(response.body))
            response.status_code = 400
        return response

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        if isinstance(request, WebSocket):
            info = request_info(request.scope, request.headers.get("x-request-id") or "ws")
            return Context(request, None, self.deps, None, info, cache_loaders=False)
        return Context(
            request,
            response,
            self.deps,
            request.scope.get(PRINCIPAL_KEY),
            request.scope[REQUEST_INFO_KEY],
        )

    async def on_ws_connect(self, context: Context) -> None:
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        if not isinstance(header, str):
            raise ConnectionRejectionError({"reason": "connectionParams.Authorization is required"})
        try:
            context.principal = await authenticate(
                deps=self.deps, header=header, client_address=context.request_info.client_address
            )
        except (AuthenticationError, TooManyAttempts) as exc:
            counter = (
                metrics.rate_limited
                if isinstance(exc, TooManyAttempts)
                else metrics.authentication_failures
            )
            counter.get("websocket").inc()
            raise ConnectionRejectionError({"reason": str(exc)}) from None

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(graphiql_html(str(request.url.path)))


def _is_request_error(response_data: Any) -> bool:
    """Parse, validation and variable-coercion failures: errors without a path, no data."""
    if not isinstance(response_data, dict) or response_data.get("data") is not None:
        return False
    errors = response_data.get("errors") or []
    return bool(errors) and all("path" not in error for error in errors)


def _http_error(exc: HTTPException, request: Request, media_type: str) -> Response:
    reason = exc.reason
    if exc.status_code == 405 or "not allowed when using GET" in reason:
        return error_response(
            405,
            "METHOD_NOT_ALLOWED",
            f"{reason} Send mutations with POST.",
            media_type,
            headers={"Allow": "POST" if request.method == "GET" else "GET, POST"},
        )
    if reason == "Unsupported content type":
        return error_response(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "Send the request as application/json (or a GET with query parameters).",
            media_type,
        )
    return error_response(exc.status_code, "BAD_REQUEST", reason, media_type)
