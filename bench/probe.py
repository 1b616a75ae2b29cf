"""Where a bench server's latency goes: GC pauses, connection waits and loader rounds.

`python -m bench.probe -- <python> -m bench.serve <kind>` serves `kind` as bench.serve does,
with hooks that time, per HTTP request, every wait for a database connection (the asyncpg
pool, or SQLite's one connection), the statements and the rounds of them the request waited
through one after another, the DataLoader batches it dispatched; and every pause of the
cyclic garbage collector. `GET /__probe` answers what was recorded since the last call.
"""

# Both servers of the dashboard section run under it, so they pay its few µs alike. Times
# are time.perf_counter(), which on Linux is CLOCK_MONOTONIC: the bench can place them next
# to its own.

from __future__ import annotations

import contextvars
import gc
import json
import sys
import time
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

PATH = "/__probe"


class Record:
    """One HTTP request as the server saw it."""

    __slots__ = ("_open", "batches", "end", "rounds", "start", "statements", "wait")

    def __init__(self, start: float) -> None:
        self.start, self.end = start, start
        self.wait = 0.0  # seconds waiting for a connection, summed
        self.statements = 0  # connections taken (one per statement outside transactions)
        self.rounds = 0  # times the request went to the database with nothing else there
        self.batches = 0  # DataLoader batches dispatched
        self._open = 0

    def row(self) -> list[float]:
        return [self.start, self.end, self.wait, self.statements, self.rounds, self.batches]


_CURRENT: contextvars.ContextVar[Record | None] = contextvars.ContextVar("probe", default=None)
_requests: list[Record] = []
_pauses: list[tuple[float, float, int]] = []  # (start, end, generation)
_gc_started = 0.0


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    global _gc_started
    if phase == "start":
        _gc_started = time.perf_counter()
    else:
        _pauses.append((_gc_started, time.perf_counter(), info["generation"]))


def _timed_enter(enter: Any) -> Any:
    async def __aenter__(self: Any) -> Any:
        record = _CURRENT.get()
        if record is None:
            return await enter(self)
        if record._open == 0:
            record.rounds += 1
        record._open += 1
        record.statements += 1
        asked = time.perf_counter()
        try:
            return await enter(self)
        finally:
            record.wait += time.perf_counter() - asked

    return __aenter__


def _timed_exit(leave: Any) -> Any:
    async def __aexit__(self: Any, *exc: Any) -> Any:
        record = _CURRENT.get()
        if record is not None:
            record._open -= 1
        return await leave(self, *exc)

    return __aexit__


def _counted_dispatch(dispatch_batch: Any) -> Any:
    async def counted(loader: Any, batch: Any) -> None:
        record = _CURRENT.get()
        if record is not None:
            record.batches += 1
        await dispatch_batch(loader, batch)

    return counted


def install() -> None:
    """Hook the collector, Tortoise's connection wrappers and Strawberry's DataLoader."""
    import strawberry.dataloader
    from tortoise.backends.base import client

    gc.callbacks.append(_on_gc)
    for wrapper in (client.PoolConnectionWrapper, client.ConnectionWrapper):
        wrapper.__aenter__ = _timed_enter(wrapper.__aenter__)  # type: ignore[method-assign]
        wrapper.__aexit__ = _timed_exit(wrapper.__aexit__)  # type: ignore[method-assign]
    strawberry.dataloader.dispatch_batch = _counted_dispatch(strawberry.dataloader.dispatch_batch)


class ProbeMiddleware:
    """Outermost: times each HTTP request whole, and answers GET /__probe."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == PATH:
            await _answer(send)
            return
        record = Record(time.perf_counter())
        token = _CURRENT.set(record)
        try:
            await self.app(scope, receive, send)
        finally:
            _CURRENT.reset(token)
            record.end = time.perf_counter()
            _requests.append(record)


async def _answer(send: Send) -> None:
    body = json.dumps({"requests": [record.row() for record in _requests], "gc": _pauses}).encode()
    _requests.clear()
    _pauses.clear()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    from bench import serve

    kind = sys.argv[-1]
    make_app = getattr(serve, "_app", None)
    if make_app is None:
        raise SystemExit("bench.serve no longer builds its app with _app(kind): update bench.probe")
    install()
    serve._app = lambda name: ProbeMiddleware(make_app(name))  # type: ignore[assignment]
    sys.argv = ["bench.serve", kind]
    serve.main()


if __name__ == "__main__":
    main()
