"""A shared frame goes to every socket at once; one socket that cannot take it holds back no
other, gets its frames in order once it can, and is closed once too far behind."""

from __future__ import annotations

import asyncio

from server.ws_outbox import BACKLOG_LIMIT, TOO_FAR_BEHIND, Outbox


class Socket:
    """A send that finishes at once while `open` is set, and waits (as uvicorn does while
    the transport is paused for writing) while it is not."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.open.set()
        self.sent: list[str] = []
        self.closed: list[int] = []

    async def send(self, frame: str) -> None:
        await self.open.wait()
        self.sent.append(frame)

    async def close(self, code: int, reason: str) -> None:
        self.closed.append(code)


async def test_a_stalled_socket_holds_back_no_other_and_catches_up_in_order() -> None:
    fast, slow = Socket(), Socket()
    slow.open.clear()
    boxes = [Outbox(fast.send, fast.close), Outbox(slow.send, slow.close)]
    for n in range(3):
        for box in boxes:
            box.put(f"frame {n}")
    # Sent without a pause of the caller: the fast socket has every frame already.
    assert fast.sent == ["frame 0", "frame 1", "frame 2"]
    assert slow.sent == []
    slow.open.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert slow.sent == ["frame 0", "frame 1", "frame 2"]
    # Caught up: the next frame goes out at once again.
    boxes[1].put("frame 3")
    assert slow.sent[-1] == "frame 3"


async def test_a_socket_too_far_behind_is_closed() -> None:
    dead = Socket()
    dead.open.clear()
    box = Outbox(dead.send, dead.close)
    for n in range(BACKLOG_LIMIT + 2):
        box.put(f"frame {n}")
    await asyncio.sleep(0)
    assert dead.closed == [TOO_FAR_BEHIND]
    box.cancel()
    await asyncio.sleep(0)
    assert dead.sent == []


async def test_a_send_that_fails_is_dropped_quietly() -> None:
    async def gone(frame: str) -> None:
        raise ConnectionResetError

    async def close(code: int, reason: str) -> None:
        raise AssertionError("nothing to close")

    Outbox(gone, close).put("frame")
