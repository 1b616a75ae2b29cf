"""How the server wires test deliveries: settings from the environment, and shutdown."""

from __future__ import annotations

import asyncio

import pytest

from models import deliveries as stored
from models.enums import DeliveryStatus, WebhookEvent
from resolvers import deliveries
from server.app import build_deps
from server.sender import HttpxWebhookSender
from server.settings import Settings, SettingsError
from server.tasks import BackgroundTasks
from signing.crypto import format_master_key, generate_master_key
from tests.conftest import TEST_MASTER_KEY
from tests.deliveries import MakeEnv, pending_delivery
from tests.server.receiver import Answer, receiver

KEY = "SWITCHBOARD_SECRET_KEY"


def test_delivery_settings_have_the_documented_defaults() -> None:
    settings = Settings.from_env({KEY: TEST_MASTER_KEY.hex()})
    assert settings.webhook_connect_timeout_seconds == 3.0
    assert settings.webhook_total_timeout_seconds == 15.0
    assert (settings.delivery_attempts, settings.delivery_backoff_seconds) == (3, 1.0)
    assert settings.max_deliveries_in_flight == 5


def test_delivery_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            KEY: TEST_MASTER_KEY.hex(),
            "SWITCHBOARD_WEBHOOK_CONNECT_TIMEOUT": "1.5",
            "SWITCHBOARD_WEBHOOK_TIMEOUT": "9",
            "SWITCHBOARD_DELIVERY_ATTEMPTS": "4",
            "SWITCHBOARD_DELIVERY_BACKOFF": "0.5",
            "SWITCHBOARD_MAX_DELIVERIES_IN_FLIGHT": "2",
        }
    )
    deps = build_deps(settings)
    assert isinstance(deps.webhook_sender, HttpxWebhookSender)
    assert deps.webhook_sender.connect_timeout == 1.5
    assert deps.webhook_sender.total_timeout == 9.0
    assert isinstance(deps.delivery_tasks, BackgroundTasks)
    assert (deps.delivery_attempts, deps.delivery_backoff_seconds) == (4, 0.5)
    assert deps.max_deliveries_in_flight == 2


def test_lease_settings_come_from_the_environment_and_reach_the_deps() -> None:
    defaults = Settings.from_env({KEY: format_master_key(TEST_MASTER_KEY)})
    assert (defaults.delivery_lease_seconds, defaults.delivery_sweep_seconds) == (15.0, 5.0)
    settings = Settings.from_env(
        {
            KEY: format_master_key(TEST_MASTER_KEY),
            "SWITCHBOARD_DELIVERY_LEASE": "4",
            "SWITCHBOARD_DELIVERY_SWEEP_SECONDS": "0.5",
        }
    )
    assert (settings.delivery_lease_seconds, settings.delivery_sweep_seconds) == (4.0, 0.5)
    assert build_deps(settings).delivery_leases.lease_seconds == 4.0
    with pytest.raises(SettingsError, match="SWITCHBOARD_DELIVERY_LEASE"):
        Settings.from_env(
            {KEY: format_master_key(TEST_MASTER_KEY), "SWITCHBOARD_DELIVERY_LEASE": "0"}
        )


def test_a_malformed_number_names_its_variable() -> None:
    with pytest.raises(SettingsError, match="SWITCHBOARD_DELIVERY_BACKOFF"):
        Settings.from_env({KEY: TEST_MASTER_KEY.hex(), "SWITCHBOARD_DELIVERY_BACKOFF": "x"})


async def test_shutdown_interrupts_deliveries_before_the_database_closes(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env(delivery_shutdown_grace_seconds=0.01)
    seeded = await env.seed()
    async with receiver(Answer(gate=asyncio.Event())) as rx:
        async with env.app.router.lifespan_context(env.app):
            delivery = await pending_delivery(
                deps=env.deps,
                principal=seeded.principal(),
                api_key_id=seeded.api_key_id,
                event=WebhookEvent.MESSAGE_STATUS,
                url=rx.url(),
            )
            deliveries.launch_delivery(env.deps, delivery)
            await rx.arrived.wait()
        assert env.tasks.running == 0
    await delivery.refresh_from_db()
    # The receiver got the request before the grace ran out: the outcome is unknown.
    assert (delivery.status, delivery.error_code) == (DeliveryStatus.FAILED, "OUTCOME_UNKNOWN")
    final = await stored.DeliveryStep.filter(delivery_id=delivery.id, final=True).get()
    assert final.error_code == "OUTCOME_UNKNOWN" and "redeliver" in (final.detail or "")


def test_settings_defaults_match_deps_defaults() -> None:
    deps = build_deps(Settings(master_key=TEST_MASTER_KEY))
    assert deps.delivery_attempts == 3 and deps.max_deliveries_in_flight == 5


def test_webhook_ports_come_from_the_environment() -> None:
    key = {KEY: format_master_key(generate_master_key())}
    env = {**key, "SWITCHBOARD_WEBHOOK_PORTS": "443,8000-8100"}
    rule = Settings.from_env({**env, "SWITCHBOARD_WEBHOOK_DENIED_PORTS": ""}).webhook_ports
    assert rule.refusal(443) is None and rule.refusal(8050) is None
    assert rule.refusal(80) is not None and rule.refusal(9000) is not None
    assert Settings.from_env(key).webhook_ports.refusal(6379) is not None
    with pytest.raises(SettingsError, match="SWITCHBOARD_WEBHOOK_DENIED_PORTS is malformed"):
        Settings.from_env({**key, "SWITCHBOARD_WEBHOOK_DENIED_PORTS": "22,ssh"})
