"""Liveness and readiness endpoints."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise.connection import get_connection

from models.migrate import pending_migrations
from server.metrics import readiness_checks

# A probe that waits longer than this on Redis counts it as unreachable.
REDIS_PROBE_SECONDS = 2.0


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers, every migration is applied, and Redis (when the
    server uses it) answers: without it, subscriptions on this replica hear nothing from
    the others."""
    state = request.app.state
    try:
        await get_connection("default").execute_query("SELECT 1")
        # Reading the migration files and history costs far more than the probe itself, and
        # applied migrations do not come undone under a running server: check until they are.
        pending = [] if getattr(state, "migrations_applied", False) else await pending_migrations()
    except Exception as exc:
        readiness_checks.get("failed").inc()
        return JSONResponse(
            {"status": "unavailable", "reason": type(exc).__name__}, status_code=503
        )
    if pending:
        readiness_checks.get("failed").inc()
        return JSONResponse(
            {"status": "unavailable", "pendingMigrations": pending}, status_code=503
        )
    state.migrations_applied = True
    body: dict[str, Any] = {"status": "ok"}
    ping = getattr(state.deps.broker, "ping", None)
    if ping is not None:
        try:
            await asyncio.wait_for(ping(), REDIS_PROBE_SECONDS)
        except Exception as exc:
            readiness_checks.get("failed").inc()
            reason = type(exc).__name__
            return JSONResponse(
                {"status": "unavailable", "redis": "unreachable", "reason": reason},
                status_code=503,
            )
        body["redis"] = "ok"
    readiness_checks.get("ok").inc()
    return JSONResponse(body)
