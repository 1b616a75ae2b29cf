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
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from models.deliveries import TestDelivery
from models.enums import DeliveryStatus
from resolvers import rows
from resolvers.delivery_leases import STALE_AFTER
from resolvers.group_commit import GroupCommit
from resolvers.rows import DeliveryStep

# The longest a started delivery waits for other starts to finish before it signs and sends.
QUIET_WAIT_SECONDS = 1.0
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
    and STARTED step are committed.

    Under a burst, deliveries already started wait to sign and send while any start is in
    progress (`quiet`): every start's first step is then shown before any delivery's request
    work competes with it for the event loop.
    """

    def __init__(self) -> None:
        self._batches = GroupCommit("delivery-starts", _store, _store_alone)
        self._in_progress = 0
        self._quiet: asyncio.Event | None = None

    @contextlib.asynccontextmanager
    async def starting(self) -> AsyncIterator[None]:
        """Count a start as in progress until it has begun and shown its first step."""
        if self._quiet is None:
            self._quiet = asyncio.Event()
        quiet = self._quiet
        self._in_progress += 1
        quiet.clear()
        try:
            yield
        finally:
            self._in_progress -= 1
            if not self._in_progress:
                quiet.set()

    async def quiet(self, within: float = QUIET_WAIT_SECONDS) -> None:
        """Until no start is in progress, or at most `within` seconds (so a steady stream of
        starts delays a delivery's request by that much, never starves it)."""
        if self._in_progress and self._quiet is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    await self._quiet.wait()

    async def begin(self, start: PendingStart) -> DeliveryStep | None:
        """The new delivery's STARTED step (its `delivery_id` the new row's), or None if the
        account's limit refused it; raises what writing it raised (an IntegrityError: its
        idempotency key was taken meanwhile)."""
        self._batches.add([start])
        # Shielded: a request cancelled mid-write leaves the batch to finish for the others.
        return await asyncio.shield(start.begun)

    async def drained(self) -> None:
        """Until every start handed in so far is written (for shutdown)."""
        await self._batches.drained()


async def _store_alone(start: PendingStart) -> None:
    try:
        await _store([start])
    except Exception as error:
        if not start.begun.done():
            start.begun.set_exception(error)
            # Its request may have gone away meanwhile: nobody left to retrieve it is no incident.
            start.begun.exception()


async def _store(batch: list[PendingStart]) -> None:
    """One transaction: lock the accounts, count what each has in flight, then add the rows
    within its limit (in the order asked) with their STARTED steps; refuse the others."""
    if TestDelivery._meta.db.capabilities.dialect == "postgres":
        steps = await _store_postgres(batch)
    else:
        steps = await _store_sqlite(batch)
    # Committed: only now may anyone hear of these deliveries.
    for start, step in steps:
        if not start.begun.done():
            start.begun.set_result(step)
    for start in batch:
        if not start.begun.done():
            start.begun.set_result(None)


def _within_limits(batch: list[PendingStart], in_flight: dict[int, int]) -> list[PendingStart]:
    accepted = []
    for start in batch:
        count = in_flight.get(start.account_id, 0)
        if count < start.limit:
            in_flight[start.account_id] = count + 1
            accepted.append(start)
    return accepted


def _in_flight_sql(select: rows.Select, accounts: list[int], now: datetime) -> str:
    """PENDING deliveries per account that still count against its limit. A row a dead
    process left PENDING stops counting once its lease lapsed (a sweeper ends it soon)."""
    return (
        'SELECT "account_id", COUNT(*) AS "n" FROM "test_delivery" '  # noqa: S608
        f'WHERE "account_id" IN ({select.each(accounts)}) '
        f'AND "status" = {select(DeliveryStatus.PENDING.value)} '
        f'AND ("lease_expires_at" >= {select(now)} OR ("lease_expires_at" IS NULL '
        f'AND "created_at" >= {select(now - STALE_AFTER)})) GROUP BY "account_id"'
    )


# Row and step in one statement, the row's id taken from the sequence beforehand.
_INSERT_BOTH = (
    f'WITH "d" AS (INSERT INTO "test_delivery" ("id", {PENDING_COLUMNS}) '  # noqa: S608
    f"VALUES ({', '.join(f'${n}' for n in range(1, 13))})) "
    f"INSERT INTO {DeliveryStep.SOURCE} ({DeliveryStep.COLUMNS}) "
    f"VALUES ($1, {', '.join(f'${n}' for n in range(13, 24))})"
)


async def _store_postgres(batch: list[PendingStart]) -> list[tuple[PendingStart, DeliveryStep]]:
    """Five round trips however big the batch: BEGIN, the lock, the count with as many new
    ids, every row with its step (pipelined), COMMIT."""
    accounts = sorted({start.account_id for start in batch})
    async with in_transaction() as connection:
        # Concurrent batches (other replicas) count one after another: the count below is a
        # new statement, so it sees what the lock waited for.
        lock = 'SELECT 1 FROM "account" WHERE "id" = ANY($1) ORDER BY "id" FOR NO KEY UPDATE'
        await connection.execute_query(lock, [accounts])
        select = rows.Select(connection)
        counted = _in_flight_sql(select, accounts, batch[0].values[7])
        numbered = (
            "SELECT NULL, nextval(pg_get_serial_sequence('\"test_delivery\"', 'id')) "  # noqa: S608
            f"FROM generate_series(1, {select(len(batch))})"
        )
        found = await connection.execute_query_dict(
            f"{counted} UNION ALL {numbered}", select.values
        )
        in_flight = {r["account_id"]: int(r["n"]) for r in found if r["account_id"] is not None}
        ids = [int(r["n"]) for r in found if r["account_id"] is None]
        accepted = _within_limits(batch, in_flight)
        stored = [
            (start, dataclasses.replace(start.started, delivery_id=pk))
            for start, pk in zip(accepted, ids, strict=False)
        ]
        if stored:
            values = [
                [step.delivery_id, *start.values, *step.to_db()[1:]] for start, step in stored
            ]
            await connection.execute_many(_INSERT_BOTH, values)
    return stored


async def _store_sqlite(batch: list[PendingStart]) -> list[tuple[PendingStart, DeliveryStep]]:
    """The count, every row, then the steps. SQLite has one writer, so no lock is needed, and
    rows inserted together in one transaction take consecutive ids ending at the last one."""
    accounts = sorted({start.account_id for start in batch})
    async with in_transaction() as connection:
        select = rows.Select(connection)
        counted = _in_flight_sql(select, accounts, batch[0].values[7])
        found = await connection.execute_query_dict(counted, select.values)
        accepted = _within_limits(batch, {r["account_id"]: int(r["n"]) for r in found})
        if not accepted:
            return []
        marks = ", ".join("?" * 11)
        insert = f'INSERT INTO "test_delivery" ({PENDING_COLUMNS}) VALUES ({marks})'  # noqa: S608
        await connection.execute_many(insert, [start.values for start in accepted])
        [last] = await connection.execute_query_dict('SELECT last_insert_rowid() AS "id"')
        first = int(last["id"]) - len(accepted) + 1
        stored = [
            (start, dataclasses.replace(start.started, delivery_id=first + index))
            for index, start in enumerate(accepted)
        ]
        marks = ", ".join("?" * 12)
        steps = f"INSERT INTO {DeliveryStep.SOURCE} ({DeliveryStep.COLUMNS}) VALUES ({marks})"  # noqa: S608
        await connection.execute_many(steps, [step.to_db() for _start, step in stored])
    return stored
