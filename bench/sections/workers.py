"""Two replicas against one (target 5): the dashboard query against one `switchboard serve`
worker, against `switchboard serve --workers 2`, and against two separate server processes
with the load split between them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from pathlib import Path

from bench import targets
from bench.documents import DASHBOARD
from bench.load import LoadResult, Request, Requests, fetch, process_tree
from bench.report import LOAD_HEADERS, load_row, section, table, verdict
from bench.run import ORIGINAL_CPUS, Bench, Served, Server
from signing.crypto import format_master_key

ONE, WORKERS, PROCESSES = "1 worker", "serve --workers 2", "2 processes, load split"
START_SECONDS = 60.0
# Server CPU per request read on this shared 2-core machine moves by about ±10% from round
# to round (README, Benchmarks): a smaller tolerance would call noise a regression.
TOLERANCE = 1.10


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _serve(bench: Bench, workers: int) -> Server:
    """`switchboard serve --workers N` as an operator runs it, on the bench's database, free
    to run on every CPU; ready once /healthz answers and its N workers are up."""
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SWITCHBOARD_", "DATABASE_URL", "REDIS_URL", "PROMETHEUS_"))
    }
    env.update(
        DATABASE_URL=bench.database_url,
        SWITCHBOARD_SECRET_KEY=format_master_key(bench.settings.master_key),
        SWITCHBOARD_DATA_DIR=str(Path(bench.scratch) / f"data-{port}"),
        SWITCHBOARD_EXPIRY_SWEEP_SECONDS="0",
    )
    log = Path(bench.scratch) / f"serve-{port}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "server.cli", "serve", "--port", str(port), "--workers", str(workers)),
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=lambda: os.sched_setaffinity(0, ORIGINAL_CPUS),
        )
    server = Server(f"serve --workers {workers}", port, process)
    health = Request.build(port, "GET", "/healthz", {})
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and process.returncode is None:
        with contextlib.suppress(OSError):
            await fetch(health)
            if workers == 1 or len(process_tree(process.pid)) > workers:
                return server
        await asyncio.sleep(0.2)
    await bench.stop(server)
    raise SystemExit(
        f"switchboard serve --workers {workers} did not start: {log.read_text()[-2000:]}"
    )


async def run(bench: Bench) -> None:
    authorization = f"Bearer {bench.seeded.dashboard.session_token}"
    servers: list[Server] = []
    try:
        for workers in (1, 2, 1, 1):
            servers.append(await _serve(bench, workers))
        one, two_workers, first, second = servers
        single = targets.graphql(one, DASHBOARD, authorization)
        double = targets.graphql(two_workers, DASHBOARD, authorization)
        split = [targets.graphql(s, DASHBOARD, authorization) for s in (first, second)]
        expected = await targets.answer(single)
        for target in (double, *split):
            if "errors" in expected or await targets.answer(target) != expected:
                raise SystemExit("the dashboard query answers differently across servers")
        measured: dict[str, tuple[Served, Requests]] = {
            ONE: single,
            WORKERS: double,
            PROCESSES: ([first, second], [request for _, request in split]),
        }
        results = await bench.measure(measured)
    finally:
        for server in servers:
            await bench.stop(server)
    _report(bench, results)


def _report(bench: Bench, results: dict[str, LoadResult]) -> None:
    cpus = ",".join(str(cpu) for cpu in ORIGINAL_CPUS)
    section(
        f"workers: the dashboard query against `switchboard serve` with one worker, with "
        f"--workers 2 (CPU summed over the whole process tree), and two separate processes "
        f"({bench.options.concurrency // 2} connections each); {bench.database_label}"
    )
    print(
        f"placement: every server process here may run on CPUs {cpus} (not pinned, so two "
        f"workers can use both cores); the load generator stays on the CPU it was pinned to, "
        f"so it shares a core with a server: judge by CPU per request, not req/s"
    )
    base = results[ONE]
    rows = []
    for label, result in results.items():
        row = load_row(label, result)
        cpu_ratio = (
            result.server_cpu_us / base.server_cpu_us
            if result.server_cpu_us and base.server_cpu_us
            else float("nan")
        )
        rows.append([*row, f"{result.throughput / base.throughput:.2f}", f"{cpu_ratio:.2f}"])
    print(table([*LOAD_HEADERS, "req/s ÷ 1 worker", "CPU/req ÷ 1 worker"], rows))
    for label in (WORKERS, PROCESSES):
        result = results[label]
        if not (result.server_cpu_us and base.server_cpu_us):
            print(f"{label}: server CPU not measured")
            continue
        ratio = result.server_cpu_us / base.server_cpu_us
        print(
            verdict(
                f"{label}: server CPU per request ÷ one worker's",
                f"{ratio:.2f} ({result.server_cpu_us:.0f} vs {base.server_cpu_us:.0f} µs)",
                f"≤ {TOLERANCE:.2f}, the CPU-per-request noise of this shared machine",
                ratio <= TOLERANCE,
            )
        )
