"""Sending one frame to many sockets without letting a slow one hold back the rest."""

# A shared subscription hands the same frame to thousands of sockets. Awaiting each send in
# turn would let one socket whose client stopped reading (its transport paused for writing:
# uvicorn then waits for the buffer to drain) stall every socket after it until the ping
# timeout closes it, tens of seconds later. Creating a task per socket per event would cost
# more than the send itself.
#
# So a send is first driven by hand, without a task: the common case (the transport takes
# the bytes) finishes without suspending. Only a send that suspends (the socket cannot take
# more now) is handed, still suspended, to a task of its own that awaits the rest; frames
# for that socket queue behind it, in order, up to BACKLOG_LIMIT. A socket that falls that
# far behind is taken for dead and closed with 1013 (Try Again Later): its client reconnects
# and reads afresh, as after any lost connection, and nothing it holds grows without bound.

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

log = logging.getLogger("switchboard.websocket")

BACKLOG_LIMIT = 64
TOO_FAR_BEHIND = 1013
TOO_FAR_BEHIND_REASON = "Too far behind: reconnect and read afresh"

# Closes of sockets too far behind, still under way.
_CLOSING: set[asyncio.Task[None]] = set()

Send = Callable[[str], Awaitable[None]]
Close = Callable[[int, str], Awaitable[None]]


class _Resumed:
    """Awaits the rest of a coroutine that already ran up to its first suspension: the future
    it yielded is passed on to the task driving this, and every later step is forwarded, as
    `await` would have done had the coroutine been awaited from the start."""

    __slots__ = ("coro", "yielded")

    def __init__(self, coro: Coroutine[Any, Any, Any], yielded: Any) -> None:
        self.coro = coro
        self.yielded = yielded

    def __await__(self) -> Generator[Any, Any, Any]:
        pending = self.yielded
        while True:
            try:
                value = yield pending
            except BaseException as error:  # cancellation and the like reach the coroutine
                try:
                    pending = self.coro.throw(error)
                except StopIteration as stop:
                    return stop.value
                continue
            try:
                pending = self.coro.send(value)
            except StopIteration as stop:
                return stop.value


class Outbox:
    """One socket's outgoing shared frames: sent at once when the socket takes them, else
    queued (bounded) behind the send that is waiting."""

    __slots__ = ("_backlog", "_close", "_send", "_task")

    def __init__(self, send: Send, close: Close) -> None:
        self._send = send
        self._close = close
        self._backlog: collections.deque[str] | None = None
        self._task: asyncio.Task[None] | None = None

    def put(self, frame: str) -> None:
        """Send `frame` now if the socket takes it; never waits."""
        if self._task is not None:
            self._queue(frame)
            return
        coro = self._send(frame)
        try:
            yielded = coro.send(None)  # type: ignore[attr-defined]
        except StopIteration:
            return  # sent: the common case, no task made
        except Exception:
            # The socket is gone; its own reader notices and ends its operations.
            return
        self._task = asyncio.create_task(self._finish(coro, yielded))  # type: ignore[arg-type]

    def _queue(self, frame: str) -> None:
        backlog = self._backlog
        if backlog is None:
            backlog = self._backlog = collections.deque()
        if len(backlog) >= BACKLOG_LIMIT:
            backlog.clear()
            log.info("websocket closed: too far behind", extra={"close_code": TOO_FAR_BEHIND})
            closing = asyncio.create_task(self._close(TOO_FAR_BEHIND, TOO_FAR_BEHIND_REASON))
            # Held until done: the loop keeps only a weak reference to a task.
            _CLOSING.add(closing)
            closing.add_done_callback(_CLOSING.discard)
            return
        backlog.append(frame)

    async def _finish(self, coro: Coroutine[Any, Any, None], yielded: Any) -> None:
        try:
            await _Resumed(coro, yielded)
            while self._backlog:
                await self._send(self._backlog.popleft())
        except Exception:
            self._backlog = None  # the socket is gone
        finally:
            self._task = None

    def cancel(self) -> None:
        """The socket closed: drop what waits."""
        self._backlog = None
        if self._task is not None:
            self._task.cancel()
