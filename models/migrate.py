"""Applying and inspecting migrations with Tortoise's built-in migration engine."""

from __future__ import annotations

from pathlib import Path

from tortoise.connection import get_connection
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate
from tortoise.migrations.executor import MigrationExecutor

from models.config import is_sqlite, tortoise_config


def _ensure_sqlite_folder(database_url: str) -> None:
    if is_sqlite(database_url):
        path = database_url.removeprefix("sqlite://")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


async def apply_migrations(database_url: str) -> list[str]:
    """Apply every pending migration; returns the names applied, in order."""
    _ensure_sqlite_folder(database_url)
    applied: list[str] = []

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            applied.append(f"{app_label}.{name}")

    config = tortoise_config(database_url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        await migrate(config=config, progress=progress)
    return applied


async def pending_migrations() -> list[str]:
    """Migrations not yet applied on the current connection (empty when up to date)."""
    apps_config = {"models": tortoise_config("sqlite://:memory:")["apps"]["models"]}
    executor = MigrationExecutor(get_connection("default"), apps_config)
    plan = await executor.plan()
    return [f"{step.migration.app_label}.{step.migration.name}" for step in plan]
