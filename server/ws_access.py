"""One access-log line per WebSocket operation when it ends, shared or not."""

from __future__ import annotations

import logging
import time
from typing import Any

access_log = logging.getLogger("switchboard.access")


def log_operation_end(
    *,
    request_info: Any,
    request_id: str | None,
    principal: Any,
    operation_name: str | None,
    operation_id: str,
    outcome: str,
    started: float,
) -> None:
    """`request_info` is the socket's (client address, client request ID); `request_id` the
    operation's own."""
    access_log.info(
        "WS %s %s",
        operation_name or "(anonymous)",
        outcome,
        extra={
            "request_id": request_id,
            "client_request_id": request_info.client_request_id,
            "client": request_info.client_address,
            "principal": getattr(principal, "actor", None),
            "operation": operation_name,
            "operation_id": operation_id,
            "outcome": outcome,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )
