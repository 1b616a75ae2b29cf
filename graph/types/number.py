"""A phone number the account rents, with its optional inbound webhook override."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated

import strawberry
from strawberry.types import Info

from graph.dataloaders import now_or_later
from graph.enums import WebhookEvent
from graph.relay import Node, to_global_id
from graph.types.api_key import ApiKey
from graph.types.effective import EffectiveWebhook
from models.credentials import ApiKey as ApiKeyRow
from models.enums import WebhookEvent as WebhookEventValue
from models.webhooks import Number as NumberRow
from resolvers import rows
from resolvers.webhooks import number_effective_webhook


def _api_key(row: ApiKeyRow | rows.ApiKey | None) -> ApiKey | None:
    return ApiKey.from_row(row) if row else None


@strawberry.type(description='A number the account rents ("Your numbers").')
class Number(Node):
    row: strawberry.Private[NumberRow | rows.Number]
    msisdn: str = strawberry.field(description="E.164 digits, without the plus.")
    country: str = strawberry.field(description="Two-letter country code.")
    inbound_webhook_url: str | None = strawberry.field(
        description="Inbound webhook for this number only; overrides the key's inbound URL."
    )

    # Sync resolver: on the dashboard, Account.apiKeys has already loaded the keys.
    @strawberry.field(
        description="The API key the number is linked to.", graphql_type=ApiKey | None
    )
    def api_key(self, info: Info) -> ApiKey | Awaitable[ApiKey | None] | None:
        if self.row.api_key_id is None:
            return None
        return now_or_later(info.context.loaders.api_key, self.row.api_key_id, _api_key)

    @strawberry.field(
        description="Where a real webhook of this event for this number would go, and why: the "
        "number's own inbound webhook, else its key's setting for the active API, else nowhere."
    )
    async def effective_webhook(
        self,
        info: Info,
        event: Annotated[WebhookEvent, strawberry.argument(description="The kind of webhook.")],
    ) -> EffectiveWebhook:
        config = None
        if self.row.api_key_id is not None:
            config = await info.context.loaders.messaging.load(self.row.api_key_id)
        result = number_effective_webhook(
            number=self.row, config=config, event=WebhookEventValue(event.value)
        )
        return EffectiveWebhook.from_result(result)

    @classmethod
    def from_row(cls, row: NumberRow | rows.Number) -> Number:
        return cls(
            row=row,
            id=to_global_id("Number", row.id),
            msisdn=row.msisdn,
            country=row.country,
            inbound_webhook_url=row.inbound_webhook_url,
        )
