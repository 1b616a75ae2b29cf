"""SQL statements per dashboard query, both ways, at 3 and at 100 keys (counted in-process)."""

from __future__ import annotations

from bench.documents import DASHBOARD
from bench.report import section, table, verdict
from bench.rest_baseline import create_rest_app
from bench.run import Bench
from bench.targets import statements_for
from server.app import create_app


async def run(bench: Bench) -> None:
    graphql_app = create_app(bench.settings, deps=bench.deps, init_database=False)
    rest_app = create_rest_app(bench.settings, deps=bench.deps, init_database=False)
    rows, counts = [], []
    for tenant in (bench.seeded.dashboard, bench.seeded.large):
        authorization = f"Bearer {tenant.session_token}"
        graphql, graphql_answer = await statements_for(
            graphql_app, "POST", "/graphql", authorization, {"query": DASHBOARD}
        )
        rest, rest_answer = await statements_for(rest_app, "GET", "/dashboard", authorization)
        if graphql_answer != rest_answer:
            raise SystemExit(f"at {tenant.keys} keys the REST baseline answers different JSON")
        rows.append([f"{tenant.keys} keys", len(graphql), len(rest)])
        counts.append((len(graphql), len(rest)))
    section("SQL statements per dashboard query (Bearer session, so no authentication SQL)")
    print(table(("", "/graphql", "REST baseline"), rows))
    constant = len({graphql for graphql, _ in counts}) == 1
    at_most_rest = all(graphql <= rest for graphql, rest in counts)
    value = ", ".join(f"{graphql} vs {rest}" for graphql, rest in counts)
    print(
        verdict(
            "statements, /graphql vs REST",
            value,
            "≤ REST's, same at 3 and 100 keys",
            constant and at_most_rest,
        )
    )
