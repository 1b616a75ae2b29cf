"""Signed webhooks: the method, whether SMS webhooks are signed, and the signature secret."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
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
from resolvers.provisioning import signature_context
from signing.secrets import generate_signature_secret, mask_hint, secret_hint

REVEALS_PER_WINDOW = 10
REVEAL_WINDOW_SECONDS = 60.0
_PUBLIC_NAMES = {"method": "method", "sign_sms_webhooks": "signSmsWebhooks"}


@dataclass(frozen=True)
class SignatureResult:
    api_key: ApiKey
    signature: SignatureConfig
    # Only for a rotation or a reveal; never stored, logged or audited.
    secret_plaintext: str | None = None


class _SlidingWindow:
    """At most `limit` events per caller in any `seconds`-long window, counted in this process."""

    _MAX_TRACKED = 10_000

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._events: dict[str, deque[datetime]] = {}

    def allow(self, who: str, now: datetime) -> bool:
        recent = self._events.setdefault(who, deque())
        while recent and (now - recent[0]).total_seconds() >= self.seconds:
            recent.popleft()
        if len(recent) >= self.limit:
            return False
        recent.append(now)
        if len(self._events) > self._MAX_TRACKED:
            self._forget_idle(now)
        return True

    def _forget_idle(self, now: datetime) -> None:
        for who, recent in list(self._events.items()):
            if not recent or (now - recent[-1]).total_seconds() >= self.seconds:
                del self._events[who]


# Per process: with several replicas a caller gets this many per replica, which is still a
# brake on scripted scraping; every reveal is audited whichever replica served it.
_reveals = _SlidingWindow(REVEALS_PER_WINDOW, REVEAL_WINDOW_SECONDS)


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
        config.secret_ciphertext = deps.box.encrypt(plaintext, context=signature_context(key.key))
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
    if not _reveals.allow(f"{principal.account_id}:{principal.actor}", deps.clock()):
        raise DomainError(
            ErrorCode.RATE_LIMITED,
            f"At most {REVEALS_PER_WINDOW} signature secret reveals per "
            f"{REVEAL_WINDOW_SECONDS:g} seconds; wait a moment and try again.",
        )
    config = await SignatureConfig.get(api_key_id=key.id)
    plaintext = deps.box.decrypt(config.secret_ciphertext, context=signature_context(key.key))
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
