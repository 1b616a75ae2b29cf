"""Which TCP ports test deliveries may reach: allowed ranges less a deny list of services."""

from __future__ import annotations

from dataclasses import dataclass

# Without a port rule, test deliveries make the platform's egress address a port scanner:
# the failure says whether something listens. Web ports stay open; below 1024 only 80
# and 443; above it, the well-known database, cache, queue, remote-desktop and cluster
# control ports, which never serve webhooks.
DEFAULT_ALLOWED_PORTS = "80,443,1024-65535"
DEFAULT_DENIED_PORTS = (
    "1080,1433,1521,2049,2375-2376,2379-2380,3306,3389,4369,5432,5672,5900-5903,5984,"
    "6379,6443,8086,8500,9042,9092,9200,9300,10250,11211,15672,25565,27017-27019"
)


def parse_ports(text: str) -> frozenset[int]:
    """The ports of a list like `80,443,1024-65535`; ValueError naming the bad piece."""
    ports: set[int] = set()
    for piece in (part.strip() for part in text.split(",")):
        if not piece:
            continue
        low, dash, high = piece.partition("-")
        try:
            first, last = int(low), int(high if dash else low)
        except ValueError:
            raise ValueError(f"{piece!r} is not a port or a range like 1024-65535") from None
        if not 1 <= first <= last <= 65535:
            raise ValueError(f"{piece!r} is not within 1-65535 (low to high)")
        ports.update(range(first, last + 1))
    return frozenset(ports)


@dataclass(frozen=True)
class PortRule:
    """The allowed ports, less the denied ones."""

    allowed: frozenset[int]
    denied: frozenset[int] = frozenset()

    @classmethod
    def parse(
        cls, allowed: str = DEFAULT_ALLOWED_PORTS, denied: str = DEFAULT_DENIED_PORTS
    ) -> PortRule:
        """A rule from the settings' text forms (see parse_ports)."""
        return cls(allowed=parse_ports(allowed), denied=parse_ports(denied))

    def refusal(self, port: int) -> str | None:
        """A sentence saying why `port` may not be reached, or None when it may."""
        if port in self.denied:
            return (
                f"Port {port} belongs to a service that never receives webhooks; "
                "webhooks may not be sent there."
            )
        if port not in self.allowed:
            return (
                f"Port {port} is not among the ports webhooks may use on this server "
                "(80, 443 and 1024-65535 unless the operator set others)."
            )
        return None


DEFAULT_PORT_RULE = PortRule.parse()
