"""Limits under concurrency: many transactions at once against one key or one account.

On PostgreSQL each call runs in its own transaction on its own pooled connection, so without
the row locks these tests see three live secrets, none, or too many keys. SQLite serialises
writers, so only the PostgreSQL run proves anything; the tests are skipped elsewhere.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from typing import Any

import pytest

from models.account import Account
from models.credentials import ApiKey, ApiSecret
from resolvers import api_keys, credentials
from resolvers.auth import live_secrets_filter
from resolvers.errors import DomainError
from resolvers.principal import RequestInfo
from tests.conftest import Seeded, on_postgres

pytestmark = pytest.mark.skipif(not on_postgres(), reason="row locks only matter on PostgreSQL")
REQUEST = RequestInfo(request_id="race", client_address="127.0.0.1")


async def outcome(call: Awaitable[Any]) -> str:
    try:
        await call
    except DomainError as error:
        return error.code.value
    return "ok"


async def labelled(kind: str, call: Awaitable[Any]) -> str:
    """E.g. "create:ok" or "revoke:LAST_SECRET"."""
    return f"{kind}:{await outcome(call)}"


class LiveWatcher:
    """Counts the key's live secrets over and over while the race runs, from outside it."""

    def __init__(self, seeded: Seeded) -> None:
        self.seeded = seeded
        self.seen: set[int] = set()
        self.done = asyncio.Event()

    async def count(self) -> int:
        now = self.seeded.deps.clock()
        return await ApiSecret.filter(
            live_secrets_filter(now), api_key_id=self.seeded.api_key_id
        ).count()

    async def run(self) -> None:
        while not self.done.is_set():
            self.seen.add(await self.count())
            await asyncio.sleep(0)
        self.seen.add(await self.count())


async def race(seeded: Seeded, calls: list[Awaitable[str]]) -> tuple[Counter[str], set[int]]:
    watcher = LiveWatcher(seeded)
    watching = asyncio.create_task(watcher.run())
    try:
        results = await asyncio.gather(*calls)
    finally:
        watcher.done.set()
        await watching
    return Counter(results), watcher.seen


def creates(seeded: Seeded, n: int) -> list[Awaitable[str]]:
    return [
        labelled(
            "create",
            credentials.create_secret(
                deps=seeded.deps,
                principal=seeded.principal(),
                request=REQUEST,
                api_key_id=seeded.api_key_id,
            ),
        )
        for _ in range(n)
    ]


def revokes(seeded: Seeded, secret_ids: list[int], n: int) -> list[Awaitable[str]]:
    return [
        labelled(
            "revoke",
            credentials.revoke_secret(
                deps=seeded.deps,
                principal=seeded.principal(),
                request=REQUEST,
                secret_id=secret_ids[i % len(secret_ids)],
            ),
        )
        for i in range(n)
    ]


async def live_ids(seeded: Seeded) -> list[int]:
    rows = await ApiSecret.filter(
        live_secrets_filter(seeded.deps.clock()), api_key_id=seeded.api_key_id
    ).order_by("id")
    return [row.id for row in rows]


async def add_secret(seeded: Seeded) -> None:
    await credentials.create_secret(
        deps=seeded.deps,
        principal=seeded.principal(),
        request=REQUEST,
        api_key_id=seeded.api_key_id,
    )


async def test_twenty_concurrent_creates_leave_two_live(seeded: Seeded) -> None:
    results, seen = await race(seeded, creates(seeded, 20))
    assert results == Counter({"create:ok": 1, "create:SECRET_LIMIT_REACHED": 19})
    assert seen <= {1, 2} and len(await live_ids(seeded)) == 2


async def test_twenty_concurrent_revokes_leave_one_live(seeded: Seeded) -> None:
    await add_secret(seeded)
    results, seen = await race(seeded, revokes(seeded, await live_ids(seeded), 20))
    assert results["revoke:ok"] == 1, results
    assert set(results) <= {"revoke:ok", "revoke:LAST_SECRET", "revoke:NOT_FOUND"}
    assert seen <= {1, 2} and len(await live_ids(seeded)) == 1


async def test_twenty_creates_and_twenty_revokes_at_once(seeded: Seeded) -> None:
    await add_secret(seeded)
    targets = await live_ids(seeded)
    create_calls, revoke_calls = creates(seeded, 20), revokes(seeded, targets, 20)
    mixed = [c for pair in zip(create_calls, revoke_calls, strict=True) for c in pair]
    results, seen = await race(seeded, mixed)
    assert seen <= {1, 2}, (seen, results)
    final = len(await live_ids(seeded))
    assert final in (1, 2)
    # Each successful create added one live secret and each successful revoke removed one.
    assert final == 2 + results["create:ok"] - results["revoke:ok"], results


async def test_concurrent_key_creation_respects_the_account_limit(seeded: Seeded) -> None:
    await Account.filter(id=seeded.account_id).update(api_key_limit=4)
    calls = [
        api_keys.create_api_key(
            deps=seeded.deps, principal=seeded.principal(), request=REQUEST, nickname=f"k{i}"
        )
        for i in range(20)
    ]
    results = Counter(await asyncio.gather(*(outcome(call) for call in calls)))
    assert results == Counter({"ok": 3, "API_KEY_LIMIT_REACHED": 17})
    assert await ApiKey.filter(account_id=seeded.account_id).count() == 4
