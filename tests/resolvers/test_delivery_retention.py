"""Delivery retention: the newest N finished deliveries per key, none older than the age limit."""

from __future__ import annotations

from datetime import timedelta

from models import deliveries as stored
from models.account import Account
from models.enums import DeliveryStatus, DeliveryStepKind, WebhookEvent
from resolvers.delivery_retention import DeliveryRetention, prune_deliveries
from resolvers.deps import Deps
from resolvers.provisioning import create_api_key
from tests.conftest import Seeded


async def deliver(seeded: Seeded, api_key_id: int, status: DeliveryStatus, age_days: float) -> int:
    delivery = await stored.TestDelivery.create(
        account_id=seeded.account_id,
        api_key_id=api_key_id,
        event=WebhookEvent.INBOUND_SMS,
        url="https://hooks.example.com/in",
        status=status,
    )
    created = seeded.deps.clock() - timedelta(days=age_days)
    await stored.TestDelivery.filter(id=delivery.id).update(created_at=created)
    for sequence in (1, 2):
        await stored.DeliveryStep.create(
            delivery_id=delivery.id,
            sequence=sequence,
            kind=DeliveryStepKind.STARTED,
            at=created,
            status=status,
        )
    return delivery.id


async def test_only_the_newest_finished_deliveries_of_each_key_are_kept(
    seeded: Seeded, deps: Deps
) -> None:
    account = await Account.get(id=seeded.account_id)
    other_key, _ = await create_api_key(deps=deps, account=account, nickname=None, is_primary=False)
    mine = [await deliver(seeded, seeded.api_key_id, DeliveryStatus.SUCCEEDED, 1) for _ in range(5)]
    running = await deliver(seeded, seeded.api_key_id, DeliveryStatus.PENDING, 0)
    theirs = [await deliver(seeded, other_key.id, DeliveryStatus.FAILED, 1) for _ in range(2)]
    retention = DeliveryRetention(per_key=3, max_age_days=0)
    assert await prune_deliveries(deps=deps, retention=retention) == 2
    kept = set(await stored.TestDelivery.all().values_list("id", flat=True))
    assert kept == {*mine[2:], running, *theirs}
    assert set(await stored.DeliveryStep.all().values_list("delivery_id", flat=True)) == kept
    assert await prune_deliveries(deps=deps, retention=retention) == 0


async def test_deliveries_older_than_the_age_limit_are_deleted(seeded: Seeded, deps: Deps) -> None:
    old = await deliver(seeded, seeded.api_key_id, DeliveryStatus.SUCCEEDED, 31)
    new = await deliver(seeded, seeded.api_key_id, DeliveryStatus.SUCCEEDED, 29)
    retention = DeliveryRetention(per_key=0, max_age_days=30)
    assert await prune_deliveries(deps=deps, retention=retention) == 1
    assert await stored.TestDelivery.all().values_list("id", flat=True) == [new]
    assert not await stored.DeliveryStep.filter(delivery_id=old).exists()
