"""Sample webhook payloads and the signed HTTP requests that carry them, for test deliveries."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from signing.sms import sign_sms_params
from signing.webhook_jwt import messages_jwt

USER_AGENT = "Switchboard-Webhooks/1.0"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"
SMS_FORMATS: tuple[str, ...] = ("GET", "POST", "POST_JSON")
SMS_EVENTS: tuple[str, ...] = ("DELIVERY_RECEIPT", "INBOUND_SMS")
MESSAGES_EVENTS: tuple[str, ...] = ("MESSAGE_STATUS", "INBOUND_MESSAGE")
WEBHOOK_EVENTS: tuple[str, ...] = (*SMS_EVENTS, *MESSAGES_EVENTS)

SAMPLE_INBOUND_TEXT = "Status of order 4821?"
SAMPLE_NETWORK_CODE = "23410"
SAMPLE_SMS_PRICE = "0.03330000"
SAMPLE_USAGE = {"currency": "EUR", "price": "0.0333"}


@dataclass(frozen=True, slots=True)
class SampleContext:
    """Everything variable in a sample payload, chosen by the caller so builders are pure.

    Names follow an outbound message: `sender` is the account's number (or sender ID)
    and `to` is the handset it wrote to. In inbound events the handset writes to the
    account's number, so there `to` carries `sender` and `msisdn`/`from` carry `to`.
    `now` should be timezone-aware; a naive value is taken to be UTC already.
    """

    api_key: str
    to: str
    sender: str
    now: datetime
    message_id: str
    message_uuid: str
    client_ref: str
    nonce: str


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """An HTTP request ready to send: headers in order, body as the exact bytes to sign."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes


def keyword_of(text: str) -> str:
    """The platform's `keyword` for an inbound text: its first word, upper-cased."""
    words = text.split()
    return words[0].upper() if words else ""


def delivery_receipt(ctx: SampleContext) -> dict[str, str]:
    """An SMS API delivery receipt for a message the account sent to `ctx.to`."""
    now = _utc(ctx.now)
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
        "message-timestamp": _sms_timestamp(now),
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
        "message-timestamp": _sms_timestamp(_utc(ctx.now)),
    }


def message_status(ctx: SampleContext) -> dict[str, Any]:
    """A Messages API status: the SMS the account sent to `ctx.to` was delivered."""
    return {
        "message_uuid": ctx.message_uuid,
        "to": ctx.to,
        "from": ctx.sender,
        "timestamp": _iso_timestamp(_utc(ctx.now)),
        "status": "delivered",
        "channel": "sms",
        "client_ref": ctx.client_ref,
        "usage": dict(SAMPLE_USAGE),
    }


def inbound_message(ctx: SampleContext) -> dict[str, Any]:
    """A Messages API inbound SMS from the handset `ctx.to` to the account's number."""
    return {
        "channel": "sms",
        "message_uuid": ctx.message_uuid,
        "to": ctx.sender,
        "from": ctx.to,
        "timestamp": _iso_timestamp(_utc(ctx.now)),
        "text": SAMPLE_INBOUND_TEXT,
        "sms": {"num_messages": "1", "keyword": keyword_of(SAMPLE_INBOUND_TEXT)},
        "usage": dict(SAMPLE_USAGE),
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
) -> WebhookRequest:
    """Assemble the sample webhook for `event`, signed as the platform would sign it.

    SMS API events are encoded by `fmt` and carry `sig` (by `method`) when `sign_sms`
    is on; Messages API events always carry a JWT keyed by the same `secret`, with
    `issuer` as its `iss` claim.
    Raises ValueError for an unknown event, format or signature method.
    """
    if event == "DELIVERY_RECEIPT":
        params = delivery_receipt(ctx)
    elif event == "INBOUND_SMS":
        params = inbound_sms(ctx)
        if sign_sms:
            params["nonce"] = ctx.nonce
    elif event in MESSAGES_EVENTS:
        payload = message_status(ctx) if event == "MESSAGE_STATUS" else inbound_message(ctx)
        token = messages_jwt(
            json_body(payload),
            secret,
            api_key=ctx.api_key,
            issued_at=issued_at,
            jti=jti,
            issuer=issuer,
        )
        return build_messages_request(url, payload, jwt=token)
    else:
        raise ValueError(f"unknown webhook event {event!r}")
    if fmt not in SMS_FORMATS:
        raise ValueError(f"unknown webhook format {fmt!r}")
    if not sign_sms:
        return build_sms_request(url, params, fmt)
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


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _sms_timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _iso_timestamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"
