"""The step journal: concurrent deliveries share writes, each delivery's steps stay in order,
a final step carries its delivery's outcome, and one bad step fails alone."""

from __future__ import annotations

import asyncio

import pytest
from tortoise.exceptions import IntegrityError

from models import deliveries as stored
from models.enums import DeliveryStatus, DeliveryStepKind, WebhookEvent
from resolvers.rows import DeliveryStep
from resolvers.step_journal import StepJournal
from tests.deliveries import DeliveryEnv, MakeEnv, pending_delivery
from tests.graph.test_reads import count_sql


async def _pending(env: DeliveryEnv, count: int) -> list[stored.TestDelivery]:
    seeded = await env.seed()
    return [
        await pending_delivery(
            deps=env.deps,
            principal=seeded.principal(),
            api_key_id=seeded.api_key_id,
            event=WebhookEvent.MESSAGE_STATUS,
            url="https://hooks.example.com/status",
        )
        for _ in range(count)
    ]


def _step(env: DeliveryEnv, delivery: stored.TestDelivery, sequence: int, **fields) -> DeliveryStep:
    return DeliveryStep(
        delivery_id=delivery.id,
        sequence=sequence,
        kind=fields.pop("kind", DeliveryStepKind.STARTED),
        at=env.deps.clock(),
        status=fields.pop("status", DeliveryStatus.PENDING),
        detail=f"step {sequence}",
        **fields,
    )


async def _sequences(delivery: stored.TestDelivery) -> list[int]:
    steps = stored.DeliveryStep.filter(delivery_id=delivery.id).order_by("sequence")
    return await steps.values_list("sequence", flat=True)


async def test_concurrent_deliveries_share_writes_and_keep_their_order(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env(max_deliveries_in_flight=20)
    pending = await _pending(env, 20)
    journal = StepJournal()

    async def run(delivery: stored.TestDelivery) -> None:
        # Step 1 (STARTED) was stored with the delivery.
        for sequence in range(2, 7):
            await journal.write(_step(env, delivery, sequence))

    with count_sql() as statements:
        await asyncio.gather(*(run(delivery) for delivery in pending))
    inserts = [sql for sql in statements if 'INSERT INTO "delivery_step"' in sql]
    # 100 steps; each delivery waits for one before its next, so about one write per round.
    assert 1 <= len(inserts) <= 10
    for delivery in pending:
        assert await _sequences(delivery) == [1, 2, 3, 4, 5, 6]


async def test_a_final_step_stores_its_deliverys_outcome_with_it(delivery_env: MakeEnv) -> None:
    env = delivery_env()
    [delivery] = await _pending(env, 1)
    journal = StepJournal()
    delivery.status, delivery.error_code = DeliveryStatus.FAILED, "HTTP_STATUS"
    delivery.finished_at = env.deps.clock()
    final = _step(
        env,
        delivery,
        2,
        kind=DeliveryStepKind.FAILED,
        status=DeliveryStatus.FAILED,
        error_code="HTTP_STATUS",
        final=True,
    )
    await journal.write(final, finished=delivery)
    row = await stored.TestDelivery.get(id=delivery.id)
    assert (row.status, row.error_code) == (DeliveryStatus.FAILED, "HTTP_STATUS")
    assert row.finished_at is not None


async def test_a_duplicate_step_fails_alone_and_leaves_its_delivery_untouched(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env(max_deliveries_in_flight=2)
    first, second = await _pending(env, 2)
    journal = StepJournal()
    await journal.write(_step(env, first, 2))
    first.status = DeliveryStatus.FAILED
    results = await asyncio.gather(
        # The same sequence again, as when two followers close one abandoned delivery.
        journal.write(_step(env, first, 2, final=True), finished=first),
        journal.write(_step(env, second, 2)),
        journal.write(_step(env, first, 3)),
        return_exceptions=True,
    )
    assert isinstance(results[0], IntegrityError)
    assert results[1:] == [None, None]
    assert await _sequences(first) == [1, 2, 3] and await _sequences(second) == [1, 2]
    assert (await stored.TestDelivery.get(id=first.id)).status is DeliveryStatus.PENDING


async def test_a_writer_cancelled_mid_write_still_has_its_step_stored(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env()
    [delivery] = await _pending(env, 1)
    journal = StepJournal()
    writer = asyncio.create_task(journal.write(_step(env, delivery, 2)))
    await asyncio.sleep(0)  # handed in, not yet written
    writer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writer
    await journal.drained()
    assert await _sequences(delivery) == [1, 2]
