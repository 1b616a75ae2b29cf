"""Mutations of webhook settings: messaging API, SMS and Messages webhooks, numbers' webhooks,
and signed webhooks (method and signature secret)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from graph.context import principal_of
from graph.enums import MessagingApi, SignatureMethod, WebhookFormat
from graph.errors import UserError, user_errors
from graph.relay import pk_of
from graph.types.api_key import ApiKey, MessagingConfig, SignatureConfig
from graph.types.number import Number
from models.enums import MessagingApi as MessagingApiValue
from models.enums import SignatureMethod as SignatureMethodValue
from models.enums import WebhookFormat as WebhookFormatValue
from resolvers import signature, webhooks
from resolvers.errors import DomainError
from resolvers.partial import KEEP

_API_KEY_ID = "Global ID of the API key."
_EXPECTED_VERSION = (
    "The `MessagingConfig.version` you last read; if the settings changed since, nothing "
    "is changed and VERSION_CONFLICT is returned. Leave it out to apply the change anyway."
)
_URL_RULES = (
    "An absolute http(s) URL of at most 2048 characters that reaches a public address. "
    'Leave it out to keep it; null or "" clears it.'
)


def common_args(info: Info) -> dict[str, Any]:
    """What every operation is handed: dependencies, the caller, where the request came from."""
    return {
        "deps": info.context.deps,
        "principal": principal_of(info),
        "request": info.context.request_info,
    }


def given(value: Any, convert: Callable[[Any], Any] | None = None) -> Any:
    """KEEP for a field the caller left out; null as null; anything else converted."""
    if value is strawberry.UNSET:
        return KEEP
    if value is None or convert is None:
        return value
    return convert(value)


def unset_to_none(value: Any) -> Any:
    return None if value is strawberry.UNSET else value


@strawberry.input(description="Choose which messaging API a key's webhooks follow.")
class MessagingApiSetInput:
    api_key_id: strawberry.ID = strawberry.field(description=_API_KEY_ID)
    api: MessagingApi = strawberry.field(
        description="The API to use; the other API's webhooks are kept but not sent."
    )
    expected_version: int | None = strawberry.field(
        default=strawberry.UNSET, description=_EXPECTED_VERSION
    )


@strawberry.input(description="Change SMS API webhooks; fields left out stay as they are.")
class SmsWebhooksUpdateInput:
    api_key_id: strawberry.ID = strawberry.field(description=_API_KEY_ID)
    format: WebhookFormat | None = strawberry.field(
        default=strawberry.UNSET,
        description="How delivery receipts are sent; leave it out to keep it (it cannot be null).",
    )
    delivery_receipt_url: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"Delivery receipts (DLR). {_URL_RULES}"
    )
    inbound_sms_url: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"Inbound SMS. {_URL_RULES}"
    )
    expected_version: int | None = strawberry.field(
        default=strawberry.UNSET, description=_EXPECTED_VERSION
    )


@strawberry.input(description="Change Messages API webhooks; fields left out stay as they are.")
class MessagesWebhooksUpdateInput:
    api_key_id: strawberry.ID = strawberry.field(description=_API_KEY_ID)
    status_url: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"Status of sent messages. {_URL_RULES}"
    )
    inbound_url: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"Inbound messages, any channel. {_URL_RULES}"
    )
    expected_version: int | None = strawberry.field(
        default=strawberry.UNSET, description=_EXPECTED_VERSION
    )


@strawberry.type(description="The messaging settings after the change.")
class MessagingConfigPayload:
    messaging: MessagingConfig | None = strawberry.field(
        description="The settings as stored now; null when the change was refused."
    )
    api_key: ApiKey | None = strawberry.field(description="The key the settings belong to.")
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was changed; empty on success."
    )


@strawberry.input(description="Set or clear a number's own inbound webhook.")
class NumberWebhookSetInput:
    number_id: strawberry.ID = strawberry.field(description="Global ID of the number.")
    inbound_webhook_url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Inbound webhook for this number only, overriding its key's inbound URL "
        '(same rules as every webhook URL). Null, "" or left out clears it, so the key\'s '
        "inbound URL applies again.",
    )


@strawberry.type(description="The number after the change.")
class NumberWebhookSetPayload:
    number: Number | None = strawberry.field(
        description="The number as stored now; null when the change was refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was changed; empty on success."
    )


@strawberry.input(description="Change how webhooks are signed; fields left out stay as they are.")
class SignatureSettingsUpdateInput:
    api_key_id: strawberry.ID = strawberry.field(description=_API_KEY_ID)
    method: SignatureMethod | None = strawberry.field(
        default=strawberry.UNSET,
        description="The signing algorithm; leave it out to keep it (it cannot be null).",
    )
    sign_sms_webhooks: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Whether SMS API webhooks carry a `sig`; leave it out to keep it.",
    )


@strawberry.type(description="The signature settings after the change.")
class SignatureSettingsUpdatePayload:
    signature: SignatureConfig | None = strawberry.field(
        description="The settings as stored now; null when the change was refused."
    )
    api_key: ApiKey | None = strawberry.field(description="The key the settings belong to.")
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was changed; empty on success."
    )


@strawberry.input(description="Replace a key's signature secret with a new generated one.")
class SignatureSecretRotateInput:
    api_key_id: strawberry.ID = strawberry.field(description=_API_KEY_ID)


@strawberry.input(description="Show a key's signature secret in plaintext (audited).")
class SignatureSecretRevealInput:
    api_key_id: strawberry.ID = strawberry.field(description=_API_KEY_ID)


@strawberry.type(description="A signature secret in plaintext, shown once.")
class SignatureSecretPayload:
    secret_plaintext: str | None = strawberry.field(
        description="The signature secret; copy it now, it is shown masked everywhere else."
    )
    signature: SignatureConfig | None = strawberry.field(
        description="The signature settings, secret masked."
    )
    api_key: ApiKey | None = strawberry.field(
        description="The key, whose `signature` now shows the new masked secret: select it so "
        "a client cache replaces the old one."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why no secret is shown; empty on success."
    )


async def _messaging_payload(
    info: Info, operation: Callable[..., Awaitable[webhooks.MessagingResult]], **args: Any
) -> MessagingConfigPayload:
    try:
        result = await operation(**common_args(info), **args)
    except DomainError as error:
        return MessagingConfigPayload(messaging=None, api_key=None, user_errors=user_errors(error))
    return MessagingConfigPayload(
        messaging=MessagingConfig.from_row(result.messaging),
        api_key=ApiKey.from_row(result.api_key),
        user_errors=[],
    )


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description="Switch a key between the SMS API and the Messages API (ADMIN)."
    )
    async def messaging_api_set(
        self,
        info: Info,
        input: Annotated[MessagingApiSetInput, strawberry.argument(description="The change.")],
    ) -> MessagingConfigPayload:
        return await _messaging_payload(
            info,
            webhooks.set_messaging_api,
            api_key_id=pk_of(input.api_key_id, "ApiKey"),
            api=MessagingApiValue(input.api.value),
            expected_version=unset_to_none(input.expected_version),
        )

    @strawberry.mutation(
        description="Change the SMS API webhook format and URLs; a partial update (ADMIN)."
    )
    async def sms_webhooks_update(
        self,
        info: Info,
        input: Annotated[SmsWebhooksUpdateInput, strawberry.argument(description="The change.")],
    ) -> MessagingConfigPayload:
        return await _messaging_payload(
            info,
            webhooks.update_sms_webhooks,
            api_key_id=pk_of(input.api_key_id, "ApiKey"),
            sms_format=given(input.format, lambda value: WebhookFormatValue(value.value)),
            delivery_receipt_url=given(input.delivery_receipt_url),
            inbound_sms_url=given(input.inbound_sms_url),
            expected_version=unset_to_none(input.expected_version),
        )

    @strawberry.mutation(
        description="Change the Messages API default webhook URLs; a partial update (ADMIN)."
    )
    async def messages_webhooks_update(
        self,
        info: Info,
        input: Annotated[
            MessagesWebhooksUpdateInput, strawberry.argument(description="The change.")
        ],
    ) -> MessagingConfigPayload:
        return await _messaging_payload(
            info,
            webhooks.update_messages_webhooks,
            api_key_id=pk_of(input.api_key_id, "ApiKey"),
            status_url=given(input.status_url),
            inbound_url=given(input.inbound_url),
            expected_version=unset_to_none(input.expected_version),
        )

    @strawberry.mutation(description="Set or clear a number's own inbound webhook (ADMIN).")
    async def number_webhook_set(
        self,
        info: Info,
        input: Annotated[NumberWebhookSetInput, strawberry.argument(description="The change.")],
    ) -> NumberWebhookSetPayload:
        try:
            row = await webhooks.set_number_webhook(
                **common_args(info),
                number_id=pk_of(input.number_id, "Number"),
                inbound_webhook_url=unset_to_none(input.inbound_webhook_url),
            )
        except DomainError as error:
            return NumberWebhookSetPayload(number=None, user_errors=user_errors(error))
        return NumberWebhookSetPayload(number=Number.from_row(row), user_errors=[])

    @strawberry.mutation(
        description="Change the signature method and SMS signing; a partial update (ADMIN)."
    )
    async def signature_settings_update(
        self,
        info: Info,
        input: Annotated[
            SignatureSettingsUpdateInput, strawberry.argument(description="The change.")
        ],
    ) -> SignatureSettingsUpdatePayload:
        try:
            result = await signature.update_signature_settings(
                **common_args(info),
                api_key_id=pk_of(input.api_key_id, "ApiKey"),
                method=given(input.method, lambda value: SignatureMethodValue(value.value)),
                sign_sms_webhooks=given(input.sign_sms_webhooks),
            )
        except DomainError as error:
            return SignatureSettingsUpdatePayload(
                signature=None, api_key=None, user_errors=user_errors(error)
            )
        return SignatureSettingsUpdatePayload(
            signature=SignatureConfig.from_row(result.signature),
            api_key=ApiKey.from_row(result.api_key),
            user_errors=[],
        )

    @strawberry.mutation(
        description="Replace the signature secret with a new generated one, shown in plaintext "
        "this once; webhooks are signed with it from now on (ADMIN)."
    )
    async def signature_secret_rotate(
        self,
        info: Info,
        input: Annotated[SignatureSecretRotateInput, strawberry.argument(description="The key.")],
    ) -> SignatureSecretPayload:
        return await _secret_payload(info, signature.rotate_signature_secret, input.api_key_id)

    @strawberry.mutation(
        description="Show the signature secret in plaintext (ADMIN; audited; a few per minute)."
    )
    async def signature_secret_reveal(
        self,
        info: Info,
        input: Annotated[SignatureSecretRevealInput, strawberry.argument(description="The key.")],
    ) -> SignatureSecretPayload:
        return await _secret_payload(info, signature.reveal_signature_secret, input.api_key_id)


async def _secret_payload(
    info: Info, operation: Callable[..., Awaitable[signature.SignatureResult]], api_key_id: str
) -> SignatureSecretPayload:
    try:
        result = await operation(**common_args(info), api_key_id=pk_of(api_key_id, "ApiKey"))
    except DomainError as error:
        return SignatureSecretPayload(
            secret_plaintext=None, signature=None, api_key=None, user_errors=user_errors(error)
        )
    return SignatureSecretPayload(
        secret_plaintext=result.secret_plaintext,
        signature=SignatureConfig.from_row(result.signature),
        api_key=ApiKey.from_row(result.api_key),
        user_errors=[],
    )
