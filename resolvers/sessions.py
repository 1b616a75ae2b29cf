"""Logging in: a key and secret exchanged for a session token, with failed attempts limited."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from resolvers import audit
from resolvers.auth import BasicCredentials, authenticate_basic, issue_session_token
from resolvers.deps import Deps
from resolvers.errors import AuthenticationError, DomainError, ErrorCode
from resolvers.principal import Principal, RequestInfo, Role

# One message and one field for an unknown key and a wrong secret alike, so the answer never
# tells whether a key exists. FORBIDDEN because the credentials are well-formed but grant nothing.
WRONG_CREDENTIALS = "Unknown API key or wrong API secret."
WRONG_CREDENTIALS_FIELD = ["apiSecret"]
# Longer values cannot be keys; cutting them bounds what one failure adds to the limiter.
_KEY_LABEL_LENGTH = 32


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
    limits = deps.credential_limits
    by_address = f"address:{request.client_address or 'unknown'}"
    by_key = f"key:{api_key[:_KEY_LABEL_LENGTH]}"
    # Checked before the credentials, so a correct guess made past the limit is never confirmed.
    waits = [
        limiter.retry_after(label, now)
        for limiter, label in (
            (limits.login_failures_by_address, by_address),
            (limits.login_failures_by_key, by_key),
        )
        if limiter.blocked(label, now)
    ]
    if waits:
        raise DomainError(
            ErrorCode.RATE_LIMITED,
            f"Too many failed attempts; try again in {math.ceil(max(waits))} seconds.",
            None,
        )
    try:
        principal = await authenticate_basic(
            deps=deps, credentials=BasicCredentials(api_key, api_secret)
        )
    except AuthenticationError:
        limits.login_failures_by_address.hit(by_address, now)
        limits.login_failures_by_key.hit(by_key, now)
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
