"""Servers under bench.probe, measured round by round, and where their slowest requests went."""

from __future__ import annotations

import json
import sys
from bisect import bisect_left
from dataclasses import dataclass
from statistics import fmean, median

from bench.load import LoadResult, Request, fetch, run_load
from bench.probe import PATH
from bench.run import Bench, Server

PROBE = (sys.executable, "-m", "bench.probe", "--")
START_SECONDS = 60.0
SLOWEST = 0.01  # the share of requests called slow: what sets the p99


@dataclass(frozen=True)
class Breakdown:
    """What the server recorded during one measured round."""

    requests: list[list[float]]  # [start, end, wait, statements, rounds, batches]
    pauses: list[list[float]]  # [start, end, generation]


async def probed_server(bench: Bench, kind: str) -> Server:
    return await bench.server_under(kind, PROBE, START_SECONDS)


async def collect(server: Server) -> Breakdown:
    """What the server recorded since the last collect (and forget it there)."""
    head = f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    answer = json.loads(await fetch(Request(server.port, head)))
    return Breakdown(answer["requests"], answer["gc"])


async def measure(
    bench: Bench, targets: dict[str, tuple[Server, Request]]
) -> dict[str, tuple[LoadResult, Breakdown]]:
    """As Bench.measure (warm-up, alternating rounds, the median-throughput round kept), with
    each round's probe record kept beside its load result."""
    options = bench.options
    load = {"concurrency": options.concurrency, "max_requests": options.max_requests}
    for server, request in targets.values():
        await run_load(request, seconds=options.warmup_seconds, **load)
        await collect(server)
    rounds: dict[str, list[tuple[LoadResult, Breakdown]]] = {label: [] for label in targets}
    for _ in range(options.rounds):
        for label, (server, request) in targets.items():
            result = await run_load(request, seconds=options.seconds, server_pid=server.pid, **load)
            rounds[label].append((result, await collect(server)))
    kept = {}
    for label, results in rounds.items():
        middle = median(result.throughput for result, _ in results)
        kept[label] = min(results, key=lambda pair: abs(pair[0].throughput - middle))
    return kept


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def _in_pause(start: float, end: float, starts: list[float], pauses: list[list[float]]) -> bool:
    """Whether [start, end] overlaps a pause (pauses sorted by start, never overlapping)."""
    index = bisect_left(starts, end)
    return index > 0 and pauses[index - 1][1] > start


@dataclass(frozen=True)
class Summary:
    server_p50_ms: float
    server_p99_ms: float
    gc_pauses: int
    gc_full: int  # of them, collections of the oldest generation
    gc_max_ms: float
    gc_us_per_request: float
    slow_in_gc: float  # share of the slowest requests that overlapped a pause
    all_in_gc: float  # share of all requests that did
    wait_p50_ms: float
    wait_p99_ms: float
    slow_wait_ms: float  # mean connection wait of the slowest requests
    statements: float  # per request
    rounds: float
    slow_rounds: float
    batches: float


def summarise(breakdown: Breakdown) -> Summary | None:
    requests = breakdown.requests
    if not requests:
        return None
    pauses = sorted(breakdown.pauses)
    starts = [pause[0] for pause in pauses]
    durations = [end - start for start, end, *_ in requests]
    cut = _percentile(durations, 1 - SLOWEST)
    slow = [row for row, took in zip(requests, durations, strict=True) if took >= cut]
    overlapped = [_in_pause(row[0], row[1], starts, pauses) for row in requests]
    slow_overlapped = [_in_pause(row[0], row[1], starts, pauses) for row in slow]
    pause_ms = [(end - start) * 1000 for start, end, _ in pauses]
    waits = [row[2] * 1000 for row in requests]
    return Summary(
        server_p50_ms=_percentile(durations, 0.5) * 1000,
        server_p99_ms=cut * 1000,
        gc_pauses=len(pauses),
        gc_full=sum(1 for pause in pauses if pause[2] == 2),
        gc_max_ms=max(pause_ms, default=0.0),
        gc_us_per_request=sum(pause_ms) * 1000 / len(requests),
        slow_in_gc=fmean(slow_overlapped),
        all_in_gc=fmean(overlapped),
        wait_p50_ms=_percentile(waits, 0.5),
        wait_p99_ms=_percentile(waits, 0.99),
        slow_wait_ms=fmean(row[2] * 1000 for row in slow),
        statements=fmean(row[3] for row in requests),
        rounds=fmean(row[4] for row in requests),
        slow_rounds=fmean(row[4] for row in slow),
        batches=fmean(row[5] for row in requests),
    )


HEADERS = [
    "",
    "server p50/p99 ms",
    "GC pauses (full)",
    "GC max ms",
    "GC µs/req",
    "slowest 1% in a GC pause (all)",
    "conn wait p50/p99 ms (slowest)",
    "DB rounds/req (slowest)",
    "SQL/req",
    "loader batches/req",
]


def row(label: str, summary: Summary) -> list[str]:
    s = summary
    return [
        label,
        f"{s.server_p50_ms:.1f} / {s.server_p99_ms:.1f}",
        f"{s.gc_pauses} ({s.gc_full})",
        f"{s.gc_max_ms:.1f}",
        f"{s.gc_us_per_request:.0f}",
        f"{s.slow_in_gc:.0%} ({s.all_in_gc:.0%})",
        f"{s.wait_p50_ms:.2f} / {s.wait_p99_ms:.2f} ({s.slow_wait_ms:.2f})",
        f"{s.rounds:.1f} ({s.slow_rounds:.1f})",
        f"{s.statements:.1f}",
        f"{s.batches:.1f}",
    ]
