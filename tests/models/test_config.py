"""Connection settings that every deployment gets from its database URL."""

from __future__ import annotations

from models.config import POOL_MAX_SIZE, KeptStateConnection, tortoise_config


def _default(url: str):
    return tortoise_config(url)["connections"]["default"]


def test_postgres_connections_go_back_to_the_pool_without_a_reset_round_trip() -> None:
    config = _default("postgres://switchboard@db.internal:5432/switchboard?maxsize=20")
    assert config["engine"] == "tortoise.backends.asyncpg"
    credentials = config["credentials"]
    assert credentials["connection_class"] is KeptStateConnection
    assert (credentials["host"], credentials["database"], credentials["maxsize"]) == (
        "db.internal",
        "switchboard",
        "20",
    )
    # An open transaction is still rolled back on release; only the reset query goes.
    assert KeptStateConnection.get_reset_query(None) == ""  # type: ignore[arg-type]


def test_a_postgres_pool_holds_enough_connections_for_concurrent_dashboards() -> None:
    credentials = _default("postgres://switchboard@db.internal:5432/switchboard")["credentials"]
    assert int(credentials["maxsize"]) == POOL_MAX_SIZE > 5  # Tortoise's own default


def test_an_embedded_sqlite_file_commits_without_fsync_unless_told_otherwise() -> None:
    assert _default("sqlite://data/s.sqlite3") == "sqlite://data/s.sqlite3?synchronous=NORMAL"
    assert _default("sqlite://data/s.sqlite3?synchronous=FULL").endswith("synchronous=FULL")
    assert _default("sqlite://:memory:") == "sqlite://:memory:"
