"""Structured JSON logs: one object a line, with request ID, principal and operation name."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from starlette.types import ASGIApp, Receive, Scope, Send

from server.auth import PRINCIPAL_KEY, REQUEST_INFO_KEY
from server.response_status import StatusRecorder

# LogRecord attributes that are plumbing, not data worth a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}
access_log = logging.getLogger("switchboard.access")
# Where the view notes the code of a request it refused as malformed, for the access log line.
REFUSAL_KEY = "switchboard.refusal"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            # Only while tracing is on: otherwise the current span is never a valid one.
            entry["trace_id"] = format(span.trace_id, "032x")
            entry["span_id"] = format(span.span_id, "016x")
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> dict[str, Any]:
    """A dictConfig for uvicorn and our loggers alike, all through the JSON formatter."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"default": handler},
        "loggers": {
            "": {"handlers": ["default"], "level": level},
            "uvicorn": {"level": level},
            # Our access log replaces uvicorn's: it knows the request ID and the principal.
            "uvicorn.access": {"level": "WARNING"},
        },
    }


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        recorder = StatusRecorder(send)
        try:
            await self.app(scope, receive, recorder)
        finally:
            status = recorder.status
            principal = scope.get(PRINCIPAL_KEY)
            info = scope.get(REQUEST_INFO_KEY)
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "request_id": getattr(info, "request_id", None),
                    "client_request_id": getattr(info, "client_request_id", None),
                    "client": getattr(info, "client_address", None),
                    "principal": getattr(principal, "actor", None),
                    "operation": scope.get("switchboard.operation"),
                    "refused": scope.get(REFUSAL_KEY),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
