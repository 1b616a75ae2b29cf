"""The sliding-window limiter: counts per key, slides with the clock, bounded memory."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from resolvers.ratelimit import SlidingWindowLimiter
from tests.clock import FakeClock


def test_allows_up_to_the_limit_then_refuses() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(limit=3, window_seconds=60)
    assert [limiter.allow("a", clock()) for _ in range(4)] == [True, True, True, False]
    # Another key has its own count.
    assert limiter.allow("b", clock()) is True


def test_window_slides_event_by_event() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(limit=2, window_seconds=60)
    limiter.hit("a", clock())
    clock.advance(30)
    limiter.hit("a", clock())
    assert limiter.blocked("a", clock())
    assert limiter.retry_after("a", clock()) == pytest.approx(30)
    clock.advance(29)
    assert limiter.blocked("a", clock())
    clock.advance(1)
    # The first event is now exactly one window old and no longer counts; the second still does.
    assert not limiter.blocked("a", clock())
    assert limiter.retry_after("a", clock()) == 0
    limiter.hit("a", clock())
    assert limiter.blocked("a", clock())


def test_refused_attempts_are_not_counted() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(limit=1, window_seconds=10)
    assert limiter.allow("a", clock())
    for _ in range(100):
        assert not limiter.allow("a", clock())
    clock.advance(10)
    assert limiter.allow("a", clock())


def test_blocked_alone_counts_nothing() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(limit=1, window_seconds=10)
    for _ in range(5):
        assert not limiter.blocked("a", clock())
    limiter.hit("a", clock())
    assert limiter.blocked("a", clock())


def test_memory_is_bounded_by_forgetting_the_stalest_key() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(limit=1, window_seconds=60, max_keys=3)
    for key in ("a", "b", "c"):
        limiter.hit(key, clock())
    limiter.hit("a", clock())  # touches "a", so "b" is now the stalest
    limiter.hit("d", clock())
    assert limiter.blocked("a", clock())
    assert not limiter.blocked("b", clock())
    assert limiter.blocked("c", clock()) and limiter.blocked("d", clock())
    assert len(limiter._events) == 3


def test_expired_keys_are_dropped() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(limit=5, window_seconds=1)
    for i in range(50):
        limiter.hit(f"k{i}", clock())
    clock.advance(2)
    for i in range(50):
        assert not limiter.blocked(f"k{i}", clock())
    assert limiter._events == {}


@pytest.mark.parametrize(("limit", "window"), [(0, 10), (1, 0), (1, -1)])
def test_rejects_nonsense_configuration(limit: int, window: float) -> None:
    with pytest.raises(ValueError):
        SlidingWindowLimiter(limit=limit, window_seconds=window)


def test_flooding_the_table_does_not_evict_a_blocked_key() -> None:
    limiter = SlidingWindowLimiter(limit=3, window_seconds=60, max_keys=10)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(3):
        limiter.hit("target", now)
    assert limiter.blocked("target", now)
    for address in range(1000):  # an attacker with many addresses, one failure each
        limiter.hit(f"flood-{address}", now)
    assert limiter.blocked("target", now)
    assert len(limiter._events) <= 10
