"""The dashboard query through the real /graphql against the hand-written REST endpoint, with
where each one's p99 came from."""

from __future__ import annotations

from bench import p99, targets
from bench.documents import DASHBOARD
from bench.report import LOAD_HEADERS, load_row, section, table, verdict
from bench.run import Bench

GRAPHQL, REST = "/graphql", "REST baseline"
P99_LIMIT = 1.2  # /graphql's p99 at most this many times REST's


async def run(bench: Bench) -> None:
    tenant = bench.seeded.dashboard
    authorization = f"Bearer {tenant.session_token}"
    # Servers of their own under bench.probe (both alike), so each round's tail can be told.
    graphql_server = await p99.probed_server(bench, "switchboard")
    rest_server = await p99.probed_server(bench, "rest")
    try:
        measured = {
            GRAPHQL: targets.graphql(graphql_server, DASHBOARD, authorization),
            REST: targets.rest_dashboard(rest_server, authorization),
        }
        graphql_answer = await targets.answer(measured[GRAPHQL])
        if graphql_answer != await targets.answer(measured[REST]):
            raise SystemExit("the REST baseline answers different JSON from /graphql: fix it first")
        kept = await p99.measure(bench, measured)
    finally:
        await bench.stop(graphql_server)
        await bench.stop(rest_server)
    results = {label: result for label, (result, _) in kept.items()}
    section(
        f"dashboard query: account + {tenant.keys} keys x 2 live secrets + messaging + signature "
        f"+ numbers (same JSON both ways; Bearer session)"
    )
    print(table(LOAD_HEADERS, [load_row(label, result) for label, result in results.items()]))
    ratio = results[GRAPHQL].throughput / results[REST].throughput
    label = "dashboard ratio, /graphql ÷ REST throughput"
    print(verdict(label, f"{ratio:.2f}", "≥ 1.00", ratio >= 1))
    graphql_cpu, rest_cpu = results[GRAPHQL].server_cpu_us, results[REST].server_cpu_us
    if graphql_cpu and rest_cpu:
        # What the ratio would be with a core to itself: steadier when the machine is shared.
        cpu_ratio = rest_cpu / graphql_cpu
        print(f"the same ratio from server CPU per request (REST ÷ /graphql): {cpu_ratio:.2f}")
    tail = results[GRAPHQL].percentile_ms(0.99) / results[REST].percentile_ms(0.99)
    label = "dashboard p99, /graphql ÷ REST"
    print(verdict(label, f"{tail:.2f}", f"≤ {P99_LIMIT:.2f}", tail <= P99_LIMIT))
    _breakdown(kept)


def _breakdown(kept: dict[str, tuple[object, p99.Breakdown]]) -> None:
    rows = []
    for label, (_, breakdown) in kept.items():
        summary = p99.summarise(breakdown)
        if summary is not None:
            rows.append(p99.row(label, summary))
    print(
        "\nwhere the p99 came from (the same rounds, as each server timed its requests; "
        "slowest = its slowest 1%):"
    )
    print(table(p99.HEADERS, rows))
