"""Authentication: Basic key:secret, session tokens, and the principal each one yields."""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import jwt
from tortoise.expressions import Q

from models.credentials import ApiKey, ApiSecret
from resolvers import rows
from resolvers.attempts import attempt_guard
from resolvers.deps import Deps
from resolvers.errors import AuthenticationError, TooManyAttempts
from resolvers.principal import Principal, Role
from resolvers.sealing import secret_context, secret_matches
from signing.secrets import is_api_key

# (secret id, key id, token id): what a session's liveness depends on.
SessionKey = tuple[int | None, int | None, str | None]

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
    live: list[rows.Credential] = []
    if is_api_key(credentials.api_key):
        live = await _live_credentials(credentials.api_key, now)
    if not live:
        # The work of one comparison, so an unknown key answers no faster than a known one.
        deps.box.digest(credentials.api_secret, context=secret_context("", 0))
    # Compare against every live secret so timing does not tell which slot matched.
    secret = credentials.api_secret
    matched = [c for c in live if secret_matches(deps, secret, c.secret_id, c.digest, c.key)]
    if not matched:
        raise AuthenticationError("Unknown API key or wrong API secret.")
    found = matched[0]
    if deps.last_used.due(found.secret_id, now):
        await ApiSecret.filter(id=found.secret_id).update(last_used_at=now)
    return Principal(
        account_id=found.account_id,
        role=Role.ADMIN,
        api_key_id=None if found.is_primary else found.key_id,
        via_api_key_id=found.key_id,
        actor=f"key:{found.key}",
        secret_id=found.secret_id,
    )


async def _live_credentials(api_key: str, now: datetime) -> list[rows.Credential]:
    """The key's live secrets (live_secrets_filter, in SQL), in one statement on every request:
    revocation and expiry take effect at once, and nothing is cached."""
    select = rows.Select(ApiKey._meta.db)
    where = (
        f'"k"."key" = {select(api_key)} AND "s"."revoked_at" IS NULL '
        f'AND ("s"."expires_at" IS NULL OR "s"."expires_at" > {select(now)})'
    )
    return await select.fetch(rows.Credential, where)


def issue_session_token(
    *, deps: Deps, principal: Principal, role: Role | None = None, ttl_seconds: int | None = None
) -> tuple[str, datetime]:
    """A short-lived session token for this principal; the role never exceeds the principal's.
    The token names the secret it came from (`sid`): it works only while that secret is live."""
    if principal.secret_id is None:
        raise ValueError("a session token is bound to a secret; the principal names none")
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
        "sid": principal.secret_id,
        "role": granted.value,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": str(uuid.uuid4()),
    }
    # `kid` names the session key, so session signing can rotate on its own.
    token = jwt.encode(
        claims,
        deps.box.session_signing_key,
        algorithm=TOKEN_ALGORITHM,
        headers={"kid": deps.box.session_key_id},
    )
    return token, expires_at


@lru_cache(maxsize=4096)
def _verified_claims(signing_key: bytes, token: str) -> Mapping[str, Any]:
    """Everything about a token but its expiry: a pure function of key and token, so a
    dashboard's token is verified once, not on every request (PyJWT costs ~100 µs)."""
    claims = jwt.decode(
        token,
        signing_key,
        algorithms=[TOKEN_ALGORITHM],
        audience=TOKEN_AUDIENCE,
        issuer=TOKEN_ISSUER,
        options={
            "require": ["exp", "iat", "iss", "aud", "acc", "role", "sub", "sid", "jti"],
            "verify_exp": False,
        },
    )
    return MappingProxyType(claims)


@lru_cache(maxsize=4096)
def _key_id_of(token: str) -> str | None:
    """The `kid` a token's header names (unverified: it only picks the key to verify with).
    Cached like the claims: PyJWT checks every character of every segment to read it, which
    cost a WebSocket subscribe more than its credential SQL."""
    kid = jwt.get_unverified_header(token).get("kid")
    return kid if isinstance(kid, str) else None


def _claims_under_any(deps: Deps, token: str) -> Mapping[str, Any]:
    """The claims of a token signed by a session key of the ring (its `kid`), or refusal."""
    try:
        kid = _key_id_of(token)
    except jwt.PyJWTError:
        raise AuthenticationError("The session token is not valid.") from None
    keys = deps.box.session_verification_keys(kid)
    for key in keys:
        try:
            return _verified_claims(key, token)
        except jwt.PyJWTError:
            continue
    raise AuthenticationError("The session token is not valid.")


@dataclass(frozen=True, slots=True)
class SessionRows:
    """What the session check reads beside its answer: the key the session came through and
    that key's account, which most requests go on to read anyway."""

    api_key: rows.ApiKey
    account: rows.Account

    SOURCE = (
        '"api_secret" AS "s" JOIN "api_key" AS "k" ON "k"."id" = "s"."api_key_id" '
        'JOIN "account" AS "a" ON "a"."id" = "k"."account_id"'
    )
    COLUMNS = (
        '"k"."id", "k"."account_id", "k"."key", "k"."nickname", "k"."is_primary", '
        '"k"."created_at", "a"."name" AS "account_name", "a"."hipaa_enabled"'
    )

    @classmethod
    def from_db(cls, record: dict[str, Any]) -> SessionRows:
        account = rows.Account(
            record["account_id"], record["account_name"], bool(record["hipaa_enabled"])
        )
        return cls(rows.ApiKey.from_db(record), account)


@dataclass
class ReadAlong:
    """Rows authentication read on its way, for the same request to reuse. Only ever for that
    request: every request checks its credentials afresh."""

    rows: SessionRows | None = None


async def authenticate_session(
    *, deps: Deps, token: str, coalesced: bool = False, read_along: ReadAlong | None = None
) -> Principal:
    """Verify a session token: algorithm pinned, signature, issuer, audience and expiry, then
    (one statement) that its secret is still live and the token was not revoked, so revoking,
    rolling or expiring a secret ends its sessions on every replica by the next request. The
    same statement reads the session's key and account into `read_along`. `coalesced`: the
    statement may answer other checks of the same session asked meanwhile
    (resolvers/coalesced.py), still sent after this check began."""
    claims = _claims_under_any(deps, token)
    # Checked on every use, as PyJWT would: valid while `exp` is still ahead.
    expires = claims["exp"]
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        raise AuthenticationError("The session token is not valid.")
    if expires <= time.time():
        raise AuthenticationError("The session token has expired.")
    try:
        principal = Principal(
            account_id=int(claims["acc"]),
            role=Role(claims["role"]),
            api_key_id=_optional_int(claims.get("scope")),
            via_api_key_id=_optional_int(claims.get("via")),
            actor=f"session:{claims['sub']}",
            secret_id=_optional_int(claims["sid"]),
            session_id=str(claims["jti"]),
            session_expires_at=datetime.fromtimestamp(expires, UTC),
        )
    except (TypeError, ValueError):
        raise AuthenticationError("The session token is not valid.") from None
    key = (principal.secret_id, principal.via_api_key_id, principal.session_id)
    if coalesced:
        found = await deps.coalesced.read(
            ("session", key), lambda: _live_session(key, deps.clock())
        )
    else:
        found = await _live_session(key, deps.clock())
    if found is None:
        raise AuthenticationError("The session has ended: logged out, or its secret revoked.")
    if read_along is not None:
        read_along.rows = found
    return principal


async def _live_session(key: SessionKey, now: datetime) -> SessionRows | None:
    """The token's key and account if its secret (of the key it names) is live and the token
    not revoked, else None; `key` is (secret id, key id, token id)."""
    secret_id, via_api_key_id, session_id = key
    select = rows.Select(ApiSecret._meta.db)
    where = (
        f'"s"."id" = {select(secret_id)} '  # noqa: S608 - placeholders only
        f'AND "s"."api_key_id" = {select(via_api_key_id)} '
        'AND "s"."revoked_at" IS NULL '
        f'AND ("s"."expires_at" IS NULL OR "s"."expires_at" > {select(now)}) '
        'AND NOT EXISTS (SELECT 1 FROM "revoked_session" AS "r" '
        f'WHERE "r"."jti" = {select(session_id)})'
    )
    found = await select.fetch(SessionRows, where)
    return found[0] if found else None


def _optional_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("expected an integer claim")
    return value


async def verify(*, deps: Deps, header: str) -> Principal:
    """The principal an Authorization header stands for now, or AuthenticationError; no
    failure is counted (an open WebSocket re-checking its credentials uses this)."""
    credentials = parse_authorization(header)
    if isinstance(credentials, BearerToken):
        return await authenticate_session(deps=deps, token=credentials.token, coalesced=True)
    return await authenticate_basic(deps=deps, credentials=credentials)


async def authenticate(
    *,
    deps: Deps,
    header: str,
    client_address: str | None = None,
    read_along: ReadAlong | None = None,
) -> Principal:
    """The principal an Authorization header stands for, or AuthenticationError; past the
    failure limits for key and secret, TooManyAttempts even for right credentials. Rows read
    on the way go into `read_along`.

    Session tokens are never refused for failures: a token cannot be guessed (it is signed),
    so counting them would only let failures made with other credentials lock its holder out.
    """
    now = deps.clock()
    try:
        credentials = parse_authorization(header)
    except AuthenticationError:
        await attempt_guard(deps=deps, client_address=client_address, api_key=None).failed(now)
        raise
    if isinstance(credentials, BearerToken):
        return await authenticate_session(deps=deps, token=credentials.token, read_along=read_along)
    guard = attempt_guard(deps=deps, client_address=client_address, api_key=credentials.api_key)
    wait = await guard.wait(now)
    if wait > 0:
        raise TooManyAttempts(wait)
    try:
        return await authenticate_basic(deps=deps, credentials=credentials)
    except AuthenticationError:
        await guard.failed(now)
        raise
