"""Public enums, with the descriptions an explorer user reads."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="What a session may do.")
class Role(Enum):
    ADMIN = strawberry.enum_value("ADMIN", description="Read and change everything.")
    VIEWER = strawberry.enum_value("VIEWER", description="Read masked settings only.")


@strawberry.enum(description="Which messaging API a key's webhooks follow (one at a time).")
class MessagingApi(Enum):
    SMS_API = strawberry.enum_value(
        "SMS_API", description="Legacy SMS API: simpler webhooks sent as GET or POST."
    )
    MESSAGES_API = strawberry.enum_value(
        "MESSAGES_API", description="Multi-channel Messages API: JSON webhooks signed with a JWT."
    )


@strawberry.enum(description="How SMS API webhooks carry their data.")
class WebhookFormat(Enum):
    GET = strawberry.enum_value("GET", description="URL query parameters.")
    POST = strawberry.enum_value("POST", description="Form-encoded body.")
    POST_JSON = strawberry.enum_value("POST_JSON", description="JSON body (recommended).")


@strawberry.enum(description="The algorithm that signs webhooks.")
class SignatureMethod(Enum):
    MD5_HASH = strawberry.enum_value("MD5_HASH", description="MD5 hash (legacy, not recommended).")
    MD5_HMAC = strawberry.enum_value("MD5_HMAC", description="MD5 HMAC.")
    SHA1_HMAC = strawberry.enum_value("SHA1_HMAC", description="SHA-1 HMAC.")
    SHA256_HMAC = strawberry.enum_value("SHA256_HMAC", description="SHA-256 HMAC (recommended).")
    SHA512_HMAC = strawberry.enum_value("SHA512_HMAC", description="SHA-512 HMAC (most secure).")


@strawberry.enum(description="A kind of webhook the platform sends.")
class WebhookEvent(Enum):
    DELIVERY_RECEIPT = strawberry.enum_value(
        "DELIVERY_RECEIPT", description="SMS API delivery receipt (DLR)."
    )
    INBOUND_SMS = strawberry.enum_value("INBOUND_SMS", description="SMS API inbound SMS.")
    MESSAGE_STATUS = strawberry.enum_value(
        "MESSAGE_STATUS", description="Messages API status of a sent message."
    )
    INBOUND_MESSAGE = strawberry.enum_value(
        "INBOUND_MESSAGE", description="Messages API inbound message."
    )


@strawberry.enum(
    description="A Messages API channel: which channel's published webhook shape a Messages "
    "API test webhook takes."
)
class MessagesChannel(Enum):
    SMS = strawberry.enum_value(
        "SMS", description='SMS (`channel` "sms"): inbound text with SMS metadata and usage.'
    )
    MMS = strawberry.enum_value(
        "MMS",
        description='MMS (`channel` "mms"): MMS carries media, so the inbound sample is an image.',
    )
    WHATSAPP = strawberry.enum_value(
        "WHATSAPP",
        description='WhatsApp (`channel` "whatsapp"): inbound text with the sender\'s profile; '
        "statuses carry the conversation.",
    )
    VIBER = strawberry.enum_value(
        "VIBER",
        description='Viber Business Messages (`channel` "viber_service"): the business is '
        "addressed by its service ID.",
    )
    MESSENGER = strawberry.enum_value(
        "MESSENGER",
        description='Facebook Messenger (`channel` "messenger"): people and pages are '
        "addressed by ID, not number.",
    )


@strawberry.enum(description="Where a test delivery stands.")
class DeliveryStatus(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Still being attempted.")
    SUCCEEDED = strawberry.enum_value("SUCCEEDED", description="The receiver answered 2xx.")
    FAILED = strawberry.enum_value("FAILED", description="Gave up; the final step says why.")


@strawberry.enum(description="One step of a test delivery.")
class DeliveryStepKind(Enum):
    STARTED = strawberry.enum_value("STARTED", description="The delivery was accepted.")
    SIGNED = strawberry.enum_value("SIGNED", description="The payload was built and signed.")
    RESOLVED = strawberry.enum_value("RESOLVED", description="The host resolved and was vetted.")
    BLOCKED = strawberry.enum_value("BLOCKED", description="The address is not allowed.")
    CONNECTED = strawberry.enum_value("CONNECTED", description="A connection was opened.")
    REQUEST_SENT = strawberry.enum_value("REQUEST_SENT", description="The request was sent.")
    RESPONSE = strawberry.enum_value("RESPONSE", description="The receiver answered.")
    RETRY_SCHEDULED = strawberry.enum_value(
        "RETRY_SCHEDULED", description="Another attempt will follow after a back-off."
    )
    SUCCEEDED = strawberry.enum_value("SUCCEEDED", description="Final: delivered.")
    FAILED = strawberry.enum_value("FAILED", description="Final: not delivered.")


@strawberry.enum(description="Why a mutation refused its input.")
class UserErrorCode(Enum):
    INVALID_INPUT = strawberry.enum_value("INVALID_INPUT", description="A value breaks a rule.")
    INVALID_URL = strawberry.enum_value("INVALID_URL", description="Not an acceptable URL.")
    BLOCKED_ADDRESS = strawberry.enum_value(
        "BLOCKED_ADDRESS", description="The URL points at a private or reserved address."
    )
    SECRET_COMPLEXITY = strawberry.enum_value(
        "SECRET_COMPLEXITY", description="The secret breaks the complexity rule."
    )
    SECRET_LIMIT_REACHED = strawberry.enum_value(
        "SECRET_LIMIT_REACHED", description="The key already has two secrets."
    )
    API_KEY_LIMIT_REACHED = strawberry.enum_value(
        "API_KEY_LIMIT_REACHED", description="The account has as many keys as it may."
    )
    LAST_SECRET = strawberry.enum_value(
        "LAST_SECRET", description="The last secret of a key cannot be revoked."
    )
    NOT_FOUND = strawberry.enum_value("NOT_FOUND", description="No such object for this caller.")
    VERSION_CONFLICT = strawberry.enum_value(
        "VERSION_CONFLICT", description="The settings changed since you read them."
    )
    FORBIDDEN = strawberry.enum_value(
        "FORBIDDEN", description="Your role or key may not do this, or the credentials are wrong."
    )
    RATE_LIMITED = strawberry.enum_value("RATE_LIMITED", description="Too many attempts; wait.")


@strawberry.enum(description="Why a test delivery, or one attempt of it, failed.")
class DeliveryErrorCode(Enum):
    NO_URL = strawberry.enum_value("NO_URL", description="No webhook URL is configured.")
    INVALID_URL = strawberry.enum_value("INVALID_URL", description="The URL is not acceptable.")
    DNS_FAILED = strawberry.enum_value("DNS_FAILED", description="The host name did not resolve.")
    BLOCKED_ADDRESS = strawberry.enum_value(
        "BLOCKED_ADDRESS", description="The host resolved to a private or reserved address."
    )
    BLOCKED_PORT = strawberry.enum_value(
        "BLOCKED_PORT", description="The URL's port is not one test webhooks may reach."
    )
    CONNECT_TIMEOUT = strawberry.enum_value(
        "CONNECT_TIMEOUT", description="No connection was made in time."
    )
    CONNECT_FAILED = strawberry.enum_value(
        "CONNECT_FAILED", description="The connection was refused or dropped."
    )
    TLS_ERROR = strawberry.enum_value(
        "TLS_ERROR", description="The TLS handshake or certificate check failed."
    )
    TIMEOUT = strawberry.enum_value("TIMEOUT", description="No full answer in time.")
    HTTP_STATUS = strawberry.enum_value(
        "HTTP_STATUS", description="The receiver answered with a status other than 2xx."
    )
    REDIRECT = strawberry.enum_value(
        "REDIRECT", description="The receiver answered 3xx; redirects are not followed."
    )
    TOO_LARGE = strawberry.enum_value("TOO_LARGE", description="The answer was too large.")
    INTERRUPTED = strawberry.enum_value(
        "INTERRUPTED",
        description="The server stopped before the request went out: nothing was sent.",
    )
    OUTCOME_UNKNOWN = strawberry.enum_value(
        "OUTCOME_UNKNOWN",
        description="The server stopped or died after the request may have gone out and "
        "before its answer: the receiver may have it, so a redeliver may be a duplicate.",
    )
    INTERNAL = strawberry.enum_value("INTERNAL", description="An unexpected server failure.")

    @classmethod
    def of(cls, stored: str | None) -> DeliveryErrorCode | None:
        """The stored code as an enum value; a code this version does not know reads INTERNAL."""
        if stored is None:
            return None
        return cls.__members__.get(stored, cls.INTERNAL)


@strawberry.enum(description="How a received webhook was signed.")
class SignatureScheme(Enum):
    MESSAGES_JWT = strawberry.enum_value(
        "MESSAGES_JWT", description="Messages API: a JWT in the Authorization header."
    )
    SMS_SIG = strawberry.enum_value(
        "SMS_SIG", description="SMS API: a `sig` parameter; `method` says which algorithm."
    )
    NONE = strawberry.enum_value("NONE", description="No signature was found.")
