"""The load generator: keep-alive HTTP/1.1 over raw asyncio sockets, bounded in count and time."""

# Requests are pre-encoded bytes and responses are only framed (status line, Content-Length),
# so the client spends tens of microseconds per request; `LoadResult.client_cpu_us` reports
# exactly how many, next to the server's own CPU per request.

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Request:
    """One pre-encoded request to a server on 127.0.0.1."""

    port: int
    payload: bytes

    @classmethod
    def build(
        cls, port: int, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> Request:
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return cls(port, head + body)


# One target's request, or one per server when the load is split between servers.
Requests = Request | Sequence[Request]


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float]  # seconds, sorted
    client_cpu_us: float  # this process's CPU per request
    # The server's CPU per request: all threads of its process and of the processes it
    # started (`serve --workers`), summed over the servers the load was split between.
    server_cpu_us: float | None

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        index = min(len(self.latencies) - 1, int(fraction * len(self.latencies)))
        return self.latencies[index] * 1000


class ResponseError(RuntimeError):
    """The server answered something other than 200, or broke the connection."""


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes):
    writer.write(payload)
    head = await reader.readuntil(b"\r\n\r\n")
    status = head[9:12]
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
            break
    if length is None:
        raise ResponseError("response without Content-Length")
    body = await reader.readexactly(length)
    if status != b"200":
        raise ResponseError(f"HTTP {status.decode()}: {body[:200]!r}")
    return body


async def fetch(request: Request) -> bytes:
    """One request on its own connection: for checking an answer before measuring."""
    reader, writer = await asyncio.open_connection("127.0.0.1", request.port)
    try:
        return await _exchange(reader, writer, request.payload)
    finally:
        writer.close()


def process_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process and all its threads, from /proc (Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS


def process_tree(pid: int) -> list[int]:
    """`pid` and every living process under it (uvicorn's workers, their helpers)."""
    tree, index = [pid], 0
    while index < len(tree):
        try:
            for task in os.listdir(f"/proc/{tree[index]}/task"):
                with open(f"/proc/{tree[index]}/task/{task}/children") as handle:
                    tree += [int(child) for child in handle.read().split()]
        except OSError:
            pass
        index += 1
    return tree


def tree_cpu_seconds(pids: Sequence[int]) -> float | None:
    """CPU of the processes `pids` and all their descendants (None if one is gone)."""
    total = 0.0
    for root in pids:
        for pid in process_tree(root):
            seconds = process_cpu_seconds(pid)
            if seconds is None and pid == root:
                return None
            total += seconds or 0.0
    return total


def process_rss_bytes(pid: int) -> int:
    """Resident memory of one process, from /proc (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


async def run_load(
    requests: Requests,
    *,
    concurrency: int,
    max_requests: int,
    seconds: float,
    server_pid: int | None = None,
    server_pids: Sequence[int] = (),
) -> LoadResult:
    """`concurrency` connections, each sending its next request as soon as the last one is
    answered, until `max_requests` were sent or `seconds` passed, whichever is first. With
    several requests (one per server), connection i sends requests[i % len(requests)]."""
    several = [requests] if isinstance(requests, Request) else list(requests)
    pids = [*server_pids, *([server_pid] if server_pid else [])]
    latencies: list[float] = []
    issued = 0
    deadline = time.perf_counter() + seconds

    async def connection(request: Request) -> None:
        nonlocal issued
        reader, writer = await asyncio.open_connection("127.0.0.1", request.port)
        try:
            while issued < max_requests and time.perf_counter() < deadline:
                issued += 1
                started = time.perf_counter()
                await _exchange(reader, writer, request.payload)
                latencies.append(time.perf_counter() - started)
        finally:
            writer.close()

    server_before = tree_cpu_seconds(pids) if pids else None
    cpu_before, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(connection(several[i % len(several)]) for i in range(concurrency)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    server_after = tree_cpu_seconds(pids) if pids else None
    count = len(latencies)
    server_cpu = None
    if server_before is not None and server_after is not None and count:
        server_cpu = (server_after - server_before) / count * 1e6
    return LoadResult(
        requests=count,
        seconds=elapsed,
        latencies=sorted(latencies),
        client_cpu_us=cpu / count * 1e6 if count else float("nan"),
        server_cpu_us=server_cpu,
    )
