"""One server of the bench in its own process: `python -m bench.serve <kind>` (switchboard,
switchboard-webhooks, switchboard-replica, switchboard-no-metrics, switchboard-traced, rest)."""

# It binds 127.0.0.1 on a port the kernel picks, prints `listening <port>` once it accepts
# connections, and serves one uvicorn worker on uvloop and httptools until it is terminated.

from __future__ import annotations

import asyncio
import os
import socket
import sys
from dataclasses import replace

import uvicorn

from bench.rest_baseline import create_rest_app
from server.app import build_deps, create_app
from server.cli import UVICORN_OPTIONS
from server.metrics_endpoint import start_metrics_server
from server.settings import Settings
from signing.crypto import parse_master_key


def _app(kind: str):
    settings = Settings(
        database_url=os.environ["BENCH_DATABASE_URL"],
        master_key=parse_master_key(os.environ["SWITCHBOARD_SECRET_KEY"]),
        # Only the replica sections' servers join Redis (bench/run.py sets these for them).
        redis_url=os.environ.get("BENCH_REDIS_URL") or None,
        redis_prefix=os.environ.get("BENCH_REDIS_PREFIX") or "switchboard:",
    )
    if kind in ("switchboard-webhooks", "switchboard-replica"):
        # The stream bench's receiver is on loopback, and all its streams share one account.
        settings = replace(settings, allow_private_webhooks=True, max_deliveries_in_flight=10_000)
    if kind == "switchboard-no-metrics":
        settings = replace(settings, metrics=False)
    if kind == "switchboard-traced":
        # Exported with OTLP over HTTP to where OTEL_EXPORTER_OTLP_ENDPOINT says (bench ops).
        settings = replace(settings, tracing=True)
    deps = build_deps(settings)
    if kind.startswith("switchboard"):
        return create_app(settings, deps=deps)
    if kind == "rest":
        return create_rest_app(settings, deps=deps)
    raise SystemExit(f"unknown server {kind!r}: switchboard or rest")


async def _serve(kind: str) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        _app(kind),
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level="warning",
        backlog=1024,
        **UVICORN_OPTIONS,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
            raise SystemExit("the server stopped before it started")
        await asyncio.sleep(0.01)
    metrics = ""
    if kind == "switchboard-replica":
        # The replica sections read its counters (e.g. Redis, shared executions) from here.
        metrics_server = start_metrics_server("127.0.0.1", 0, None)
        metrics = f" metrics {metrics_server.server_port}"
    print(f"listening {sock.getsockname()[1]}{metrics}", flush=True)
    await task


def main() -> None:
    import uvloop

    uvloop.run(_serve(sys.argv[1] if len(sys.argv) > 1 else "switchboard"))


if __name__ == "__main__":
    main()
