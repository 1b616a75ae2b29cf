"""Authentication: Basic key:secret, session tokens, and the principal each one yields."""

from __future__ import annotations

import base64
import binascii
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from tortoise.expressions import Q

from models.credentials import ApiKey, ApiSecret
from resolvers.deps import Deps
from resolvers.errors import AuthenticationError, TooManyAttempts
from resolvers.principal import Principal, Role
from signing.secrets import is_api_key

TOKEN_ISSUER = "switchboard"
TOKEN_AUDIENCE = "switchboard-api"
TOKEN_ALGORITHM = "HS256"
MAX_TOKEN_TTL_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class BasicCredentials:
    api_key: str
    api_secret: str


@dataclass(frozen=True)
class BearerToken:
    token: str


def parse_authorization(header: str) -> BasicCredentials | BearerToken:
    """Split an Authorization header into its scheme's credentials; refuse anything malformed."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if not value:
        raise AuthenticationError("The Authorization header has no credentials.")
    if scheme.lower() == "bearer":
        return BearerToken(value)
    if scheme.lower() != "basic":
        raise AuthenticationError("Use Basic (api_key:api_secret) or Bearer authentication.")
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise AuthenticationError("Basic credentials are not valid base64 of key:secret.") from None
    api_key, sep, api_secret = decoded.partition(":")
    if not sep or not api_key or not api_secret:
        raise AuthenticationError("Basic credentials must be api_key:api_secret.")
    return BasicCredentials(api_key, api_secret)


def live_secrets_filter(now: datetime) -> Q:
    """Secrets that still authenticate: not revoked and not past their expiry."""
    return Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


async def authenticate_basic(*, deps: Deps, credentials: BasicCredentials) -> Principal:
    """Check a key and secret; a primary key acts for its account, any other only for itself."""
    now = deps.clock()
    key = None
    if is_api_key(credentials.api_key):
        key = await ApiKey.get_or_none(key=credentials.api_key)
    secrets = [] if key is None else await ApiSecret.filter(live_secrets_filter(now), api_key=key)
    digest = deps.box.digest(credentials.api_secret)
    # Compare against every live secret so timing does not tell which slot matched.
    matched = [s for s in secrets if hmac.compare_digest(digest, s.digest)]
    if key is None or not matched:
        raise AuthenticationError("Unknown API key or wrong API secret.")
    secret = matched[0]
    if deps.last_used.due(secret.id, now):
        await ApiSecret.filter(id=secret.id).update(last_used_at=now)
    return Principal(
        account_id=key.account_id,
        role=Role.ADMIN,
        api_key_id=None if key.is_primary else key.id,
        via_api_key_id=key.id,
        actor=f"key:{key.key}",
        secret_id=secret.id,
    )


def issue_session_token(
    *, deps: Deps, principal: Principal, role: Role | None = None, ttl_seconds: int | None = None
) -> tuple[str, datetime]:
    """A short-lived session token for this principal; the role never exceeds the principal's."""
    granted = principal.role if role is None or principal.role is Role.VIEWER else role
    ttl = deps.session_ttl_seconds if ttl_seconds is None else ttl_seconds
    if not 0 < ttl <= MAX_TOKEN_TTL_SECONDS:
        raise ValueError(f"token lifetime must be between 1 and {MAX_TOKEN_TTL_SECONDS} seconds")
    now = deps.clock()
    expires_at = now + timedelta(seconds=ttl)
    claims = {
        "iss": TOKEN_ISSUER,
        "aud": TOKEN_AUDIENCE,
        "sub": principal.actor,
        "acc": principal.account_id,
        "scope": principal.api_key_id,
        "via": principal.via_api_key_id,
        "role": granted.value,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": str(uuid.uuid4()),
    }
    token = jwt.encode(claims, deps.box.session_signing_key, algorithm=TOKEN_ALGORITHM)
    return token, expires_at


def authenticate_session(*, deps: Deps, token: str) -> Principal:
    """Verify a session token: algorithm pinned, signature, issuer, audience and expiry."""
    try:
        claims = jwt.decode(
            token,
            deps.box.session_signing_key,
            algorithms=[TOKEN_ALGORITHM],
            audience=TOKEN_AUDIENCE,
            issuer=TOKEN_ISSUER,
            options={"require": ["exp", "iat", "iss", "aud", "acc", "role", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("The session token has expired.") from None
    except jwt.PyJWTError:
        raise AuthenticationError("The session token is not valid.") from None
    try:
        return Principal(
            account_id=int(claims["acc"]),
            role=Role(claims["role"]),
            api_key_id=_optional_int(claims.get("scope")),
            via_api_key_id=_optional_int(claims.get("via")),
            actor=f"session:{claims['sub']}",
        )
    except (TypeError, ValueError):
        raise AuthenticationError("The session token is not valid.") from None


def _optional_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("expected an integer claim")
    return value


async def authenticate(*, deps: Deps, header: str, client_address: str | None = None) -> Principal:
    """The principal an Authorization header stands for, or AuthenticationError.

    Failures count per client address and per API key; past either limit the answer is
    TooManyAttempts, even for right credentials, so guessing cannot go on by trying harder."""
    limits = deps.credential_limits
    now = deps.clock()
    address_key = f"address:{client_address or 'unknown'}"
    try:
        credentials = parse_authorization(header)
    except AuthenticationError:
        limits.auth_failures_by_address.hit(address_key, now)
        raise
    api_key = credentials.api_key if isinstance(credentials, BasicCredentials) else None
    waits = [limits.auth_failures_by_address.retry_after(address_key, now)]
    if api_key is not None:
        waits.append(limits.auth_failures_by_key.retry_after(f"key:{api_key}", now))
    if max(waits) > 0:
        raise TooManyAttempts(max(waits))
    try:
        if isinstance(credentials, BearerToken):
            return authenticate_session(deps=deps, token=credentials.token)
        return await authenticate_basic(deps=deps, credentials=credentials)
    except AuthenticationError:
        limits.auth_failures_by_address.hit(address_key, now)
        if api_key is not None:
            limits.auth_failures_by_key.hit(f"key:{api_key}", now)
        raise
