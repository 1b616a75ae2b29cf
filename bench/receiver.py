"""The webhook receiver the stream sections send to: on 127.0.0.1, answers every request 200
after a fixed delay, as a slow customer endpoint would."""

from __future__ import annotations

import asyncio

RECEIVER_DELAY = 0.2
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


async def start_receiver(delay: float = RECEIVER_DELAY) -> tuple[asyncio.Server, int]:
    """The listening server and its port; close it when done."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            await reader.readexactly(length)
            await asyncio.sleep(delay)
            writer.write(RESPONSE)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, backlog=2048)
    return server, server.sockets[0].getsockname()[1]
