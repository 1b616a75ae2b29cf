"""A resolver for tests that never leaves the machine: this host's own names, nothing else.

The system resolver would send a query for any other name to the configured nameserver,
which is not a loopback address; tests must not talk to it even to see a lookup fail."""

from __future__ import annotations

import socket

LOCAL_NAMES = {"localhost": ["127.0.0.1", "::1"]}


async def loopback_resolver(host: str, port: int) -> list[str]:
    """Loopback addresses for this host's own names; for every other name, the same error the
    system resolver gives for a name that does not exist."""
    addresses = LOCAL_NAMES.get(host.rstrip(".").lower())
    if addresses is None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return list(addresses)
