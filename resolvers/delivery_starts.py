"""Test deliveries begun a batch at a time (group commit): each PENDING row with its STARTED
step, the in-flight limit counted once per account per batch."""

# A start used to take its own transaction: on PostgreSQL four round trips (BEGIN, the
# account lock, the counting INSERT, COMMIT) with the account row locked for the last two,
# so 500 starts of one account queued behind each other's round trips, and the STARTED step
# then waited for a step-journal write of its own. Here the starts that arrive while a batch
# is being written wait and go together in the next one: one lock per account, one count,
# every row and its STARTED step, one commit. Alone, a start is written at once; under a
# burst a batch costs a handful of round trips however many starts it carries. The STARTED
# step is stored with its row, so it can be shown the moment the delivery durably exists.

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.deliveries import TestDelivery
from models.enums import DeliveryStatus
from resolvers import rows
from resolvers.delivery_leases import STALE_AFTER
from resolvers.rows import DeliveryStep

PENDING_COLUMNS = (
    '"account_id", "api_key_id", "number_id", "event", "channel", "url", "status", '
    '"created_at", "idempotency_key", "owner", "lease_expires_at"'
)


@dataclass(eq=False)
class PendingStart:
    """One delivery to begin: its row's values (PENDING_COLUMNS' order) and its STARTED
    step (stored with the row's id in place of `delivery_id`)."""

    account_id: int
    values: list[Any]
    started: DeliveryStep
    limit: int
    # The STARTED step as stored, or None when the account already had `limit` in flight.
    begun: asyncio.Future[DeliveryStep | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class DeliveryStarts:
    """Begins deliveries for every request of this process; `begin` returns once its row
    and STARTED step are committed."""

    def __init__(self) -> None:
        self._queue: list[PendingStart] = []
        self._writer: asyncio.Task[None] | None = None

    async def begin(self, start: PendingStart) -> DeliveryStep | None:
        """The new delivery's STARTED step (its `delivery_id` the new row's), or None if the
        account's limit refused it; raises what writing it raised (an IntegrityError: its
        idempotency key was taken meanwhile)."""
        self._queue.append(start)
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain(), name="delivery-starts")
        # Shielded: a request cancelled mid-write leaves the batch to finish for the others.
        return await asyncio.shield(start.begun)

    async def drained(self) -> None:
        """Until every start handed in so far is written (for shutdown)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._writer)

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    await _store(batch)
                except Exception:
                    # One bad start (an idempotency key taken meanwhile) must not fail the
                    # others: each is tried again alone, and only its own error reaches it.
                    for start in batch:
                        await _store_alone(start)
        finally:
            self._writer = None


async def _store_alone(start: PendingStart) -> None:
    try:
        await _store([start])
    except Exception as error:
        if not start.begun.done():
            start.begun.set_exception(error)


async def _store(batch: list[PendingStart]) -> None:
    """One transaction: lock the accounts, count what each has in flight, then add the rows
    within its limit (in the order asked) with their STARTED steps; refuse the others."""
    db = TestDelivery._meta.db
    postgres = db.capabilities.dialect == "postgres"
    async with in_transaction() as connection:
        accounts = sorted({start.account_id for start in batch})
        if postgres:
            # Concurrent batches (other replicas) count one after another: the count below
            # is a new statement, so it sees what the lock waited for.
            lock = 'SELECT 1 FROM "account" WHERE "id" = ANY($1) ORDER BY "id" FOR NO KEY UPDATE'
            await connection.execute_query(lock, [accounts])
        in_flight = await _in_flight(connection, accounts, batch[0].values[7])
        accepted = []
        for start in batch:
            count = in_flight.get(start.account_id, 0)
            if count < start.limit:
                in_flight[start.account_id] = count + 1
                accepted.append(start)
        ids = await _insert(connection, accepted, postgres)
        steps = [
            dataclasses.replace(start.started, delivery_id=delivery_id)
            for start, delivery_id in zip(accepted, ids, strict=True)
        ]
        if steps:
            marks = ", ".join(f"${n}" if postgres else "?" for n in range(1, 13))
            sql = f"INSERT INTO {DeliveryStep.SOURCE} ({DeliveryStep.COLUMNS}) VALUES ({marks})"  # noqa: S608
            await connection.execute_many(sql, [step.to_db() for step in steps])
    # Committed: only now may anyone hear of these deliveries.
    for start, step in zip(accepted, steps, strict=True):
        if not start.begun.done():
            start.begun.set_result(step)
    for start in batch:
        if not start.begun.done():
            start.begun.set_result(None)


async def _in_flight(
    connection: BaseDBAsyncClient, accounts: list[int], now: datetime
) -> dict[int, int]:
    """PENDING deliveries per account that still count against its limit. A row a dead
    process left PENDING stops counting once its lease lapsed (a sweeper ends it soon)."""
    select = rows.Select(connection)
    sql = (
        'SELECT "account_id", COUNT(*) AS "n" FROM "test_delivery" '  # noqa: S608
        f'WHERE "account_id" IN ({select.each(accounts)}) '
        f'AND "status" = {select(DeliveryStatus.PENDING.value)} '
        f'AND ("lease_expires_at" >= {select(now)} OR ("lease_expires_at" IS NULL '
        f'AND "created_at" >= {select(now - STALE_AFTER)})) GROUP BY "account_id"'
    )
    found = await connection.execute_query_dict(sql, select.values)
    return {row["account_id"]: int(row["n"]) for row in found}


async def _insert(
    connection: BaseDBAsyncClient, accepted: list[PendingStart], postgres: bool
) -> list[int]:
    """The rows' ids, in the order of `accepted`."""
    if not accepted:
        return []
    if not postgres:
        # Statements on SQLite cost no round trip: one INSERT ... RETURNING per row.
        marks = ", ".join("?" * 11)
        sql = f'INSERT INTO "test_delivery" ({PENDING_COLUMNS}) VALUES ({marks}) RETURNING "id"'  # noqa: S608
        ids = []
        for start in accepted:
            inserted = await connection.execute_query_dict(sql, start.values)
            ids.append(inserted[0]["id"])
        return ids
    # Ids first, so one pipelined INSERT writes every row and each start knows its own.
    numbered = await connection.execute_query_dict(
        "SELECT nextval(pg_get_serial_sequence('\"test_delivery\"', 'id')) AS \"id\" "
        "FROM generate_series(1, $1)",
        [len(accepted)],
    )
    ids = [int(row["id"]) for row in numbered]
    marks = ", ".join(f"${n}" for n in range(1, 13))
    sql = f'INSERT INTO "test_delivery" ("id", {PENDING_COLUMNS}) VALUES ({marks})'  # noqa: S608
    values = [[pk, *start.values] for start, pk in zip(accepted, ids, strict=True)]
    await connection.execute_many(sql, values)
    return ids
