"""Reads asked many times at once, answered once per distinct question per round."""

# Every WebSocket subscribe re-checks its socket's session in the database, so a session
# revoked, logged out or whose secret was revoked starts nothing more, on any replica; a test
# delivery reads its key's settings when it starts and again when it runs. A burst of
# "Send test webhook" (or a replica's thousands of open tabs) asked the same questions
# hundreds of times at once, each in a statement of its own waiting for a pooled connection.
# Here questions asked while a round of statements is in flight wait for the next round,
# which asks each distinct question once: every caller is still answered by a statement sent
# after it asked, so a revocation (or a settings change) committed before a subscribe began
# is always seen by that subscribe.

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class Coalesced:
    """`await read(question, lookup)`: what `lookup()` answers, shared with reads of the same
    `question` asked while the previous round was in flight (the first one's `lookup` runs).
    `question` must say everything the answer depends on, the caller's scope included."""

    def __init__(self) -> None:
        self._waiting: dict[Hashable, tuple[asyncio.Future[Any], Callable[[], Awaitable[Any]]]]
        self._waiting = {}
        self._round: asyncio.Task[None] | None = None

    async def read(self, question: Hashable, lookup: Callable[[], Awaitable[T]]) -> T:
        waiting = self._waiting.get(question)
        if waiting is None:
            waiting = (asyncio.get_running_loop().create_future(), lookup)
            self._waiting[question] = waiting
        if self._round is None:
            self._round = asyncio.create_task(self._rounds(), name="coalesced-reads")
        # Shielded: one caller going away must not cancel the answer the others wait for.
        answer: T = await asyncio.shield(waiting[0])
        return answer

    async def _rounds(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, {}
                asked = list(batch.values())
                answers = await asyncio.gather(
                    *(lookup() for _future, lookup in asked), return_exceptions=True
                )
                for (future, _lookup), answer in zip(asked, answers, strict=True):
                    _settle(future, answer)
        finally:
            self._round = None


def _settle(future: asyncio.Future[Any], answer: Any) -> None:
    if future.done():
        return
    if isinstance(answer, asyncio.CancelledError):
        future.cancel()
    elif isinstance(answer, BaseException):
        future.set_exception(answer)
        # Its callers may all have gone away: nobody left to retrieve it is no incident.
        future.exception()
    else:
        future.set_result(answer)
