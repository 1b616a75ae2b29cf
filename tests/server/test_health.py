"""Liveness and readiness."""

from __future__ import annotations

import httpx


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_refuses_a_database_without_migrations(client: httpx.AsyncClient) -> None:
    # The test database is built from the models directly, so no migration is recorded.
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["pendingMigrations"][0] == "models.0001_initial"
