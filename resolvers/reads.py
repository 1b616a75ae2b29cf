"""Reading settings, always through the caller's account and key scope."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from tortoise.models import Model

from models.account import Account
from models.audit import AuditEvent
from models.credentials import ApiKey, ApiSecret
from models.deliveries import DeliveryStep, TestDelivery
from models.webhooks import MessagingConfig, Number, SignatureConfig
from resolvers.auth import live_secrets_filter
from resolvers.pagination import Page, PageArgs, paginate
from resolvers.principal import Principal
from signing.secrets import is_api_key

HIPAA_NOTICE = (
    "This account has been enabled to purchase HIPAA numbers. Go to your campaign page to "
    "request and enable a HIPAA compliant number."
)


async def get_account(*, principal: Principal) -> Account:
    return await Account.get(id=principal.account_id)


def hipaa_notice(account: Account) -> str | None:
    return HIPAA_NOTICE if account.hipaa_enabled else None


def _keys_of(principal: Principal):
    query = ApiKey.filter(account_id=principal.account_id)
    if principal.api_key_id is not None:
        query = query.filter(id=principal.api_key_id)
    return query


async def api_key_by_value(*, principal: Principal, key: str) -> ApiKey | None:
    if not is_api_key(key):
        return None
    return await _keys_of(principal).get_or_none(key=key)


async def api_key_by_id(*, principal: Principal, api_key_id: int) -> ApiKey | None:
    return await _keys_of(principal).get_or_none(id=api_key_id)


async def list_api_keys(*, principal: Principal, page: PageArgs) -> Page[ApiKey]:
    return await paginate(_keys_of(principal), page)


async def list_numbers(*, principal: Principal, page: PageArgs) -> Page[Number]:
    query = Number.filter(account_id=principal.account_id)
    if principal.api_key_id is not None:
        query = query.filter(api_key_id=principal.api_key_id)
    return await paginate(query, page)


async def list_audit_events(*, principal: Principal, page: PageArgs) -> Page[AuditEvent]:
    query = AuditEvent.filter(account_id=principal.account_id)
    if principal.api_key_id is not None:
        query = query.filter(api_key_id=principal.api_key_id)
    return await paginate(query, page, newest_first=True)


async def list_test_deliveries(*, api_key_id: int, page: PageArgs) -> Page[TestDelivery]:
    """Deliveries of a key the caller may already see, newest first."""
    return await paginate(TestDelivery.filter(api_key_id=api_key_id), page, newest_first=True)


async def get_owned(*, principal: Principal, model: type[Model], pk: int) -> Model | None:
    """A row by primary key if, and only if, the caller's account and scope own it."""
    if model is Account:
        return await Account.get_or_none(id=pk) if pk == principal.account_id else None
    if model is ApiKey:
        return await api_key_by_id(principal=principal, api_key_id=pk)
    if model is ApiSecret:
        query = ApiSecret.filter(id=pk, api_key__account_id=principal.account_id)
    elif model in (Number, TestDelivery, AuditEvent):
        query = model.filter(id=pk, account_id=principal.account_id)
    else:
        return None
    row = await query.first()
    if row is None or principal.api_key_id is None:
        return row
    return row if getattr(row, "api_key_id", None) == principal.api_key_id else None


# Batch reads for the graph's DataLoaders: one statement per batch, whatever its size.


async def accounts_by_id(ids: Iterable[int]) -> dict[int, Account]:
    return {row.id: row for row in await Account.filter(id__in=list(ids))}


async def api_keys_by_id(ids: Iterable[int]) -> dict[int, ApiKey]:
    return {row.id: row for row in await ApiKey.filter(id__in=list(ids))}


async def live_secrets_by_key(ids: Iterable[int], now: datetime) -> dict[int, list[ApiSecret]]:
    grouped: dict[int, list[ApiSecret]] = defaultdict(list)
    rows = await ApiSecret.filter(live_secrets_filter(now), api_key_id__in=list(ids)).order_by(
        "created_at", "id"
    )
    for row in rows:
        grouped[row.api_key_id].append(row)
    return grouped


async def messaging_by_key(ids: Iterable[int]) -> dict[int, MessagingConfig]:
    return {row.api_key_id: row for row in await MessagingConfig.filter(api_key_id__in=list(ids))}


async def signature_by_key(ids: Iterable[int]) -> dict[int, SignatureConfig]:
    return {row.api_key_id: row for row in await SignatureConfig.filter(api_key_id__in=list(ids))}


async def steps_by_delivery(ids: Iterable[int]) -> dict[int, list[DeliveryStep]]:
    grouped: dict[int, list[DeliveryStep]] = defaultdict(list)
    for row in await DeliveryStep.filter(delivery_id__in=list(ids)).order_by("sequence"):
        grouped[row.delivery_id].append(row)
    return grouped
