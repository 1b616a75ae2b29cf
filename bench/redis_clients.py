"""Redis connections per server process, from Redis's own CLIENT LIST.

Two counts: the connections named `switchboard:<pid>:…` (the event broker names its pool and
its pub/sub connection so), and every connection whose client address is a socket that
process holds, whatever its name (the shared login-limit counters' pool is named
`switchboard-limits` in every process)."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis.asyncio as redis


@dataclass(frozen=True)
class RedisCount:
    named: int  # client name starts with switchboard:<pid>:
    owned: int  # any name, client address is one of the process's sockets

    def __str__(self) -> str:
        return f"{self.owned} ({self.named})"


def _socket_ports(pid: int, remote_port: int) -> set[int]:
    """Local TCP ports of the sockets process `pid` holds open to `remote_port` (Linux
    /proc): the kernel reuses a local port for connections to different places, so a
    webhook connection may share its port with another process's Redis connection."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        return set()
    ports = set()
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as handle:
                next(handle)
                for line in handle:
                    fields = line.split()
                    remote = int(fields[2].rsplit(":", 1)[1], 16)
                    if fields[9] in inodes and remote == remote_port:
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except (OSError, StopIteration):
            continue
    return ports


class RedisClients:
    """The bench's own Redis connection (named, so it never counts as a server's)."""

    def __init__(self, url: str) -> None:
        self._port = urlsplit(url).port or 6379
        self._redis = redis.Redis.from_url(
            # Not `switchboard…`: tools that kill a server's connections by name spare it.
            url,
            client_name=f"bench-client-list-{uuid.uuid4().hex[:6]}",
            decode_responses=True,
        )

    async def count(self, pid: int) -> RedisCount:
        clients = await self._redis.client_list()
        ports = _socket_ports(pid, self._port)
        prefix = f"switchboard:{pid}:"
        named = sum(1 for client in clients if client.get("name", "").startswith(prefix))
        owned = sum(
            1 for client in clients if int(client.get("addr", ":0").rsplit(":", 1)[1]) in ports
        )
        return RedisCount(named=named, owned=owned)

    async def close(self) -> None:
        await self._redis.aclose()
