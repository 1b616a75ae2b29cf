"""The bench's sections, in the order a full run prints them; each is `async def run(bench)`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bench.run import Bench
from bench.sections import (
    auth,
    dashboard,
    fanout,
    instructions,
    limits,
    operations,
    replica_streams,
    sql,
    streams,
    workers,
)

SECTIONS: dict[str, Callable[[Bench], Awaitable[None]]] = {
    "dashboard": dashboard.run,
    "sql": sql.run,
    "auth": auth.run,
    "streams": streams.run,
    "limits": limits.run,
    "operations": operations.run,
    "instructions": instructions.run,
    "operations-instructions": operations.run_instructions,
    "replica-streams": replica_streams.run,
    "fanout": fanout.run,
    "workers": workers.run,
}
# One line each for `python -m bench --help`.
DESCRIPTIONS: dict[str, str] = {
    "dashboard": "dashboard query: /graphql against the hand-written REST endpoint",
    "sql": "SQL statements per dashboard query at 3 and 100 keys",
    "auth": "Basic against session authentication, per request",
    "streams": "N=10/100/500 testWebhook streams on one server, receiver answers after 200 ms",
    "limits": "the costliest documents the query limits let through",
    "operations": "what metrics and tracing cost per dashboard request (server CPU)",
    "instructions": "instructions per dashboard request under callgrind (minutes)",
    "operations-instructions": "metrics off/on in callgrind instructions (minutes)",
    "replica-streams": "[Redis] deliveries started on replica A, followed on replica B",
    "fanout": "[Redis] --subscribers settingsChanged sockets on A, edits made on B",
    "workers": "dashboard query: one worker, serve --workers 2, two server processes",
}
# A run without named sections runs these; the `instructions` sections take minutes under
# valgrind.
DEFAULT_SECTIONS = ["dashboard", "sql", "auth", "streams", "limits", "operations"]
# Added to a default run when --redis-url is given.
REDIS_SECTIONS = ["replica-streams", "fanout"]
