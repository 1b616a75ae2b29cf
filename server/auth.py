"""Authentication at the edge: HTTP requests carry a principal into GraphQL, or get a 401."""

from __future__ import annotations

import logging
import math
import re
import uuid

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from resolvers.auth import ReadAlong, authenticate
from resolvers.deps import Deps
from resolvers.errors import AuthenticationError, TooManyAttempts
from resolvers.outages import RETRY_AFTER_SECONDS, is_unavailable
from resolvers.principal import RequestInfo
from server import metrics
from server.negotiation import JSON, error_response, response_media_type

PRINCIPAL_KEY = "switchboard.principal"
# Rows authentication read on the way (resolvers.auth.ReadAlong), for this request only.
READ_ALONG_KEY = "switchboard.read_along"
REQUEST_INFO_KEY = "switchboard.request"
log = logging.getLogger("switchboard.auth")


def unauthenticated_response(message: str, request_id: str, accept: str | None) -> Response:
    return error_response(
        401,
        "UNAUTHENTICATED",
        message,
        response_media_type(accept) or JSON,
        headers={"WWW-Authenticate": 'Basic realm="switchboard"', "X-Request-ID": request_id},
    )


def rate_limited_response(exc: TooManyAttempts, request_id: str, accept: str | None) -> Response:
    response = error_response(
        429,
        "RATE_LIMITED",
        str(exc),
        response_media_type(accept) or JSON,
        headers={"Retry-After": str(math.ceil(exc.retry_after)), "X-Request-ID": request_id},
    )
    return response


def unavailable_response(request_id: str, accept: str | None) -> Response:
    return error_response(
        503,
        "UNAVAILABLE",
        "The service is temporarily unavailable; try again shortly.",
        response_media_type(accept) or JSON,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS), "X-Request-ID": request_id},
    )


# A client's own request ID is kept only when it is short and plain (letters, digits, - _ . :).
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def client_request_id(headers: Headers) -> str | None:
    raw = headers.get("x-request-id")
    return raw if raw is not None and _CLIENT_ID.fullmatch(raw) else None


def request_info(scope: Scope, request_id: str) -> RequestInfo:
    """Where a request came from; `request_id` is always made by the server."""
    client = scope.get("client")
    return RequestInfo(
        request_id=request_id,
        client_address=client[0] if client else None,
        client_request_id=client_request_id(Headers(scope=scope)),
    )


class AuthMiddleware:
    """Resolves the Authorization header once per HTTP request; WebSockets authenticate in
    `connection_init` instead, since browsers cannot set their headers."""

    def __init__(self, app: ASGIApp, *, deps: Deps) -> None:
        self.app = app
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope[REQUEST_INFO_KEY] = request_info(scope, request_id)
        headers = Headers(scope=scope)
        header = headers.get("authorization")
        if header is not None:
            info = scope[REQUEST_INFO_KEY]
            read_along = scope[READ_ALONG_KEY] = ReadAlong()
            try:
                scope[PRINCIPAL_KEY] = await authenticate(
                    deps=self.deps,
                    header=header,
                    client_address=info.client_address,
                    read_along=read_along,
                )
            except AuthenticationError as exc:
                metrics.authentication_failures.get("http").inc()
                log.info("authentication refused", extra={"request_id": request_id})
                response = unauthenticated_response(str(exc), request_id, headers.get("accept"))
                await response(scope, receive, send)
                return
            except TooManyAttempts as exc:
                metrics.rate_limited.get("http").inc()
                log.warning(
                    "authentication rate-limited",
                    extra={"request_id": request_id, "client": info.client_address},
                )
                response = rate_limited_response(exc, request_id, headers.get("accept"))
                await response(scope, receive, send)
                return
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                log.warning("database unavailable", extra={"request_id": request_id})
                await unavailable_response(request_id, headers.get("accept"))(scope, receive, send)
                return

        async def send_with_id(message: dict) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)
