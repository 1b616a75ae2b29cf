"""The status an HTTP response was sent with, for middleware that records it afterwards (the
access log, the request metrics)."""

from __future__ import annotations

from starlette.types import Message, Send


class StatusRecorder:
    """A `send` that passes every message on and keeps the response's status. Until a
    response starts it says 500: an app that raised before answering is counted as one."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self._send(message)
