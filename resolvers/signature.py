"""Signed webhooks: the method, whether SMS webhooks are signed, and the signature secret."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from models.credentials import ApiKey
from models.enums import SignatureMethod
from models.webhooks import SignatureConfig
from resolvers import audit, events
from resolvers.access import owned_api_key, require_admin
from resolvers.deps import Deps
from resolvers.errors import DomainError, DomainErrors, ErrorCode
from resolvers.partial import KEEP, Keep, provided
from resolvers.principal import Principal, RequestInfo
from resolvers.sealing import open_signature_secret, seal_signature_secret
from signing.secrets import generate_signature_secret, mask_hint, secret_hint

_PUBLIC_NAMES = {"method": "method", "sign_sms_webhooks": "signSmsWebhooks"}


@dataclass(frozen=True)
class SignatureResult:
    api_key: ApiKey
    signature: SignatureConfig
    # Only for a rotation or a reveal; never stored, logged or audited.
    secret_plaintext: str | None = None


async def update_signature_settings(
    *,
    deps: Deps,
    principal: Principal,
    request: RequestInfo | None = None,
    api_key_id: int | None,
    method: SignatureMethod | Keep | None = KEEP,
    sign_sms_webhooks: bool | Keep | None = KEEP,
) -> SignatureResult:
    """Change the signing method and whether SMS webhooks are signed; KEEP leaves a field."""
    require_admin(principal)
    key = await owned_api_key(principal=principal, api_key_id=api_key_id)
    changes = _clean_changes(provided(method=method, sign_sms_webhooks=sign_sms_webhooks))
    async with in_transaction():
        config = await SignatureConfig.filter(api_key_id=key.id).select_for_update().get()
        diff = {name: value for name, value in changes.items() if getattr(config, name) != value}
        if not diff:
            return SignatureResult(key, config)
        before = _snapshot(config, diff)
        for name, value in diff.items():
            setattr(config, name, value)
        await config.save(update_fields=[*diff, "updated_at"])
        await audit.record(
            account_id=key.account_id,
            action="signature_settings.update",
            principal=principal,
            request=request,
            target_id=f"ApiKey:{key.id}",
            api_key_id=key.id,
            before=before,
            after=_snapshot(config, diff),
        )
    await events.settings_changed(
        deps=deps, api_key_id=key.id, section="signature", actor=principal.actor
    )
    return SignatureResult(key, config)


def _clean_changes(changes: dict[str, Any]) -> dict[str, Any]:
    errors = [
        DomainError(
            ErrorCode.INVALID_INPUT,
            f"{_PUBLIC_NAMES[name]} cannot be cleared; choose a value or leave it out.",
            [_PUBLIC_NAMES[name]],
        )
        for name, value in changes.items()
        if value is None
    ]
    if errors:
        raise DomainErrors(errors)
    return changes


def _snapshot(config: SignatureConfig, fields: dict[str, Any]) -> dict[str, Any]:
    values = {_PUBLIC_NAMES[name]: getattr(config, name) for name in fields}
    return {name: getattr(value, "value", value) for name, value in values.items()}


async def rotate_signature_secret(
    *, deps: Deps, principal: Principal, request: RequestInfo | None = None, api_key_id: int | None
) -> SignatureResult:
    """Replace the signature secret with a new one, returned in plaintext this once."""
    require_admin(principal)
    key = await owned_api_key(principal=principal, api_key_id=api_key_id)
    plaintext = generate_signature_secret()
    async with in_transaction():
        config = await SignatureConfig.filter(api_key_id=key.id).select_for_update().get()
        before = {"maskedSecret": mask_hint(config.secret_hint)}
        config.secret_ciphertext = seal_signature_secret(deps, plaintext, key.key, key.id)
        config.secret_hint = secret_hint(plaintext)
        await config.save(update_fields=["secret_ciphertext", "secret_hint", "updated_at"])
        await audit.record(
            account_id=key.account_id,
            action="signature_secret.rotate",
            principal=principal,
            request=request,
            target_id=f"ApiKey:{key.id}",
            api_key_id=key.id,
            before=before,
            after={"maskedSecret": mask_hint(config.secret_hint)},
        )
    await events.settings_changed(
        deps=deps, api_key_id=key.id, section="signature", actor=principal.actor
    )
    return SignatureResult(key, config, plaintext)


async def reveal_signature_secret(
    *, deps: Deps, principal: Principal, request: RequestInfo | None = None, api_key_id: int | None
) -> SignatureResult:
    """The signature secret in plaintext, for an ADMIN, audited and rate-limited."""
    require_admin(principal)
    key = await owned_api_key(principal=principal, api_key_id=api_key_id)
    limiter = deps.credential_limits.signature_reveals
    if not await limiter.allow(f"{principal.account_id}:{principal.actor}", deps.clock()):
        raise DomainError(
            ErrorCode.RATE_LIMITED,
            f"At most {limiter.limit} signature secret reveals per "
            f"{limiter.window.total_seconds():g} seconds; wait a moment and try again.",
        )
    config = await SignatureConfig.get(api_key_id=key.id)
    plaintext = open_signature_secret(deps, config.secret_ciphertext, key.key, key.id)
    await audit.record(
        account_id=key.account_id,
        action="signature_secret.reveal",
        principal=principal,
        request=request,
        target_id=f"ApiKey:{key.id}",
        api_key_id=key.id,
        after={"maskedSecret": mask_hint(config.secret_hint)},
    )
    return SignatureResult(key, config, plaintext)
