"""Liveness and readiness."""

from __future__ import annotations

from pathlib import Path

import httpx


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


MIGRATIONS = sorted(
    f"models.{path.stem}"
    for path in (Path(__file__).resolve().parents[2] / "models" / "migrations").glob("0*.py")
)


async def test_readyz_refuses_a_database_without_migrations(client: httpx.AsyncClient) -> None:
    # The test database is built from the models directly, so no migration is recorded.
    response = await client.get("/readyz")
    assert response.status_code == 503
    pending = response.json()["pendingMigrations"]
    # Every migration is pending, oldest first (named by number, whatever later ones add).
    assert pending == MIGRATIONS and pending[0] == "models.0001_initial"
