"""What metrics and traces cost: the dashboard query's server CPU per request with Prometheus
metrics off, on (the default), and with OpenTelemetry tracing on as well."""

from __future__ import annotations

import os

from bench import targets
from bench.documents import DASHBOARD
from bench.otlp_sink import otlp_sink
from bench.report import LOAD_HEADERS, load_row, section, table, verdict
from bench.run import Bench

OFF, ON, TRACED = "metrics off", "metrics on (default)", "metrics + tracing (OTLP)"
TARGET = 0.05


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
