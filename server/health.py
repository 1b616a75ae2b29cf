"""Liveness and readiness endpoints."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise.connection import get_connection

from models.migrate import pending_migrations
from server.metrics import readiness_checks


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers and every migration is applied."""
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
    readiness_checks.get("ok").inc()
    return JSONResponse({"status": "ok"})
