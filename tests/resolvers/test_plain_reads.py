"""The plain-row reads answer exactly what the ORM answers for the same question."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from models.account import Account
from models.credentials import ApiKey, ApiSecret
from models.webhooks import MessagingConfig, Number, SignatureConfig
from resolvers import provisioning, reads
from resolvers.auth import live_secrets_filter
from resolvers.deps import Deps
from resolvers.pagination import PageArgs, paginate
from resolvers.principal import Principal, Role
from signing.secrets import generate_api_secret
from tests.conftest import Seeded, seed_account

SECRET_FIELDS = ("id", "api_key_id", "hint", "created_at", "last_used_at", "expires_at")
KEY_FIELDS = ("id", "account_id", "key", "nickname", "is_primary", "created_at")
NUMBER_FIELDS = ("id", "account_id", "api_key_id", "msisdn", "country", "inbound_webhook_url")


def _fields(row: Any, names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in names)


async def _account_with_history(deps: Deps, seeded: Seeded) -> list[ApiKey]:
    """Three keys, each with a live, a revoked, an expired and an expiring secret, and numbers
    linked to two of them (one with its own inbound webhook) and one linked to none."""
    account = await Account.get(id=seeded.account_id)
    keys = [await ApiKey.get(id=seeded.api_key_id)]
    for nickname in ("Staging", None):
        key, _ = await provisioning.create_api_key(
            deps=deps, account=account, nickname=nickname, is_primary=False
        )
        keys.append(key)
    now = deps.clock()
    for key in keys:
        states = {"revoked_at": now}, {"expires_at": now - timedelta(seconds=1)}, {}
        for update in (*states, {"expires_at": now + timedelta(days=1), "last_used_at": now}):
            secret = await provisioning.store_secret(
                deps=deps, api_key=key, plaintext=generate_api_secret()
            )
            if update:
                await ApiSecret.filter(id=secret.id).update(**update)
    for index, key in enumerate(keys[:2]):
        await provisioning.add_number(api_key=key.key, msisdn=f"44770090020{index}", country="GB")
    await Number.filter(api_key_id=keys[0].id).update(inbound_webhook_url="https://example.com/i")
    orphan = await provisioning.add_number(api_key=keys[2].key, msisdn="447700900209", country="GB")
    await Number.filter(id=orphan.id).update(api_key_id=None)
    await MessagingConfig.filter(api_key_id=keys[1].id).update(
        delivery_receipt_url="https://example.com/dlr", version=4
    )
    await SignatureConfig.filter(api_key_id=keys[2].id).update(sign_sms_webhooks=True)
    return keys


async def test_live_secrets_are_the_orms_live_secrets(seeded: Seeded, deps: Deps) -> None:
    keys = await _account_with_history(deps, seeded)
    ids = [key.id for key in keys]
    now = deps.clock()
    expected = await ApiSecret.filter(live_secrets_filter(now), api_key_id__in=ids).order_by(
        "created_at", "id"
    )
    found = await reads.live_secrets_by_key(ids, now)
    assert [_fields(s, SECRET_FIELDS) for key in ids for s in found[key]] == [
        _fields(s, SECRET_FIELDS) for key in ids for s in expected if s.api_key_id == key
    ]
    # Per key: its first secret, the plain one and the expiring one; never revoked or expired.
    assert {key: len(found[key]) for key in ids} == dict.fromkeys(ids, 3)


async def test_keys_accounts_and_settings_match_the_orm(seeded: Seeded, deps: Deps) -> None:
    keys = await _account_with_history(deps, seeded)
    ids = [key.id for key in keys]
    found = await reads.api_keys_by_id(ids)
    assert {i: _fields(found[i], KEY_FIELDS) for i in ids} == {
        key.id: _fields(key, KEY_FIELDS) for key in await ApiKey.filter(id__in=ids)
    }
    account = (await reads.accounts_by_id([seeded.account_id]))[seeded.account_id]
    stored = await Account.get(id=seeded.account_id)
    assert (account.id, account.name, account.hipaa_enabled) == (
        stored.id,
        stored.name,
        stored.hipaa_enabled,
    )
    settings = await reads.settings_by_key(ids)
    for key_id in ids:
        messaging = await MessagingConfig.get(api_key_id=key_id)
        signature = await SignatureConfig.get(api_key_id=key_id)
        row = settings[key_id]
        assert row.messaging == type(row.messaging)(
            key_id,
            messaging.api,
            messaging.sms_format,
            messaging.delivery_receipt_url,
            messaging.inbound_sms_url,
            messaging.status_url,
            messaging.inbound_url,
            messaging.version,
        )
        assert (row.signature.method, row.signature.secret_hint) == (
            signature.method,
            signature.secret_hint,
        )
        assert row.signature.sign_sms_webhooks is signature.sign_sms_webhooks


def _scoped(seeded: Seeded, api_key_id: int | None) -> Principal:
    return Principal(
        account_id=seeded.account_id,
        role=Role.VIEWER,
        api_key_id=api_key_id,
        via_api_key_id=api_key_id or seeded.api_key_id,
        actor="test",
    )


PAGES = [
    PageArgs(first=2),
    PageArgs(first=100),
    PageArgs(last=2),
    PageArgs(first=0),
]


@pytest.mark.parametrize("args", PAGES)
async def test_pages_match_the_orm_paginator(seeded: Seeded, deps: Deps, args: PageArgs) -> None:
    keys = await _account_with_history(deps, seeded)
    await seed_account(deps, "Neighbour")  # rows of another account never show
    for scope in (None, keys[1].id):
        principal = _scoped(seeded, scope)
        page = await reads.list_api_keys(principal=principal, page=args)
        query = ApiKey.filter(account_id=seeded.account_id)
        expected = await paginate(query.filter(id=scope) if scope else query, args)
        assert [_fields(r, KEY_FIELDS) for r in page.rows] == [
            _fields(r, KEY_FIELDS) for r in expected.rows
        ]
        assert (page.cursors, page.has_next_page, page.has_previous_page) == (
            expected.cursors,
            expected.has_next_page,
            expected.has_previous_page,
        )
        numbers = Number.filter(account_id=seeded.account_id)
        expected = await paginate(numbers.filter(api_key_id=scope) if scope else numbers, args)
        for with_keys in (False, True):
            page = await reads.list_numbers(principal=principal, page=args, with_keys=with_keys)
            assert [_fields(r, NUMBER_FIELDS) for r in page.rows] == [
                _fields(r, NUMBER_FIELDS) for r in expected.rows
            ]
            assert page.cursors == expected.cursors


async def test_numbers_come_with_their_keys_when_asked(seeded: Seeded, deps: Deps) -> None:
    keys = await _account_with_history(deps, seeded)
    page = await reads.list_numbers(principal=_scoped(seeded, None), page=PageArgs(first=10))
    assert [row.linked_key for row in page.rows] == [None, None, None]
    page = await reads.list_numbers(
        principal=_scoped(seeded, None), page=PageArgs(first=10), with_keys=True
    )
    by_id = {key.id: key for key in keys}
    for row in page.rows:
        if row.api_key_id is None:
            assert row.linked_key is None
        else:
            assert _fields(row.linked_key, KEY_FIELDS) == _fields(by_id[row.api_key_id], KEY_FIELDS)
