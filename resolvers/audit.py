"""Writing audit events, with every secret redacted before it is stored."""

from __future__ import annotations

from typing import Any

from models.audit import AuditEvent
from models.credentials import ApiKey
from resolvers.principal import Principal, RequestInfo

REDACTED = "[redacted]"
_SECRET_WORDS = ("secret", "password", "token", "ciphertext", "digest", "plaintext")


def redact(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """A copy with every secret-looking value replaced, however deeply nested."""
    if values is None:
        return None
    return {key: _redact_value(key, value) for key, value in values.items()}


def _redact_value(key: str, value: Any) -> Any:
    if any(word in key.lower() for word in _SECRET_WORDS) and not key.lower().startswith("masked"):
        return REDACTED
    if isinstance(value, dict):
        return redact(value)
    if isinstance(value, list):
        return [_redact_value(key, item) for item in value]
    return value


async def record(
    *,
    account_id: int,
    action: str,
    principal: Principal | None,
    request: RequestInfo | None = None,
    target_id: str | None = None,
    api_key_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor: str | None = None,
) -> AuditEvent:
    """Store one audit event; `target_id` is "Type:pk", turned into a global ID by the graph."""
    request = request or RequestInfo()
    return await AuditEvent.create(
        account_id=account_id,
        action=action,
        actor=actor or (principal.actor if principal else "system"),
        role=principal.role.value if principal else None,
        target_id=target_id,
        api_key_id=api_key_id,
        request_id=request.request_id,
        client_address=request.client_address,
        before=redact(before),
        after=redact(after),
    )


PRIMARY_KEY_ACTOR = "the primary key"


async def hide_from(principal: Principal, events: list[AuditEvent]) -> list[AuditEvent]:
    """The events as `principal` may read them (changed in memory only, never saved).

    A VIEWER does not see the addresses other people acted from, and a non-primary key
    does not see the primary key's value (it names the whole account's credentials).
    """
    primary = None
    if principal.api_key_id is not None and events:
        primary = await ApiKey.filter(account_id=principal.account_id, is_primary=True).first()
    for event in events:
        if not principal.is_admin:
            # VIEWERs make no audited changes: every address here is someone else's.
            event.client_address = None
        if primary is not None and primary.key in event.actor:
            event.actor = event.actor.replace(f"key:{primary.key}", PRIMARY_KEY_ACTOR)
    return events
