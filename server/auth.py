"""Authentication at the edge: HTTP requests carry a principal into GraphQL, or get a 401."""

from __future__ import annotations

import logging
import uuid

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from resolvers.auth import authenticate
from resolvers.deps import Deps
from resolvers.errors import AuthenticationError
from resolvers.principal import RequestInfo

PRINCIPAL_KEY = "switchboard.principal"
REQUEST_INFO_KEY = "switchboard.request"
log = logging.getLogger("switchboard.auth")


def unauthenticated_response(message: str, request_id: str) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}
    return JSONResponse(
        body,
        status_code=401,
        headers={"WWW-Authenticate": 'Basic realm="switchboard"', "X-Request-ID": request_id},
        media_type="application/json",
    )


def request_info(scope: Scope, request_id: str) -> RequestInfo:
    client = scope.get("client")
    return RequestInfo(request_id=request_id, client_address=client[0] if client else None)


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
        header = Headers(scope=scope).get("authorization")
        if header is not None:
            try:
                scope[PRINCIPAL_KEY] = await authenticate(deps=self.deps, header=header)
            except AuthenticationError as exc:
                log.info("authentication refused", extra={"request_id": request_id})
                await unauthenticated_response(str(exc), request_id)(scope, receive, send)
                return

        async def send_with_id(message: dict) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)
