"""Webhook settings: the messaging API in use, SMS and Messages webhook URLs, numbers' own
inbound webhooks, and where a real webhook would go."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from models.credentials import ApiKey
from models.enums import MessagingApi, WebhookEvent, WebhookFormat
from models.webhooks import MessagingConfig, Number
from resolvers import audit, events
from resolvers.access import owned_api_key, owned_number, require_admin
from resolvers.deps import Deps
from resolvers.effective import EffectiveSource, EffectiveWebhook, effective_webhook
from resolvers.errors import DomainError, DomainErrors, ErrorCode
from resolvers.partial import KEEP, Keep, provided
from resolvers.principal import Principal, RequestInfo
from signing.urls import UrlRuleError, check_webhook_url

# Stored field -> the input field (and audit key) callers know it by.
_PUBLIC_NAMES = {
    "api": "api",
    "sms_format": "format",
    "delivery_receipt_url": "deliveryReceiptUrl",
    "inbound_sms_url": "inboundSmsUrl",
    "status_url": "statusUrl",
    "inbound_url": "inboundUrl",
}
_URL_FIELDS = frozenset({"delivery_receipt_url", "inbound_sms_url", "status_url", "inbound_url"})


@dataclass(frozen=True)
class MessagingResult:
    api_key: ApiKey
    messaging: MessagingConfig


def webhook_url(deps: Deps, value: str | None, field: str) -> str | None:
    """The URL as stored: None when null or "" (clear), else normalised by the URL rules."""
    if value is None or value == "":
        return None
    try:
        return check_webhook_url(value, allow_private=deps.allow_private_webhooks)
    except UrlRuleError as error:
        raise DomainError(ErrorCode(error.code), error.message, [field]) from None


async def set_messaging_api(
    *,
    deps: Deps,
    principal: Principal,
    request: RequestInfo | None = None,
    api_key_id: int | None,
    api: MessagingApi,
    expected_version: int | None = None,
) -> MessagingResult:
    """Switch the API whose webhooks a key receives; both webhook sets are kept."""
    return await _change_messaging(
        deps=deps,
        principal=principal,
        request=request,
        api_key_id=api_key_id,
        expected_version=expected_version,
        changes={"api": api},
        action="messaging_api.set",
        section="messaging",
    )


async def update_sms_webhooks(
    *,
    deps: Deps,
    principal: Principal,
    request: RequestInfo | None = None,
    api_key_id: int | None,
    sms_format: WebhookFormat | Keep | None = KEEP,
    delivery_receipt_url: str | Keep | None = KEEP,
    inbound_sms_url: str | Keep | None = KEEP,
    expected_version: int | None = None,
) -> MessagingResult:
    """Change the SMS API webhooks; a field left as KEEP stays, None or "" clears a URL."""
    return await _change_messaging(
        deps=deps,
        principal=principal,
        request=request,
        api_key_id=api_key_id,
        expected_version=expected_version,
        changes=provided(
            sms_format=sms_format,
            delivery_receipt_url=delivery_receipt_url,
            inbound_sms_url=inbound_sms_url,
        ),
        action="sms_webhooks.update",
        section="smsWebhooks",
    )


async def update_messages_webhooks(
    *,
    deps: Deps,
    principal: Principal,
    request: RequestInfo | None = None,
    api_key_id: int | None,
    status_url: str | Keep | None = KEEP,
    inbound_url: str | Keep | None = KEEP,
    expected_version: int | None = None,
) -> MessagingResult:
    """Change the Messages API webhooks; a field left as KEEP stays, None or "" clears it."""
    return await _change_messaging(
        deps=deps,
        principal=principal,
        request=request,
        api_key_id=api_key_id,
        expected_version=expected_version,
        changes=provided(status_url=status_url, inbound_url=inbound_url),
        action="messages_webhooks.update",
        section="messagesWebhooks",
    )


async def _change_messaging(
    *,
    deps: Deps,
    principal: Principal,
    request: RequestInfo | None,
    api_key_id: int | None,
    expected_version: int | None,
    changes: dict[str, Any],
    action: str,
    section: str,
) -> MessagingResult:
    require_admin(principal)
    key = await owned_api_key(principal=principal, api_key_id=api_key_id)
    cleaned = _clean_changes(deps, changes)
    async with in_transaction():
        # The row lock makes a second writer with the same expectedVersion wait for the
        # first and then see the version it wrote (PostgreSQL; SQLite runs one at a time).
        config = await MessagingConfig.filter(api_key_id=key.id).select_for_update().get()
        if expected_version is not None and expected_version != config.version:
            raise _version_conflict(config.version, expected_version)
        diff = {name: value for name, value in cleaned.items() if getattr(config, name) != value}
        if not diff:
            # Nothing would change: no new version, no audit event, no notification.
            return MessagingResult(key, config)
        before = _snapshot(config, diff)
        await _write(config, diff, deps.clock())
        await audit.record(
            account_id=key.account_id,
            action=action,
            principal=principal,
            request=request,
            target_id=f"ApiKey:{key.id}",
            api_key_id=key.id,
            before=before,
            after=_snapshot(config, diff),
        )
    await events.settings_changed(
        deps=deps, api_key_id=key.id, section=section, actor=principal.actor
    )
    return MessagingResult(key, config)


def _clean_changes(deps: Deps, changes: dict[str, Any]) -> dict[str, Any]:
    """Every provided field checked, URLs normalised; all wrong fields reported at once."""
    cleaned: dict[str, Any] = {}
    errors: list[DomainError] = []
    for name, value in changes.items():
        field = _PUBLIC_NAMES[name]
        try:
            if name in _URL_FIELDS:
                cleaned[name] = webhook_url(deps, value, field)
            elif value is None:
                raise DomainError(
                    ErrorCode.INVALID_INPUT,
                    f"{field} cannot be cleared; choose one of its values or leave it out.",
                    [field],
                )
            else:
                cleaned[name] = value
        except DomainError as error:
            errors.append(error)
    if errors:
        raise DomainErrors(errors)
    return cleaned


async def _write(config: MessagingConfig, diff: dict[str, Any], now: datetime) -> None:
    """Compare-and-set on the version, so no write can land on a version it did not read."""
    updated = await MessagingConfig.filter(id=config.id, version=config.version).update(
        **diff, version=config.version + 1, updated_at=now
    )
    if updated != 1:
        current = await MessagingConfig.get(id=config.id)
        raise _version_conflict(current.version, config.version)
    for name, value in diff.items():
        setattr(config, name, value)
    config.version += 1
    config.updated_at = now


def _snapshot(config: MessagingConfig, fields: dict[str, Any]) -> dict[str, Any]:
    values = {_PUBLIC_NAMES[name]: getattr(config, name) for name in fields}
    plain = {name: getattr(value, "value", value) for name, value in values.items()}
    return {**plain, "version": config.version}


def _version_conflict(current: int, expected: int) -> DomainError:
    return DomainError(
        ErrorCode.VERSION_CONFLICT,
        f"The messaging settings changed since you read them: they are at version {current}, "
        f"not {expected}. Reload them and apply your change again.",
        ["expectedVersion"],
    )


async def set_number_webhook(
    *,
    deps: Deps,
    principal: Principal,
    request: RequestInfo | None = None,
    number_id: int | None,
    inbound_webhook_url: str | None,
) -> Number:
    """Give a number its own inbound webhook, or clear it (None or "") so the key's applies."""
    require_admin(principal)
    number = await owned_number(principal=principal, number_id=number_id)
    url = webhook_url(deps, inbound_webhook_url, "inboundWebhookUrl")
    if url == number.inbound_webhook_url:
        return number
    before = {"inboundWebhookUrl": number.inbound_webhook_url}
    async with in_transaction():
        number.inbound_webhook_url = url
        await number.save(update_fields=["inbound_webhook_url"])
        await audit.record(
            account_id=number.account_id,
            action="number_webhook.set",
            principal=principal,
            request=request,
            target_id=f"Number:{number.id}",
            api_key_id=number.api_key_id,
            before=before,
            after={"inboundWebhookUrl": url},
        )
    if number.api_key_id is not None:
        await events.settings_changed(
            deps=deps, api_key_id=number.api_key_id, section="numbers", actor=principal.actor
        )
    return number


def number_effective_webhook(
    *, number: Number, config: MessagingConfig | None, event: WebhookEvent
) -> EffectiveWebhook:
    """Where a real `event` for this number would go; `config` is its key's, if it has one."""
    if config is None:
        return EffectiveWebhook(
            None,
            EffectiveSource.NOT_SET,
            f"Number {number.msisdn} is not linked to an API key, so no webhooks are sent for it.",
        )
    return effective_webhook(config, event, number)
