"""How long test deliveries are kept: the newest N per key, none older than a set age."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.deliveries import DeliveryStep, TestDelivery
from models.enums import DeliveryStatus
from resolvers.deps import Deps

# Deleted a batch at a time, each in its own short transaction, so the sweep never holds
# long locks on a table deliveries are being written to.
BATCH = 500


@dataclass(frozen=True)
class DeliveryRetention:
    """Keep at most `per_key` finished deliveries per API key and none older than
    `max_age_days`; 0 turns either rule off. The sweep runs every `sweep_seconds`."""

    per_key: int = 100
    max_age_days: int = 30
    sweep_seconds: int = 3600


async def prune_deliveries(*, deps: Deps, retention: DeliveryRetention) -> int:
    """Delete deliveries (and their steps) the retention policy no longer keeps; how many."""
    deleted = 0
    if retention.max_age_days > 0:
        cutoff = deps.clock() - timedelta(days=retention.max_age_days)
        while ids := await _ids(TestDelivery.filter(created_at__lt=cutoff)):
            deleted += await _delete(ids)
    if retention.per_key > 0:
        crowded = await (
            TestDelivery.filter(status__not=DeliveryStatus.PENDING)
            .annotate(count=Count("id"))
            .group_by("api_key_id")
            .filter(count__gt=retention.per_key)
            .values_list("api_key_id", flat=True)
        )
        for api_key_id in crowded:
            finished = TestDelivery.filter(api_key_id=api_key_id).exclude(
                status=DeliveryStatus.PENDING
            )
            # A running delivery is never counted or deleted: its steps are still coming.
            while ids := await _ids(finished.order_by("-id").offset(retention.per_key)):
                deleted += await _delete(ids)
    return deleted


async def _ids(query: QuerySet[TestDelivery]) -> list[int]:
    rows = await query.limit(BATCH).values("id")
    return [row["id"] for row in rows]


async def _delete(ids: list[int]) -> int:
    async with in_transaction():
        await DeliveryStep.filter(delivery_id__in=ids).delete()
        return await TestDelivery.filter(id__in=ids).delete()
