"""Stored enumerations: the values written to the database, shared by every model."""

from __future__ import annotations

from enum import StrEnum


class MessagingApi(StrEnum):
    SMS_API = "SMS_API"
    MESSAGES_API = "MESSAGES_API"


class WebhookFormat(StrEnum):
    GET = "GET"
    POST = "POST"
    POST_JSON = "POST_JSON"


class SignatureMethod(StrEnum):
    MD5_HASH = "MD5_HASH"
    MD5_HMAC = "MD5_HMAC"
    SHA1_HMAC = "SHA1_HMAC"
    SHA256_HMAC = "SHA256_HMAC"
    SHA512_HMAC = "SHA512_HMAC"


class WebhookEvent(StrEnum):
    DELIVERY_RECEIPT = "DELIVERY_RECEIPT"
    INBOUND_SMS = "INBOUND_SMS"
    MESSAGE_STATUS = "MESSAGE_STATUS"
    INBOUND_MESSAGE = "INBOUND_MESSAGE"


class MessagesChannel(StrEnum):
    """A Messages API channel, stored as the payload's own `channel` value."""

    SMS = "sms"
    MMS = "mms"
    WHATSAPP = "whatsapp"
    VIBER = "viber_service"
    MESSENGER = "messenger"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class DeliveryStepKind(StrEnum):
    STARTED = "STARTED"
    SIGNED = "SIGNED"
    RESOLVED = "RESOLVED"
    BLOCKED = "BLOCKED"
    CONNECTED = "CONNECTED"
    REQUEST_SENT = "REQUEST_SENT"
    RESPONSE = "RESPONSE"
    RETRY_SCHEDULED = "RETRY_SCHEDULED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
