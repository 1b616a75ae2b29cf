"""Messages API webhook JWTs: HS256 tokens that sign the exact body bytes with payload_hash."""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from typing import Any

import jwt

from signing.verdict import MESSAGES_JWT_SCHEME, SignatureVerdict

ALGORITHM = "HS256"
# Seconds a sender's clock may run ahead of ours before an `iat` counts as "in the future".
CLOCK_SKEW = 60
# How long a webhook JWT stays valid: long enough for a slow receiver, short enough that a
# token copied out of a log is useless soon after.
TOKEN_LIFETIME = 300


def payload_hash(body: bytes) -> str:
    """SHA-256 hex of the exact body bytes, as carried in the `payload_hash` claim."""
    return hashlib.sha256(body).hexdigest()


def messages_jwt(
    body: bytes,
    secret: str,
    *,
    api_key: str,
    issued_at: int,
    jti: str,
    issuer: str = "Vonage",
    lifetime: int = TOKEN_LIFETIME,
) -> str:
    """Sign a Messages API webhook `body`: the token sent as `Authorization: Bearer <jwt>`.

    It expires `lifetime` seconds after `issued_at` (`exp`), so a copied token soon stops
    verifying.
    """
    claims = {
        "iat": issued_at,
        "exp": issued_at + lifetime,
        "jti": jti,
        "iss": issuer,
        "api_key": api_key,
        "payload_hash": payload_hash(body),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def bearer_token(authorization_header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (scheme case-insensitive)."""
    scheme, _, token = (authorization_header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def verify_messages_jwt(
    authorization_header: str | None,
    body: bytes,
    secret: str,
    *,
    max_age: int | None = None,
    now: int | None = None,
    issuer: str | None = None,
    api_key: str | None = None,
) -> SignatureVerdict:
    """Say whether a Messages API webhook verifies with `secret`, and why not; never raises.

    Checks, in order: a Bearer header, the HS256 signature (no other algorithm is
    accepted, whatever the token says), `exp` and `nbf` if present, `iat` within
    `max_age` seconds of `now` if `max_age` is given, `iss` and `api_key` when `issuer`
    and `api_key` are given, and `payload_hash` against `body`.
    """
    if not authorization_header or not authorization_header.strip():
        return _rejected("no Authorization header")
    token = bearer_token(authorization_header)
    if token is None:
        return _rejected("Authorization header is not a Bearer token")
    if not token:
        return _rejected("empty Bearer token")
    claims, problem = _decode(token, secret)
    if problem is not None:
        return _rejected(problem)
    current = int(time.time()) if now is None else now
    problem = _time_problem(claims, max_age, current)
    if problem is not None:
        return _rejected(problem)
    problem = _identity_problem(claims, issuer, api_key)
    if problem is not None:
        return _rejected(problem)
    claimed = claims.get("payload_hash")
    if not isinstance(claimed, str) or not claimed:
        return _rejected("payload_hash claim missing")
    if not hmac.compare_digest(claimed.lower().encode("utf-8"), payload_hash(body).encode()):
        return _rejected("payload hash mismatch")
    return SignatureVerdict.accepted(MESSAGES_JWT_SCHEME)


def _rejected(reason: str) -> SignatureVerdict:
    return SignatureVerdict.rejected(MESSAGES_JWT_SCHEME, reason)


def _decode(token: str, secret: str) -> tuple[dict[str, Any], str | None]:
    """Check the signature and return the claims, or the reason the token is refused."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            # Time claims are checked by _time_problem against the caller's clock.
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.InvalidSignatureError:
        return {}, "bad signature"
    except jwt.InvalidAlgorithmError:
        return {}, "algorithm not allowed (only HS256)"
    except (jwt.PyJWTError, ValueError, TypeError):
        return {}, "malformed token"
    if not isinstance(claims, dict):
        return {}, "malformed token"
    return claims, None


def _time_problem(claims: dict[str, Any], max_age: int | None, now: int) -> str | None:
    """Say why the token's time claims refuse it at `now`, or None."""
    expires = claims.get("exp")
    if expires is not None:
        if not _is_seconds(expires):
            return "exp claim is not a number"
        if expires <= now:
            return "token expired"
    not_before = claims.get("nbf")
    if not_before is not None:
        if not _is_seconds(not_before):
            return "nbf claim is not a number"
        if not_before > now + CLOCK_SKEW:
            return "token not valid yet (nbf)"
    if max_age is None:
        return None
    issued = claims.get("iat")
    if issued is None:
        return "iat claim missing"
    if not _is_seconds(issued):
        return "iat claim is not a number"
    if issued > now + CLOCK_SKEW:
        return "token issued in the future"
    if now - issued > max_age:
        return "token too old"
    return None


def _identity_problem(
    claims: dict[str, Any], issuer: str | None, api_key: str | None
) -> str | None:
    """Say why the token names another issuer or API key than expected, or None."""
    if issuer is not None and claims.get("iss") != issuer:
        return f"iss claim is not {issuer!r}"
    if api_key is not None and claims.get("api_key") != api_key:
        return "api_key claim names another API key"
    return None


def _is_seconds(value: object) -> bool:
    """A JSON number usable as Unix seconds (Python's JSON parser also yields NaN and inf)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
