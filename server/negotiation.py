"""Content negotiation for GraphQL over HTTP, and JSON error responses in the chosen type."""

from __future__ import annotations

from starlette.responses import JSONResponse

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


def _accepted(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            ranges.append((media.lower(), quality))
    return ranges


def response_media_type(accept: str | None) -> str | None:
    """The media type to answer with; None when the client accepts neither JSON type."""
    if not accept or not accept.strip():
        return JSON
    best: tuple[float, int, str] | None = None
    for media, quality in _accepted(accept):
        if media == GRAPHQL_RESPONSE_JSON:
            candidate = (quality, 2, GRAPHQL_RESPONSE_JSON)
        elif media in (JSON, "application/*", "*/*"):
            candidate = (quality, 1, JSON)
        else:
            continue
        best = candidate if best is None or candidate > best else best
    return best[2] if best else None


def error_response(
    status: int, code: str, message: str, media_type: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(
        body, status_code=status, headers=headers, media_type=f"{media_type}; charset=utf-8"
    )
