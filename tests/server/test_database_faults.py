"""PostgreSQL backends terminated mid-traffic: a write the server acknowledged is never lost
(a request caught by a termination may fail, and says so; none succeeds without its row)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from resolvers.deps import Deps
from server.broker import InProcessBroker
from signing.crypto import SecretBox
from tests.conftest import TEST_MASTER_KEY, on_postgres, seed_account
from tests.replicas import opened_database, replica

pytestmark = pytest.mark.skipif(
    not on_postgres(),
    reason="terminating backends is PostgreSQL's (the PostgreSQL + Redis run sets it)",
)
CREATE_KEY = """
mutation($input: ApiKeyCreateInput!) { apiKeyCreate(input: $input) {
  apiKey { key nickname } userErrors { code }
} }
"""
WRITERS, WRITES_EACH = 4, 30


def admin_dsn(database: str) -> tuple[str, str]:
    """(a DSN for the server's `postgres` database, the shared database's name)."""
    base, name = database.rsplit("/", 1)
    return f"{base}/postgres", name


async def write_keys(
    http: httpx.AsyncClient, auth: str, writer: int, acknowledged: list[tuple[str, str]]
) -> int:
    """Create keys one after another; every acknowledged one is noted; how many failed."""
    failed = 0
    for n in range(WRITES_EACH):
        nickname = f"w{writer}-{n}"
        try:
            response = await http.post(
                "/graphql",
                json={"query": CREATE_KEY, "variables": {"input": {"nickname": nickname}}},
                headers={"Authorization": auth},
            )
        except httpx.TransportError:
            # The server dropped the connection: nothing was acknowledged.
            failed += 1
            continue
        payload: dict[str, Any] = {}
        if response.status_code == 200:
            payload = (response.json().get("data") or {}).get("apiKeyCreate") or {}
        if payload.get("apiKey") and payload.get("userErrors") == []:
            acknowledged.append((payload["apiKey"]["key"], nickname))
        else:
            failed += 1
    return failed


async def terminate_backends(database: str, stop: asyncio.Event) -> int:
    """Terminate every session on `database` (never another database's) until `stop`."""
    dsn, name = admin_dsn(database)
    admin = await asyncpg.connect(dsn)
    killed = 0
    try:
        while not stop.is_set():
            killed += await admin.fetchval(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()) AS terminated",
                name,
            )
            await asyncio.sleep(0.15)
    finally:
        await admin.close()
    return killed


async def test_terminated_backends_lose_no_acknowledged_write(tmp_path: Path) -> None:
    acknowledged: list[tuple[str, str]] = []
    async with opened_database(tmp_path) as database:
        seeded = await seed_account(
            Deps(box=SecretBox(TEST_MASTER_KEY), broker=InProcessBroker()), "Cut"
        )
        async with (
            replica(database, tmp_path, max_api_keys="1000") as server,
            httpx.AsyncClient(base_url=server.url, timeout=30) as http,
        ):
            stop = asyncio.Event()
            cutter = asyncio.create_task(terminate_backends(database, stop))
            try:
                failures = await asyncio.gather(
                    *(write_keys(http, seeded.basic, w, acknowledged) for w in range(WRITERS))
                )
            finally:
                stop.set()
                killed = await cutter
            # After the cuts the replica serves again: its pool replaced the dead sessions.
            after = await write_keys(http, seeded.basic, WRITERS, acknowledged)
        stored = await asyncpg.connect(database)
        try:
            rows = await stored.fetch('SELECT "key", "nickname" FROM "api_key"')
        finally:
            await stored.close()
    assert killed > 0
    print(
        f"killed {killed} sessions; {len(acknowledged)} acknowledged, "
        f"{sum(failures)} failed during the cuts, {after} after"
    )
    assert after == 0
    missing = set(acknowledged) - {(row["key"], row["nickname"]) for row in rows}
    assert missing == set(), f"acknowledged but lost: {sorted(missing)}"
    assert sum(failures) + after + len(acknowledged) == (WRITERS + 1) * WRITES_EACH
