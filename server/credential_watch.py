"""One watcher per server for the credentials of every open WebSocket.

Open sockets must close once their credentials stop being valid (revoked, rolled away,
expired, logged out, on any replica). A task per socket re-checking its own credentials
cost one task per socket and one query per socket per interval: 1,000 queries a second for
10,000 open tabs, most of them holding the same few credentials. Here one task checks each
distinct Authorization value held by open sockets once per interval, a few at a time, and
closes every socket holding one that is no longer valid with 4401. When the database cannot
say (an outage) nothing is closed, as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterator
from typing import Any, Protocol

from resolvers.auth import verify
from resolvers.deps import Deps
from resolvers.errors import AuthenticationError
from resolvers.outages import is_unavailable

log = logging.getLogger("switchboard.websocket")

# Credentials checked at once: enough to get through thousands of distinct ones within an
# interval, few enough to leave the database pool to requests.
CONCURRENCY = 4


class WatchedSocket(Protocol):
    context: Any

    def close_invalid(self) -> Awaitable[None]: ...


class CredentialWatcher:
    def __init__(self, deps: Deps, interval_seconds: float) -> None:
        self.deps = deps
        self.interval = interval_seconds
        self._sockets: dict[str, set[WatchedSocket]] = {}
        self._task: asyncio.Task[None] | None = None
        self._sleeping = False
        # Closing tasks, kept until done (the loop holds tasks only weakly).
        self._closing: set[asyncio.Task[None]] = set()
        self.checks = 0

    def watch(self, header: str, socket: WatchedSocket) -> None:
        self._sockets.setdefault(header, set()).add(socket)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="switchboard:credential-watch")

    def forget(self, header: str, socket: WatchedSocket) -> None:
        held = self._sockets.get(header)
        if held is not None:
            held.discard(socket)
            if not held:
                del self._sockets[header]
        if not self._sockets:
            self._stop()

    @property
    def credentials(self) -> int:
        """Distinct credentials held by open sockets now."""
        return len(self._sockets)

    async def close(self) -> None:
        self._stop()

    def _stop(self) -> None:
        """No socket left: a sleeping task ends now rather than at its next tick; one in the
        middle of its checks ends once they are done (cancelling a query half-way can leave
        its database connection unusable). A new socket starts another task."""
        if self._task is not None:
            if self._sleeping:
                self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        me = asyncio.current_task()
        try:
            while self._sockets and self._task is me:
                self._sleeping = True
                try:
                    await asyncio.sleep(self.interval)
                finally:
                    self._sleeping = False
                await self.check_all()
        finally:
            if self._task is me:
                self._task = None

    async def check_all(self) -> None:
        """Each credential once, CONCURRENCY at a time (workers, not a task per credential)."""
        headers = iter(list(self._sockets))
        workers = min(CONCURRENCY, len(self._sockets))
        await asyncio.gather(*(self._work(headers) for _ in range(workers)))

    async def _work(self, headers: Iterator[str]) -> None:
        for header in headers:
            try:
                await self._check(header)
            except Exception:
                log.exception("websocket credential re-check failed")

    async def _check(self, header: str) -> None:
        self.checks += 1
        try:
            principal = await verify(deps=self.deps, header=header)
        except AuthenticationError:
            principal = None
        except Exception as exc:
            if is_unavailable(exc):
                return  # an outage closes nothing: the next interval asks again
            raise
        held = self._sockets.get(header)
        if not held:
            return
        if principal is not None:
            for socket in held:
                socket.context.principal = principal
            return
        del self._sockets[header]
        for socket in held:
            task = asyncio.create_task(socket.close_invalid())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
