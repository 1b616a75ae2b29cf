"""A real webhook receiver on 127.0.0.1 (random port): records every request, answers as told."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus


@dataclass
class Answer:
    """How the receiver answers one request."""

    status: int = 200
    body: bytes = b"ok"
    headers: tuple[tuple[str, str], ...] = ()
    # Answer only once this is set (the test decides when the receiver is "slow").
    gate: asyncio.Event | None = None
    # Close the connection instead of answering.
    drop: bool = False


@dataclass
class Received:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def header_map(self) -> dict[str, str]:
        named: dict[str, str] = {}
        for name, value in self.headers:
            named.setdefault(name, value)
        return named


@dataclass
class Receiver:
    answers: list[Answer] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    port: int = 0
    scheme: str = "http"
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def _next_answer(self) -> Answer:
        return self.answers.pop(0) if self.answers else Answer()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await _read_request(reader)
            if request is None:
                return
            answer = self._next_answer()
            self.requests.append(request)
            self.arrived.set()
            if answer.gate is not None:
                await answer.gate.wait()
            if answer.drop:
                return
            writer.write(_response(answer))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> Received | None:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
    body = await reader.readexactly(length) if length else b""
    return Received(method, target, headers, body)


def _response(answer: Answer) -> bytes:
    reason = HTTPStatus(answer.status).phrase
    lines = [f"HTTP/1.1 {answer.status} {reason}", f"Content-Length: {len(answer.body)}"]
    lines += [f"{name}: {value}" for name, value in answer.headers]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + answer.body


@contextlib.asynccontextmanager
async def receiver(
    *answers: Answer, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[Receiver]:
    """Serve on 127.0.0.1 until the block ends; `answers` are used in order, then 200 ok."""
    rx = Receiver(answers=list(answers), scheme="https" if ssl_context else "http")
    server = await asyncio.start_server(rx.handle, "127.0.0.1", 0, ssl=ssl_context)
    rx.port = server.sockets[0].getsockname()[1]
    try:
        yield rx
    finally:
        server.close()
        for answer in answers:
            if answer.gate is not None:
                answer.gate.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 5)


def closed_port() -> int:
    """A port on 127.0.0.1 that was just bound and closed: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def full_backlog() -> Iterator[int]:
    """A port on 127.0.0.1 whose accept queue is full: new connections hang (Linux drops the
    SYN), so connecting times out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        server.close()
