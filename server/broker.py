"""The in-process event broker: fan-out to subscribers of one process (the embedded default)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from resolvers.deps import EVENTS_MAY_BE_MISSED

# A subscriber that falls this far behind loses the events waiting for it, rather than
# holding memory, and is told so (EVENTS_MAY_BE_MISSED).
QUEUE_LIMIT = 1000


class InProcessBroker:
    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        for queue in list(self._queues.get(channel, ())):
            if queue.full():
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(EVENTS_MAY_BE_MISSED)
            queue.put_nowait(message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        self._queues[channel].add(queue)
        try:
            yield _drain(queue)
        finally:
            self._queues[channel].discard(queue)
            if not self._queues[channel]:
                del self._queues[channel]

    async def subscribers(self, channel: str) -> int:
        """How many subscriptions to `channel` are open in this process."""
        return len(self._queues.get(channel, ()))

    async def close(self) -> None:
        self._queues.clear()


async def _drain(queue: asyncio.Queue[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    while True:
        yield await queue.get()
