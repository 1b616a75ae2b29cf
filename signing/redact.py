"""Sent webhooks made safe to store and show: signatures replaced by what they signed."""

from __future__ import annotations

import re
from typing import Any

import jwt

from signing.check import received_params
from signing.sms import sms_signature_base
from signing.verdict import MESSAGES_JWT_SCHEME
from signing.webhook_jwt import bearer_token

REDACTED = "REDACTED"
SMS_SIG_SCHEME = "SMS_SIG"
# A stored request's signature, redacted: a replayable token or `sig` in the delivery log
# would let anyone who may read the log (VIEWERs included) forge a "valid" webhook.
# In a URL only after `?` or `&` (so never in the path); in a form body also at the start.
_QUERY_SIG = re.compile(r"(?:(?<=[?&])|^)sig=[^&#]*")
_JSON_SIG = re.compile(r'("sig"\s*:\s*")[^"]*(")')


def redact_request(request: dict[str, Any]) -> dict[str, Any]:
    """A copy of a sent request with every signature redacted and described instead.

    `request` is {method, url, headers: [[name, value]], body}. A Bearer JWT becomes
    `Bearer REDACTED` with its decoded claims under `signature.claims`; an SMS `sig` (query,
    form or JSON body) becomes `REDACTED` with the signed base string under
    `signature.signedBase`. Idempotent: a redacted request comes back unchanged.
    """
    redacted = dict(request)
    headers = [list(pair) for pair in request.get("headers") or []]
    redacted["headers"] = headers
    for pair in headers:
        if pair[0].lower() != "authorization":
            continue
        token = bearer_token(pair[1])
        if token and token != REDACTED:
            redacted["signature"] = {"scheme": MESSAGES_JWT_SCHEME, "claims": _claims(token)}
        if token is not None:
            pair[1] = f"Bearer {REDACTED}"
    content_type = next((value for name, value in headers if name.lower() == "content-type"), "")
    sms = _sms_signature(request, content_type)
    if sms is not None:
        redacted["signature"] = sms
        redacted["url"] = _QUERY_SIG.sub(f"sig={REDACTED}", request["url"])
        body = request.get("body")
        if body and "json" in content_type.lower():
            redacted["body"] = _JSON_SIG.sub(rf"\g<1>{REDACTED}\g<2>", body)
        elif body:
            redacted["body"] = _QUERY_SIG.sub(f"sig={REDACTED}", body)
    return redacted


def _claims(token: str) -> dict[str, Any] | None:
    """The token's claims, read without the key: they are what was signed, not a secret."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


def _sms_signature(request: dict[str, Any], content_type: str) -> dict[str, Any] | None:
    """The SMS `sig` scheme and its signed base string, or None when no `sig` was sent."""
    body = (request.get("body") or "").encode("utf-8")
    method = request.get("method") or "POST"
    params, problem = received_params(method, request["url"], content_type, body)
    if problem is not None or "sig" not in params:
        return None
    return {"scheme": SMS_SIG_SCHEME, "signedBase": sms_signature_base(params)}
