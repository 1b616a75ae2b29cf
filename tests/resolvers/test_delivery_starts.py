"""Starts written a batch at a time: each new delivery is stored with its own STARTED step,
the in-flight limit holds exactly within a batch, a burst shares its writes, and a start
whose idempotency key was taken fails alone."""

from __future__ import annotations

import asyncio

import pytest

from models import deliveries as stored
from models.enums import DeliveryStatus, WebhookEvent
from resolvers import deliveries
from resolvers.errors import DomainError, ErrorCode
from tests.deliveries import DeliveryEnv, MakeEnv
from tests.graph.test_reads import count_sql


async def _begin(env: DeliveryEnv, seeded: object, count: int, **extra: object) -> list[object]:
    return await asyncio.gather(
        *(
            deliveries.begin_test_delivery(
                deps=env.deps,
                principal=seeded.principal(),  # type: ignore[attr-defined]
                api_key_id=seeded.api_key_id,  # type: ignore[attr-defined]
                event=WebhookEvent.MESSAGE_STATUS,
                url=f"https://hooks.example.com/status/{index}",
                **extra,
            )
            for index in range(count)
        ),
        return_exceptions=True,
    )


async def test_a_burst_of_starts_shares_its_writes_and_each_has_its_own_started_step(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env(max_deliveries_in_flight=40)
    seeded = await env.seed()
    with count_sql() as statements:
        started = await _begin(env, seeded, 30)
    inserts = [sql for sql in statements if 'INSERT INTO "test_delivery"' in sql]
    # One for the first start, one for the 29 that arrived while it was being written.
    assert 1 <= len(inserts) <= 3
    for result in started:
        assert isinstance(result, deliveries.Started) and result.first_step is not None
        row = await stored.TestDelivery.get(id=result.delivery.id)
        # Each row got the URL it was started with, and its STARTED step names it.
        assert row.url == result.delivery.url and row.status is DeliveryStatus.PENDING
        steps = await stored.DeliveryStep.filter(delivery_id=row.id)
        assert [(s.sequence, s.kind.value) for s in steps] == [(1, "STARTED")]
        assert result.first_step.delivery_id == row.id


async def test_the_in_flight_limit_holds_exactly_within_a_batch(delivery_env: MakeEnv) -> None:
    env = delivery_env(max_deliveries_in_flight=7)
    seeded = await env.seed()
    results = await _begin(env, seeded, 12)
    begun = [r for r in results if isinstance(r, deliveries.Started)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(begun) == 7 and len(refused) == 5
    assert all(error.code is ErrorCode.RATE_LIMITED for error in refused)
    assert await stored.TestDelivery.filter(status=DeliveryStatus.PENDING).count() == 7
    # The first asked are the ones begun.
    assert results[:7] == begun


async def test_a_start_whose_idempotency_key_was_taken_fails_alone(
    delivery_env: MakeEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = delivery_env(max_deliveries_in_flight=10)
    seeded = await env.seed()
    [first] = await _begin(env, seeded, 1, idempotency_key="click-1")
    assert isinstance(first, deliveries.Started)
    # Taken between the lookup and the write, as by another replica: the row the key names
    # is followed instead, and the starts batched with it are begun all the same.
    lookup = deliveries._by_idempotency_key
    calls = 0

    async def late(deps, api_key_id, token):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return None if calls == 1 else await lookup(deps, api_key_id, token)

    monkeypatch.setattr(deliveries, "_by_idempotency_key", late)
    again, *others = await asyncio.gather(
        _begin(env, seeded, 1, idempotency_key="click-1"), _begin(env, seeded, 3)
    )
    [repeat] = again
    assert isinstance(repeat, deliveries.Started) and not repeat.is_new
    assert repeat.delivery.id == first.delivery.id
    assert all(isinstance(r, deliveries.Started) and r.is_new for r in others[0])
    assert await stored.TestDelivery.all().count() == 4
