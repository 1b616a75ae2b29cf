"""The dashboard query through the real /graphql against the hand-written REST endpoint."""

from __future__ import annotations

from bench import targets
from bench.documents import DASHBOARD
from bench.report import LOAD_HEADERS, load_row, section, table, verdict
from bench.run import Bench

GRAPHQL, REST = "/graphql", "REST baseline"


async def run(bench: Bench) -> None:
    tenant = bench.seeded.dashboard
    authorization = f"Bearer {tenant.session_token}"
    measured = {
        GRAPHQL: targets.graphql(await bench.server("switchboard"), DASHBOARD, authorization),
        REST: targets.rest_dashboard(await bench.server("rest"), authorization),
    }
    graphql_answer = await targets.answer(measured[GRAPHQL])
    if graphql_answer != await targets.answer(measured[REST]):
        raise SystemExit("the REST baseline answers different JSON from /graphql: fix it first")
    results = await bench.measure(measured)
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
