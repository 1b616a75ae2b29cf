"""Keeping what a server builds at startup out of the cyclic garbage collector's way."""

from __future__ import annotations

import gc
import sys

YOUNG_COLLECTION_EVERY = 50_000
# Seconds a thread waiting for the GIL waits before asking for it (Python's default: 5 ms).
GIL_SWITCH_SECONDS = 0.0005


def freeze_startup_heap() -> None:
    """Move every object alive now (modules, the schema, the ORM's metadata: all of it lives as
    long as the process) out of the collector's generations, and collect the young one less
    often."""
    # Without this, each full collection walks the whole startup heap; GraphQL's per-request
    # reference cycles (DataLoader batches, executor state) trigger them often enough that
    # they showed as a 100 ms p99 on the dashboard query in `make bench`.
    gc.collect()
    gc.freeze()
    # A young collection every 700 new objects (the default) ran about 700 times for 700
    # delivery streams in `make bench`, and promoted enough short-lived request state to set
    # off full collections: together about a fifth of the server's CPU. Every 50,000 leaves
    # a few MB of cyclic garbage waiting at most, and cut both the collector's time and the
    # CPU per stream (bench streams, same run).
    gc.set_threshold(YOUNG_COLLECTION_EVERY, *gc.get_threshold()[1:])
    # SQLite's statements run on aiosqlite's thread, which needs the GIL to pick each one up
    # and to hand its rows back while the event loop computes other requests' answers. At
    # 5 ms a turn it held the one connection (and every request queued on it) that long per
    # statement: the p99 of the dashboard on SQLite (`make bench`'s connection waits).
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
