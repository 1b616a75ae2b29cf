"""Coalesced reads: identical questions asked together share one lookup, a question asked
while a lookup is in flight is answered by a later one (so it sees what was committed before
it asked), and a failure reaches only the callers of its question."""

from __future__ import annotations

import asyncio

from resolvers.auth import verify
from resolvers.coalesced import Coalesced
from resolvers.errors import AuthenticationError
from resolvers.principal import RequestInfo
from resolvers.sessions import revoke_session
from tests.deliveries import MakeEnv
from tests.graph.test_reads import count_sql


async def test_questions_asked_together_share_one_lookup() -> None:
    coalesced, calls = Coalesced(), []

    async def lookup(name: str) -> str:
        calls.append(name)
        return name.upper()

    answers = await asyncio.gather(
        *(coalesced.read(("q", name), lambda name=name: lookup(name)) for name in "aaab")
    )
    assert answers == ["A", "A", "A", "B"]
    assert sorted(calls) == ["a", "b"]


async def test_a_question_asked_during_a_lookup_waits_for_the_next_one() -> None:
    coalesced, gate, value = Coalesced(), asyncio.Event(), ["old"]
    started = asyncio.Event()

    async def lookup() -> str:
        seen = value[0]  # what a statement sent now would read
        started.set()
        await gate.wait()
        return seen

    first = asyncio.create_task(coalesced.read("q", lookup))
    await started.wait()
    value[0] = "new"  # committed after the first lookup was sent, before the second ask
    second = asyncio.create_task(coalesced.read("q", lookup))
    gate.set()
    assert (await first, await second) == ("old", "new")


async def test_a_failure_reaches_only_its_own_callers() -> None:
    coalesced = Coalesced()

    async def broken() -> str:
        raise ConnectionError("database away")

    async def fine() -> str:
        return "ok"

    results = await asyncio.gather(
        coalesced.read("a", broken),
        coalesced.read("a", broken),
        coalesced.read("b", fine),
        return_exceptions=True,
    )
    assert [type(r) for r in results[:2]] == [ConnectionError, ConnectionError]
    assert results[2] == "ok"


async def test_websocket_checks_of_one_session_share_statements_and_see_a_revocation(
    delivery_env: MakeEnv,
) -> None:
    env = delivery_env()
    seeded = await env.seed()
    header = seeded.bearer()
    with count_sql() as statements:
        checked = await asyncio.gather(*(verify(deps=env.deps, header=header) for _ in range(50)))
    assert all(p.account_id == seeded.account_id for p in checked)
    live_checks = [sql for sql in statements if 'FROM "api_secret" AS "s"' in sql]
    assert 1 <= len(live_checks) <= 2
    # Revoked before the next checks are asked: every one of them sees it.
    await revoke_session(principal=checked[0], request=RequestInfo())
    after = await asyncio.gather(
        *(verify(deps=env.deps, header=header) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(result, AuthenticationError) for result in after)
