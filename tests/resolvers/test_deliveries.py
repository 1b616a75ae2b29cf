"""Delivery rules below the graph: retry decisions, the in-flight count, following without a
broker, and the task registry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from models import deliveries as stored
from models.account import Account
from models.enums import DeliveryStatus, WebhookEvent
from resolvers import deliveries, provisioning
from resolvers.delivery_run import judge
from resolvers.deps import Admission
from resolvers.errors import DomainError, ErrorCode
from resolvers.webhook_sender import AttemptOutcome
from server.tasks import BackgroundTasks
from tests.deliveries import MakeEnv, pending_delivery
from tests.server.receiver import receiver


@pytest.mark.parametrize(
    ("outcome", "code", "retry"),
    [
        (AttemptOutcome("", status_code=200), None, False),
        (AttemptOutcome("", status_code=204), None, False),
        (AttemptOutcome("", status_code=302), "REDIRECT", False),
        (AttemptOutcome("", status_code=404), "HTTP_STATUS", False),
        (AttemptOutcome("", status_code=429), "HTTP_STATUS", True),
        (AttemptOutcome("", status_code=500), "HTTP_STATUS", True),
        (AttemptOutcome("", status_code=503), "HTTP_STATUS", True),
        (AttemptOutcome("", error_code="CONNECT_FAILED"), "CONNECT_FAILED", True),
        (AttemptOutcome("", error_code="CONNECT_TIMEOUT"), "CONNECT_TIMEOUT", True),
        (AttemptOutcome("", error_code="TIMEOUT"), "TIMEOUT", False),
        (AttemptOutcome("", error_code="DNS_FAILED"), "DNS_FAILED", False),
        (AttemptOutcome("", error_code="TLS_ERROR"), "TLS_ERROR", False),
        (AttemptOutcome("", error_code="BLOCKED_ADDRESS"), "BLOCKED_ADDRESS", False),
        (AttemptOutcome("", error_code="TOO_LARGE", status_code=200), "TOO_LARGE", False),
    ],
)
def test_which_outcomes_succeed_fail_or_retry(
    outcome: AttemptOutcome, code: str | None, retry: bool
) -> None:
    assert judge(outcome)[:2] == (code, retry)


async def test_pending_deliveries_count_until_they_are_stale(delivery_env: MakeEnv) -> None:
    env = delivery_env(max_deliveries_in_flight=2)
    seeded = await env.seed()
    principal = seeded.principal()

    async def start() -> stored.TestDelivery:
        return await pending_delivery(
            deps=env.deps,
            principal=principal,
            api_key_id=seeded.api_key_id,
            event=WebhookEvent.MESSAGE_STATUS,
            url="https://hooks.example.com/status",
        )

    first, _second = await start(), await start()
    with pytest.raises(DomainError) as refused:
        await start()
    assert refused.value.code is ErrorCode.RATE_LIMITED
    # A row left PENDING by a process that died (its lease lapsed) no longer holds the limit.
    lapsed = env.deps.clock() - timedelta(seconds=1)
    await stored.TestDelivery.filter(id=first.id).update(lease_expires_at=lapsed)
    await start()
    # Finished deliveries never count.
    await stored.TestDelivery.filter(account_id=seeded.account_id).update(
        status=DeliveryStatus.FAILED
    )
    await start()
    await start()
    assert await stored.TestDelivery.filter(status=DeliveryStatus.PENDING).count() == 2
    with pytest.raises(DomainError):
        await start()


async def test_the_limit_holds_when_starts_race(delivery_env: MakeEnv) -> None:
    env = delivery_env(max_deliveries_in_flight=2)
    seeded = await env.seed()
    results = await asyncio.gather(
        *(
            pending_delivery(
                deps=env.deps,
                principal=seeded.principal(),
                api_key_id=seeded.api_key_id,
                event=WebhookEvent.MESSAGE_STATUS,
                url="https://hooks.example.com/status",
            )
            for _ in range(6)
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 4 and {r.code for r in refused} == {ErrorCode.RATE_LIMITED}
    assert await stored.TestDelivery.all().count() == 2


async def test_a_number_of_another_key_is_refused(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    seeded = await env.seed()
    account = await Account.get(id=seeded.account_id)
    other_key, _ = await provisioning.create_api_key(
        deps=env.deps, account=account, nickname="Other", is_primary=False
    )
    number = await provisioning.add_number(
        api_key=other_key.key, msisdn="447700900777", country="GB"
    )
    with pytest.raises(DomainError) as refused:
        await pending_delivery(
            deps=env.deps,
            principal=seeded.principal(),
            api_key_id=seeded.api_key_id,
            event=WebhookEvent.INBOUND_SMS,
            number_id=number.id,
        )
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_INPUT, ["numberId"])


class DeafBroker:
    """A broker whose messages never arrive, like one that lost its connection."""

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        return None

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        async def nothing() -> AsyncIterator[dict[str, Any]]:
            await asyncio.Event().wait()
            yield {}

        yield nothing()


async def test_a_follower_still_sees_every_step_when_live_events_are_lost(
    delivery_env: MakeEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deliveries, "FOLLOW_RECHECK_SECONDS", 0.02)
    env = delivery_env()
    env.deps.broker = DeafBroker()
    seeded = await env.seed()
    async with receiver() as rx:
        steps = [
            step
            async for step in deliveries.send_test_webhook(
                deps=env.deps,
                principal=seeded.principal(),
                api_key_id=seeded.api_key_id,
                event=WebhookEvent.MESSAGE_STATUS,
                url=rx.url(),
            )
        ]
    assert [step.sequence for step in steps] == list(range(1, 8))
    assert steps[-1].final and steps[-1].status is DeliveryStatus.SUCCEEDED


async def test_following_a_delivery_whose_process_died_ends_it_interrupted(
    delivery_env: MakeEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deliveries, "FOLLOW_RECHECK_SECONDS", 0.02)
    env = delivery_env()
    seeded = await env.seed()
    delivery = await pending_delivery(
        deps=env.deps,
        principal=seeded.principal(),
        api_key_id=seeded.api_key_id,
        event=WebhookEvent.MESSAGE_STATUS,
        url="https://hooks.example.com/status",
    )
    # Never launched: as if its process died right after storing it with its first step.
    steps = deliveries.delivery_steps(
        deps=env.deps, principal=seeded.principal(), delivery_id=delivery.id
    )
    first = await anext(steps)
    assert first.sequence == 1
    lapsed = env.deps.clock() - timedelta(seconds=1)
    await stored.TestDelivery.filter(id=delivery.id).update(lease_expires_at=lapsed)
    final = await anext(steps)
    assert (final.sequence, final.error_code, final.final) == (2, "INTERRUPTED", True)
    with pytest.raises(StopAsyncIteration):
        await anext(steps)
    await delivery.refresh_from_db()
    assert delivery.status is DeliveryStatus.FAILED


async def test_the_task_registry_refuses_work_once_closed() -> None:
    tasks = BackgroundTasks()
    gate = asyncio.Event()
    finished: list[str] = []

    async def work(name: str) -> None:
        await gate.wait()
        finished.append(name)

    tasks.spawn(work("a"), name="a")
    assert tasks.running == 1
    gate.set()
    await tasks.wait()
    assert finished == ["a"] and tasks.running == 0
    gate.clear()
    tasks.spawn(work("b"), name="b")
    await tasks.close()
    assert finished == ["a"] and tasks.running == 0
    with pytest.raises(RuntimeError, match="shutting down"):
        tasks.spawn(work("c"), name="c")


async def test_shutdown_gives_running_work_its_grace_period() -> None:
    tasks = BackgroundTasks()
    finished: list[str] = []

    async def quick() -> None:
        await asyncio.sleep(0)
        finished.append("quick")

    tasks.spawn(quick(), name="quick")
    await tasks.close(grace_seconds=5)
    assert finished == ["quick"]


async def _kinds(delivery: stored.TestDelivery) -> list[str]:
    steps = stored.DeliveryStep.filter(delivery_id=delivery.id).order_by("sequence")
    return [kind.value for kind in await steps.values_list("kind", flat=True)]


async def test_a_delivery_waits_for_admission_while_others_prepare(
    delivery_env: MakeEnv,
) -> None:
    resolving, resolve = asyncio.Event(), asyncio.Event()

    async def held_resolver(host: str, port: int) -> list[str]:
        resolving.set()
        await resolve.wait()
        return ["127.0.0.1"]

    env = delivery_env(resolver=held_resolver, max_deliveries_in_flight=2)
    env.deps.delivery_admission = Admission(limit=1)
    seeded = await env.seed()

    async def start(url: str) -> stored.TestDelivery:
        return await pending_delivery(
            deps=env.deps,
            principal=seeded.principal(),
            api_key_id=seeded.api_key_id,
            event=WebhookEvent.MESSAGE_STATUS,
            url=url,
        )

    async with receiver() as rx:
        # The first holds the only slot while its DNS lookup hangs.
        held = await start(rx.url(host="localhost"))
        deliveries.launch_delivery(env.deps, held)
        await asyncio.wait_for(resolving.wait(), 5)
        # The second is stored with its STARTED step, then waits: it neither signs nor sends.
        waiting = await start(rx.url())
        assert await _kinds(waiting) == ["STARTED"]
        deliveries.launch_delivery(env.deps, waiting)
        await asyncio.sleep(0.05)
        assert await _kinds(waiting) == ["STARTED"] and rx.requests == []
        # Once the first request is sent, its slot passes on.
        resolve.set()
        await asyncio.wait_for(env.tasks.wait(), 5)
    assert len(rx.requests) == 2
    for delivery in (held, waiting):
        await delivery.refresh_from_db()
        assert delivery.status is DeliveryStatus.SUCCEEDED


async def test_admission_gives_a_slot_back_once_however_it_is_left() -> None:
    admission = Admission(limit=1)
    async with admission.admit() as leave:
        leave()
        leave()  # a second call must not free a slot it no longer holds
        async with admission.admit():
            third = admission.admit()
            entering = asyncio.create_task(third.__aenter__())
            await asyncio.sleep(0.01)
            assert not entering.done()
    await asyncio.wait_for(entering, 1)
    await third.__aexit__(None, None, None)
