"""What a serving process sets once its startup heap is built."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from server.heap import GIL_SWITCH_SECONDS, YOUNG_COLLECTION_EVERY, freeze_startup_heap


@pytest.fixture
def runtime() -> Iterator[None]:
    threshold, interval = gc.get_threshold(), sys.getswitchinterval()
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        sys.setswitchinterval(interval)
        gc.unfreeze()


def test_serving_collects_the_young_generation_rarely_and_lets_sqlites_thread_in_soon(
    runtime: None,
) -> None:
    freeze_startup_heap()
    assert gc.get_threshold()[0] == YOUNG_COLLECTION_EVERY
    assert gc.get_freeze_count() > 0
    # Python's 5 ms default held SQLite's one connection that long per statement.
    assert GIL_SWITCH_SECONDS < 0.005
    assert sys.getswitchinterval() == pytest.approx(GIL_SWITCH_SECONDS)
