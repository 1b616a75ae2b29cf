"""Check a test webhook, as a receiver gets it, against the published definitions.

Every check returns a list of problems (empty when it conforms), each naming the field
and the published rule it breaks, so a failing test says what to fix.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt

from tests import published_webhooks as published
from tests.published_webhooks import FORMATS, Field

SMS_CONTENT_TYPES = {
    "GET": None,
    "POST": "application/x-www-form-urlencoded",
    "POST_JSON": "application/json",
}


def payload_problems(payload: object, schema: Field, path: str = "") -> list[str]:
    """Fields missing that the schema requires, fields it does not describe, bad values."""
    if not isinstance(payload, dict):
        return [f"{path or 'payload'}: expected an object, got {type(payload).__name__}"]
    problems = [
        f"{path}{name}: required by the published schema, missing"
        for name in sorted(schema.required - set(payload))
    ]
    for name, value in payload.items():
        spec = schema.fields.get(name)
        if spec is None:
            problems.append(f"{path}{name}: not described by the published schema")
        else:
            problems += value_problems(value, spec, f"{path}{name}")
    return problems


def value_problems(value: object, spec: Field, where: str) -> list[str]:
    if spec.type == "object":
        return payload_problems(value, spec, f"{where}.")
    if not isinstance(value, str):
        return [f"{where}: expected a {spec.type}, got {type(value).__name__}"]
    problems = []
    if spec.enum is not None and value not in spec.enum:
        problems.append(f"{where}: {value!r} is not one of {list(spec.enum)}")
    if spec.format is not None and not re.fullmatch(FORMATS[spec.format], value):
        problems.append(f"{where}: {value!r} is not in the {spec.format} format")
    return problems


def sms_params(method: str, url: str, content_type: str | None, body: bytes) -> dict[str, Any]:
    """The SMS API parameters, read the way a customer's framework reads them."""
    if method == "GET":
        return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    if content_type == SMS_CONTENT_TYPES["POST"]:
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    parsed = json.loads(body)
    return parsed if isinstance(parsed, dict) else {"": parsed}


def sms_webhook_problems(
    *,
    event: str,
    fmt: str,
    signed: bool,
    method: str,
    url: str,
    content_type: str | None,
    body: bytes,
) -> list[str]:
    """An SMS API webhook: transport for its format, fields, formats, and signature fields."""
    problems = []
    expected_method = "GET" if fmt == "GET" else "POST"
    if method != expected_method:
        problems.append(f"method: {method}, but the {fmt} format sends {expected_method}")
    if content_type != SMS_CONTENT_TYPES[fmt]:
        problems.append(f"Content-Type: {content_type!r}, expected {SMS_CONTENT_TYPES[fmt]!r}")
    if fmt == "GET" and body:
        problems.append("body: a GET webhook carries its parameters in the query only")
    params = sms_params(method, url, content_type, body)
    schema = published.DELIVERY_RECEIPT if event == "DELIVERY_RECEIPT" else published.INBOUND_SMS
    problems += payload_problems(params, schema)
    present = [name for name in published.SIGNATURE_FIELDS if name in params]
    if signed and len(present) != len(published.SIGNATURE_FIELDS):
        missing = sorted(set(published.SIGNATURE_FIELDS) - set(present))
        problems.append(f"{', '.join(missing)}: sent with signatures enabled, missing")
    if not signed and present:
        problems.append(f"{', '.join(present)}: only included with signatures enabled")
    return problems + _sms_value_rules(event, params)


def _sms_value_rules(event: str, params: dict[str, Any]) -> list[str]:
    """The rules the published descriptions state about values, beyond their formats."""
    problems = []
    stamp = params.get("message-timestamp", "")
    try:
        sent_at = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return [f"message-timestamp: {stamp!r} is not a date and time"]
    if event == "INBOUND_SMS":
        words = str(params.get("text", "")).split()
        if params.get("keyword") != (words[0].upper() if words else ""):
            problems.append("keyword: not the first word of text, upper-cased")
        # "A unix timestamp representation of message-timestamp."
        if "timestamp" in params and params["timestamp"] != str(int(sent_at.timestamp())):
            problems.append("timestamp: not message-timestamp in Unix seconds")
        return problems
    try:
        datetime.strptime(params.get("scts", ""), "%y%m%d%H%M")
    except ValueError:
        problems.append(f"scts: {params.get('scts')!r} is not YYMMDDHHMM")
    # err-code "will be a non 0 value if there has been an error, or if the status is unknown".
    if (params.get("err-code") == "0") != (params.get("status") in ("delivered", "accepted")):
        problems.append("err-code: does not agree with status")
    return problems


def messages_webhook_problems(
    *, event: str, channel: str, method: str, headers: dict[str, str], body: bytes, secret: str
) -> list[str]:
    """A Messages API webhook: a JSON POST with a payload_hash JWT, shaped for its channel."""
    named = {name.lower(): value for name, value in headers.items()}
    problems = []
    if method != "POST":
        problems.append(f"method: {method}, but Messages API webhooks are POSTs")
    if named.get("content-type") != "application/json":
        problems.append(f"Content-Type: {named.get('content-type')!r}, expected application/json")
    problems += _jwt_problems(named.get("authorization", ""), body, secret)
    payload = json.loads(body)
    if event == "MESSAGE_STATUS":
        return problems + payload_problems(payload, published.message_status(channel))
    message_type = payload.get("message_type") if isinstance(payload, dict) else None
    if message_type not in published.INBOUND_TYPES[channel]:
        problems.append(f"message_type: {message_type!r} is not carried inbound on {channel}")
        return problems
    return problems + payload_problems(payload, published.inbound_message(channel, message_type))


def _jwt_problems(authorization: str, body: bytes, secret: str) -> list[str]:
    scheme, _, token = authorization.partition(" ")
    if scheme != "Bearer" or not token:
        return ["Authorization: expected Bearer <JWT>"]
    try:
        # Samples built at a fixed past instant have long expired: the signature is checked
        # here, and `exp` against the token's own `iat` below.
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"verify_exp": False})
    except jwt.PyJWTError as error:
        return [f"Authorization: the JWT does not verify ({error})"]
    problems = []
    issued, expires = claims.get("iat"), claims.get("exp")
    if not isinstance(expires, int) or not isinstance(issued, int) or expires <= issued:
        problems.append("Authorization: exp is not Unix seconds after iat")
    if claims.get("payload_hash") != hashlib.sha256(body).hexdigest():
        problems.append("Authorization: payload_hash is not the SHA-256 of the body")
    if not isinstance(claims.get("iat"), int):
        problems.append("Authorization: iat is not Unix seconds")
    if not re.fullmatch(FORMATS["uuid"], str(claims.get("jti", ""))):
        problems.append("Authorization: jti is not a UUID")
    return problems
