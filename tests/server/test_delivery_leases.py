"""Leases on running deliveries: renewed while they run, ended once by concurrent sweepers
when they lapse, and what shutdown does with deliveries that did or did not send."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from models import deliveries as stored
from models.enums import DeliveryStatus, WebhookEvent
from resolvers import deliveries
from resolvers.delivery_leases import DeliveryLeases
from resolvers.delivery_run import end_lapsed_deliveries
from resolvers.deps import Admission
from resolvers.events import delivery_channel
from tests.deliveries import DeliveryEnv, MakeEnv, pending_delivery
from tests.server.receiver import Answer, receiver


async def start(env: DeliveryEnv, seeded: object, url: str) -> stored.TestDelivery:
    return await pending_delivery(
        deps=env.deps,
        principal=seeded.principal(),  # type: ignore[attr-defined]
        api_key_id=seeded.api_key_id,  # type: ignore[attr-defined]
        event=WebhookEvent.MESSAGE_STATUS,
        url=url,
    )


async def test_two_sweepers_end_a_lapsed_delivery_once_and_free_its_slot(
    delivery_env: MakeEnv,
) -> None:
    first, second = delivery_env(max_deliveries_in_flight=1), delivery_env()
    seeded = await first.seed()
    delivery = await start(first, seeded, "https://hooks.example.com/status")
    # Its process died after signing (STARTED was stored with it): the attempt may have
    # begun, the request may be out.
    await stored.DeliveryStep.create(
        delivery_id=delivery.id,
        sequence=2,
        kind="SIGNED",
        at=first.deps.clock(),
        status=DeliveryStatus.PENDING,
    )
    lapsed = first.deps.clock() - timedelta(seconds=1)
    await stored.TestDelivery.filter(id=delivery.id).update(lease_expires_at=lapsed)
    async with first.deps.broker.subscribe(delivery_channel(delivery.id)) as live:
        ended = await asyncio.gather(
            end_lapsed_deliveries(deps=first.deps), end_lapsed_deliveries(deps=second.deps)
        )
        published = await asyncio.wait_for(anext(live), 5)
    assert sorted(ended) == [0, 1]
    await delivery.refresh_from_db()
    assert (delivery.status, delivery.error_code) == (DeliveryStatus.FAILED, "OUTCOME_UNKNOWN")
    finals = await stored.DeliveryStep.filter(delivery_id=delivery.id, final=True)
    assert [(s.sequence, s.error_code) for s in finals] == [(3, "OUTCOME_UNKNOWN")]
    assert (published["sequence"], published["final"]) == (3, True)
    # Nothing left to end, and the account's only slot is free again.
    assert await end_lapsed_deliveries(deps=second.deps) == 0
    await start(first, seeded, "https://hooks.example.com/status")


async def test_a_running_delivery_keeps_renewing_its_lease(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    env.deps.delivery_leases = DeliveryLeases(lease_seconds=1.5)
    seeded = await env.seed()
    gate = asyncio.Event()
    swept = 0
    async with receiver(Answer(gate=gate)) as rx:
        delivery = await start(env, seeded, rx.url())
        deliveries.launch_delivery(env.deps, delivery)
        await rx.arrived.wait()
        # Over three lease lengths, a sweeper keeps looking for lapsed leases.
        until = time.monotonic() + 4.5
        while time.monotonic() < until:
            swept += await end_lapsed_deliveries(deps=env.deps)
            await asyncio.sleep(0.1)
        gate.set()
        await env.tasks.wait()
    await delivery.refresh_from_db()
    assert swept == 0
    assert delivery.status is DeliveryStatus.SUCCEEDED


async def test_shutdown_stops_a_delivery_that_sent_nothing_at_once(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env(delivery_shutdown_grace_seconds=30)
    # No admission slot ever frees: the delivery waits before its first attempt.
    env.deps.delivery_admission = Admission(limit=0)
    seeded = await env.seed()
    async with receiver() as rx:
        async with env.app.router.lifespan_context(env.app):
            delivery = await start(env, seeded, rx.url())
            deliveries.launch_delivery(env.deps, delivery)
            while not await stored.DeliveryStep.filter(delivery_id=delivery.id).exists():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            stopping = time.monotonic()
        took = time.monotonic() - stopping
        assert rx.requests == []
    await delivery.refresh_from_db()
    assert (delivery.status, delivery.error_code) == (DeliveryStatus.FAILED, "INTERRUPTED")
    final = await stored.DeliveryStep.filter(delivery_id=delivery.id, final=True).get()
    assert "nothing was sent" in (final.detail or "")
    # Generous: it did not sit out the 30 s grace meant for requests already out.
    assert took < 15, took


async def test_shutdown_gives_a_sent_request_the_grace_period_for_its_answer(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env(delivery_shutdown_grace_seconds=30)
    seeded = await env.seed()
    gate = asyncio.Event()
    async with receiver(Answer(gate=gate)) as rx:
        lifespan = env.app.router.lifespan_context(env.app)
        await lifespan.__aenter__()
        delivery = await start(env, seeded, rx.url())
        deliveries.launch_delivery(env.deps, delivery)
        await rx.arrived.wait()
        shutdown = asyncio.create_task(lifespan.__aexit__(None, None, None))
        await asyncio.sleep(0.3)
        assert not shutdown.done()
        gate.set()  # the answer comes within the grace period
        await shutdown
    await delivery.refresh_from_db()
    assert delivery.status is DeliveryStatus.SUCCEEDED
