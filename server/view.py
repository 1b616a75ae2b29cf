"""Strawberry's ASGI view, made to follow GraphQL over HTTP: media types, status codes, errors."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry import Schema
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from graph.context import Context
from resolvers.auth import authenticate
from resolvers.deps import Deps
from resolvers.errors import AuthenticationError, TooManyAttempts
from resolvers.outages import RETRY_AFTER_SECONDS, is_unavailable
from server import metrics
from server.auth import PRINCIPAL_KEY, READ_ALONG_KEY, REQUEST_INFO_KEY, request_info
from server.credential_watch import CredentialWatcher
from server.graphiql import graphiql_html
from server.http_input import HttpInputRules, RequestRefused
from server.logs import REFUSAL_KEY
from server.negotiation import GRAPHQL_RESPONSE_JSON, JSON, error_response, response_media_type
from server.persisted import (
    ID_FIELDS,
    PersistedDocumentError,
    PersistedDocuments,
    TrustedDocumentsOnly,
    trusted_only_for,
)
from server.shared_subscriptions import SharedSubscriptions
from server.websocket import ConnectUnavailable, SwitchboardWSHandler, authorization_of


class SwitchboardGraphQL(HttpInputRules, GraphQL):
    """Our context, WebSocket authentication, offline GraphiQL, and spec-conformant responses."""

    graphql_transport_ws_handler_class = SwitchboardWSHandler

    def __init__(
        self,
        *,
        schema: Schema,
        deps: Deps,
        allowed_origins: tuple[str, ...],
        documents: PersistedDocuments | None = None,
        trusted_only: TrustedDocumentsOnly = TrustedDocumentsOnly.OFF,
        ws_recheck_seconds: float = 10.0,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=20,
            allowed_origins=allowed_origins,
        )
        self.deps = deps
        # One per server: open sockets' credentials, and groups of equal subscriptions.
        self.credential_watcher = CredentialWatcher(deps, ws_recheck_seconds)
        self.shared_subscriptions = SharedSubscriptions()
        self.documents = documents or PersistedDocuments()
        self.trusted_only = trusted_only

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

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """The request, with a persisted document's text in place of its `documentId`."""
        parsed = await super().parse_http_body(request)
        if isinstance(parsed, list):
            return parsed
        trusted_only = self.trusted_documents_only(request.headers.get("authorization"))
        if request.method == "GET":
            params: Any = request.query_params
        else:
            body = await request.get_body()  # read once already: Starlette keeps it
            if parsed.query is not None and not trusted_only and not _may_name_document(body):
                return parsed  # the common case: plain query text, nothing to look up
            params = self.parse_json(body)
        query = self.documents.document(params, parsed.query, trusted_only=trusted_only)
        return dataclasses.replace(parsed, query=query)

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET naming a persisted document is an operation, not a visit to GraphiQL.
        if any(request.query_params.get(name) is not None for name in ID_FIELDS):
            return False
        return super().should_render_graphql_ide(request)

    def trusted_documents_only(self, authorization: str | None) -> bool:
        return trusted_only_for(self.trusted_only, authorization)

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
        elif _is_outage(response_data):
            # The database could not be reached: an outage, said so, with when to try again.
            response.status_code = 503
            response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
        return response

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        if isinstance(request, WebSocket):
            # The socket's own ID, for its connection_init; each operation gets another.
            info = request_info(request.scope, uuid.uuid4().hex)
            return Context(request, None, self.deps, None, info, cache_loaders=False)
        context = Context(
            request,
            response,
            self.deps,
            request.scope.get(PRINCIPAL_KEY),
            request.scope[REQUEST_INFO_KEY],
        )
        read_along = request.scope.get(READ_ALONG_KEY)
        if context.principal is not None and read_along is not None:
            context.loaders.prime_read_along(context.principal, read_along)
        return context

    async def on_ws_connect(self, context: Context) -> None:
        header = authorization_of(context)
        if header is None:
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
        except Exception as exc:
            if is_unavailable(exc):
                raise ConnectUnavailable from exc
            raise

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(graphiql_html(str(request.url.path)))


def _may_name_document(body: str | bytes) -> bool:
    """Whether a JSON body may carry a document ID (a cheap test before parsing it again)."""
    raw = body.encode() if isinstance(body, str) else body
    return any(f'"{name}"'.encode() in raw for name in ID_FIELDS)


def _is_request_error(response_data: Any) -> bool:
    """Parse, validation and variable-coercion failures: errors without a path, no data."""
    if not isinstance(response_data, dict) or response_data.get("data") is not None:
        return False
    errors = response_data.get("errors") or []
    return bool(errors) and all("path" not in error for error in errors)


def _is_outage(response_data: Any) -> bool:
    errors = response_data.get("errors") if isinstance(response_data, dict) else None
    return any((e.get("extensions") or {}).get("code") == "UNAVAILABLE" for e in errors or [])


def _http_error(exc: HTTPException, request: Request, media_type: str) -> Response:
    reason = exc.reason
    if isinstance(exc, RequestRefused | PersistedDocumentError):
        # Logged once, by the access log, with this code and without the request's content.
        request.scope[REFUSAL_KEY] = exc.code
        return error_response(exc.status_code, exc.code, reason, media_type)
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
