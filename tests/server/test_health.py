"""Liveness and readiness."""

from __future__ import annotations

from pathlib import Path

import httpx

import models.migrations

MIGRATIONS = Path(models.migrations.__file__).parent


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_refuses_a_database_without_migrations(client: httpx.AsyncClient) -> None:
    # The test database is built from the models directly, so no migration is recorded.
    response = await client.get("/readyz")
    assert response.status_code == 503
    every = sorted(f"models.{path.stem}" for path in MIGRATIONS.glob("[0-9]*.py"))
    assert every[0] == "models.0001_initial"
    assert response.json()["pendingMigrations"] == every
