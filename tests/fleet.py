"""Real replicas in tests, for the delivery-lease and fault tests: one database shared by name,
127.0.0.1 over it (with Redis at TEST_REDIS_URL when set), stopped when the block ends."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from tortoise.connection import get_connection
from tortoise.context import TortoiseContext

from models.config import is_sqlite, tortoise_config
from models.migrate import apply_migrations
from signing.crypto import format_master_key
from tests.brokers import REDIS_URL
from tests.conftest import TEST_MASTER_KEY, database_url

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 30.0


@contextlib.asynccontextmanager
async def shared_database(scratch: Path) -> AsyncIterator[str]:
    """A migrated database that separate processes open by name (TEST_DATABASE_URL's `{}`
    filled once, or an SQLite file), open in this context too; dropped afterwards."""
    template = database_url()
    if template.startswith("sqlite"):
        url = f"sqlite://{scratch / 'replicas.sqlite3'}"
    else:
        url = template.replace("{}", f"replicas_{uuid.uuid4().hex[:10]}")
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url), _create_db=not is_sqlite(url))
        try:
            await apply_migrations(url)
            yield url
        finally:
            if not is_sqlite(url):
                connection = get_connection("default")
                await connection.close()
                await connection.db_delete()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Replica:
    process: asyncio.subprocess.Process
    url: str
    log: Path

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        self.process.send_signal(signal.SIGKILL)


@contextlib.asynccontextmanager
async def replica(
    database: str, scratch: Path, *, redis_prefix: str | None = None, **settings: str
) -> AsyncIterator[Replica]:
    """`switchboard serve --dev` (webhooks may target the test's loopback receiver) on a
    free port; `settings` are SWITCHBOARD_<NAME> variables."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWITCHBOARD_", "REDIS"))}
    env.update(
        DATABASE_URL=database,
        SWITCHBOARD_SECRET_KEY=format_master_key(TEST_MASTER_KEY),
        SWITCHBOARD_DATA_DIR=str(scratch / f"data-{port}"),
        PYTHONPATH=str(ROOT),
    )
    if REDIS_URL is not None and redis_prefix is not None:
        env.update(REDIS_URL=REDIS_URL, SWITCHBOARD_REDIS_PREFIX=redis_prefix)
    env.update({f"SWITCHBOARD_{name.upper()}": value for name, value in settings.items()})
    log = scratch / f"replica-{port}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.cli", "serve", "--dev",
            "--host", "127.0.0.1", "--port", str(port),
            env=env, cwd=ROOT, stdout=out, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    served = Replica(process, f"http://127.0.0.1:{port}", log)
    try:
        await _until_up(served)
        yield served
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _until_up(served: Replica) -> None:
    async with httpx.AsyncClient(base_url=served.url) as http:
        for _ in range(int(START_SECONDS / 0.1)):
            if served.process.returncode is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"the replica did not start:\n{served.log.read_text()[-3000:]}")
