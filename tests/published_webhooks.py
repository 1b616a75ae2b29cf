"""The facts a test webhook is checked against, taken from the platform's published OpenAPI files.

Only what the check needs is kept here (field names, JSON types, formats, enums, which
fields are required), transcribed by hand from:

- SMS API: github.com/Nexmo/api-specification, `definitions/sms.yml`, info.version 1.0.10,
  commit 2176bbdfe498e7770edae7d96d953ab3967ae397 — schemas `DeliveryReceipt` (the
  `delivery-receipt` callback) and `InboundMessage` (the `inbound-sms` webhook).
- Messages API v1: `definitions/messages-olympus.yml`, info.version 1.3.0, the newest v1
  version of that file stored in the search index (the Nexmo repository's own stored copy
  is the v0.1 beta, 0.3.0), read from the fork
  github.com/francesco-fipertani-vonage/api-specification at commit
  0ab2f907af1e8de48bbf187dd44f43adf70de991 — schemas `messageStatusBase` and
  `messageStatus{SMS,MMS,WhatsApp,Messenger,Viber}` (the `message-status` callback) and
  `inboundMessageSMS`, `inboundMessageMMS`, `inboundWhatsAppMessageCommon`,
  `InboundMessengerMessageCommon`, `InboundViberMessageCommon` with `Text` and `Image`
  (the `inbound-message` webhook). No version stored there describes an RCS channel.

Where the published files are silent or describe the send request rather than the webhook,
the choice is written beside the fact.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    """One published property: its JSON type, format, enum and, for objects, its own fields."""

    type: str = "string"
    format: str | None = None
    enum: tuple[str, ...] | None = None
    fields: dict[str, Field] = field(default_factory=dict)
    required: frozenset[str] = frozenset()


def text(fmt: str | None = None, enum: tuple[str, ...] | None = None) -> Field:
    return Field("string", fmt, enum)


def obj(fields: dict[str, Field], required: tuple[str, ...] = ()) -> Field:
    return Field("object", fields=fields, required=frozenset(required))


# Value formats, each from the published file named beside it.
FORMATS: dict[str, str] = {
    # sms.yml NewMessage.to `pattern: '\d{7,15}'`; messages ToNumber minLength 7, maxLength 15.
    "e164": r"\d{7,15}",
    # A sender: a number, or an alphanumeric sender ID (sms.yml DeliveryReceipt.to "The
    # SenderID you set in `from`"; messages FromNumber "alpha-numeric sender id's").
    "sender": r"\d{7,15}|[A-Za-z0-9 ]{1,11}",
    # messages ToId / FromId: minLength 1, maxLength 50.
    "id": r"\S.{0,49}",
    "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    # messages Timestamp: "ISO 8601", example 2020-01-01T14:00:00.000Z.
    "iso8601": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
    # sms.yml message-timestamp example `2020-01-01 12:00:00`.
    "sms-datetime": r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",
    # sms.yml DeliveryReceipt.scts: `YYMMDDHHMM`.
    "scts": r"\d{10}",
    "unix-seconds": r"\d{1,11}",
    "hex": r"[0-9a-fA-F]+",
    # sms.yml network-code: MCCMNC.
    "mccmnc": r"\d{5,6}",
    # sms.yml NewMessage.api_key: minLength 8, maxLength 8.
    "api-key": r"\S{8}",
    # sms.yml messageId examples 0A0000001234567B, 0A0000000123ABCD1.
    "message-id": r"[0-9A-Fa-f]{8,40}",
    # "a stringified number" (messages usage.price); sms.yml price example '0.03330000'.
    "decimal": r"\d+(\.\d+)?",
    "digits": r"\d+",
    # messages Image.url `format: url`.
    "url": r"https?://[^\s/]+/\S*",
}

# --- SMS API (sms.yml 1.0.10) ---------------------------------------------------------

DELIVERY_RECEIPT_STATUSES = (
    "delivered",
    "expired",
    "failed",
    "rejected",
    "accepted",
    "buffered",
    "unknown",
)
INBOUND_SMS_TYPES = ("text", "unicode", "binary")
# Present when the account signs webhooks, absent otherwise: DeliveryReceipt describes all
# three as "_Only included if you have signatures enabled_". InboundMessage describes
# `timestamp` and `nonce` but not `sig`; `sig` comes from the signing guide its `nonce`
# description points to, so it is admitted for both events.
SIGNATURE_FIELDS = ("timestamp", "nonce", "sig")

DELIVERY_RECEIPT = obj(
    {
        "msisdn": text("e164"),
        "to": text("sender"),
        "network-code": text("mccmnc"),
        "messageId": text("message-id"),
        "price": text("decimal"),
        "status": text(enum=DELIVERY_RECEIPT_STATUSES),
        "scts": text("scts"),
        "err-code": text("digits"),
        "api-key": text("api-key"),
        "client-ref": text(),
        "message-timestamp": text("sms-datetime"),
        "timestamp": text("unix-seconds"),
        "nonce": text(),
        "sig": text("hex"),
    },
    # The schema lists no `required`; these are the fields it describes without a
    # condition (`client-ref` is "if set when the SMS is sent", which a sample always is).
    required=(
        "msisdn",
        "to",
        "network-code",
        "messageId",
        "price",
        "status",
        "scts",
        "err-code",
        "api-key",
        "message-timestamp",
    ),
)

INBOUND_SMS = obj(
    {
        "api-key": text("api-key"),
        "msisdn": text("e164"),
        "to": text("e164"),
        "messageId": text("message-id"),
        "text": text(),
        "type": text(enum=INBOUND_SMS_TYPES),
        "keyword": text(),
        "message-timestamp": text("sms-datetime"),
        "timestamp": text("unix-seconds"),
        "nonce": text(),
        "sig": text("hex"),
        "concat": text(),
        "concat-ref": text(),
        "concat-total": text("digits"),
        "concat-part": text("digits"),
        "data": text(),
        "udh": text("hex"),
    },
    required=(
        "msisdn",
        "to",
        "messageId",
        "text",
        "type",
        "keyword",
        "message-timestamp",
        "api-key",
    ),
)

# --- Messages API v1 (messages-olympus.yml 1.3.0) ---------------------------------------

MESSAGES_CHANNELS = ("sms", "mms", "whatsapp", "messenger", "viber_service")
STATUSES = ("submitted", "delivered", "rejected", "undeliverable")
# messageStatusWhatsApp, messageStatusMessenger and messageStatusViber add `read`.
READ_CHANNELS = ("whatsapp", "messenger", "viber_service")
USAGE = obj({"currency": text(enum=("EUR",)), "price": text("decimal")})
ERROR = obj({"type": text("url"), "title": text(), "detail": text(), "instance": text()})
WHATSAPP_STATUS_DETAIL = obj(
    {
        "conversation": obj(
            {"id": text(), "origin": obj({"type": text()})},
        )
    }
)
# Who `to` and `from` are, per channel (ToNumber/FromNumber, or ToId/FromId).
STATUS_PARTIES = {
    "sms": ("e164", "sender"),
    "mms": ("e164", "sender"),
    "whatsapp": ("e164", "sender"),
    "viber_service": ("e164", "sender"),
    "messenger": ("id", "id"),
}
INBOUND_PARTIES = {
    "sms": ("e164", "sender"),
    "mms": ("e164", "sender"),
    "whatsapp": ("e164", "sender"),
    "viber_service": ("id", "sender"),
    "messenger": ("id", "id"),
}
# Inbound message types per channel among those the webhook describes (text and image).
INBOUND_TYPES = {
    "sms": (None,),  # inboundMessageSMS has no message_type: text plus `sms` metadata
    "mms": ("image",),
    "whatsapp": ("text", "image"),
    "messenger": ("text", "image"),
    "viber_service": ("text", "image"),
}


def message_status(channel: str) -> Field:
    """messageStatusBase with the channel's own schema laid over it."""
    to, sender = STATUS_PARTIES[channel]
    statuses = (*STATUSES, "read") if channel in READ_CHANNELS else STATUSES
    fields = {
        "message_uuid": text("uuid"),
        "to": text(to),
        "from": text(sender),
        "timestamp": text("iso8601"),
        "status": text(enum=statuses),
        "error": ERROR,
        "usage": USAGE,
        "client_ref": text(),
        "channel": text(enum=(channel,)),
    }
    if channel == "whatsapp":
        fields["whatsapp"] = WHATSAPP_STATUS_DETAIL
    required = ("message_uuid", "channel", "to", "from", "timestamp", "status")
    return obj(fields, required)


def inbound_message(channel: str, message_type: str | None) -> Field:
    """The channel's inbound schema, joined with `Text` or `Image` for its message type.

    `Text` and `Image` build on `baseMessageType`, whose `required` also names `message`:
    that list describes the send request (`message` is nowhere among the inbound
    properties or examples), so only the webhook's own fields are required here.
    """
    to, sender = INBOUND_PARTIES[channel]
    fields = {
        "channel": text(enum=(channel,)),
        "message_uuid": text("uuid"),
        "to": text(to),
        "from": text(sender),
        "timestamp": text("iso8601"),
    }
    required = ["channel", "message_uuid", "to", "from", "timestamp"]
    if channel == "sms":
        fields["text"] = text()
        fields["sms"] = obj({"num_messages": text("digits"), "keyword": text()})
        fields["usage"] = USAGE
        return obj(fields, (*required, "text"))
    if channel == "whatsapp":
        fields["profile"] = obj({"name": text()}, ("name",))
        fields["context"] = obj(
            {"message_uuid": text("uuid"), "message_from": text("e164")},
        )
        fields["provider_message"] = text()
    fields["client_ref"] = text()
    fields["message_type"] = text(enum=(message_type or "",))
    if message_type == "text":
        fields["text"] = text()
        return obj(fields, (*required, "message_type", "text"))
    fields["image"] = obj({"url": text("url")}, ("url",))
    return obj(fields, (*required, "message_type", "image"))
