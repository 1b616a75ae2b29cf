"""Telling an outage (the database cannot be reached or answer) from a bug, so the doors can
answer 503 UNAVAILABLE with Retry-After instead of a 500."""

from __future__ import annotations

import sqlite3

import asyncpg
from tortoise.exceptions import DBConnectionError

# How long clients are told to wait before trying again during an outage.
RETRY_AFTER_SECONDS = 5

# What SQLite says when its file cannot be opened, read or written right now.
_SQLITE_OUTAGE = (
    "unable to open database",
    "disk i/o error",
    "database is locked",
    "readonly database",
    "file is not a database",
)
_OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    DBConnectionError,
    ConnectionError,
    TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    # Class 57: the server is shutting down or a backend was terminated.
    asyncpg.exceptions.OperatorInterventionError,
    # Class 53: no connection slot (max_connections, a role's limit), memory or disk to
    # spare. Replicas whose pools together outgrow max_connections met this as a 500.
    asyncpg.exceptions.InsufficientResourcesError,
)


def is_unavailable(exc: BaseException | None) -> bool:
    """Whether `exc`, or anything it was raised from, says the database is unreachable."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, _OUTAGE_TYPES):
            return True
        if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
            return True
        sqlite_like = isinstance(exc, sqlite3.Error) or type(exc).__name__ == "OperationalError"
        if sqlite_like and any(mark in str(exc).lower() for mark in _SQLITE_OUTAGE):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
