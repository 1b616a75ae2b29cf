"""Sliding-window rate limits for failed logins and secret reveals, kept in this process."""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta


class SlidingWindowLimiter:
    """At most `limit` events per `window` for each string key.

    The counts live in this process only: with N replicas behind a load balancer an attacker
    gets up to N times the limit. That is accepted here because each replica still bounds
    guessing to a rate far below what brute-forcing a 16-character secret needs; a shared
    store (Redis) would make the bound exact. The clock is passed in (`now`) on every call so
    tests and the server decide what time it is.
    """

    def __init__(self, *, limit: int, window_seconds: float, max_keys: int = 100_000) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("limit must be at least 1 and the window positive")
        self.limit = limit
        self.window = timedelta(seconds=window_seconds)
        # Bounded so a flood of distinct keys (e.g. random API key values) cannot exhaust memory;
        # the least recently touched key is forgotten first.
        self.max_keys = max_keys
        self._events: OrderedDict[str, deque[datetime]] = OrderedDict()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        events = self._events.get(key)
        if events is None:
            return deque()
        cutoff = now - self.window
        while events and events[0] <= cutoff:
            events.popleft()
        if not events:
            del self._events[key]
        return events

    def blocked(self, key: str, now: datetime) -> bool:
        """Whether `key` has used up its events in the window ending at `now` (counts nothing)."""
        return len(self._recent(key, now)) >= self.limit

    def hit(self, key: str, now: datetime) -> None:
        """Count one event for `key` at `now`."""
        events = self._recent(key, now)
        if not events:
            self._events[key] = events
        events.append(now)
        self._events.move_to_end(key)
        self._evict(now)

    def _evict(self, now: datetime) -> None:
        """Forget least recently touched keys past `max_keys`, never one that is blocked.

        Evicting a blocked key would reset its count, so flooding the table with fresh keys
        (many addresses) would unblock a target. A blocked key met on the way is moved to
        the recent end instead; only if every key is blocked does the oldest go.
        """
        skipped = 0
        while len(self._events) > self.max_keys:
            oldest = next(iter(self._events))
            if skipped < len(self._events) and len(self._recent(oldest, now)) >= self.limit:
                self._events.move_to_end(oldest)
                skipped += 1
                continue
            self._events.pop(oldest, None)

    def allow(self, key: str, now: datetime) -> bool:
        """Count one event and say whether it was within the limit; refused ones are not counted,
        so a caller who waits gets through again once the window slides."""
        if self.blocked(key, now):
            return False
        self.hit(key, now)
        return True

    def retry_after(self, key: str, now: datetime) -> float:
        """Seconds until `key` may act again (0 when it may act now)."""
        events = self._recent(key, now)
        if len(events) < self.limit:
            return 0.0
        return max(0.0, (events[-self.limit] + self.window - now).total_seconds())


@dataclass
class CredentialLimits:
    """The limits the credential operations share (one set per process)."""

    # Failed authentications (HTTP, WebSocket or sessionCreate) from one client address.
    login_failures_by_address: SlidingWindowLimiter = field(
        default_factory=lambda: SlidingWindowLimiter(limit=20, window_seconds=300)
    )
    # Failed attempts against one API key value from anywhere: bounds a distributed guess. It is
    # higher than the per-address limit so one noisy address cannot lock a key's owner out alone.
    login_failures_by_key: SlidingWindowLimiter = field(
        default_factory=lambda: SlidingWindowLimiter(limit=50, window_seconds=300)
    )
    # apiSecretReveal calls per principal.
    reveals: SlidingWindowLimiter = field(
        default_factory=lambda: SlidingWindowLimiter(limit=10, window_seconds=60)
    )
    # signatureSecretReveal calls per principal.
    signature_reveals: SlidingWindowLimiter = field(
        default_factory=lambda: SlidingWindowLimiter(limit=10, window_seconds=60)
    )
