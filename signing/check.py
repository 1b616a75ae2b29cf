"""The signature check helper: does a received webhook verify with a key's signature secret?"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

from signing.sms import verify_sms_signature
from signing.verdict import NO_SIGNATURE_SCHEME, SignatureVerdict, sms_scheme
from signing.webhook_jwt import bearer_token, verify_messages_jwt

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
JSON_MEDIA_TYPE = "application/json"
QUERY_METHODS = frozenset({"GET", "HEAD"})
# Unless the caller says otherwise, a webhook older than this (its `iat` or SMS
# `timestamp`) no longer verifies: a signature copied from a log cannot be replayed later.
DEFAULT_MAX_AGE = 300


def check_webhook_signature(
    *,
    http_method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    method: str,
    max_age: int = DEFAULT_MAX_AGE,
    now: int | None = None,
    issuer: str | None = None,
    api_key: str | None = None,
) -> SignatureVerdict:
    """Say whether a received webhook verifies with `secret`, by which scheme, and why not.

    A Bearer `Authorization` header means a Messages API JWT. Otherwise the params
    are read where the SMS API puts them (the query for GET, else the form or JSON
    body by Content-Type) and their `sig` is checked with `method`. Either must be at
    most `max_age` seconds old at `now`, and name `issuer` / `api_key` when given.
    Never raises.
    """
    named = {name.lower(): value for name, value in headers.items()}
    authorization = named.get("authorization")
    if bearer_token(authorization) is not None:
        return verify_messages_jwt(
            authorization,
            body,
            secret,
            max_age=max_age,
            now=now,
            issuer=issuer,
            api_key=api_key,
        )
    params, problem = received_params(http_method, url, named.get("content-type"), body)
    if problem is not None:
        return SignatureVerdict.rejected(sms_scheme(method), problem)
    if "sig" not in params:
        return SignatureVerdict.rejected(NO_SIGNATURE_SCHEME, "no signature found")
    return verify_sms_signature(params, secret, method, max_age=max_age, now=now, api_key=api_key)


def received_params(
    http_method: str, url: str, content_type: str | None, body: bytes
) -> tuple[dict[str, str], str | None]:
    """The SMS API params a receiver reads from a request, or the reason they can't be read."""
    if http_method.upper() in QUERY_METHODS:
        return _unique(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if media_type == FORM_MEDIA_TYPE:
        return _form_params(body)
    if media_type == JSON_MEDIA_TYPE or media_type.endswith("+json"):
        return _json_params(body)
    if not body.strip():
        return {}, None
    return {}, f"unsupported content type {media_type or '(none)'}"


def _form_params(body: bytes) -> tuple[dict[str, str], str | None]:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return {}, "form body is not valid UTF-8"
    return _unique(pairs)


def _json_params(body: bytes) -> tuple[dict[str, str], str | None]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return {}, "body is not valid JSON"
    if not isinstance(document, dict):
        return {}, "JSON body is not an object"
    # The platform sends every SMS API value as a string; anything else has no defined sig.
    if not all(isinstance(value, str) for value in document.values()):
        return {}, "JSON body is not a flat object of strings"
    return document, None


def _unique(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], str | None]:
    """Refuse repeated names: receivers disagree on which copy counts, so none can be trusted."""
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            return {}, f"duplicate parameter {name!r}"
        params[name] = value
    return params, None
