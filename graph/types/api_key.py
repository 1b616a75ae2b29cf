"""An API key with its secrets, messaging configuration and signature configuration."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from graph.context import principal_of
from graph.dataloaders import now_or_later
from graph.enums import MessagingApi, SignatureMethod, WebhookFormat
from graph.relay import After, Before, Connection, First, Last, Node, page_args, to_global_id
from graph.types.delivery import TestDelivery
from graph.types.signature_check import SignatureCheckInput, SignatureCheckResult
from models.credentials import ApiKey as ApiKeyRow
from models.credentials import ApiSecret as ApiSecretRow
from models.webhooks import MessagingConfig as MessagingRow
from models.webhooks import SignatureConfig as SignatureRow
from resolvers import rows
from resolvers.errors import BadRequest
from resolvers.reads import count_test_deliveries, list_test_deliveries
from resolvers.signature_check import check_received_webhook
from signing.secrets import mask_hint


@strawberry.type(description="A credential paired with a key; only ever shown masked here.")
class ApiSecret(Node):
    masked: str = strawberry.field(description="The secret masked, e.g. ••••••••••••3fQa.")
    created_at: datetime = strawberry.field(description="When it was created.")
    last_used_at: datetime | None = strawberry.field(
        description="When it last authenticated a request (to the minute); null if never."
    )
    expires_at: datetime | None = strawberry.field(
        description="When it stops working by itself (after a roll); null if it does not expire."
    )

    @classmethod
    def from_row(cls, row: ApiSecretRow | rows.ApiSecret) -> ApiSecret:
        return cls(
            id=to_global_id("ApiSecret", row.id),
            masked=mask_hint(row.hint),
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
        )


@strawberry.type(description="SMS API webhook settings.")
class SmsWebhooks:
    format: WebhookFormat = strawberry.field(description="How delivery receipts are sent.")
    delivery_receipt_url: str | None = strawberry.field(description="Delivery receipts (DLR).")
    inbound_sms_url: str | None = strawberry.field(description="Inbound SMS.")


@strawberry.type(description="Messages API default webhooks (always JSON).")
class MessagesWebhooks:
    status_url: str | None = strawberry.field(description="Status of sent messages.")
    inbound_url: str | None = strawberry.field(description="Inbound messages, any channel.")


@strawberry.type(description="Which messaging API a key uses and where its webhooks go.")
class MessagingConfig:
    api: MessagingApi = strawberry.field(description="The active API; only its webhooks are used.")
    sms: SmsWebhooks = strawberry.field(description="SMS API webhooks (kept when inactive).")
    messages: MessagesWebhooks = strawberry.field(
        description="Messages API webhooks (kept when inactive)."
    )
    version: int = strawberry.field(
        description="Increases on every change; pass it as `expectedVersion` to refuse stale edits."
    )

    @classmethod
    def from_row(cls, row: MessagingRow | rows.MessagingConfig) -> MessagingConfig:
        return cls(
            api=MessagingApi(row.api.value),
            sms=SmsWebhooks(
                format=WebhookFormat(row.sms_format.value),
                delivery_receipt_url=row.delivery_receipt_url,
                inbound_sms_url=row.inbound_sms_url,
            ),
            messages=MessagesWebhooks(status_url=row.status_url, inbound_url=row.inbound_url),
            version=row.version,
        )


@strawberry.type(description="Signed webhooks: the secret (masked) and the method.")
class SignatureConfig:
    method: SignatureMethod = strawberry.field(description="The signing algorithm.")
    masked_secret: str = strawberry.field(description="The signature secret, masked.")
    sign_sms_webhooks: bool = strawberry.field(description="Whether SMS API webhooks are signed.")

    @classmethod
    def from_row(cls, row: SignatureRow | rows.SignatureConfig) -> SignatureConfig:
        return cls(
            method=SignatureMethod(row.method.value),
            masked_secret=mask_hint(row.secret_hint),
            sign_sms_webhooks=row.sign_sms_webhooks,
        )


def _secrets(found: list[ApiSecretRow | rows.ApiSecret]) -> list[ApiSecret]:
    return [ApiSecret.from_row(row) for row in found]


def _messaging(settings: rows.KeySettings) -> MessagingConfig:
    return MessagingConfig.from_row(settings.messaging)


def _signature(settings: rows.KeySettings) -> SignatureConfig:
    return SignatureConfig.from_row(settings.signature)


@strawberry.type(description="A public identifier used in API requests, with its own settings.")
class ApiKey(Node):
    row: strawberry.Private[ApiKeyRow | rows.ApiKey]
    key: str = strawberry.field(description="The key itself: 8 lowercase hex characters.")
    nickname: str | None = strawberry.field(description='A name such as "Production".')
    is_primary: bool = strawberry.field(description="The account's primary key.")
    created_at: datetime = strawberry.field(description="When it was created.")

    # Sync resolvers: on a page of keys, Account.apiKeys has already loaded these.
    @strawberry.field(
        description="Live secrets, oldest first: API secret 1, then API secret 2.",
        graphql_type=list[ApiSecret],
    )
    def secrets(self, info: Info) -> list[ApiSecret] | Awaitable[list[ApiSecret]]:
        return now_or_later(info.context.loaders.secrets, self.row.id, _secrets)

    @strawberry.field(
        description="Messaging API type and webhook URLs.", graphql_type=MessagingConfig
    )
    def messaging(self, info: Info) -> MessagingConfig | Awaitable[MessagingConfig]:
        return now_or_later(info.context.loaders.settings, self.row.id, _messaging)

    @strawberry.field(description="Signed webhooks settings.", graphql_type=SignatureConfig)
    def signature(self, info: Info) -> SignatureConfig | Awaitable[SignatureConfig]:
        return now_or_later(info.context.loaders.settings, self.row.id, _signature)

    @strawberry.field(description="Test deliveries of this key, newest first.")
    async def test_deliveries(
        self,
        before: Before = None,
        after: After = None,
        first: First = None,
        last: Last = None,
    ) -> Connection[TestDelivery]:
        page = await list_test_deliveries(
            api_key_id=self.row.id, page=page_args(first, after, last, before)
        )
        api_key_id = self.row.id
        return Connection.from_page(
            page, TestDelivery.from_row, lambda: count_test_deliveries(api_key_id=api_key_id)
        )

    @strawberry.field(
        description="Check a webhook your server received: does it verify with this key's "
        "signature secret, by which scheme, and if not, why not."
    )
    async def signature_check(
        self,
        info: Info,
        input: Annotated[
            SignatureCheckInput, strawberry.argument(description="The received webhook.")
        ],
    ) -> SignatureCheckResult:
        verdict = await check_received_webhook(
            deps=info.context.deps,
            principal=principal_of(info),
            api_key_id=self.row.id,
            http_method=input.http_method,
            url=input.url,
            headers=[(header.name, header.value) for header in input.headers],
            body=_utf8(input.body, "body"),
            params=None
            if input.parameters is None
            else [(param.name, param.value) for param in input.parameters],
            max_age_seconds=input.max_age_seconds,
        )
        return SignatureCheckResult.from_verdict(verdict.valid, verdict.scheme, verdict.reason)

    @classmethod
    def from_row(cls, row: ApiKeyRow | rows.ApiKey) -> ApiKey:
        return cls(
            row=row,
            id=to_global_id("ApiKey", row.id),
            key=row.key,
            nickname=row.nickname,
            is_primary=row.is_primary,
            created_at=row.created_at,
        )


def _utf8(text: str | None, field: str) -> bytes:
    try:
        return (text or "").encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRequest(
            f"input.{field} holds a lone surrogate at character {exc.start + 1}, which is not "
            "UTF-8 text."
        ) from None
