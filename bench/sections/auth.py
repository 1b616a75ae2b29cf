"""What Basic authentication costs per request, against a session token, on a trivial query."""

from __future__ import annotations

from bench import targets
from bench.documents import VIEWER_ROLE
from bench.report import LOAD_HEADERS, load_row, section, table
from bench.run import Bench
from bench.targets import statements_for
from server.app import create_app

BEARER, BASIC = "Bearer session", "Basic key:secret"


def _basic(api_key: str, api_secret: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{api_key}:{api_secret}".encode()).decode()


async def run(bench: Bench) -> None:
    tenant = bench.seeded.dashboard
    schemes = {
        BEARER: f"Bearer {tenant.session_token}",
        BASIC: _basic(tenant.api_key, tenant.api_secret),
    }
    server = await bench.server("switchboard")
    measured = {
        label: targets.graphql(server, VIEWER_ROLE, auth) for label, auth in schemes.items()
    }
    for target in measured.values():
        if "errors" in await targets.answer(target):
            raise SystemExit("the trivial authenticated query failed")
    results = await bench.measure(measured)
    app = create_app(bench.settings, deps=bench.deps, init_database=False)
    statements = {
        label: len((await statements_for(app, "POST", "/graphql", auth, {"query": VIEWER_ROLE}))[0])
        for label, auth in schemes.items()
    }
    section(f"authentication: {VIEWER_ROLE!r} on /graphql, each way")
    rows = [[*load_row(label, result), statements[label]] for label, result in results.items()]
    print(table((*LOAD_HEADERS, "SQL/req"), rows))
    bearer, basic = results[BEARER], results[BASIC]
    extra = (
        f"{basic.server_cpu_us - bearer.server_cpu_us:+.0f} µs server CPU"
        if basic.server_cpu_us is not None and bearer.server_cpu_us is not None
        else "server CPU n/a"
    )
    print(
        f"Basic costs {extra} and {statements[BASIC] - statements[BEARER]:+d} SQL per request; "
        f"throughput Basic ÷ Bearer {basic.throughput / bearer.throughput:.2f}"
    )
