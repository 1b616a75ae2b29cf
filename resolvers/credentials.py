"""API secrets: create, revoke, roll with a grace period, reveal, and recording their expiry.

Rules a reviewer should know (SPEC §1, §5):
- "Live" means not revoked and not past `expires_at`; a key has at most two live secrets.
- Every key always keeps at least one *lasting* secret (live and without an expiry): revoking
  is refused when only expiring secrets would remain, because they would vanish on their own
  and lock the customer out later. Roll always creates a lasting secret, so rolling is the
  way to retire the only lasting one.
- Rolling never pushes a key past two live secrets: with two live secrets the roll is refused
  (SECRET_LIMIT_REACHED names the other one), unless `expiresInSeconds` is 0, which retires
  the rolled secret at once. A zero-downtime rotation is create-then-revoke, or roll with a
  grace period when the key has a single secret.
- Every limit is checked with the key's row locked (`SELECT ... FOR UPDATE` on PostgreSQL;
  SQLite serialises writers), so concurrent calls cannot both pass the check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from models.credentials import ApiKey, ApiSecret
from resolvers import audit
from resolvers.auth import live_secrets_filter
from resolvers.deps import Deps
from resolvers.errors import DomainError, ErrorCode, forbidden, not_found
from resolvers.events import settings_changed
from resolvers.principal import Principal, RequestInfo
from resolvers.provisioning import store_secret
from resolvers.sealing import open_api_secret, secret_matches
from signing.secrets import generate_api_secret, mask_hint, secret_rule_violation

MAX_LIVE_SECRETS = 2
DEFAULT_ROLL_GRACE_SECONDS = 24 * 3600
MAX_ROLL_GRACE_SECONDS = 7 * 24 * 3600
SECRETS_SECTION = "secrets"
EXPIRY_BATCH = 500


@dataclass(frozen=True)
class NewSecret:
    """A secret just created; `plaintext` goes to the caller once and nowhere else."""

    api_key: ApiKey
    secret: ApiSecret
    plaintext: str = field(repr=False)
    # The rolled secret, with its new expiry (roll only).
    previous: ApiSecret | None = None


@dataclass(frozen=True)
class RevokedSecret:
    api_key: ApiKey
    secret: ApiSecret


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise forbidden()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def secret_snapshot(row: ApiSecret) -> dict[str, Any]:
    """What an audit event may say about a secret: its mask and dates, never its value."""
    return {
        "masked": mask_hint(row.hint),
        "createdAt": _iso(row.created_at),
        "expiresAt": _iso(row.expires_at),
        "revokedAt": _iso(row.revoked_at),
    }


async def lock_key(*, principal: Principal, api_key_id: int | None, field: list[str]) -> ApiKey:
    """The caller's key, row-locked until the transaction ends; foreign, malformed (None) and
    missing IDs all answer NOT_FOUND."""
    if api_key_id is None or not principal.may_see_key(api_key_id):
        raise not_found(field, "API key")
    key = (
        await ApiKey.select_for_update(no_key=True)
        .filter(id=api_key_id, account_id=principal.account_id)
        .first()
    )
    if key is None:
        raise not_found(field, "API key")
    return key


async def _owned_live_secret(
    *, principal: Principal, secret_id: int | None, now: datetime
) -> ApiSecret:
    secret = None
    if secret_id is not None:
        secret = await ApiSecret.filter(
            live_secrets_filter(now), id=secret_id, api_key__account_id=principal.account_id
        ).first()
    if secret is None or not principal.may_see_key(secret.api_key_id):
        raise not_found(["secretId"], "API secret")
    return secret


async def _lock_secret(
    *, principal: Principal, secret_id: int | None, now: datetime
) -> tuple[ApiKey, ApiSecret]:
    """A live secret of the caller's with its key locked; re-read under the lock so a
    concurrent revoke is seen."""
    found = await _owned_live_secret(principal=principal, secret_id=secret_id, now=now)
    key = await lock_key(principal=principal, api_key_id=found.api_key_id, field=["secretId"])
    secret = await ApiSecret.filter(live_secrets_filter(now), id=found.id).first()
    if secret is None:
        raise not_found(["secretId"], "API secret")
    return key, secret


async def _live_secrets(key: ApiKey, now: datetime) -> list[ApiSecret]:
    return await ApiSecret.filter(live_secrets_filter(now), api_key_id=key.id).order_by(
        "created_at", "id"
    )


def _limit_reached(live: list[ApiSecret]) -> DomainError:
    return DomainError(
        ErrorCode.SECRET_LIMIT_REACHED,
        f"A key may have at most {MAX_LIVE_SECRETS} live secrets and this one has "
        f"{', '.join(_describe(s) for s in live)}; revoke one first.",
        ["apiKeyId"],
    )


def _describe(secret: ApiSecret) -> str:
    mask = mask_hint(secret.hint)
    return f"{mask} (expires {_iso(secret.expires_at)})" if secret.expires_at else mask


async def create_secret(
    *,
    deps: Deps,
    principal: Principal,
    request: RequestInfo,
    api_key_id: int | None,
    secret: str | None = None,
) -> NewSecret:
    """A second secret for a key: caller-chosen (checked against the rule) or generated."""
    require_admin(principal)
    if secret is not None and (violation := secret_rule_violation(secret)):
        raise DomainError(ErrorCode.SECRET_COMPLEXITY, violation, ["secret"])
    plaintext = generate_api_secret() if secret is None else secret
    now = deps.clock()
    async with in_transaction():
        key = await lock_key(principal=principal, api_key_id=api_key_id, field=["apiKeyId"])
        live = await _live_secrets(key, now)
        if len(live) >= MAX_LIVE_SECRETS:
            raise _limit_reached(live)
        if any(secret_matches(deps, plaintext, s.id, s.digest, key.key) for s in live):
            raise DomainError(
                ErrorCode.INVALID_INPUT, "This key already has that secret.", ["secret"]
            )
        row = await store_secret(deps=deps, api_key=key, plaintext=plaintext)
        await _audit_secret(key, row, "api_secret.create", principal, request, after=row)
    await settings_changed(
        deps=deps, api_key_id=key.id, section=SECRETS_SECTION, actor=principal.actor
    )
    return NewSecret(api_key=key, secret=row, plaintext=plaintext)


async def revoke_secret(
    *, deps: Deps, principal: Principal, request: RequestInfo, secret_id: int | None
) -> RevokedSecret:
    """Revoke a secret at once; the row stays (with `revoked_at`) for the audit trail."""
    require_admin(principal)
    now = deps.clock()
    async with in_transaction():
        key, secret = await _lock_secret(principal=principal, secret_id=secret_id, now=now)
        others = [s for s in await _live_secrets(key, now) if s.id != secret.id]
        if not any(s.expires_at is None for s in others):
            raise _last_secret(others)
        before = secret_snapshot(secret)
        secret.revoked_at = now
        await secret.save(update_fields=["revoked_at"])
        await _audit_secret(
            key, secret, "api_secret.revoke", principal, request, before=before, after=secret
        )
    await settings_changed(
        deps=deps, api_key_id=key.id, section=SECRETS_SECTION, actor=principal.actor
    )
    return RevokedSecret(api_key=key, secret=secret)


def _last_secret(others: list[ApiSecret]) -> DomainError:
    if not others:
        message = "This is the key's last secret; create another before revoking it."
    else:
        message = (
            f"Revoking this secret would leave only {', '.join(_describe(s) for s in others)}, "
            "which stops working by itself; roll this secret instead "
            "(expiresInSeconds 0 retires it at once)."
        )
    return DomainError(ErrorCode.LAST_SECRET, message, ["secretId"])


def grace_seconds(expires_in_seconds: int | None) -> int:
    grace = DEFAULT_ROLL_GRACE_SECONDS if expires_in_seconds is None else expires_in_seconds
    if not 0 <= grace <= MAX_ROLL_GRACE_SECONDS:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"expiresInSeconds must be between 0 and {MAX_ROLL_GRACE_SECONDS} (7 days).",
            ["expiresInSeconds"],
        )
    return grace


async def roll_secret(
    *,
    deps: Deps,
    principal: Principal,
    request: RequestInfo,
    secret_id: int | None,
    expires_in_seconds: int | None = None,
) -> NewSecret:
    """Create a new secret and let the rolled one keep working for a grace period."""
    require_admin(principal)
    grace = grace_seconds(expires_in_seconds)
    now = deps.clock()
    async with in_transaction():
        key, rolled = await _lock_secret(principal=principal, secret_id=secret_id, now=now)
        others = [s for s in await _live_secrets(key, now) if s.id != rolled.id]
        # During the grace period the rolled secret still counts; with 0 it is gone at once.
        if len(others) + (1 if grace else 0) + 1 > MAX_LIVE_SECRETS:
            raise DomainError(
                ErrorCode.SECRET_LIMIT_REACHED,
                f"Rolling would give this key {MAX_LIVE_SECRETS + 1} live secrets: revoke "
                f"{', '.join(_describe(s) for s in others)} first, or pass expiresInSeconds 0 "
                "to retire this secret at once.",
                ["secretId"],
            )
        plaintext = generate_api_secret()
        row = await store_secret(deps=deps, api_key=key, plaintext=plaintext)
        before = secret_snapshot(rolled)
        expires_at = now + timedelta(seconds=grace)
        # A roll never extends a secret that is already on its way out.
        if rolled.expires_at is None or expires_at < rolled.expires_at:
            rolled.expires_at = expires_at
            await rolled.save(update_fields=["expires_at"])
        await _audit_secret(key, row, "api_secret.create", principal, request, after=row)
        await _audit_secret(
            key, rolled, "api_secret.roll", principal, request, before=before, after=rolled
        )
    await settings_changed(
        deps=deps, api_key_id=key.id, section=SECRETS_SECTION, actor=principal.actor
    )
    return NewSecret(api_key=key, secret=row, plaintext=plaintext, previous=rolled)


async def reveal_secret(
    *, deps: Deps, principal: Principal, request: RequestInfo, secret_id: int | None
) -> str:
    """The plaintext of a live secret, for an ADMIN, rate-limited and audited before it leaves."""
    require_admin(principal)
    now = deps.clock()
    limiter = deps.credential_limits.reveals
    who = f"{principal.account_id}:{principal.actor}"
    if not await limiter.allow(who, now):
        wait = math.ceil(await limiter.retry_after(who, now))
        raise DomainError(
            ErrorCode.RATE_LIMITED, f"Too many reveals; try again in {wait} seconds.", None
        )
    secret = await _owned_live_secret(principal=principal, secret_id=secret_id, now=now)
    key = await ApiKey.get(id=secret.api_key_id)
    plaintext = open_api_secret(deps, secret, key.key)
    await _audit_secret(key, secret, "api_secret.reveal", principal, request, after=secret)
    return plaintext


async def _audit_secret(
    key: ApiKey,
    secret: ApiSecret,
    action: str,
    principal: Principal | None,
    request: RequestInfo | None,
    *,
    before: dict[str, Any] | None = None,
    after: ApiSecret | None = None,
) -> None:
    await audit.record(
        account_id=key.account_id,
        action=action,
        principal=principal,
        request=request,
        target_id=f"ApiSecret:{secret.id}",
        api_key_id=key.id,
        before=before,
        after=secret_snapshot(after) if after is not None else None,
    )


async def record_expired_secrets(*, deps: Deps) -> int:
    """Write one `api_secret.expire` audit event per secret that has expired since the last run.

    Safe on several replicas at once: each secret is claimed by a conditional UPDATE
    (`expiry_recorded` false → true) and only the replica whose UPDATE changed the row writes
    the event, in the same transaction. Returns how many this call recorded.
    """
    now = deps.clock()
    due = (
        await ApiSecret.filter(expires_at__lte=now, revoked_at__isnull=True, expiry_recorded=False)
        .select_related("api_key")
        .order_by("expires_at", "id")
        .limit(EXPIRY_BATCH)
    )
    recorded = 0
    for secret in due:
        async with in_transaction():
            claimed = await ApiSecret.filter(
                id=secret.id, expiry_recorded=False, revoked_at__isnull=True
            ).update(expiry_recorded=True)
            if not claimed:
                continue
            await _audit_secret(
                secret.api_key,
                secret,
                "api_secret.expire",
                None,
                None,
                before=secret_snapshot(secret),
            )
        recorded += 1
        await settings_changed(
            deps=deps, api_key_id=secret.api_key_id, section=SECRETS_SECTION, actor="system"
        )
    return recorded
