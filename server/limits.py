"""Edge protections: a cap on request bodies and the security headers every response carries."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.negotiation import JSON, error_response, response_media_type

MAX_BODY_BYTES = 64 * 1024

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    # GraphiQL needs inline styles for its settings dialog and data: fonts; nothing remote.
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        b"font-src 'self' data:; img-src 'self' data:; connect-src 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
]


# GraphQL answers carry secrets (revealed once), session tokens and masks: no cache, shared
# or private, may keep one.
NO_STORE = (b"cache-control", b"no-store")
GRAPHQL_PATH = "/graphql"
# Only sent over TLS: over plain HTTP a browser ignores it, and an attacker could forge it.
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(SECURITY_HEADERS)
        if scope.get("scheme") == "https":
            extra.append(HSTS)
        graphql = scope.get("path") == GRAPHQL_PATH

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                if graphql:
                    headers[:] = [h for h in headers if h[0].lower() != NO_STORE[0]]
                    headers.append(NO_STORE)
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in extra if h[0] not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Reads at most `max_bytes` of a request body before the app sees any of it; more is 413."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(headers, scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._too_large(headers, scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(
        self, headers: Headers, scope: Scope, receive: Receive, send: Send
    ) -> None:
        media_type = response_media_type(headers.get("accept")) or JSON
        message = f"The request body is larger than {self.max_bytes // 1024} KiB."
        await error_response(413, "PAYLOAD_TOO_LARGE", message, media_type)(scope, receive, send)
