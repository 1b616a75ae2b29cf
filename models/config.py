"""Tortoise configuration for every deployment: one app, one connection, migrations beside it."""

from __future__ import annotations

from typing import Any

MODEL_MODULES = [
    "models.account",
    "models.credentials",
    "models.webhooks",
    "models.audit",
    "models.deliveries",
]
DEFAULT_DATABASE_URL = "sqlite://data/switchboard.sqlite3"


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config dict for a database URL."""
    return {
        "connections": {"default": database_url},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "migrations": "models.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite://")
