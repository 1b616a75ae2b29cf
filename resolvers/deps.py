"""What the operations need from the outside world, handed to them by the server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from resolvers.coalesced import Coalesced
from resolvers.delivery_leases import DeliveryLeases
from resolvers.delivery_starts import DeliveryStarts
from resolvers.ratelimit import CredentialLimits
from resolvers.step_journal import StepJournal
from resolvers.webhook_sender import TaskRunner, WebhookSender
from signing.crypto import SecretBox


def utcnow() -> datetime:
    return datetime.now(UTC)


# What a broker yields to a subscriber in place of events it may have lost (its connection
# to the other replicas dropped and came back): whatever the stream shows must be read
# afresh. A message of its own kind, so no event can be mistaken for it.
EVENTS_MAY_BE_MISSED: dict[str, Any] = {"$eventsMayBeMissed": True}


def is_events_missed(message: dict[str, Any]) -> bool:
    return message.get("$eventsMayBeMissed") is True


class EventBroker(Protocol):
    """Carries events between subscribers, in this process or across replicas; a
    subscription may yield EVENTS_MAY_BE_MISSED after a gap."""

    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    def subscribe(
        self, channel: str
    ) -> AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...


class LastUsedThrottle:
    """Decides when a secret's `lastUsedAt` is worth a write: at most once a minute per secret."""

    def __init__(self, interval_seconds: float = 60.0) -> None:
        self.interval = interval_seconds
        self._written: dict[int, datetime] = {}

    def due(self, secret_id: int, now: datetime) -> bool:
        last = self._written.get(secret_id)
        if last is not None and (now - last).total_seconds() < self.interval:
            return False
        self._written[secret_id] = now
        return True


class Admission:
    """At most `limit` test deliveries at a time between being admitted and their request
    going out.

    Preparing, signing, connecting and sending is where a delivery costs CPU; waiting for
    the answer costs nothing. Under a burst of starts, letting every delivery through at
    once queued the steps of those already waiting for an answer behind all the others, so
    what streamed showed the queue rather than the receiver. Deliveries waiting here are
    PENDING, have shown their STARTED step, and count as in flight.
    """

    def __init__(self, limit: int = 32) -> None:
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None

    @contextlib.asynccontextmanager
    async def admit(self) -> AsyncIterator[Callable[[], None]]:
        """Wait for a slot; yields a function that gives it back early (once)."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        slots = self._slots
        await slots.acquire()
        held = True

        def leave() -> None:
            nonlocal held
            if held:
                held = False
                slots.release()

        try:
            yield leave
        finally:
            leave()


@dataclass
class Deps:
    box: SecretBox
    broker: EventBroker
    clock: Callable[[], datetime] = utcnow
    max_api_keys: int = 10
    session_ttl_seconds: int = 3600
    allow_private_webhooks: bool = False
    webhook_issuer: str = "Vonage"
    last_used: LastUsedThrottle = field(default_factory=LastUsedThrottle)
    credential_limits: CredentialLimits = field(default_factory=CredentialLimits)
    # Reads asked together (WebSocket session checks, a delivery burst's key settings),
    # answered once per distinct question.
    coalesced: Coalesced = field(default_factory=Coalesced)
    # Test deliveries; build_deps sets both, a Deps built by hand without them cannot send.
    webhook_sender: WebhookSender | None = None
    delivery_tasks: TaskRunner | None = None
    delivery_attempts: int = 3
    # Back-off before attempt n+1 is this many seconds times 2**(n-1): 1 s, then 2 s.
    delivery_backoff_seconds: float = 1.0
    max_deliveries_in_flight: int = 5
    step_journal: StepJournal = field(default_factory=StepJournal)
    delivery_starts: DeliveryStarts = field(default_factory=DeliveryStarts)
    delivery_admission: Admission = field(default_factory=Admission)
    # Told (event, status, error code) of every finished test delivery: the server counts them.
    on_delivery_finished: Callable[[str, str, str | None], None] | None = None
    delivery_leases: DeliveryLeases = field(default_factory=DeliveryLeases)
