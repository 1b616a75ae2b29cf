"""Messages API sample payloads, one shape per channel, as the published v1 schemas give them.

Every channel shares the status envelope and the inbound envelope; what differs is who
`to` and `from` are (numbers for SMS, MMS, WhatsApp and Viber handsets, IDs for Messenger
users and pages and for Viber service senders), which statuses a channel reports, and
which message types it carries inbound (MMS carries media only, so its sample is an image).
"""

from __future__ import annotations

from typing import Any

from signing.samples import (
    SAMPLE_INBOUND_TEXT,
    SAMPLE_USAGE,
    SampleContext,
    iso_timestamp,
    keyword_of,
    utc,
)

# Channel names exactly as the payload's `channel` field carries them.
MESSAGES_CHANNELS: tuple[str, ...] = ("sms", "mms", "whatsapp", "viber_service", "messenger")
# What each channel carries inbound, the default (first) one used by a test delivery.
INBOUND_MESSAGE_TYPES: dict[str, tuple[str, ...]] = {
    "sms": ("text",),
    "mms": ("image",),
    "whatsapp": ("text", "image"),
    "viber_service": ("text", "image"),
    "messenger": ("text", "image"),
}
# Sample identities for channels that address people and businesses by ID, not by number.
SAMPLE_MESSENGER_PAGE_ID = "104938271650123"
SAMPLE_MESSENGER_USER_ID = "3928471650238475"
SAMPLE_VIBER_SERVICE_ID = "16273"
SAMPLE_WHATSAPP_PROFILE_NAME = "Switchboard Test"
SAMPLE_IMAGE_URL = "https://example.com/switchboard-test-image.jpg"


def message_status(ctx: SampleContext, channel: str = "sms") -> dict[str, Any]:
    """A Messages API status on `channel`: the message the account sent was delivered.

    Raises ValueError for an unknown channel.
    """
    business, person = _parties(ctx, channel)
    status: dict[str, Any] = {
        "message_uuid": ctx.message_uuid,
        "to": person,
        "from": business,
        "timestamp": iso_timestamp(utc(ctx.now)),
        "status": "delivered",
        "channel": channel,
        "client_ref": ctx.client_ref,
        "usage": dict(SAMPLE_USAGE),
    }
    if channel == "whatsapp":
        # Sent with `delivered` statuses only: the conversation the message was charged to.
        conversation = {
            "id": ctx.message_uuid.replace("-", ""),
            "origin": {"type": "user_initiated"},
        }
        status["whatsapp"] = {"conversation": conversation}
    return status


def inbound_message(
    ctx: SampleContext, channel: str = "sms", message_type: str | None = None
) -> dict[str, Any]:
    """A Messages API inbound message on `channel` from the handset or user to the account.

    `message_type` defaults to the channel's first one (text, or image for MMS).
    Raises ValueError for an unknown channel or a type the channel does not carry.
    """
    business, person = _parties(ctx, channel)
    kind = message_type or INBOUND_MESSAGE_TYPES[channel][0]
    if kind not in INBOUND_MESSAGE_TYPES[channel]:
        raise ValueError(f"the {channel} channel carries no inbound {kind!r} messages")
    inbound: dict[str, Any] = {
        "channel": channel,
        "message_uuid": ctx.message_uuid,
        "to": business,
        "from": person,
        "timestamp": iso_timestamp(utc(ctx.now)),
    }
    if channel == "sms":
        # The SMS channel's shape predates message types: text plus SMS metadata and usage.
        inbound["text"] = SAMPLE_INBOUND_TEXT
        inbound["sms"] = {"num_messages": "1", "keyword": keyword_of(SAMPLE_INBOUND_TEXT)}
        inbound["usage"] = dict(SAMPLE_USAGE)
        return inbound
    if channel == "whatsapp":
        inbound["profile"] = {"name": SAMPLE_WHATSAPP_PROFILE_NAME}
    inbound["message_type"] = kind
    if kind == "text":
        inbound["text"] = SAMPLE_INBOUND_TEXT
    else:
        inbound["image"] = {"url": SAMPLE_IMAGE_URL}
    return inbound


def _parties(ctx: SampleContext, channel: str) -> tuple[str, str]:
    """(the business's address, the person's address) on `channel`."""
    if channel == "messenger":
        return SAMPLE_MESSENGER_PAGE_ID, SAMPLE_MESSENGER_USER_ID
    if channel == "viber_service":
        return SAMPLE_VIBER_SERVICE_ID, ctx.to
    if channel in MESSAGES_CHANNELS:
        return ctx.sender, ctx.to
    raise ValueError(f"unknown Messages channel {channel!r}")
