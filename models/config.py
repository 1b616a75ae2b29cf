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


def _with_sqlite_defaults(database_url: str) -> str:
    """In WAL mode, synchronous=NORMAL still never corrupts the file; it stops an fsync on
    every commit (a test delivery commits once per step). A URL that says otherwise wins."""
    if not is_sqlite(database_url) or ":memory:" in database_url or "synchronous=" in database_url:
        return database_url
    return database_url + ("&" if "?" in database_url else "?") + "synchronous=NORMAL"


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config dict for a database URL."""
    return {
        "connections": {"default": _with_sqlite_defaults(database_url)},
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
