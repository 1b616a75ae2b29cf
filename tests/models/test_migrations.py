"""Migrations and models agree, and the migrations build a working schema from nothing."""

from __future__ import annotations

from pathlib import Path

from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from models.config import tortoise_config
from models.migrate import apply_migrations, pending_migrations


async def test_models_need_no_new_migration() -> None:
    config = tortoise_config("sqlite://:memory:")
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    assert [w.name for w in writers] == [], (
        "models changed without a migration: run make migrations"
    )


async def test_migrations_apply_from_nothing_and_twice_is_a_no_op(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/fresh.sqlite3"
    first = await apply_migrations(url)
    assert first and first[0] == "models.0001_initial"
    assert await apply_migrations(url) == []
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        assert await pending_migrations() == []
        tables = await ctx.db().execute_query_dict(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    names = {row["name"] for row in tables}
    assert {
        "account",
        "api_key",
        "api_secret",
        "messaging_config",
        "signature_config",
        "number",
        "audit_event",
        "test_delivery",
        "delivery_step",
    } <= names
