"""The bench's sections, in the order a full run prints them; each is `async def run(bench)`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bench.run import Bench
from bench.sections import auth, dashboard, instructions, limits, operations, sql, streams

SECTIONS: dict[str, Callable[[Bench], Awaitable[None]]] = {
    "dashboard": dashboard.run,
    "sql": sql.run,
    "auth": auth.run,
    "streams": streams.run,
    "limits": limits.run,
    "operations": operations.run,
    "instructions": instructions.run,
    "operations-instructions": operations.run_instructions,
}
# A run without named sections runs these; the `instructions` sections take minutes under
# valgrind.
DEFAULT_SECTIONS = ["dashboard", "sql", "auth", "streams", "limits", "operations"]
