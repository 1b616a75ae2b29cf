"""The input testDeliveryStart and testWebhook share: which sample webhook to send, and where.

Both inputs extend `TestWebhookFields`, so the two stay the same field for field; each adds
its own `idempotencyKey`, whose description says what a repeat does (the mutation returns
the first delivery, the subscription follows it)."""

from __future__ import annotations

from typing import TypedDict

import strawberry

from graph.enums import MessagesChannel, WebhookEvent
from graph.relay import pk_of
from models.enums import MessagesChannel as MessagesChannelValue
from models.enums import WebhookEvent as WebhookEventValue


class SampleWebhook(TypedDict):
    """The resolver's keyword arguments for a test delivery."""

    api_key_id: int | None
    event: WebhookEventValue
    number_id: int | None
    url: str | None
    channel: MessagesChannelValue
    idempotency_key: str | None


def optional_pk(global_id: strawberry.ID | None, type_name: str) -> int | None:
    if global_id is None:
        return None
    # 0 matches no row: a malformed ID answers NOT_FOUND, exactly like a missing one.
    return pk_of(global_id, type_name) or 0


@strawberry.input(description="Which sample webhook to send, and where.")
class TestWebhookFields:
    api_key_id: strawberry.ID = strawberry.field(
        description="The key whose settings and signature secret the webhook uses."
    )
    event: WebhookEvent = strawberry.field(description="The kind of webhook to send.")
    number_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A number of that key: its msisdn goes in the payload and, for inbound "
        "events, its own inbound webhook is used when it has one.",
    )
    url: str | None = strawberry.field(
        default=None,
        description="Send to this one-off URL instead of the configured webhook (same rules).",
    )
    channel: MessagesChannel = strawberry.field(
        default=MessagesChannel.SMS,
        description="For MESSAGE_STATUS and INBOUND_MESSAGE: the channel the sample comes from, "
        "shaped as the platform's published webhook schema for that channel. SMS API events "
        "have no channel: any other value than SMS is refused (INVALID_INPUT).",
    )

    def sample(self, idempotency_key: str | None) -> SampleWebhook:
        """The input as the resolver's keyword arguments (global IDs to primary keys)."""
        return SampleWebhook(
            api_key_id=pk_of(self.api_key_id, "ApiKey"),
            event=WebhookEventValue(self.event.value),
            number_id=optional_pk(self.number_id, "Number"),
            url=self.url,
            channel=MessagesChannelValue[self.channel.name],
            idempotency_key=idempotency_key,
        )
