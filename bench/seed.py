"""A realistic database for the bench: the dashboard account, a 100-key account and neighbours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tortoise.transactions import in_transaction

from models.credentials import ApiKey, ApiSecret
from models.webhooks import MessagingConfig, SignatureConfig
from resolvers import provisioning
from resolvers.auth import issue_session_token
from resolvers.deps import Deps
from signing.secrets import generate_api_secret

NEIGHBOURS = 40
NICKNAMES = ["Production", "Staging", "Testing", "Partner", "Batch jobs"]


@dataclass(frozen=True)
class Tenant:
    """One seeded account and the credentials the bench authenticates with."""

    account_id: int
    keys: int
    api_key: str
    api_secret: str
    session_token: str


@dataclass(frozen=True)
class Seeded:
    dashboard: Tenant  # 3 keys x 2 live secrets (plus one revoked each), messaging, numbers
    large: Tenant  # 100 keys, for the SQL statements that must not grow with keys


async def seed(deps: Deps) -> Seeded:
    """Everything in a few transactions, so a file database is not one fsync per row."""
    async with in_transaction():
        for index in range(NEIGHBOURS):
            await _tenant(deps, f"Neighbour {index}", keys=1 + index % 3, numbers=index % 4)
    async with in_transaction():
        dashboard = await _tenant(deps, "Acme Messaging", keys=3, numbers=5)
    async with in_transaction():
        large = await _tenant(deps, "Large Partner", keys=100, numbers=20)
    return Seeded(dashboard=dashboard, large=large)


async def _tenant(deps: Deps, name: str, *, keys: int, numbers: int) -> Tenant:
    account, primary, secret = await provisioning.create_account(deps=deps, name=name)
    created = [primary]
    for index in range(1, keys):
        key, _ = await provisioning.create_api_key(
            deps=deps,
            account=account,
            nickname=NICKNAMES[index % len(NICKNAMES)] if index < 50 else f"Key {index}",
            is_primary=False,
        )
        created.append(key)
    for key in created:
        await _settle(deps, key)
    for index in range(numbers):
        number = await provisioning.add_number(
            api_key=created[index % len(created)].key,
            msisdn=f"4477009{account.id:03d}{index:03d}",
            country="GB",
        )
        if index % 3 == 0:
            number.inbound_webhook_url = f"https://hooks.example.com/numbers/{number.msisdn}"
            await number.save(update_fields=["inbound_webhook_url"])
    principal = await provisioning.principal_for_key(api_key=primary.key)
    token, _ = issue_session_token(deps=deps, principal=principal, ttl_seconds=24 * 3600)
    return Tenant(account.id, keys, primary.key, secret, token)


async def _settle(deps: Deps, key: ApiKey) -> None:
    """What a key looks like after some use: a rolled, revoked secret, a second live one with an
    expiry, webhook URLs set and signing on."""
    now = deps.clock()
    old = await provisioning.store_secret(deps=deps, api_key=key, plaintext=generate_api_secret())
    await ApiSecret.filter(id=old.id).update(revoked_at=now - timedelta(days=30))
    second = await provisioning.store_secret(
        deps=deps, api_key=key, plaintext=generate_api_secret()
    )
    await ApiSecret.filter(id=second.id).update(
        expires_at=now + timedelta(days=7), last_used_at=now - timedelta(minutes=5)
    )
    base = f"https://hooks.example.com/{key.key}"
    await MessagingConfig.filter(api_key_id=key.id).update(
        delivery_receipt_url=f"{base}/dlr",
        inbound_sms_url=f"{base}/inbound-sms",
        status_url=f"{base}/status",
        inbound_url=f"{base}/inbound",
        version=3,
    )
    await SignatureConfig.filter(api_key_id=key.id).update(sign_sms_webhooks=True)
