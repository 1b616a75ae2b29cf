"""API secret rules at the resolver level: limits, last secret, roll and expiry, reveal."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from models.account import Account
from models.audit import AuditEvent
from models.credentials import ApiSecret
from resolvers import credentials, provisioning
from resolvers.auth import BasicCredentials, authenticate_basic, live_secrets_filter
from resolvers.deps import Deps
from resolvers.errors import AuthenticationError, DomainError, ErrorCode
from resolvers.events import settings_channel
from resolvers.principal import Principal, RequestInfo, Role
from signing.crypto import DecryptionError
from signing.secrets import mask, secret_rule_violation
from tests.clock import FakeClock
from tests.conftest import Seeded, seed_account

REQUEST = RequestInfo(request_id="req-1", client_address="127.0.0.1")


@pytest.fixture
def clock(deps: Deps) -> FakeClock:
    deps.clock = FakeClock()
    return deps.clock


def viewer(seeded: Seeded) -> Principal:
    return Principal(seeded.account_id, Role.VIEWER, None, seeded.api_key_id, "session:viewer")


async def live(deps: Deps, api_key_id: int) -> list[ApiSecret]:
    return await ApiSecret.filter(live_secrets_filter(deps.clock()), api_key_id=api_key_id)


async def first_secret(seeded: Seeded) -> ApiSecret:
    return await ApiSecret.filter(api_key_id=seeded.api_key_id).order_by("id").first()


async def create(seeded: Seeded, principal: Principal | None = None, **kw: Any) -> Any:
    return await credentials.create_secret(
        deps=seeded.deps,
        principal=principal or seeded.principal(),
        request=REQUEST,
        api_key_id=kw.pop("api_key_id", seeded.api_key_id),
        **kw,
    )


async def revoke(seeded: Seeded, secret_id: int | None, principal: Principal | None = None) -> Any:
    return await credentials.revoke_secret(
        deps=seeded.deps,
        principal=principal or seeded.principal(),
        request=REQUEST,
        secret_id=secret_id,
    )


async def roll(seeded: Seeded, secret_id: int | None, expires_in: int | None = None) -> Any:
    return await credentials.roll_secret(
        deps=seeded.deps,
        principal=seeded.principal(),
        request=REQUEST,
        secret_id=secret_id,
        expires_in_seconds=expires_in,
    )


async def reveal(seeded: Seeded, secret_id: int | None, principal: Principal | None = None) -> str:
    return await credentials.reveal_secret(
        deps=seeded.deps,
        principal=principal or seeded.principal(),
        request=REQUEST,
        secret_id=secret_id,
    )


async def authenticates(deps: Deps, key: str, secret: str) -> bool:
    try:
        await authenticate_basic(deps=deps, credentials=BasicCredentials(key, secret))
    except AuthenticationError:
        return False
    return True


async def test_second_secret_is_generated_and_a_third_refused(seeded: Seeded) -> None:
    created = await create(seeded)
    assert secret_rule_violation(created.plaintext) is None and len(created.plaintext) == 16
    assert await authenticates(seeded.deps, seeded.api_key, created.plaintext)
    with pytest.raises(DomainError) as refused:
        await create(seeded)
    assert refused.value.code is ErrorCode.SECRET_LIMIT_REACHED
    assert refused.value.field == ["apiKeyId"]
    assert mask(seeded.secret) in refused.value.message
    assert mask(created.plaintext) in refused.value.message
    assert await ApiSecret.filter(api_key_id=seeded.api_key_id).count() == 2


async def test_chosen_secret_must_meet_the_rule(seeded: Seeded) -> None:
    for candidate in ["short1A", "alllowercase123", "NoDigitsHereAtAll", "x" * 20 + "A1" * 4]:
        with pytest.raises(DomainError) as refused:
            await create(seeded, secret=candidate)
        assert refused.value.code is ErrorCode.SECRET_COMPLEXITY
        assert refused.value.field == ["secret"]
        assert refused.value.message == secret_rule_violation(candidate)
        assert candidate not in refused.value.message
    chosen = await create(seeded, secret="Chosen1Secret")
    assert chosen.plaintext == "Chosen1Secret"
    assert await authenticates(seeded.deps, seeded.api_key, "Chosen1Secret")


async def test_empty_chosen_secret_is_refused_not_generated(seeded: Seeded) -> None:
    with pytest.raises(DomainError) as refused:
        await create(seeded, secret="")
    assert refused.value.code is ErrorCode.SECRET_COMPLEXITY


async def test_the_same_secret_twice_is_refused(seeded: Seeded) -> None:
    with pytest.raises(DomainError) as refused:
        await create(seeded, secret=seeded.secret)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_INPUT, ["secret"])
    assert seeded.secret not in refused.value.message


async def test_revoke_keeps_the_row_and_stops_the_secret(seeded: Seeded, clock: FakeClock) -> None:
    original = await first_secret(seeded)
    with pytest.raises(DomainError) as refused:
        await revoke(seeded, original.id)
    assert (refused.value.code, refused.value.field) == (ErrorCode.LAST_SECRET, ["secretId"])
    second = await create(seeded)
    revoked = await revoke(seeded, original.id)
    assert revoked.secret.id == original.id
    row = await ApiSecret.get(id=original.id)
    assert row.revoked_at == clock()
    assert not await authenticates(seeded.deps, seeded.api_key, seeded.secret)
    assert await authenticates(seeded.deps, seeded.api_key, second.plaintext)
    # A revoked secret is gone: revoking it again answers like a missing one.
    with pytest.raises(DomainError) as again:
        await revoke(seeded, original.id)
    assert again.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(DomainError) as last:
        await revoke(seeded, second.secret.id)
    assert last.value.code is ErrorCode.LAST_SECRET


async def test_revoke_never_leaves_only_expiring_secrets(seeded: Seeded, clock: FakeClock) -> None:
    original = await first_secret(seeded)
    rolled = await roll(seeded, original.id, expires_in=3600)
    # The new secret is the only lasting one; revoking it would leave one that vanishes in 1 h.
    with pytest.raises(DomainError) as refused:
        await revoke(seeded, rolled.secret.id)
    assert refused.value.code is ErrorCode.LAST_SECRET
    assert mask(seeded.secret) in refused.value.message
    assert "roll" in refused.value.message
    # Revoking the expiring one early is fine.
    await revoke(seeded, original.id)
    assert [s.id for s in await live(seeded.deps, seeded.api_key_id)] == [rolled.secret.id]


async def test_roll_gives_a_grace_period_then_the_secret_stops(
    seeded: Seeded, clock: FakeClock
) -> None:
    original = await first_secret(seeded)
    rolled = await roll(seeded, original.id, expires_in=60)
    assert rolled.previous.expires_at == clock() + timedelta(seconds=60)
    assert rolled.secret.expires_at is None
    assert await authenticates(seeded.deps, seeded.api_key, seeded.secret)
    assert await authenticates(seeded.deps, seeded.api_key, rolled.plaintext)
    clock.advance(59.999)
    assert await authenticates(seeded.deps, seeded.api_key, seeded.secret)
    clock.advance(0.001)
    # At the expiry instant, without anyone calling anything, the old secret is refused and gone.
    assert not await authenticates(seeded.deps, seeded.api_key, seeded.secret)
    assert [s.id for s in await live(seeded.deps, seeded.api_key_id)] == [rolled.secret.id]
    assert await authenticates(seeded.deps, seeded.api_key, rolled.plaintext)


async def test_roll_default_and_bounds(seeded: Seeded, clock: FakeClock) -> None:
    original = await first_secret(seeded)
    for bad in (-1, 604801):
        with pytest.raises(DomainError) as refused:
            await roll(seeded, original.id, expires_in=bad)
        assert (refused.value.code, refused.value.field) == (
            ErrorCode.INVALID_INPUT,
            ["expiresInSeconds"],
        )
    assert await ApiSecret.filter(api_key_id=seeded.api_key_id).count() == 1
    rolled = await roll(seeded, original.id)
    assert rolled.previous.expires_at == clock() + timedelta(hours=24)


async def test_roll_with_zero_grace_retires_at_once(seeded: Seeded, clock: FakeClock) -> None:
    original = await first_secret(seeded)
    rolled = await roll(seeded, original.id, expires_in=0)
    assert rolled.previous.expires_at == clock()
    assert not await authenticates(seeded.deps, seeded.api_key, seeded.secret)
    assert [s.id for s in await live(seeded.deps, seeded.api_key_id)] == [rolled.secret.id]


async def test_roll_with_two_live_secrets(seeded: Seeded, clock: FakeClock) -> None:
    original = await first_secret(seeded)
    second = await create(seeded)
    with pytest.raises(DomainError) as refused:
        await roll(seeded, original.id, expires_in=3600)
    assert refused.value.code is ErrorCode.SECRET_LIMIT_REACHED
    assert mask(second.plaintext) in refused.value.message
    assert await ApiSecret.filter(api_key_id=seeded.api_key_id).count() == 2
    assert (await ApiSecret.get(id=original.id)).expires_at is None
    # With no grace period the rolled secret leaves at once, so the key stays at two.
    rolled = await roll(seeded, original.id, expires_in=0)
    assert {s.id for s in await live(seeded.deps, seeded.api_key_id)} == {
        second.secret.id,
        rolled.secret.id,
    }


async def test_roll_never_extends_an_expiring_secret(seeded: Seeded, clock: FakeClock) -> None:
    original = await first_secret(seeded)
    first = await roll(seeded, original.id, expires_in=3600)
    # Rolling the new secret too would make three live secrets; the key is at its limit.
    with pytest.raises(DomainError) as refused:
        await roll(seeded, first.secret.id, expires_in=600)
    assert refused.value.code is ErrorCode.SECRET_LIMIT_REACHED
    again = await roll(seeded, original.id, expires_in=0)
    assert again.previous.expires_at == clock()


async def test_reveal_is_admin_only_scoped_audited_and_limited(
    seeded: Seeded, clock: FakeClock
) -> None:
    original = await first_secret(seeded)
    assert await reveal(seeded, original.id) == seeded.secret
    event = await AuditEvent.filter(action="api_secret.reveal").get()
    assert event.target_id == f"ApiSecret:{original.id}" and event.api_key_id == seeded.api_key_id
    assert seeded.secret not in str([event.before, event.after])
    with pytest.raises(DomainError) as forbidden:
        await reveal(seeded, original.id, principal=viewer(seeded))
    assert forbidden.value.code is ErrorCode.FORBIDDEN
    stranger = await seed_account(seeded.deps, "Stranger")
    foreign = await first_secret(stranger)
    for secret_id in (foreign.id, None, 10**9):
        with pytest.raises(DomainError) as missing:
            await reveal(seeded, secret_id)
        assert (missing.value.code, missing.value.field) == (ErrorCode.NOT_FOUND, ["secretId"])
    # 1 reveal and 3 refused lookups so far; the limit is 10 a minute per principal.
    for _ in range(6):
        await reveal(seeded, original.id)
    with pytest.raises(DomainError) as limited:
        await reveal(seeded, original.id)
    assert limited.value.code is ErrorCode.RATE_LIMITED
    assert await AuditEvent.filter(action="api_secret.reveal").count() == 7
    # Another principal has its own allowance; the window slides.
    assert await reveal(stranger, foreign.id) == stranger.secret
    clock.advance(60)
    assert await reveal(seeded, original.id) == seeded.secret


async def test_non_primary_key_touches_only_itself(seeded: Seeded) -> None:
    account = await Account.get(id=seeded.account_id)
    other, _ = await provisioning.create_api_key(
        deps=seeded.deps, account=account, nickname=None, is_primary=False
    )
    scoped = Principal(seeded.account_id, Role.ADMIN, other.id, other.id, f"key:{other.key}")
    with pytest.raises(DomainError) as refused:
        await create(seeded, principal=scoped)
    assert (refused.value.code, refused.value.field) == (ErrorCode.NOT_FOUND, ["apiKeyId"])
    with pytest.raises(DomainError) as hidden:
        await reveal(seeded, (await first_secret(seeded)).id, principal=scoped)
    assert hidden.value.code is ErrorCode.NOT_FOUND
    created = await create(seeded, principal=scoped, api_key_id=other.id)
    assert created.api_key.id == other.id


async def test_viewer_changes_nothing(seeded: Seeded) -> None:
    original = await first_secret(seeded)
    attempts = [
        create(seeded, principal=viewer(seeded)),
        revoke(seeded, original.id, principal=viewer(seeded)),
        credentials.roll_secret(
            deps=seeded.deps, principal=viewer(seeded), request=REQUEST, secret_id=original.id
        ),
    ]
    for attempt in attempts:
        with pytest.raises(DomainError) as refused:
            await attempt
        assert refused.value.code is ErrorCode.FORBIDDEN
    assert await ApiSecret.filter(api_key_id=seeded.api_key_id).count() == 1
    assert await AuditEvent.all().count() == 0


async def test_changes_are_audited_and_announced(seeded: Seeded, clock: FakeClock) -> None:
    original = await first_secret(seeded)
    async with seeded.deps.broker.subscribe(settings_channel(seeded.api_key_id)) as events:
        second = await create(seeded)
        await revoke(seeded, second.secret.id)
        await roll(seeded, original.id, expires_in=10)
        heard = [await asyncio.wait_for(anext(events), 1) for _ in range(3)]
    assert [e["section"] for e in heard] == ["secrets"] * 3
    rows = await AuditEvent.all().order_by("id")
    assert [r.action for r in rows] == [
        "api_secret.create",
        "api_secret.revoke",
        "api_secret.create",
        "api_secret.roll",
    ]
    for row in rows:
        assert (row.actor, row.role, row.request_id, row.client_address) == (
            f"key:{seeded.api_key}",
            "ADMIN",
            "req-1",
            "127.0.0.1",
        )
        assert row.api_key_id == seeded.api_key_id
    assert rows[1].before["revokedAt"] is None and rows[1].after["revokedAt"] is not None
    assert rows[3].before["expiresAt"] is None
    assert rows[3].after["expiresAt"] == (clock() + timedelta(seconds=10)).isoformat()
    assert rows[0].after["masked"] == mask(second.plaintext)


async def test_expiry_is_recorded_once_without_anyone_asking(
    seeded: Seeded, clock: FakeClock
) -> None:
    original = await first_secret(seeded)
    await roll(seeded, original.id, expires_in=30)
    assert await credentials.record_expired_secrets(deps=seeded.deps) == 0
    clock.advance(30)
    async with seeded.deps.broker.subscribe(settings_channel(seeded.api_key_id)) as events:
        assert await credentials.record_expired_secrets(deps=seeded.deps) == 1
        heard = await asyncio.wait_for(anext(events), 1)
    assert (heard["section"], heard["actor"]) == ("secrets", "system")
    assert await credentials.record_expired_secrets(deps=seeded.deps) == 0
    event = await AuditEvent.get(action="api_secret.expire")
    assert (event.actor, event.role, event.target_id) == (
        "system",
        None,
        f"ApiSecret:{original.id}",
    )
    assert event.api_key_id == seeded.api_key_id
    assert (await ApiSecret.get(id=original.id)).expiry_recorded is True


async def test_revoked_before_expiry_is_not_recorded_as_expired(
    seeded: Seeded, clock: FakeClock
) -> None:
    original = await first_secret(seeded)
    await roll(seeded, original.id, expires_in=30)
    await revoke(seeded, original.id)
    clock.advance(60)
    assert await credentials.record_expired_secrets(deps=seeded.deps) == 0


async def test_concurrent_sweeps_record_each_expiry_exactly_once(
    seeded: Seeded, clock: FakeClock
) -> None:
    seeds = [seeded] + [await seed_account(seeded.deps, f"Acct {i}") for i in range(5)]
    for each in seeds:
        await roll(each, (await first_secret(each)).id, expires_in=5)
    clock.advance(5)
    counts = await asyncio.gather(
        *(credentials.record_expired_secrets(deps=seeded.deps) for _ in range(8))
    )
    assert sum(counts) == len(seeds)
    assert await AuditEvent.filter(action="api_secret.expire").count() == len(seeds)


async def test_secrets_swapped_between_rows_open_and_match_nowhere(seeded: Seeded) -> None:
    # With write access to the database, swapping two secrets' stored values must not
    # hand one row's secret (and its expiry, revocation, audit trail) to the other.
    second = (await create(seeded, secret="Other2Secret")).secret
    first = await first_secret(seeded)
    swapped = [(first, second), (second, first)]
    for row, other in swapped:
        await ApiSecret.filter(id=row.id).update(ciphertext=other.ciphertext, digest=other.digest)
    for plaintext in (seeded.secret, "Other2Secret"):
        with pytest.raises(AuthenticationError):
            await authenticate_basic(
                deps=seeded.deps, credentials=BasicCredentials(seeded.api_key, plaintext)
            )
    for row, _ in swapped:
        with pytest.raises(DecryptionError):
            await credentials.reveal_secret(
                deps=seeded.deps, principal=seeded.principal(), request=REQUEST, secret_id=row.id
            )


async def test_another_keys_secret_copied_in_does_not_authenticate(seeded: Seeded) -> None:
    other = await seed_account(seeded.deps, "Other")
    theirs = await ApiSecret.get(api_key_id=other.api_key_id)
    mine = await first_secret(seeded)
    await ApiSecret.filter(id=mine.id).update(ciphertext=theirs.ciphertext, digest=theirs.digest)
    with pytest.raises(AuthenticationError):
        await authenticate_basic(
            deps=seeded.deps, credentials=BasicCredentials(seeded.api_key, other.secret)
        )
