"""SMS API webhook `sig`: the signature base string, the five methods, signing and verifying."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from signing.verdict import SignatureVerdict, sms_scheme

MD5_HASH = "MD5_HASH"
HMAC_DIGESTS: dict[str, str] = {
    "MD5_HMAC": "md5",
    "SHA1_HMAC": "sha1",
    "SHA256_HMAC": "sha256",
    "SHA512_HMAC": "sha512",
}
SIGNATURE_METHODS: tuple[str, ...] = (MD5_HASH, *HMAC_DIGESTS)


def sms_signature_base(params: Mapping[str, str]) -> str:
    """Build the string that is signed: `&k1=v1&k2=v2…` over every param but `sig`, by name.

    Byte for byte what the platform's published verifiers build: keys sorted by code
    point, keys left as they are, `&` and `=` inside values replaced by `_`.
    """
    return "".join(
        f"&{name}={params[name].replace('&', '_').replace('=', '_')}"
        for name in sorted(params)
        if name != "sig"
    )


def sms_signature(params: Mapping[str, str], secret: str, method: str) -> str:
    """Compute the lowercase hex `sig` of `params` with `secret` by `method`.

    Raises ValueError for a method that is not one of SIGNATURE_METHODS.
    """
    base = sms_signature_base(params).encode("utf-8")
    key = secret.encode("utf-8")
    if method == MD5_HASH:
        # The legacy method is a plain digest of base + secret; kept for customers who use it.
        return hashlib.md5(base + key).hexdigest()  # noqa: S324
    digest = HMAC_DIGESTS.get(method)
    if digest is None:
        raise ValueError(f"unknown signature method {method!r}")
    return hmac.new(key, base, digest).hexdigest()


def sign_sms_params(
    params: Mapping[str, str], secret: str, method: str, *, timestamp: int
) -> dict[str, str]:
    """Return a copy of `params` with `timestamp` (Unix seconds) and the `sig` over both added."""
    signed = {name: value for name, value in params.items() if name != "sig"}
    signed["timestamp"] = str(timestamp)
    signed["sig"] = sms_signature(signed, secret, method)
    return signed


def verify_sms_signature(
    params: Mapping[str, str],
    secret: str,
    method: str,
    *,
    max_age: int | None = None,
    now: int | None = None,
    api_key: str | None = None,
) -> SignatureVerdict:
    """Say whether `params` carry a valid `sig` for `secret` and `method`; never raises.

    The comparison is constant-time and ignores the case of the hex digits. With
    `max_age` (seconds), `timestamp` must also be within that many seconds of `now`;
    with `api_key`, an `api-key` parameter must name that key.
    """
    scheme = sms_scheme(method)
    if method not in SIGNATURE_METHODS:
        return SignatureVerdict.rejected(scheme, "unknown signature method")
    received = params.get("sig")
    if not received:
        return SignatureVerdict.rejected(scheme, "missing sig parameter")
    timestamp = params.get("timestamp")
    if not timestamp:
        return SignatureVerdict.rejected(scheme, "timestamp missing")
    expected = sms_signature(params, secret, method)
    if not hmac.compare_digest(received.lower().encode("utf-8"), expected.encode("ascii")):
        return SignatureVerdict.rejected(scheme, "signature mismatch")
    if max_age is not None:
        stale = _freshness_problem(timestamp, max_age, now)
        if stale:
            return SignatureVerdict.rejected(scheme, stale)
    if api_key is not None and params.get("api-key", api_key) != api_key:
        return SignatureVerdict.rejected(scheme, "api-key parameter names another API key")
    return SignatureVerdict.accepted(scheme)


def _freshness_problem(timestamp: str, max_age: int, now: int | None) -> str | None:
    """Say why a signed `timestamp` is not within `max_age` seconds of `now`, or None."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return "timestamp is not a whole number of seconds"
    current = int(time.time()) if now is None else now
    if sent_at - current > max_age:
        return "timestamp is in the future"
    if current - sent_at > max_age:
        return "timestamp too old"
    return None
