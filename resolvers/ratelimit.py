"""Sliding-window rate limits for failed logins and secret reveals: in this process, or shared
by every replica through a counter store (Redis) when one is configured."""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

log = logging.getLogger("switchboard.limits")


class SlidingWindowLimiter:
    """At most `limit` events per `window` for each string key.

    The counts live in this process only; `Limit` puts a shared store in front of it when the
    replicas have one, and falls back to this when that store cannot answer. The clock is
    passed in (`now`) on every call so tests and the server decide what time it is.
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
            # Only the newest `limit` events decide anything (count up to the limit, and when
            # the oldest of them leaves the window), so no more are kept.
            events = self._events[key] = deque(maxlen=max(self.limit, 16))
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


class SharedCounters(Protocol):
    """Event timestamps kept where every replica counts them (server/shared_limits.py)."""

    async def events(self, key: str, *, window: float, now: float) -> list[float]:
        """The timestamps of `key`'s events in (now - window, now], oldest first."""
        ...

    async def add(self, key: str, *, window: float, now: float, keep: int) -> None:
        """Record one event at `now`, forgetting all but the newest `keep`."""
        ...

    async def allow(self, key: str, *, window: float, now: float, limit: int) -> bool:
        """Record one event unless `limit` are already in the window (one atomic step)."""
        ...

    async def close(self) -> None: ...


class Limit:
    """One named limit, counted in the shared store when there is one, else in this process.
    A store that fails (Redis down or slow) is logged and the process counts alone meanwhile:
    an outage of the counter store never refuses a login by itself."""

    def __init__(self, name: str, *, limit: int, window_seconds: float) -> None:
        self.name = name
        self.local = SlidingWindowLimiter(limit=limit, window_seconds=window_seconds)
        self.shared: SharedCounters | None = None

    @property
    def limit(self) -> int:
        return self.local.limit

    @property
    def window(self) -> timedelta:
        return self.local.window

    def _shared_key(self, key: str) -> str:
        return f"{self.name}:{key}"

    def _failed(self, exc: Exception) -> None:
        log.warning("shared rate-limit store unavailable; counting in this process: %r", exc)

    async def _events(self, key: str, now: datetime) -> list[float] | None:
        if self.shared is None:
            return None
        try:
            return await self.shared.events(
                self._shared_key(key), window=self.window.total_seconds(), now=now.timestamp()
            )
        except Exception as exc:
            self._failed(exc)
            return None

    async def count(self, key: str, now: datetime) -> int:
        events = await self._events(key, now)
        return len(self.local._recent(key, now)) if events is None else len(events)

    async def retry_after(self, key: str, now: datetime) -> float:
        """Seconds until `key` may act again (0 when it may act now)."""
        events = await self._events(key, now)
        if events is None:
            return self.local.retry_after(key, now)
        if len(events) < self.limit:
            return 0.0
        return max(0.0, events[-self.limit] + self.window.total_seconds() - now.timestamp())

    async def hit(self, key: str, now: datetime) -> None:
        if self.shared is not None:
            try:
                await self.shared.add(
                    self._shared_key(key),
                    window=self.window.total_seconds(),
                    now=now.timestamp(),
                    keep=self.limit,
                )
                return
            except Exception as exc:
                self._failed(exc)
        self.local.hit(key, now)

    async def allow(self, key: str, now: datetime) -> bool:
        """Count one event and say whether it was within the limit (refused ones not counted)."""
        if self.shared is not None:
            try:
                return await self.shared.allow(
                    self._shared_key(key),
                    window=self.window.total_seconds(),
                    now=now.timestamp(),
                    limit=self.limit,
                )
            except Exception as exc:
                self._failed(exc)
        return self.local.allow(key, now)


@dataclass
class CredentialLimits:
    """The limits the credential operations share: one set per process, counted across the
    replicas when `share` gives them a store."""

    # Failed key-and-secret attempts from one client address, against any key.
    login_failures_by_address: Limit = field(
        default_factory=lambda: Limit("login-address", limit=20, window_seconds=300)
    )
    # Failed attempts against one key from one address: one source's guesses at a key.
    login_failures_by_key_source: Limit = field(
        default_factory=lambda: Limit("login-key-source", limit=10, window_seconds=300)
    )
    # Failed attempts against one key from anywhere: a distributed guess. Past it the key is
    # "under attack": a source is judged only while it has fewer than `tries_under_attack`
    # failures against the key, so the owner (right secret, clean address) still gets in and
    # every other address gets a few guesses per window instead of ten.
    login_failures_by_key: Limit = field(
        default_factory=lambda: Limit("login-key", limit=50, window_seconds=300)
    )
    tries_under_attack: int = 3
    # apiSecretReveal calls per principal.
    reveals: Limit = field(default_factory=lambda: Limit("reveal", limit=10, window_seconds=60))
    # signatureSecretReveal calls per principal.
    signature_reveals: Limit = field(
        default_factory=lambda: Limit("signature-reveal", limit=10, window_seconds=60)
    )

    shared: SharedCounters | None = None

    def _all(self) -> tuple[Limit, ...]:
        return (
            self.login_failures_by_address,
            self.login_failures_by_key_source,
            self.login_failures_by_key,
            self.reveals,
            self.signature_reveals,
        )

    def share(self, store: SharedCounters | None) -> None:
        """Count every limit in `store` (None: in this process again)."""
        self.shared = store
        for limit in self._all():
            limit.shared = store

    async def close(self) -> None:
        if self.shared is not None:
            await self.shared.close()
