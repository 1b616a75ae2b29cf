"""Reading settings, always through the caller's account and key scope."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tortoise.models import Model
from tortoise.queryset import QuerySet

from models.account import Account
from models.audit import AuditEvent
from models.credentials import ApiKey, ApiSecret
from models.deliveries import TestDelivery
from models.webhooks import MessagingConfig, Number
from resolvers import audit, rows
from resolvers.deps import Deps
from resolvers.pagination import Page, PageArgs, page_from, paginate, window
from resolvers.principal import Principal
from resolvers.rows import R
from signing.secrets import is_api_key

HIPAA_NOTICE = (
    "This account has been enabled to purchase HIPAA numbers. Go to your campaign page to "
    "request and enable a HIPAA compliant number."
)


async def get_account(*, principal: Principal) -> Account:
    return await Account.get(id=principal.account_id)


def hipaa_notice(account: Account | rows.Account) -> str | None:
    return HIPAA_NOTICE if account.hipaa_enabled else None


def _keys_of(principal: Principal):
    query = ApiKey.filter(account_id=principal.account_id)
    if principal.api_key_id is not None:
        query = query.filter(id=principal.api_key_id)
    return query


async def api_key_with_messaging(
    *, principal: Principal, api_key_id: int
) -> rows.KeyMessaging | None:
    """A key of the caller's with its messaging configuration, in one statement."""
    select = rows.Select(ApiKey._meta.db)
    where = f'"k"."id" = {select(api_key_id)} AND "k"."account_id" = {select(principal.account_id)}'
    if principal.api_key_id is not None:
        where += f' AND "k"."id" = {select(principal.api_key_id)}'
    found = await select.fetch(rows.KeyMessaging, where)
    return found[0] if found else None


async def delivery_context(*, api_key_id: int, number_id: int | None) -> rows.DeliveryContext:
    """Everything a test delivery's run reads about its key and number (not scoped: the
    delivery was checked against its caller when it was started)."""
    select = rows.Select(ApiKey._meta.db)
    source = rows.DeliveryContext.SOURCE.format(number=select(number_id))
    found = await select.fetch(
        rows.DeliveryContext, f'"k"."id" = {select(api_key_id)}', source=source
    )
    if not found:
        raise LookupError(f"API key {api_key_id} has no settings")
    return found[0]


async def api_key_by_value(*, principal: Principal, key: str) -> ApiKey | None:
    if not is_api_key(key):
        return None
    return await _keys_of(principal).get_or_none(key=key)


async def api_key_by_id(*, principal: Principal, api_key_id: int) -> ApiKey | None:
    return await _keys_of(principal).get_or_none(id=api_key_id)


async def list_api_keys(*, principal: Principal, page: PageArgs) -> Page[rows.ApiKey]:
    bounds = window(page)
    select = rows.Select(ApiKey._meta.db)
    where = f'"account_id" = {select(principal.account_id)}'
    if principal.api_key_id is not None:
        where += f' AND "id" = {select(principal.api_key_id)}'
    found = await select.fetch(rows.ApiKey, where, select.bounded(bounds))
    return page_from(found, page)


async def list_numbers(
    *, principal: Principal, page: PageArgs, with_keys: bool = False
) -> Page[rows.Number]:
    """A page of numbers; `with_keys` reads each one's linked key in the same statement."""
    bounds = window(page)
    select = rows.Select(Number._meta.db)
    where = f'"n"."account_id" = {select(principal.account_id)}'
    if principal.api_key_id is not None:
        where += f' AND "n"."api_key_id" = {select(principal.api_key_id)}'
    tail = select.bounded(bounds, pk='"n"."id"')
    if with_keys:
        found = await select.fetch(
            rows.Number,
            where,
            tail,
            source=rows.Number.LINKED_SOURCE,
            columns=rows.Number.LINKED_COLUMNS,
        )
    else:
        found = await select.fetch(rows.Number, where, tail, source='"number" AS "n"')
    return page_from(found, page)


async def list_audit_events(*, principal: Principal, page: PageArgs) -> Page[AuditEvent]:
    query = AuditEvent.filter(account_id=principal.account_id)
    if principal.api_key_id is not None:
        query = query.filter(api_key_id=principal.api_key_id)
    found = await paginate(query, page, newest_first=True)
    await audit.hide_from(principal, found.rows)
    return found


async def list_test_deliveries(*, api_key_id: int, page: PageArgs) -> Page[TestDelivery]:
    """Deliveries of a key the caller may already see, newest first."""
    return await paginate(TestDelivery.filter(api_key_id=api_key_id), page, newest_first=True)


# Totals for `totalCount`: the same scope as the lists above, counted in SQL.


async def count_api_keys(*, principal: Principal) -> int:
    return await _keys_of(principal).count()


async def count_numbers(*, principal: Principal) -> int:
    query = Number.filter(account_id=principal.account_id)
    if principal.api_key_id is not None:
        query = query.filter(api_key_id=principal.api_key_id)
    return await query.count()


async def count_audit_events(*, principal: Principal) -> int:
    query = AuditEvent.filter(account_id=principal.account_id)
    if principal.api_key_id is not None:
        query = query.filter(api_key_id=principal.api_key_id)
    return await query.count()


async def count_test_deliveries(*, api_key_id: int) -> int:
    return await TestDelivery.filter(api_key_id=api_key_id).count()


async def api_key_limit(*, deps: Deps, principal: Principal) -> int:
    """How many API keys the account may have: its own limit, else the deployment's."""
    account = await Account.get_or_none(id=principal.account_id)
    own = account.api_key_limit if account is not None else None
    return deps.max_api_keys if own is None else own


async def test_delivery_by_id(delivery_id: int) -> TestDelivery | None:
    """A delivery as stored now (not scoped: its steps were checked against their caller)."""
    return await TestDelivery.get_or_none(id=delivery_id)


async def owned_step(
    *, principal: Principal, delivery_id: int, sequence: int
) -> rows.DeliveryStep | None:
    """One step of a delivery the caller owns, or None."""
    if await get_owned(principal=principal, model=TestDelivery, pk=delivery_id) is None:
        return None
    select = rows.Select(TestDelivery._meta.db)
    where = f'"delivery_id" = {select(delivery_id)} AND "sequence" = {select(sequence)}'
    found = await select.fetch(rows.DeliveryStep, where)
    return found[0] if found else None


async def get_owned(*, principal: Principal, model: type[Model], pk: int) -> Model | None:
    """A row by primary key if, and only if, the caller's account and scope own it."""
    if model is Account:
        return await Account.get_or_none(id=pk) if pk == principal.account_id else None
    if model is ApiKey:
        return await api_key_by_id(principal=principal, api_key_id=pk)
    query: QuerySet[Any]
    if model is ApiSecret:
        query = ApiSecret.filter(id=pk, api_key__account_id=principal.account_id)
    elif model in (Number, TestDelivery, AuditEvent):
        query = model.filter(id=pk, account_id=principal.account_id)
    else:
        return None
    row = await query.first()
    if row is not None and principal.api_key_id is not None:
        row = row if getattr(row, "api_key_id", None) == principal.api_key_id else None
    if isinstance(row, AuditEvent):
        await audit.hide_from(principal, [row])
    return row


NODE_MODELS: dict[str, type[Model]] = {
    "Account": Account,
    "ApiKey": ApiKey,
    "ApiSecret": ApiSecret,
    "Number": Number,
    "AuditEvent": AuditEvent,
    "TestDelivery": TestDelivery,
}


async def get_node(*, principal: Principal, kind: str, pk: int) -> Model | None:
    """The object a global ID names ("ApiKey", 12) if the caller owns it; else None."""
    model = NODE_MODELS.get(kind)
    return None if model is None else await get_owned(principal=principal, model=model, pk=pk)


async def owned_nodes(
    *, principal: Principal, refs: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], Model]:
    """Objects by (type name, primary key), one statement per type, each only if the caller
    owns it (the rule get_owned applies to one)."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for kind, pk in refs:
        wanted[kind].add(pk)
    found: dict[tuple[str, int], Model] = {}
    for kind, pks in wanted.items():
        model = NODE_MODELS.get(kind)
        query: QuerySet[Any]
        if model is None:
            continue
        if model is Account:
            query = Account.filter(id=principal.account_id, id__in=pks)
        elif model is ApiKey:
            query = _keys_of(principal).filter(id__in=pks)
        else:
            if model is ApiSecret:
                query = ApiSecret.filter(id__in=pks, api_key__account_id=principal.account_id)
            else:
                query = model.filter(id__in=pks, account_id=principal.account_id)
            if principal.api_key_id is not None:
                query = query.filter(api_key_id=principal.api_key_id)
        found.update({(kind, row.pk): row for row in await query})
    return found


# Batch reads for the graph's DataLoaders: one statement per batch, whatever its size, answered
# with plain rows (see rows.py for why).


async def _by_id(model: type[Model], row: type[R], column: str, ids: Iterable[int]) -> list[R]:
    select = rows.Select(model._meta.db)
    where = f"{column} IN ({select.each(ids)})"
    return await select.fetch(row, where)


async def accounts_by_id(ids: Iterable[int]) -> dict[int, rows.Account]:
    return {row.id: row for row in await _by_id(Account, rows.Account, '"id"', ids)}


async def api_keys_by_id(ids: Iterable[int]) -> dict[int, rows.ApiKey]:
    return {row.id: row for row in await _by_id(ApiKey, rows.ApiKey, '"id"', ids)}


async def live_secrets_by_key(ids: Iterable[int], now: datetime) -> dict[int, list[rows.ApiSecret]]:
    """Secrets that still authenticate (what auth.live_secrets_filter selects), oldest first."""
    select = rows.Select(ApiSecret._meta.db)
    where = (
        f'"api_key_id" IN ({select.each(ids)}) AND "revoked_at" IS NULL '
        f'AND ("expires_at" IS NULL OR "expires_at" > {select(now)})'
    )
    grouped: dict[int, list[rows.ApiSecret]] = defaultdict(list)
    oldest_first = ' ORDER BY "created_at", "id"'
    for secret in await select.fetch(rows.ApiSecret, where, oldest_first):
        grouped[secret.api_key_id].append(secret)
    return grouped


async def settings_by_key(ids: Iterable[int]) -> dict[int, rows.KeySettings]:
    """Messaging and signature configuration of each key, in one statement."""
    found = await _by_id(MessagingConfig, rows.KeySettings, '"m"."api_key_id"', ids)
    return {row.messaging.api_key_id: row for row in found}


async def steps_by_delivery(ids: Iterable[int]) -> dict[int, list[rows.DeliveryStep]]:
    grouped: dict[int, list[rows.DeliveryStep]] = defaultdict(list)
    select = rows.Select(TestDelivery._meta.db)
    where = f'"delivery_id" IN ({select.each(ids)})'
    for row in await select.fetch(rows.DeliveryStep, where, ' ORDER BY "delivery_id", "sequence"'):
        grouped[row.delivery_id].append(row)
    return grouped
