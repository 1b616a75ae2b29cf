"""Sample webhook payloads and the signed HTTP requests that carry them, for test deliveries."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from signing.messages_payloads import MESSAGES_CHANNELS, inbound_message, message_status
from signing.samples import (
    SAMPLE_INBOUND_TEXT,
    SampleContext,
    keyword_of,
    sms_timestamp,
    utc,
)
from signing.sms import sign_sms_params
from signing.webhook_jwt import messages_jwt

__all__ = [
    "MESSAGES_CHANNELS",
    "SampleContext",
    "WebhookRequest",
    "build_messages_request",
    "build_sms_request",
    "build_test_request",
    "delivery_receipt",
    "inbound_message",
    "inbound_sms",
    "json_body",
    "keyword_of",
    "message_status",
]

USER_AGENT = "Switchboard-Webhooks/1.0"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"
SMS_FORMATS: tuple[str, ...] = ("GET", "POST", "POST_JSON")
SMS_EVENTS: tuple[str, ...] = ("DELIVERY_RECEIPT", "INBOUND_SMS")
MESSAGES_EVENTS: tuple[str, ...] = ("MESSAGE_STATUS", "INBOUND_MESSAGE")
WEBHOOK_EVENTS: tuple[str, ...] = (*SMS_EVENTS, *MESSAGES_EVENTS)

SAMPLE_NETWORK_CODE = "23410"
SAMPLE_SMS_PRICE = "0.03330000"


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """An HTTP request ready to send: headers in order, body as the exact bytes to sign."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes


def delivery_receipt(ctx: SampleContext) -> dict[str, str]:
    """An SMS API delivery receipt for a message the account sent to `ctx.to`."""
    now = utc(ctx.now)
    return {
        "msisdn": ctx.to,
        "to": ctx.sender,
        "network-code": SAMPLE_NETWORK_CODE,
        "messageId": ctx.message_id,
        "price": SAMPLE_SMS_PRICE,
        "status": "delivered",
        "scts": now.strftime("%y%m%d%H%M"),
        "err-code": "0",
        "api-key": ctx.api_key,
        "message-timestamp": sms_timestamp(now),
        "client-ref": ctx.client_ref,
    }


def inbound_sms(ctx: SampleContext) -> dict[str, str]:
    """An SMS API inbound message from the handset `ctx.to` to the account's number."""
    return {
        "api-key": ctx.api_key,
        "msisdn": ctx.to,
        "to": ctx.sender,
        "messageId": ctx.message_id,
        "text": SAMPLE_INBOUND_TEXT,
        "type": "text",
        "keyword": keyword_of(SAMPLE_INBOUND_TEXT),
        "message-timestamp": sms_timestamp(utc(ctx.now)),
    }


def json_body(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes a JSON webhook carries (compact, UTF-8); payload_hash is over these."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def build_sms_request(url: str, params: Mapping[str, str], fmt: str) -> WebhookRequest:
    """Carry SMS API `params` by `fmt`: GET query, POST form body or POST_JSON body.

    For GET the URL's own query is kept as written; a param already in it is replaced
    by the value in `params`. Raises ValueError for an unknown format.
    """
    if fmt == "GET":
        return WebhookRequest("GET", _merge_query(url, params), _headers(), b"")
    if fmt == "POST":
        body = urlencode(dict(params)).encode("ascii")
        return WebhookRequest("POST", url, _headers(FORM_CONTENT_TYPE), body)
    if fmt == "POST_JSON":
        return WebhookRequest("POST", url, _headers(JSON_CONTENT_TYPE), json_body(params))
    raise ValueError(f"unknown webhook format {fmt!r}")


def build_messages_request(
    url: str, payload: Mapping[str, Any], *, jwt: str | None
) -> WebhookRequest:
    """Carry a Messages API `payload` as a JSON POST, signed with `Bearer <jwt>` when given."""
    headers = _headers(JSON_CONTENT_TYPE)
    if jwt is not None:
        headers.append(("Authorization", f"Bearer {jwt}"))
    return WebhookRequest("POST", url, headers, json_body(payload))


def build_test_request(
    *,
    event: str,
    url: str,
    ctx: SampleContext,
    fmt: str,
    sign_sms: bool,
    method: str,
    secret: str,
    issued_at: int,
    jti: str,
    issuer: str = "Vonage",
    channel: str = "sms",
) -> WebhookRequest:
    """Assemble the sample webhook for `event`, signed as the platform would sign it.

    SMS API events are encoded by `fmt` and, when `sign_sms` is on, carry `timestamp`,
    `nonce` and the `sig` over both (by `method`); Messages API events are shaped for
    `channel` and always carry a JWT keyed by the same `secret`, with `issuer` as `iss`.
    Raises ValueError for an unknown event, format, channel or signature method.
    """
    if event in MESSAGES_EVENTS:
        if event == "MESSAGE_STATUS":
            payload = message_status(ctx, channel)
        else:
            payload = inbound_message(ctx, channel)
        token = messages_jwt(
            json_body(payload),
            secret,
            api_key=ctx.api_key,
            issued_at=issued_at,
            jti=jti,
            issuer=issuer,
        )
        return build_messages_request(url, payload, jwt=token)
    if event == "DELIVERY_RECEIPT":
        params = delivery_receipt(ctx)
    elif event == "INBOUND_SMS":
        params = inbound_sms(ctx)
    else:
        raise ValueError(f"unknown webhook event {event!r}")
    if fmt not in SMS_FORMATS:
        raise ValueError(f"unknown webhook format {fmt!r}")
    if not sign_sms:
        return build_sms_request(url, params, fmt)
    # Both SMS events carry a nonce when signed, inside what the sig covers.
    params["nonce"] = ctx.nonce
    return _signed_sms_request(url, params, fmt, method, secret, issued_at)


def _signed_sms_request(
    url: str, params: dict[str, str], fmt: str, method: str, secret: str, timestamp: int
) -> WebhookRequest:
    """Sign `params` as the receiver will see them, then encode them by `fmt`."""
    # A GET receiver reads the URL's own query among the params, so the sig covers it too.
    existing = _query_params(url) if fmt == "GET" else {}
    signed = sign_sms_params({**existing, **params}, secret, method, timestamp=timestamp)
    added = {name: value for name, value in signed.items() if existing.get(name) != value}
    return build_sms_request(url, added, fmt)


def _query_params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def _merge_query(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` in its query: existing pieces kept verbatim unless overridden."""
    parts = urlsplit(url)
    pending = dict(params)
    pieces: list[str] = []
    for piece in filter(None, parts.query.split("&")):
        name = unquote_plus(piece.partition("=")[0])
        if name not in params:
            pieces.append(piece)
        elif name in pending:  # the first occurrence takes the new value, repeats go
            pieces.append(urlencode({name: pending.pop(name)}))
    if pending:
        pieces.append(urlencode(pending))
    return urlunsplit(parts._replace(query="&".join(pieces)))


def _headers(content_type: str | None = None) -> list[tuple[str, str]]:
    headers = [("User-Agent", USER_AGENT)]
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    return headers
