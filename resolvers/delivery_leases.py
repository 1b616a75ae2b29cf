"""Leases on running test deliveries: renewed by the process running them, ended by any
replica once they lapse (the process crashed, was killed or lost its database)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.deliveries import TestDelivery
from models.enums import DeliveryStatus, DeliveryStepKind
from resolvers import rows
from resolvers.rows import DeliveryStep

log = logging.getLogger("switchboard.deliveries")

LEASE_SECONDS = 15.0
# A PENDING row without a lease (written before leases existed) is taken for abandoned once
# it is this old: the longest real delivery (3 attempts of 15 s plus back-off) ends long before.
STALE_AFTER = timedelta(minutes=10)
# The only step stored before an attempt can begin. Steps are stored while the network
# goes on (server/sender.py), so a request may be out before its REQUEST_SENT step is:
# anything stored beyond this means it may have reached the receiver.
BEFORE_SENDING = frozenset({DeliveryStepKind.STARTED})
OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"
INTERRUPTED = "INTERRUPTED"
ENDED_DETAIL = {
    INTERRUPTED: "The server running this delivery stopped before sending its request: "
    "nothing was sent. Redeliver it to try again.",
    OUTCOME_UNKNOWN: "The server running this delivery stopped after its request may have "
    "gone out and before an answer was recorded: the receiver may have it. Check before "
    "redelivering.",
}


def _default_owner() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class _Running:
    task: asyncio.Task[None] | None
    may_have_sent: bool = False


class DeliveryLeases:
    """This process's hold on the deliveries it runs. While any runs, one task renews all
    their leases every third of a lease, in one statement."""

    def __init__(self, *, lease_seconds: float = LEASE_SECONDS, owner: str | None = None) -> None:
        self.lease_seconds = lease_seconds
        self.owner = owner or _default_owner()
        self._running: dict[int, _Running] = {}
        self._renewer: asyncio.Task[None] | None = None

    def expiry(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.lease_seconds)

    @contextlib.contextmanager
    def held(self, delivery_id: int, clock: Callable[[], datetime]) -> Iterator[None]:
        """Keep the delivery's lease renewed while the block runs (in the delivery's task)."""
        self._running[delivery_id] = _Running(asyncio.current_task())  # type: ignore[arg-type]
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(
                self._renew_while_running(clock), name="switchboard:delivery-leases"
            )
        try:
            yield
        finally:
            self._running.pop(delivery_id, None)
            if not self._running and self._renewer is not None:
                # Nothing left to renew: no task outlives the deliveries it served.
                self._renewer.cancel()
                self._renewer = None

    def may_have_sent(self, delivery_id: int) -> None:
        """Its request may be out: at shutdown it gets the grace period for its answer."""
        if (running := self._running.get(delivery_id)) is not None:
            running.may_have_sent = True

    def stop_unsent(self) -> int:
        """At shutdown: interrupt every delivery whose request has not gone out (they end
        INTERRUPTED, safe to redeliver); the others keep waiting for their answer."""
        stopped = 0
        for running in self._running.values():
            if not running.may_have_sent and running.task is not None:
                running.task.cancel()
                stopped += 1
        return stopped

    async def renew(self, now: datetime) -> int:
        """Push back the lease of every delivery this process runs; how many rows it held."""
        ids = list(self._running)
        if not ids:
            return 0
        update = rows.Select(TestDelivery._meta.db)
        sql = (
            f'UPDATE "test_delivery" SET "lease_expires_at" = {update(self.expiry(now))} '  # noqa: S608
            f'WHERE "owner" = {update(self.owner)} '
            f'AND "status" = {update(DeliveryStatus.PENDING.value)} '
            f'AND "id" IN ({update.each(ids)})'
        )
        count, _ = await update.db.execute_query(sql, update.values)
        return int(count)

    async def _renew_while_running(self, clock: Callable[[], datetime]) -> None:
        while self._running:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await self.renew(clock())
            except Exception:
                # The database may be briefly away; the next renewal may still be in time.
                log.warning("could not renew the leases of running deliveries", exc_info=True)


def lapsed_condition(select: rows.Select, now: datetime) -> str:
    """SQL: a PENDING delivery whose lease lapsed (or, leaseless, that is long stale)."""
    return (
        f'"status" = {select(DeliveryStatus.PENDING.value)} AND ('
        f'"lease_expires_at" < {select(now)} OR '
        f'("lease_expires_at" IS NULL AND "created_at" < {select(now - STALE_AFTER)}))'
    )


async def lapsed_deliveries(now: datetime, limit: int = 100) -> list[int]:
    select = rows.Select(TestDelivery._meta.db)
    sql = (
        f'SELECT "id" FROM "test_delivery" WHERE {lapsed_condition(select, now)} '  # noqa: S608
        f'ORDER BY "id" LIMIT {select(limit)}'
    )
    found = await select.db.execute_query_dict(sql, select.values)
    return [row["id"] for row in found]


async def end_lapsed(delivery_id: int, now: datetime) -> DeliveryStep | None:
    """End one delivery whose lease lapsed, FAILED with OUTCOME_UNKNOWN if its request may
    have gone out and INTERRUPTED otherwise, with its final step; the step, or None if it
    is not lapsed or another replica (or its own process, late) got there first."""
    # Followers ask every few silent seconds: most deliveries asked about are alive.
    check = rows.Select(TestDelivery._meta.db)
    lapsed = (
        f'SELECT "id" FROM "test_delivery" WHERE "id" = {check(delivery_id)} '  # noqa: S608
        f"AND {lapsed_condition(check, now)}"
    )
    if not await check.db.execute_query_dict(lapsed, check.values):
        return None
    select = rows.Select(TestDelivery._meta.db)
    sql = (
        'SELECT "sequence", "kind" FROM "delivery_step" '  # noqa: S608
        f'WHERE "delivery_id" = {select(delivery_id)} ORDER BY "sequence"'
    )
    steps = await select.db.execute_query_dict(sql, select.values)
    sent = any(step["kind"] not in BEFORE_SENDING for step in steps)
    code = OUTCOME_UNKNOWN if sent else INTERRUPTED
    final = DeliveryStep(
        delivery_id=delivery_id,
        sequence=(steps[-1]["sequence"] if steps else 0) + 1,
        kind=DeliveryStepKind.FAILED,
        at=now,
        attempt=None,
        detail=ENDED_DETAIL[code],
        address=None,
        request=None,
        response=None,
        error_code=code,
        final=True,
        status=DeliveryStatus.FAILED,
    )
    try:
        return final if await _claim_and_end(final, now) else None
    except IntegrityError:
        # Its process stored a step meanwhile: it is alive after all, or just ended it.
        return None


async def _claim_and_end(final: DeliveryStep, now: datetime) -> bool:
    """One transaction: the conditional UPDATE (only one sweeper's matches) and the step."""
    update = rows.Select(TestDelivery._meta.db)
    claim = (
        f'UPDATE "test_delivery" SET "status" = {update(DeliveryStatus.FAILED.value)}, '  # noqa: S608
        f'"error_code" = {update(final.error_code)}, "finished_at" = {update(now)}, '
        f'"lease_expires_at" = NULL WHERE "id" = {update(final.delivery_id)} '
        f'AND {lapsed_condition(update, now)} RETURNING "id"'
    )
    numbered = update.db.capabilities.dialect == "postgres"
    marks = ", ".join(f"${n}" if numbered else "?" for n in range(1, 13))
    insert = f"INSERT INTO {DeliveryStep.SOURCE} ({DeliveryStep.COLUMNS}) VALUES ({marks})"  # noqa: S608
    async with in_transaction() as connection:
        claimed = await connection.execute_query_dict(claim, update.values)
        if not claimed:
            return False
        await connection.execute_query(insert, final.to_db())
    return True
