"""Background jobs: the periodic runner, and the expiry sweep wired into the app's lifespan."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path

import pytest

from models import deliveries as stored
from models.audit import AuditEvent
from models.credentials import ApiSecret
from models.migrate import apply_migrations
from resolvers import provisioning
from resolvers.delivery_retention import DeliveryRetention
from resolvers.deps import Deps
from server.app import create_app
from server.background import periodically
from server.settings import Settings
from signing.crypto import format_master_key, generate_master_key
from tests.conftest import TEST_MASTER_KEY, Seeded
from tests.resolvers.test_delivery_retention import deliver


async def test_runs_now_and_again_until_stopped() -> None:
    runs = 0
    third = asyncio.Event()

    async def job() -> None:
        nonlocal runs
        runs += 1
        if runs == 3:
            third.set()

    async with periodically("count", job, 0.001) as task:
        await asyncio.wait_for(third.wait(), 5)
    assert task.done() and task.cancelled()
    stopped_at = runs
    await asyncio.sleep(0.01)
    assert runs == stopped_at


async def test_a_failing_run_is_logged_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recovered = asyncio.Event()
    calls = 0

    async def job() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database away")
        recovered.set()

    async with periodically("flaky", job, 0.001):
        await asyncio.wait_for(recovered.wait(), 5)
    (record,) = [r for r in caplog.records if r.name == "switchboard.background"]
    assert "flaky" in record.getMessage() and record.exc_info is not None


async def test_rejects_a_non_positive_interval() -> None:
    async def job() -> None:
        return None

    with pytest.raises(ValueError):
        async with periodically("never", job, 0):
            pass


async def _expired_secret(seeded: Seeded) -> None:
    await ApiSecret.filter(api_key_id=seeded.api_key_id).update(expires_at=seeded.deps.clock())


async def test_the_app_records_expiries_while_it_runs(
    seeded: Seeded, settings: Settings, deps: Deps
) -> None:
    await _expired_secret(seeded)
    app = create_app(settings, deps=deps, init_database=False, background=True)
    async with app.router.lifespan_context(app):
        for _ in range(500):
            if await AuditEvent.exists(action="api_secret.expire"):
                break
            await asyncio.sleep(0.01)
    assert await AuditEvent.filter(action="api_secret.expire", actor="system").count() == 1


@pytest.mark.parametrize(("background", "sweep_seconds"), [(None, 30), (True, 0)])
async def test_no_sweep_without_an_own_database_or_when_disabled(
    seeded: Seeded,
    settings: Settings,
    deps: Deps,
    background: bool | None,
    sweep_seconds: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="tortoise.db_client")
    await _expired_secret(seeded)
    settings = dataclasses.replace(settings, expiry_sweep_seconds=sweep_seconds)
    app = create_app(settings, deps=deps, init_database=False, background=background)
    async with app.router.lifespan_context(app):
        for _ in range(10):
            await asyncio.sleep(0)
    assert not await AuditEvent.exists(action="api_secret.expire")
    assert not any("expiry_recorded" in r.getMessage() for r in caplog.records)


async def test_an_app_with_its_own_database_sweeps_by_default(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'switchboard.sqlite3'}"
    await apply_migrations(url)
    settings = Settings(database_url=url, master_key=TEST_MASTER_KEY, expiry_sweep_seconds=1)
    app = create_app(settings)
    deps = app.state.deps
    async with app.router.lifespan_context(app):
        _, key, _ = await provisioning.create_account(deps=deps, name="Own database")
        await ApiSecret.filter(api_key_id=key.id).update(expires_at=deps.clock())
        for _ in range(500):
            if await AuditEvent.exists(action="api_secret.expire", api_key_id=key.id):
                break
            await asyncio.sleep(0.01)
        assert await AuditEvent.filter(action="api_secret.expire").count() == 1


async def test_the_app_prunes_deliveries_past_the_retention_policy(
    seeded: Seeded, settings: Settings, deps: Deps
) -> None:
    old = await deliver(seeded, seeded.api_key_id, stored.DeliveryStatus.SUCCEEDED, 40)
    recent = await deliver(seeded, seeded.api_key_id, stored.DeliveryStatus.SUCCEEDED, 1)
    retention = DeliveryRetention(per_key=10, max_age_days=30, sweep_seconds=1)
    settings = dataclasses.replace(settings, delivery_retention=retention)
    app = create_app(settings, deps=deps, init_database=False, background=True)
    async with app.router.lifespan_context(app):
        for _ in range(500):
            if not await stored.TestDelivery.exists(id=old):
                break
            await asyncio.sleep(0.01)
    assert await stored.TestDelivery.all().values_list("id", flat=True) == [recent]


def test_retention_comes_from_the_environment() -> None:
    env = {
        "SWITCHBOARD_SECRET_KEY": format_master_key(generate_master_key()),
        "SWITCHBOARD_DELIVERY_RETENTION_COUNT": "7",
        "SWITCHBOARD_DELIVERY_RETENTION_DAYS": "2",
    }
    retention = Settings.from_env(env).delivery_retention
    assert (retention.per_key, retention.max_age_days, retention.sweep_seconds) == (7, 2, 3600)
