"""Where a real webhook would go: number override, the key's active setting, or nowhere."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from models.enums import MessagingApi, WebhookEvent
from models.webhooks import MessagingConfig, Number
from resolvers import rows

SMS_EVENTS = {WebhookEvent.DELIVERY_RECEIPT, WebhookEvent.INBOUND_SMS}
INBOUND_EVENTS = {WebhookEvent.INBOUND_SMS, WebhookEvent.INBOUND_MESSAGE}


class EffectiveSource(StrEnum):
    NUMBER_OVERRIDE = "NUMBER_OVERRIDE"
    KEY_SETTING = "KEY_SETTING"
    INACTIVE_API = "INACTIVE_API"
    NOT_SET = "NOT_SET"


@dataclass(frozen=True)
class EffectiveWebhook:
    url: str | None
    source: EffectiveSource
    reason: str


def _key_url(config: MessagingConfig | rows.MessagingConfig, event: WebhookEvent) -> str | None:
    return {
        WebhookEvent.DELIVERY_RECEIPT: config.delivery_receipt_url,
        WebhookEvent.INBOUND_SMS: config.inbound_sms_url,
        WebhookEvent.MESSAGE_STATUS: config.status_url,
        WebhookEvent.INBOUND_MESSAGE: config.inbound_url,
    }[event]


def effective_webhook(
    config: MessagingConfig | rows.MessagingConfig,
    event: WebhookEvent,
    number: Number | rows.Number | None = None,
) -> EffectiveWebhook:
    """The URL a real `event` would be sent to, and why."""
    api_of_event = MessagingApi.SMS_API if event in SMS_EVENTS else MessagingApi.MESSAGES_API
    if config.api != api_of_event:
        return EffectiveWebhook(
            None,
            EffectiveSource.INACTIVE_API,
            f"This key uses the {config.api.value}; {event.value} webhooks belong to the "
            f"{api_of_event.value} and are not sent.",
        )
    if number is not None and event in INBOUND_EVENTS and number.inbound_webhook_url:
        return EffectiveWebhook(
            number.inbound_webhook_url,
            EffectiveSource.NUMBER_OVERRIDE,
            f"Number {number.msisdn} has its own inbound webhook.",
        )
    url = _key_url(config, event)
    if url:
        return EffectiveWebhook(url, EffectiveSource.KEY_SETTING, "The key's webhook setting.")
    return EffectiveWebhook(None, EffectiveSource.NOT_SET, "No webhook URL is set for this event.")
