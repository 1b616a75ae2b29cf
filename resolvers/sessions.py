"""Logging in: a key and secret exchanged for a session token, with failed attempts limited."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from models.credentials import RevokedSession
from resolvers import audit
from resolvers.attempts import attempt_guard
from resolvers.auth import BasicCredentials, authenticate_basic, issue_session_token
from resolvers.deps import Deps
from resolvers.errors import AuthenticationError, DomainError, ErrorCode
from resolvers.principal import Principal, RequestInfo, Role
from signing.text import lone_surrogate

# One message and one field for an unknown key and a wrong secret alike, so the answer never
# tells whether a key exists. FORBIDDEN because the credentials are well-formed but grant nothing.
WRONG_CREDENTIALS = "Unknown API key or wrong API secret."
WRONG_CREDENTIALS_FIELD = ["apiSecret"]


@dataclass(frozen=True)
class Session:
    token: str = field(repr=False)
    expires_at: datetime
    principal: Principal
    role: Role


async def create_session(
    *, deps: Deps, request: RequestInfo, api_key: str, api_secret: str, role: Role | None = None
) -> Session:
    """A session token for a key and secret; a non-primary key gets a token scoped to itself and
    the role is at most what the key allows (ADMIN; VIEWER on request)."""
    now = deps.clock()
    guard = attempt_guard(deps=deps, client_address=request.client_address, api_key=api_key)
    wait = await guard.wait(now)
    if wait > 0:
        raise DomainError(
            ErrorCode.RATE_LIMITED,
            f"Too many failed attempts; try again in {math.ceil(wait)} seconds.",
            None,
        )
    for name, value in (("apiKey", api_key), ("apiSecret", api_secret)):
        at = lone_surrogate(value)
        if at is not None:
            # Cannot match any stored key or secret: a failed attempt like any other, counted.
            await guard.failed(now)
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"{name} holds a lone surrogate at character {at + 1}, which is not text; "
                "send it as UTF-8.",
                [name],
            )
    try:
        principal = await authenticate_basic(
            deps=deps, credentials=BasicCredentials(api_key, api_secret)
        )
    except AuthenticationError:
        await guard.failed(now)
        raise DomainError(ErrorCode.FORBIDDEN, WRONG_CREDENTIALS, WRONG_CREDENTIALS_FIELD) from None
    token, expires_at = issue_session_token(deps=deps, principal=principal, role=role)
    granted = Role.VIEWER if role is Role.VIEWER else principal.role
    await audit.record(
        account_id=principal.account_id,
        action="session.create",
        principal=principal,
        request=request,
        target_id=f"ApiKey:{principal.via_api_key_id}",
        api_key_id=principal.via_api_key_id,
        after={"role": granted.value, "expiresAt": expires_at.isoformat()},
    )
    return Session(token=token, expires_at=expires_at, principal=principal, role=granted)


async def revoke_session(*, principal: Principal, request: RequestInfo) -> datetime:
    """Log out: the caller's own session token stops working on every replica (its `jti` is
    recorded until the token would have expired). Basic credentials have no session to end."""
    if principal.session_id is None or principal.session_expires_at is None:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "Only a session token can be revoked; send this with Authorization: Bearer <token>.",
            None,
        )
    await RevokedSession.get_or_create(
        jti=principal.session_id, defaults={"expires_at": principal.session_expires_at}
    )
    await audit.record(
        account_id=principal.account_id,
        action="session.revoke",
        principal=principal,
        request=request,
        target_id=f"ApiKey:{principal.via_api_key_id}",
        api_key_id=principal.via_api_key_id,
    )
    return principal.session_expires_at


async def prune_revoked_sessions(now: datetime) -> int:
    """Forget revocations of tokens that have expired anyway (their `exp` refuses them)."""
    return await RevokedSession.filter(expires_at__lte=now).delete()
