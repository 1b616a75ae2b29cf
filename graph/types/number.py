"""A phone number the account rents, with its optional inbound webhook override."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graph.relay import Node, to_global_id
from graph.types.api_key import ApiKey
from models.webhooks import Number as NumberRow


@strawberry.type(description='A number the account rents ("Your numbers").')
class Number(Node):
    row: strawberry.Private[NumberRow]
    msisdn: str = strawberry.field(description="E.164 digits, without the plus.")
    country: str = strawberry.field(description="Two-letter country code.")
    inbound_webhook_url: str | None = strawberry.field(
        description="Inbound webhook for this number only; overrides the key's inbound URL."
    )

    @strawberry.field(description="The API key the number is linked to.")
    async def api_key(self, info: Info) -> ApiKey | None:
        if self.row.api_key_id is None:
            return None
        row = await info.context.loaders.api_key.load(self.row.api_key_id)
        return ApiKey.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: NumberRow) -> Number:
        return cls(
            row=row,
            id=to_global_id("Number", row.id),
            msisdn=row.msisdn,
            country=row.country,
            inbound_webhook_url=row.inbound_webhook_url,
        )
