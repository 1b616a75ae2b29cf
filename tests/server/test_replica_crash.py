"""A replica SIGKILLed mid-delivery: a surviving replica's sweeper ends the delivery (no
follower needed), stores and streams its final step, and frees its in-flight slot."""

from __future__ import annotations

import asyncio
from pathlib import Path

from models import deliveries as stored
from resolvers.deps import Deps
from server.broker import InProcessBroker
from signing.crypto import SecretBox
from tests.brokers import unique_prefix
from tests.conftest import TEST_MASTER_KEY, seed_account
from tests.deliveries import collect
from tests.live import graphql_ws
from tests.replicas import opened_database, replica
from tests.server.receiver import Answer, receiver
from tests.server.test_deliveries_follow import DELIVERY_STEPS, steps_until, webhook_input
from tests.server.test_deliveries_stream import TEST_WEBHOOK

# Short on purpose: the defaults (15 s lease, 5 s sweep) end a crashed delivery within ~20 s.
FAST_LEASES = {"delivery_lease": "1.5", "delivery_sweep_seconds": "0.3"}


async def until_ended(delivery_id: int, within: float = 30.0) -> stored.TestDelivery:
    for _ in range(int(within / 0.1)):
        delivery = await stored.TestDelivery.get(id=delivery_id)
        if delivery.status.value != "PENDING":
            return delivery
        await asyncio.sleep(0.1)
    raise AssertionError(f"delivery {delivery_id} was still PENDING after {within:g} s")


async def test_a_sigkilled_replicas_delivery_is_ended_by_a_survivor(tmp_path: Path) -> None:
    prefix = unique_prefix()
    async with opened_database(tmp_path) as database:
        seeded = await seed_account(
            Deps(box=SecretBox(TEST_MASTER_KEY), broker=InProcessBroker()), "Crash"
        )
        async with (
            receiver(Answer(gate=asyncio.Event())) as rx,
            replica(
                database, tmp_path, redis_prefix=prefix, max_deliveries_in_flight="1",
                **FAST_LEASES,
            ) as doomed,
            replica(
                database, tmp_path, redis_prefix=prefix, max_deliveries_in_flight="1",
                **FAST_LEASES,
            ) as survivor,
        ):  # fmt: skip
            async with graphql_ws(doomed.url) as ws:
                await ws.init({"Authorization": seeded.basic})
                await ws.subscribe(TEST_WEBHOOK, webhook_input(seeded, rx.url()))
                started = await steps_until(ws, "REQUEST_SENT")
                await rx.arrived.wait()
                doomed.kill()
            delivery = await stored.TestDelivery.get(api_key_id=seeded.api_key_id)
            assert delivery.status.value == "PENDING"

            # Nobody follows it: the survivor's sweeper alone must end it.
            ended = await until_ended(delivery.id)
            async with graphql_ws(survivor.url) as ws:
                await ws.init({"Authorization": seeded.basic})
                replayed, errors = await collect(
                    ws, DELIVERY_STEPS, {"id": started[0]["deliveryId"]}
                )
                # Its in-flight slot (the account's only one here) is free again.
                again, refused = await collect(
                    ws, TEST_WEBHOOK, webhook_input(seeded, rx.url("/second"))
                )
            finals = await stored.DeliveryStep.filter(delivery_id=delivery.id, final=True).count()
    assert (ended.status.value, ended.error_code) == ("FAILED", "OUTCOME_UNKNOWN")
    assert errors == []
    assert [s["kind"] for s in replayed] == [s["kind"] for s in started] + ["FAILED"]
    final = replayed[-1]
    assert (final["errorCode"], final["final"], final["status"]) == (
        "OUTCOME_UNKNOWN",
        True,
        "FAILED",
    )
    assert finals == 1
    assert refused == []
    assert again[-1]["status"] == "SUCCEEDED"
