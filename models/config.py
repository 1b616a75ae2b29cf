"""Tortoise configuration for every deployment: one app, one connection, migrations beside it."""

from __future__ import annotations

from typing import Any

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

MODEL_MODULES = [
    "models.account",
    "models.credentials",
    "models.webhooks",
    "models.audit",
    "models.deliveries",
]
DEFAULT_DATABASE_URL = "sqlite://data/switchboard.sqlite3"
# Connections each process may open to PostgreSQL (Tortoise's default is 5; `?maxsize=` in
# the URL wins). A dashboard query holds one per statement and sends two at once: with 5,
# eight concurrent dashboards queued for connections for a quarter of their time, and the
# slowest 1% for most of it (`make bench`'s p99 breakdown). The pool opens them only as
# concurrent statements need them.
POOL_MAX_SIZE = 20


def _with_sqlite_defaults(database_url: str) -> str:
    """In WAL mode, synchronous=NORMAL still never corrupts the file; it stops an fsync on
    every commit (a test delivery commits once per step). A URL that says otherwise wins."""
    if not is_sqlite(database_url) or ":memory:" in database_url or "synchronous=" in database_url:
        return database_url
    return database_url + ("&" if "?" in database_url else "?") + "synchronous=NORMAL"


class KeptStateConnection(asyncpg.Connection):
    """A pooled PostgreSQL connection handed back as it is.

    asyncpg resets every connection it takes back into the pool (advisory locks, cursors,
    LISTEN, session settings): one more round trip after every statement Tortoise sends
    outside a transaction, about 4% of the server's CPU on the dashboard query. Switchboard
    uses none of those, and an open transaction is still rolled back on release.
    """

    def get_reset_query(self) -> str:
        return ""


def _connection(database_url: str) -> str | dict[str, Any]:
    if is_sqlite(database_url):
        return _with_sqlite_defaults(database_url)
    config = expand_db_url(database_url)
    if config["engine"] == "tortoise.backends.asyncpg":
        config["credentials"].setdefault("connection_class", KeptStateConnection)
        config["credentials"].setdefault("maxsize", POOL_MAX_SIZE)
    return config


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config dict for a database URL."""
    return {
        "connections": {"default": _connection(database_url)},
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
