"""Real server replicas for tests: `switchboard serve` subprocesses on free loopback ports,
sharing one database (a SQLite file, or one PostgreSQL database made for the test) and, when
TEST_REDIS_URL is set, one Redis. `replicas` / `replicas_async` start several alike from one
environment; `replica` starts one with its own settings (the lease and fault tests)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
from tortoise.context import TortoiseContext

from models.config import tortoise_config
from models.migrate import apply_migrations
from signing.crypto import format_master_key
from tests.brokers import REDIS_URL
from tests.conftest import TEST_MASTER_KEY, database_url, on_postgres

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def base_env(database: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SWITCHBOARD_", "DATABASE_URL", "REDIS_URL", "FORWARDED_"))
    }
    env.update(
        DATABASE_URL=database,
        SWITCHBOARD_SECRET_KEY=format_master_key(TEST_MASTER_KEY),
        SWITCHBOARD_DATA_DIR=str(tmp_path / "data"),
        SWITCHBOARD_EXPIRY_SWEEP_SECONDS="0",
        PYTHONPATH=str(ROOT),
    )
    redis_url = os.environ.get("TEST_REDIS_URL")
    if redis_url:
        env["REDIS_URL"] = redis_url
        # Each test counts in keys of its own.
        env["SWITCHBOARD_REDIS_PREFIX"] = f"switchboard-test-{uuid.uuid4().hex[:8]}:"
    env.update(extra)
    return env


def run_cli(
    env: dict[str, str], *args: str, ok: bool = True, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`switchboard <args>` as an operator runs it: a separate process; with `ok`, one that
    must succeed."""
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def cli(env: dict[str, str], *args: str) -> str:
    return run_cli(env, *args).stdout


def seed(env: dict[str, str]) -> dict[str, Any]:
    """A new account with its primary key and secret, made by the operator's CLI."""
    return dict(json.loads(cli(env, "account", "create", "--name", "Replicated")))


def _pg_url(name: str) -> str:
    parts = urlsplit(database_url())
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def _asyncpg_dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


@contextlib.asynccontextmanager
async def shared_database(tmp_path: Path) -> AsyncIterator[str]:
    """One database for every replica of a test: a SQLite file, or a PostgreSQL database
    created here by name (the `{}` of TEST_DATABASE_URL names one per connection)."""
    if not on_postgres():
        yield f"sqlite://{tmp_path / 'replicas.sqlite3'}"
        return
    name = f"switchboard_replicas_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(_pg_url("postgres")))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield _pg_url(name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextlib.asynccontextmanager
async def opened_database(scratch: Path) -> AsyncIterator[str]:
    """`shared_database`, migrated and open in this process too, so a test can seed it and
    read what the replicas stored."""
    async with shared_database(scratch) as url, TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        await apply_migrations(url)
        yield url


class Replica:
    def __init__(self, env: dict[str, str], *args: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(env["SWITCHBOARD_DATA_DIR"]).parent / f"replica-{self.port}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port), *args],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"replica exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise AssertionError(f"replica never became healthy: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        self.process.kill()
        self.process.wait(timeout=15)


@contextlib.contextmanager
def replicas(
    env: dict[str, str], count: int, *args: str, first_only: tuple[str, ...] = ()
) -> Iterator[list[Replica]]:
    """`count` servers on one database, each stopped (SIGTERM, then SIGKILL) at the end;
    `first_only`: arguments for the first one alone (its own metrics port, say)."""
    started = [Replica(env, *args, *(first_only if i == 0 else ())) for i in range(count)]
    try:
        for replica in started:
            replica.wait_ready()
        yield started
    finally:
        for replica in started:
            replica.stop()


@contextlib.asynccontextmanager
async def replicas_async(
    env: dict[str, str], count: int, *args: str
) -> AsyncIterator[list[Replica]]:
    """`replicas`, started and stopped off the event loop, for tests whose loop must keep
    serving while the servers start (a gate in front of their database)."""
    started = [Replica(env, *args) for _ in range(count)]
    try:
        for replica in started:
            await asyncio.to_thread(replica.wait_ready)
        yield started
    finally:
        for replica in started:
            await asyncio.to_thread(replica.stop)


@contextlib.asynccontextmanager
async def replica(
    database: str, scratch: Path, *, redis_prefix: str | None = None, **settings: str
) -> AsyncIterator[Replica]:
    """One `switchboard serve --dev` (webhooks may target the test's loopback receiver) with
    a data directory of its own; `settings` are SWITCHBOARD_<NAME> variables. It joins Redis
    only when given a `redis_prefix` (shared by the replicas that must see each other)."""
    port = free_port()
    env = base_env(
        database,
        scratch,
        SWITCHBOARD_DATA_DIR=str(scratch / f"data-{port}"),
        **{f"SWITCHBOARD_{name.upper()}": value for name, value in settings.items()},
    )
    env.pop("REDIS_URL", None)
    env.pop("SWITCHBOARD_REDIS_PREFIX", None)
    if REDIS_URL is not None and redis_prefix is not None:
        env.update(REDIS_URL=REDIS_URL, SWITCHBOARD_REDIS_PREFIX=redis_prefix)
    served = Replica(env, "--dev", "--host", "127.0.0.1", port=port)
    try:
        await asyncio.to_thread(served.wait_ready)
        yield served
    finally:
        await asyncio.to_thread(served.stop)


async def post(
    url: str, query: str, variables: dict[str, Any] | None = None, **headers: str
) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as http:
        return await http.post(
            url + "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={k.replace("_", "-"): v for k, v in headers.items()},
        )


async def settle(seconds: float) -> None:
    await asyncio.sleep(seconds)
