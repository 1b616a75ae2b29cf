"""A light graphql-transport-ws client: one asyncio.Protocol per WebSocket, no task per socket.

Thousands of sockets must cost the load generator little, or it (not the server) is what a
fan-out measures on a 2-core machine: so the upgrade is one pre-built request, client frames
are masked in one XOR over an int, server frames are parsed from one buffer in
`data_received`, and every `next` message is timestamped there, before any JSON decoding.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import time
from collections.abc import Callable, Iterable
from typing import Any

_TEXT, _CLOSE, _PING, _PONG = 0x1, 0x8, 0x9, 0xA


def _frame(opcode: int, payload: bytes) -> bytes:
    """A final, masked client frame (RFC 6455 §5.3: clients must mask)."""
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    mask = os.urandom(4)
    repeated = (mask * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        length, "big"
    )
    return head + mask + masked


class GraphQLSocket(asyncio.Protocol):
    """One WebSocket: `ready` once connection_ack arrived; `next` messages land in `nexts` as
    (perf_counter, raw JSON bytes), or go to `on_next` when set."""

    def __init__(self, host: str, port: int, init_payload: dict[str, Any]) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        self._upgrade = (
            f"GET /graphql HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
        ).encode()
        self._init = json.dumps({"type": "connection_init", "payload": init_payload}).encode()
        self._buffer = bytearray()
        self._upgraded = False
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.nexts: list[tuple[float, bytes]] = []
        self.on_next: Callable[[float, bytes], None] | None = None
        self.others: list[dict[str, Any]] = []  # error / complete / anything unexpected
        self.completed = asyncio.Event()  # a `complete` arrived (the server ended an operation)

    # --- sending ------------------------------------------------------------------------

    def send_json(self, message: dict[str, Any]) -> None:
        assert self.transport is not None
        self.transport.write(_frame(_TEXT, json.dumps(message).encode()))

    def subscribe(self, operation_id: str, query: str, variables: dict[str, Any]) -> None:
        payload = {"query": query, "variables": variables}
        self.send_json({"id": operation_id, "type": "subscribe", "payload": payload})

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_frame(_CLOSE, struct.pack("!H", 1000)))
            self.transport.close()

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self.transport = transport  # type: ignore[assignment]
        transport.write(self._upgrade)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before connection_ack: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        at = time.perf_counter()
        self._buffer += data
        if not self._upgraded and not self._read_upgrade():
            return
        for opcode, payload in self._frames():
            if opcode == _TEXT:
                self._message(at, payload)
            elif opcode == _PING:
                assert self.transport is not None
                self.transport.write(_frame(_PONG, payload))
            elif opcode == _CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                self.others.append({"type": "close", "code": code})
                if self.transport is not None:
                    self.transport.close()

    def _read_upgrade(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self._buffer[:end])
        del self._buffer[: end + 4]
        if not head.startswith(b"HTTP/1.1 101"):
            self.ready.set_exception(ConnectionError(head.split(b"\r\n")[0].decode()))
            assert self.transport is not None
            self.transport.close()
            return False
        self._upgraded = True
        self.transport.write(_frame(_TEXT, self._init))  # type: ignore[union-attr]
        return True

    def _frames(self) -> Iterable[tuple[int, bytes]]:
        buffer = self._buffer
        while len(buffer) >= 2:
            opcode, length = buffer[0] & 0x0F, buffer[1] & 0x7F
            start = 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, start = struct.unpack_from("!H", buffer, 2)[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, start = struct.unpack_from("!Q", buffer, 2)[0], 10
            if len(buffer) < start + length:
                return
            # Servers do not fragment these small messages; a continuation is kept as is.
            payload = bytes(buffer[start : start + length])
            del buffer[: start + length]
            yield opcode, payload

    def _message(self, at: float, payload: bytes) -> None:
        # `next` is recognised without decoding: it is the hot path of a fan-out.
        # (Operation IDs are the bench's own short strings, so `"next"` this early is the type.)
        if b'"next"' in payload[:48]:
            if self.on_next is not None:
                self.on_next(at, payload)
            else:
                self.nexts.append((at, payload))
            return
        message = json.loads(payload)
        kind = message.get("type")
        if kind == "connection_ack":
            if not self.ready.done():
                self.ready.set_result(None)
        elif kind == "ping":
            self.send_json({"type": "pong"})
        elif kind == "next":  # spelled in a way the fast check missed
            (self.on_next or (lambda t, p: self.nexts.append((t, p))))(at, payload)
        elif kind == "complete":
            self.completed.set()
        elif kind != "pong":
            self.others.append(message)


async def connect(
    port: int, init_payload: dict[str, Any], *, within_seconds: float = 60.0
) -> GraphQLSocket:
    """A socket to 127.0.0.1:`port`/graphql, upgraded and acknowledged."""
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(
        lambda: GraphQLSocket("127.0.0.1", port, init_payload), "127.0.0.1", port
    )
    try:
        await asyncio.wait_for(protocol.ready, within_seconds)
    except BaseException:
        protocol.close()
        raise
    return protocol


async def connect_many(
    port: int, init_payload: dict[str, Any], count: int, *, concurrency: int = 64
) -> list[GraphQLSocket]:
    """`count` acknowledged sockets, at most `concurrency` handshakes in flight at once
    (each connection_init authenticates, which costs the server a database read)."""
    gate = asyncio.Semaphore(concurrency)

    async def one() -> GraphQLSocket:
        async with gate:
            return await connect(port, init_payload)

    return list(await asyncio.gather(*(one() for _ in range(count))))
