"""Group commit: what arrives while one batch is being written waits and goes in the next."""

# Alone, an item is written at once; under load, one write carries every item that arrived
# meanwhile, so the database's round trips and commits no longer grow with the items.
# Used by the step journal (delivery steps) and by delivery starts.

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    """Hands batches to `store`; when a batch fails, each of its items is handed to
    `store_alone`, so one bad item (a duplicate, a taken key) fails alone."""

    def __init__(
        self,
        name: str,
        store: Callable[[list[T]], Awaitable[None]],
        store_alone: Callable[[T], Awaitable[None]],
    ) -> None:
        self._name = name
        self._store = store
        self._store_alone = store_alone
        self._queue: list[T] = []
        self._writer: asyncio.Task[None] | None = None

    def add(self, items: Iterable[T]) -> None:
        """Queue `items`, in order, for the next batch (written at once if none is running)."""
        self._queue.extend(items)
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain(), name=self._name)

    async def drained(self) -> None:
        """Until every item handed in so far is written (for shutdown)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._writer)

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    await self._store(batch)
                except Exception:
                    for item in batch:
                        await self._store_alone(item)
        finally:
            self._writer = None
