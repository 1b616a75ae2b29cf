"""Periodic background jobs run inside the server process, started and stopped with the app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from resolvers.credentials import record_expired_secrets
from resolvers.delivery_retention import DeliveryRetention, prune_deliveries
from resolvers.delivery_run import end_lapsed_deliveries
from resolvers.deps import Deps
from resolvers.sessions import prune_revoked_sessions

log = logging.getLogger("switchboard.background")
EXPIRY_SWEEP_SECONDS = 30.0


async def _repeat(name: str, job: Callable[[], Awaitable[object]], interval: float) -> None:
    while True:
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception:
            # One failed run (e.g. the database briefly away) must not end the loop.
            log.exception("background job %s failed; retrying in %.0f s", name, interval)
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def periodically(
    name: str, job: Callable[[], Awaitable[object]], interval: float
) -> AsyncIterator[asyncio.Task[None]]:
    """Run `job` now and then every `interval` seconds until the block ends; a run in progress
    is cancelled at the end, which is safe for jobs that commit in small transactions."""
    if interval <= 0:
        raise ValueError("interval must be positive")
    task = asyncio.create_task(_repeat(name, job, interval), name=f"switchboard:{name}")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def background_jobs(
    *,
    deps: Deps,
    expiry_sweep_seconds: float,
    retention: DeliveryRetention | None = None,
    delivery_sweep_seconds: float = 0,
) -> AsyncIterator[None]:
    """Every job the server runs on its own: recording secrets that expired, pruning test
    deliveries past the retention policy, ending deliveries whose process died, and
    forgetting revoked sessions once they have expired anyway. Each replica runs them; all
    are safe to run concurrently. An interval of 0 leaves that sweep off (revoked sessions
    are always pruned)."""
    # (name, job, interval), started in this order; an interval of 0 leaves that job off.
    jobs: list[tuple[str, Callable[[], Awaitable[object]], float]] = [
        ("record_expired_secrets", lambda: record_expired_secrets(deps=deps), expiry_sweep_seconds)
    ]
    if retention is not None:
        jobs.append(
            (
                "prune_deliveries",
                lambda: prune_deliveries(deps=deps, retention=retention),
                retention.sweep_seconds,
            )
        )
    jobs += [
        (
            "prune_revoked_sessions",
            lambda: prune_revoked_sessions(deps.clock()),
            max(expiry_sweep_seconds, 60.0),
        ),
        ("end_lapsed_deliveries", lambda: end_lapsed_deliveries(deps=deps), delivery_sweep_seconds),
    ]
    async with contextlib.AsyncExitStack() as stack:
        for name, job, interval in jobs:
            if interval > 0:
                await stack.enter_async_context(periodically(name, job, interval))
        yield
