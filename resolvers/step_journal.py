"""Delivery steps written to the database a batch at a time (group commit)."""

# Every running delivery stores each step before it is published, so a follower never sees
# a step the store lacks. One INSERT and commit per step made the database the bottleneck
# with hundreds of deliveries in flight: each statement pays for building the query and for
# a round trip, far more than for its row. Here the steps that arrive while a batch is
# being written wait and go together in the next one, in one transaction: alone, a step is
# written at once; under load, a write costs one round trip however many steps it carries.

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from models.deliveries import TestDelivery
from resolvers.group_commit import GroupCommit
from resolvers.rows import DeliveryStep

log = logging.getLogger("switchboard.deliveries")


@dataclass(eq=False)
class _Entry:
    step: DeliveryStep
    # Set with the delivery's final step: its outcome, written in the same transaction.
    finished: TestDelivery | None
    stored: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class StepJournal:
    """Writes steps for every delivery in this process; `write` returns once its step is
    committed. Steps of one delivery are written in the order they were handed in."""

    def __init__(self) -> None:
        self._batches = GroupCommit("delivery-step-journal", _store_settled, _store_alone)

    async def write(self, *steps: DeliveryStep, finished: TestDelivery | None = None) -> None:
        """Store the steps, in order and in the same batch (and `finished`'s outcome with
        the last); raises what storing them raised."""
        entries = [_Entry(step, None) for step in steps]
        entries[-1].finished = finished
        self._batches.add(entries)
        # Shielded: a delivery cancelled mid-write leaves its steps to be stored all the same.
        await asyncio.shield(asyncio.gather(*(entry.stored for entry in entries)))

    async def drained(self) -> None:
        """Until every step handed in so far is written (for shutdown)."""
        await self._batches.drained()


@functools.cache
def _statements(dialect: str) -> tuple[str, str]:
    """The step INSERT and the outcome UPDATE, run once per row. Sent as written: building
    a statement through the ORM cost more than writing its rows."""
    numbered = dialect == "postgres"

    def marks(count: int) -> list[str]:
        return [f"${n}" if numbered else "?" for n in range(1, count + 1)]

    insert = (
        f"INSERT INTO {DeliveryStep.SOURCE} ({DeliveryStep.COLUMNS}) "  # noqa: S608
        f"VALUES ({', '.join(marks(12))})"
    )
    status, error_code, finished_at, pk = marks(4)
    update = (
        f'UPDATE "test_delivery" SET "status" = {status}, "error_code" = {error_code}, '  # noqa: S608
        f'"finished_at" = {finished_at} WHERE "id" = {pk}'
    )
    return insert, update


async def _store(batch: list[_Entry]) -> None:
    insert, update = _statements(TestDelivery._meta.db.capabilities.dialect)
    finished = [
        [row.status.value, row.error_code, row.finished_at, row.id]
        for row in (entry.finished for entry in batch)
        if row is not None
    ]
    async with in_transaction() as connection:
        await connection.execute_many(insert, [entry.step.to_db() for entry in batch])
        if finished:
            await connection.execute_many(update, finished)


async def _store_settled(batch: list[_Entry]) -> None:
    """A batch (one bad step, a duplicate sequence, fails it: then each goes alone)."""
    await _store(batch)
    for entry in batch:
        _settle(entry)


async def _store_alone(entry: _Entry) -> None:
    try:
        await _store([entry])
    except Exception as error:
        _settle(entry, error)
    else:
        _settle(entry)


def _settle(entry: _Entry, error: Exception | None = None) -> None:
    if entry.stored.done():
        return
    if error is None:
        entry.stored.set_result(None)
    else:
        entry.stored.set_exception(error)
