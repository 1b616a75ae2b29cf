"""What metrics and traces cost: the dashboard query's server CPU per request with Prometheus
metrics off, on (the default), and with OpenTelemetry tracing on as well."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from statistics import median

import httpx

from bench import targets
from bench.documents import DASHBOARD, VIEWER_ROLE
from bench.otlp_sink import otlp_sink
from bench.report import LOAD_HEADERS, load_row, section, table, verdict
from bench.run import Bench
from server.app import create_app

OFF, ON, TRACED = "metrics off", "metrics on (default)", "metrics + tracing (OTLP)"
TARGET = 0.05
IN_PROCESS_REQUESTS = 200
IN_PROCESS_ROUNDS = 7


async def run(bench: Bench) -> None:
    authorization = f"Bearer {bench.seeded.dashboard.session_token}"
    async with otlp_sink() as sink:
        # The traced server inherits these: OTLP over HTTP to the sink, every trace sampled.
        os.environ.update(
            OTEL_TRACES_EXPORTER="otlp",
            OTEL_EXPORTER_OTLP_ENDPOINT=sink.endpoint,
            OTEL_TRACES_SAMPLER="always_on",
        )
        kinds = {
            OFF: "switchboard-no-metrics",
            ON: "switchboard",
            TRACED: "switchboard-traced",
        }
        measured = {
            label: targets.graphql(await bench.server(kind), DASHBOARD, authorization)
            for label, kind in kinds.items()
        }
        for target in measured.values():
            if "errors" in await targets.answer(target):
                raise SystemExit("the dashboard query failed")
        results = await bench.measure(measured)
        exports = sink.exports
    section("operations: the dashboard query with metrics off, on, and with tracing")
    print(table(LOAD_HEADERS, [load_row(label, result) for label, result in results.items()]))
    off, on, traced = (results[label].server_cpu_us for label in (OFF, ON, TRACED))
    if not off or not on or not traced:
        print("server CPU n/a: no verdict")
        return
    cost = on / off - 1
    print(verdict("metrics cost, server CPU per request", f"{cost:+.1%}", "< +5%", cost < TARGET))
    print(
        f"tracing costs {traced / off - 1:+.1%} over metrics off "
        f"({traced - off:+.0f} µs/req; {exports} OTLP exports received)"
    )
    for name, document in (("dashboard", DASHBOARD), ("ViewerRole", VIEWER_ROLE)):
        await _in_process(bench, authorization, name, document)


async def _in_process(bench: Bench, authorization: str, name: str, document: str) -> None:
    """The same comparison in this process, off and on alternating, by CPU time: what a
    busy machine does to the served numbers above hardly moves this one."""
    apps = {
        label: create_app(
            replace(bench.settings, metrics=metrics), deps=bench.deps, init_database=False
        )
        for label, metrics in ((OFF, False), (ON, True))
    }
    body = {"query": document}
    headers = {"Authorization": authorization}
    rounds: dict[str, list[float]] = {label: [] for label in apps}
    clients = {
        label: httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50000)),
            base_url="http://bench",
        )
        for label, app in apps.items()
    }
    try:
        for client in clients.values():  # warm-up
            for _ in range(20):
                (await client.post("/graphql", json=body, headers=headers)).raise_for_status()
        for _ in range(IN_PROCESS_ROUNDS):
            for label, client in clients.items():
                started = time.process_time()
                for _ in range(IN_PROCESS_REQUESTS):
                    await client.post("/graphql", json=body, headers=headers)
                elapsed = time.process_time() - started
                rounds[label].append(elapsed / IN_PROCESS_REQUESTS * 1e6)
    finally:
        for client in clients.values():
            await client.aclose()
    off, on = median(rounds[OFF]), median(rounds[ON])
    print(
        f"in process, {name} (httpx ASGI client included, median of {IN_PROCESS_ROUNDS} rounds "
        f"of {IN_PROCESS_REQUESTS}): metrics off {off:.0f} µs/req, on {on:.0f} µs/req "
        f"({on - off:+.0f} µs)"
    )
    cost = on / off - 1
    label = f"metrics cost, in-process CPU per {name} request"
    print(verdict(label, f"{cost:+.1%}", "< +5%", cost < TARGET))


async def run_instructions(bench: Bench) -> None:
    """Metrics off against on in instructions per dashboard request, under callgrind: what a
    shared machine does to CPU time (±10% between runs) does not move this."""
    import shutil
    import tempfile
    from pathlib import Path

    from bench.sections.instructions import COUNTED_REQUESTS, _count

    section(f"operations in instructions: the dashboard query, {COUNTED_REQUESTS} requests each")
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("skipped: valgrind's callgrind is not installed")
        return
    with tempfile.TemporaryDirectory(prefix="switchboard-callgrind-") as folder:
        off = await _count(bench, "switchboard-no-metrics", Path(folder))
        on = await _count(bench, "switchboard", Path(folder))
    print(
        table(
            ("", "instructions per request"),
            [[OFF, f"{off / 1e6:.3f} M"], [ON, f"{on / 1e6:.3f} M"]],
        )
    )
    cost = on / off - 1
    label = "metrics cost in instructions per dashboard request"
    print(verdict(label, f"{cost:+.2%}", "< +5%", cost < TARGET))
