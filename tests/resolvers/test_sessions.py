"""sessionCreate's rules at the resolver level: scope, role, and both failure limits."""

from __future__ import annotations

import pytest

from models.account import Account
from models.audit import AuditEvent
from resolvers import provisioning, sessions
from resolvers.auth import authenticate_session
from resolvers.deps import Deps
from resolvers.errors import DomainError, ErrorCode
from resolvers.principal import RequestInfo, Role
from tests.clock import FakeClock
from tests.conftest import Seeded


@pytest.fixture
def clock(deps: Deps) -> FakeClock:
    deps.clock = FakeClock()
    return deps.clock


def at(address: str) -> RequestInfo:
    return RequestInfo(request_id="r", client_address=address)


async def login(seeded: Seeded, secret: str, address: str = "127.0.0.1", **kw: object):
    return await sessions.create_session(
        deps=seeded.deps,
        request=at(address),
        api_key=kw.pop("api_key", seeded.api_key),
        api_secret=secret,
        **kw,
    )


async def refused_with(seeded: Seeded, secret: str, address: str = "127.0.0.1", **kw) -> str:
    with pytest.raises(DomainError) as refused:
        await login(seeded, secret, address, **kw)
    return refused.value.code.value


async def test_token_carries_scope_and_granted_role(seeded: Seeded) -> None:
    primary = await login(seeded, seeded.secret)
    claims = await authenticate_session(deps=seeded.deps, token=primary.token)
    assert (claims.api_key_id, claims.role) == (None, Role.ADMIN)
    viewer = await login(seeded, seeded.secret, role=Role.VIEWER)
    assert (await authenticate_session(deps=seeded.deps, token=viewer.token)).role is Role.VIEWER
    account = await Account.get(id=seeded.account_id)
    other, secret = await provisioning.create_api_key(
        deps=seeded.deps, account=account, nickname=None, is_primary=False
    )
    scoped = await login(seeded, secret, api_key=other.key, role=Role.ADMIN)
    claims = await authenticate_session(deps=seeded.deps, token=scoped.token)
    assert (claims.api_key_id, claims.via_api_key_id, claims.role) == (
        other.id,
        other.id,
        Role.ADMIN,
    )
    assert await AuditEvent.filter(action="session.create").count() == 3


async def test_failures_count_per_address(seeded: Seeded, clock: FakeClock) -> None:
    for n in range(20):
        code = await refused_with(seeded, "Wrong1Secret", "10.0.0.1", api_key=f"{n:08x}")
        assert code == "FORBIDDEN"
    assert await refused_with(seeded, seeded.secret, "10.0.0.1") == "RATE_LIMITED"
    # Another address is not held back by the first one's failures.
    assert (await login(seeded, seeded.secret, "10.0.0.2")).token
    clock.advance(300)
    assert (await login(seeded, seeded.secret, "10.0.0.1")).token


async def test_failures_count_per_key_and_address(seeded: Seeded, clock: FakeClock) -> None:
    for _ in range(10):
        assert await refused_with(seeded, "Wrong1Secret", "10.0.0.3") == "FORBIDDEN"
    with pytest.raises(DomainError) as limited:
        await login(seeded, seeded.secret, "10.0.0.3")
    assert limited.value.code is ErrorCode.RATE_LIMITED
    assert limited.value.message == "Too many failed attempts; try again in 300 seconds."
    assert (await login(seeded, seeded.secret, "10.0.0.4")).token


async def test_a_key_under_attack_still_lets_its_owner_in(seeded: Seeded, clock: FakeClock) -> None:
    for i in range(50):
        assert await refused_with(seeded, "Wrong1Secret", f"10.0.1.{i}") == "FORBIDDEN"
    # Spent from elsewhere: the owner's right secret from a clean address still gets in ...
    assert (await login(seeded, seeded.secret, "10.0.2.1")).token
    # ... while an address that keeps guessing gets only a few tries (it has used one).
    for _ in range(2):
        assert await refused_with(seeded, "Wrong1Secret", "10.0.1.1") == "FORBIDDEN"
    assert await refused_with(seeded, seeded.secret, "10.0.1.1") == "RATE_LIMITED"
    # Unknown keys are counted the same way, so the limit says nothing about which keys exist.
    for i in range(50):
        assert await refused_with(seeded, "x", f"10.0.3.{i}", api_key="ffffffff") == "FORBIDDEN"
    for _ in range(2):
        assert await refused_with(seeded, "x", "10.0.3.1", api_key="ffffffff") == "FORBIDDEN"
    assert await refused_with(seeded, "x", "10.0.3.1", api_key="ffffffff") == "RATE_LIMITED"
    clock.advance(300)
    assert (await login(seeded, seeded.secret, "10.0.1.1")).token


async def test_successes_are_not_counted(seeded: Seeded) -> None:
    for _ in range(60):
        assert (await login(seeded, seeded.secret)).token
