"""One bench run: its own database (created, seeded, removed), its servers, and measuring."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from statistics import median

from tortoise.connection import get_connection
from tortoise.context import TortoiseContext

from bench.load import LoadResult, Requests, run_load
from bench.seed import Seeded, seed
from models.config import is_sqlite, tortoise_config
from models.migrate import apply_migrations
from resolvers.deps import Deps
from server.app import build_deps
from server.settings import Settings
from signing.crypto import format_master_key, generate_master_key

SERVER_START_SECONDS = 30.0
# The CPUs this process may use before `pin_client` narrows it to one.
ORIGINAL_CPUS = sorted(os.sched_getaffinity(0))


@dataclass(frozen=True)
class Options:
    sections: list[str]
    database_url: str | None  # None: a temporary SQLite file
    seconds: float  # per measurement round and target
    warmup_seconds: float
    max_requests: int  # per measurement round and target
    concurrency: int
    rounds: int
    pin: bool  # load generator and server each on a core of their own
    redis_url: str | None = None  # None: the sections that need Redis are skipped
    subscribers: int = 10_000  # the fanout section's settingsChanged sockets


@dataclass
class Server:
    kind: str
    port: int
    process: asyncio.subprocess.Process
    metrics_port: int | None = None  # /metrics on 127.0.0.1, for the replicas

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass
class Bench:
    options: Options
    database_url: str
    settings: Settings
    deps: Deps
    seeded: Seeded
    scratch: str = ""
    # Every Redis key and channel of this run starts with it: runs sharing a Redis never mix.
    redis_prefix: str = field(default_factory=lambda: f"switchboard-bench-{uuid.uuid4().hex[:8]}:")
    _servers: dict[str, Server] = field(default_factory=dict)

    @property
    def database_label(self) -> str:
        return "SQLite (temporary file)" if is_sqlite(self.database_url) else "PostgreSQL"

    async def server(self, kind: str) -> Server:
        """The `switchboard` or `rest` server, started on first use."""
        if kind not in self._servers:
            self._servers[kind] = await _start_server(kind, self)
        return self._servers[kind]

    async def replica(self, name: str) -> Server:
        """Replica `name` (A, B…): a `switchboard-replica` server of its own, every replica on
        the bench's database and on its Redis under this run's prefix; started on first use."""
        if self.options.redis_url is None:
            raise RuntimeError("replicas need --redis-url")
        label = f"replica-{name}"
        if label not in self._servers:
            redis = {"REDIS_URL": self.options.redis_url, "REDIS_PREFIX": self.redis_prefix}
            # Two replicas pinned to one core would starve each other: like production's
            # replicas they share every CPU (the load generator stays on its own).
            self._servers[label] = await _start_server(
                "switchboard-replica", self, redis=redis, cpus=set(ORIGINAL_CPUS)
            )
        return self._servers[label]

    async def measure(self, targets: dict[str, tuple[Served, Requests]]) -> dict[str, LoadResult]:
        """Warm every target, then alternate them for `rounds` rounds; per target, the round
        with the median throughput."""
        options = self.options
        for _server, request in targets.values():
            await run_load(
                request,
                concurrency=options.concurrency,
                max_requests=options.max_requests,
                seconds=options.warmup_seconds,
            )
        rounds: dict[str, list[LoadResult]] = {label: [] for label in targets}
        for _ in range(options.rounds):
            for label, (server, request) in targets.items():
                rounds[label].append(
                    await run_load(
                        request,
                        concurrency=options.concurrency,
                        max_requests=options.max_requests,
                        seconds=options.seconds,
                        server_pids=_pids(server),
                    )
                )
        return {label: _median_round(results) for label, results in rounds.items()}

    async def server_under(
        self, kind: str, wrapper: tuple[str, ...], start_seconds: float
    ) -> Server:
        """A server of its own, run by `wrapper` (e.g. valgrind); stop it with `stop`."""
        return await _start_server(kind, self, wrapper=wrapper, start_seconds=start_seconds)

    async def stop(self, server: Server) -> None:
        await _stop_server(server)

    async def close(self) -> None:
        for server in self._servers.values():
            await _stop_server(server)
        self._servers.clear()


Served = Server | Sequence[Server]


def _pids(served: Served) -> list[int]:
    return [served.pid] if isinstance(served, Server) else [server.pid for server in served]


def _median_round(results: list[LoadResult]) -> LoadResult:
    middle = median(result.throughput for result in results)
    return min(results, key=lambda result: abs(result.throughput - middle))


@contextlib.asynccontextmanager
async def open_bench(options: Options) -> AsyncIterator[Bench]:
    """A fresh database, migrated and seeded; removed again however the run ends."""
    scratch = tempfile.mkdtemp(prefix="switchboard-bench-")
    try:
        url = _database_url(options.database_url, scratch)
        settings = Settings(database_url=url, master_key=generate_master_key())
        deps = build_deps(settings)
        if not is_sqlite(url):
            await _create_database(url)
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(url))
            try:
                await apply_migrations(url)
                bench = Bench(options, url, settings, deps, await seed(deps), scratch)
                try:
                    yield bench
                finally:
                    await bench.close()
            finally:
                if not is_sqlite(url):
                    connection = get_connection("default")
                    # Our own pool holds sessions on it: DROP DATABASE waits for none.
                    await connection.close()
                    await connection.db_delete()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _database_url(requested: str | None, scratch: str) -> str:
    if requested is None:
        return f"sqlite://{os.path.join(scratch, 'bench.sqlite3')}"
    if is_sqlite(requested):
        raise SystemExit("--database-url is for PostgreSQL; SQLite runs in a temporary file")
    if "{}" not in requested:
        raise SystemExit(
            "--database-url must contain {} (e.g. postgres://postgres@127.0.0.1:5432/bench_{}): "
            "the bench creates that database with a random name and drops it afterwards"
        )
    return requested.replace("{}", uuid.uuid4().hex[:12])


async def _create_database(url: str) -> None:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url), _create_db=True)


async def _start_server(
    kind: str,
    bench: Bench,
    *,
    wrapper: tuple[str, ...] = (),
    start_seconds: float = 0,
    redis: dict[str, str] | None = None,
    cpus: set[int] | None = None,
) -> Server:
    """`python -m bench.serve kind`, under `wrapper` (a command that runs it) if given;
    on Redis when `redis` has its URL and prefix (BENCH_REDIS_URL, BENCH_REDIS_PREFIX)."""
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": bench.database_url,
        "SWITCHBOARD_SECRET_KEY": format_master_key(bench.settings.master_key),
    }
    for name, value in (redis or {}).items():
        env[f"BENCH_{name}"] = value
    server_cpus = cpus or (_server_cpus() if bench.options.pin else None)
    process = await asyncio.create_subprocess_exec(
        *wrapper,
        sys.executable,
        "-m",
        "bench.serve",
        kind,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        preexec_fn=(lambda: os.sched_setaffinity(0, server_cpus)) if server_cpus else None,
    )
    assert process.stdout is not None
    start_seconds = start_seconds or SERVER_START_SECONDS
    try:
        line = await asyncio.wait_for(process.stdout.readline(), start_seconds)
    except TimeoutError:
        process.kill()
        raise SystemExit(f"the {kind} server did not start in {start_seconds:g} s") from None
    if not line.startswith(b"listening "):
        await process.wait()
        raise SystemExit(f"the {kind} server failed to start (exit {process.returncode})")
    words = line.split()
    metrics_port = int(words[3]) if len(words) >= 4 and words[2] == b"metrics" else None
    return Server(kind, int(words[1]), process, metrics_port)


async def _stop_server(server: Server) -> None:
    if server.process.returncode is None:
        server.process.terminate()
        try:
            await asyncio.wait_for(server.process.wait(), 10)
        except TimeoutError:
            server.process.kill()
            await server.process.wait()


def _cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def _server_cpus() -> set[int] | None:
    cpus = _cpus()
    return {cpus[-1]} if len(cpus) >= 2 else None


def pin_client(options: Options) -> str:
    """Put this process (the load generator) on its own core; says where each side runs."""
    cpus = _cpus()
    if not options.pin or len(cpus) < 2:
        return f"not pinned ({len(cpus)} CPU{'s' if len(cpus) != 1 else ''})"
    os.sched_setaffinity(0, {cpus[0]})
    return f"client on CPU {cpus[0]}, server on CPU {cpus[-1]}"
