"""The dashboard query both ways, counted in instructions under callgrind.

Requests per second on a shared 2-core machine moved by ±10% between runs, enough to flip
the dashboard verdict either way. Instructions executed per request do not depend on what
else the machine does: each server runs under valgrind's callgrind, is warmed, has its
counters zeroed, answers the same requests one after another on one keep-alive
connection, and has its counters read. Only the server's own work is counted.

Slow (valgrind runs Python some 50 times slower): not part of a default run; ask for it
with `python -m bench instructions`.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from bench import targets
from bench.documents import DASHBOARD
from bench.load import run_load
from bench.report import section, table, verdict
from bench.run import Bench, Server

WARMUP_REQUESTS = 30
COUNTED_REQUESTS = 200
# Python under valgrind takes a minute or more to import and start the app.
START_SECONDS = 600.0


async def _callgrind(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        "callgrind_control",
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    if await process.wait() != 0:
        raise SystemExit(f"callgrind_control {' '.join(args)} failed")


def _dumped_total(out: Path) -> int:
    """The instruction total of callgrind's last dump of `out` (written as out.1, out.2…)."""
    dumps = sorted(out.parent.glob(f"{out.name}.*"))
    if not dumps:
        raise SystemExit(f"callgrind wrote no dump of {out.name}")
    for line in dumps[-1].read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise SystemExit(f"no instruction total in {dumps[-1]}")


async def _count(bench: Bench, kind: str, folder: Path) -> float:
    """Instructions per dashboard request in the `kind` server."""
    out = folder / f"{kind}.callgrind"
    wrapper = (
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        f"--log-file={folder / kind}.valgrind.log",  # its chatter, kept off the report
    )
    server: Server = await bench.server_under(kind, wrapper, START_SECONDS)
    try:
        authorization = f"Bearer {bench.seeded.dashboard.session_token}"
        if kind == "rest":
            _, request = targets.rest_dashboard(server, authorization)
        else:
            _, request = targets.graphql(server, DASHBOARD, authorization)
        await run_load(request, concurrency=1, max_requests=WARMUP_REQUESTS, seconds=START_SECONDS)
        await _callgrind("--zero", str(server.pid))
        done = await run_load(
            request, concurrency=1, max_requests=COUNTED_REQUESTS, seconds=START_SECONDS
        )
        await _callgrind("--dump", str(server.pid))
    finally:
        await bench.stop(server)
    if done.requests != COUNTED_REQUESTS:
        raise SystemExit(f"{kind} answered {done.requests} of {COUNTED_REQUESTS} requests")
    return _dumped_total(out) / done.requests


async def run(bench: Bench) -> None:
    section(
        f"dashboard query in instructions: {COUNTED_REQUESTS} requests after "
        f"{WARMUP_REQUESTS} warm-up, each server under callgrind (deterministic)"
    )
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("skipped: valgrind's callgrind is not installed")
        return
    with tempfile.TemporaryDirectory(prefix="switchboard-callgrind-") as folder:
        graphql = await _count(bench, "switchboard", Path(folder))
        rest = await _count(bench, "rest", Path(folder))
    print(
        table(
            ("", "instructions per request"),
            [["/graphql", f"{graphql / 1e6:.2f} M"], ["REST baseline", f"{rest / 1e6:.2f} M"]],
        )
    )
    ratio = rest / graphql
    label = "dashboard ratio in instructions, REST ÷ /graphql"
    print(verdict(label, f"{ratio:.2f}", "≥ 1.00", ratio >= 1))
