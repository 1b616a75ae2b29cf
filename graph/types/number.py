"""A phone number the account rents, with its optional inbound webhook override."""

from __future__ import annotations

from collections.abc import Awaitable

import strawberry
from strawberry.types import Info

from graph.dataloaders import now_or_later
from graph.relay import Node, to_global_id
from graph.types.api_key import ApiKey
from models.credentials import ApiKey as ApiKeyRow
from models.webhooks import Number as NumberRow
from resolvers import rows


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

    @classmethod
    def from_row(cls, row: NumberRow | rows.Number) -> Number:
        return cls(
            row=row,
            id=to_global_id("Number", row.id),
            msisdn=row.msisdn,
            country=row.country,
            inbound_webhook_url=row.inbound_webhook_url,
        )
