"""Creating accounts, keys and numbers: what the operator CLI and `apiKeyCreate` both need."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.account import Account
from models.credentials import ApiKey, ApiSecret
from models.webhooks import MessagingConfig, Number, SignatureConfig
from resolvers.auth import live_secrets_filter
from resolvers.deps import Deps
from resolvers.errors import DomainError, ErrorCode
from resolvers.principal import Principal, Role
from resolvers.sealing import (
    open_api_secret,
    seal_api_secret,
    seal_signature_secret,
)
from signing.secrets import (
    generate_api_key,
    generate_api_secret,
    generate_signature_secret,
    is_api_key,
    secret_hint,
)

_KEY_ATTEMPTS = 8


async def store_secret(*, deps: Deps, api_key: ApiKey, plaintext: str) -> ApiSecret:
    """Encrypt and store one API secret; the plaintext goes no further than this call."""
    async with in_transaction():
        # Inserted first for its ID, which the ciphertext and digest are bound to; the
        # empty values never open or match, and never outlive this transaction.
        row = await ApiSecret.create(api_key=api_key, ciphertext="", digest="", hint="")
        seal_api_secret(deps, row, api_key.key, plaintext)
        await row.save(update_fields=["ciphertext", "digest", "hint"])
    return row


async def create_api_key(
    *, deps: Deps, account: Account, nickname: str | None, is_primary: bool
) -> tuple[ApiKey, str]:
    """A new key with one generated secret, a fresh signature secret and default settings."""
    for _ in range(_KEY_ATTEMPTS):
        candidate = generate_api_key()
        if await ApiKey.exists(key=candidate):
            continue
        try:
            key = await ApiKey.create(
                account=account, key=candidate, nickname=nickname, is_primary=is_primary
            )
            break
        except IntegrityError:
            continue
    else:
        raise RuntimeError("could not find an unused API key")
    await MessagingConfig.create(api_key=key)
    signature_secret = generate_signature_secret()
    await SignatureConfig.create(
        api_key=key,
        secret_ciphertext=seal_signature_secret(deps, signature_secret, key.key, key.id),
        secret_hint=secret_hint(signature_secret),
    )
    plaintext = generate_api_secret()
    await store_secret(deps=deps, api_key=key, plaintext=plaintext)
    return key, plaintext


async def create_account(*, deps: Deps, name: str) -> tuple[Account, ApiKey, str]:
    """An account with its primary key and one generated secret (returned once, in plaintext)."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise DomainError(ErrorCode.INVALID_INPUT, "name must be 1 to 200 characters.", ["name"])
    async with in_transaction():
        account = await Account.create(name=name)
        key, secret = await create_api_key(
            deps=deps, account=account, nickname=None, is_primary=True
        )
    return account, key, secret


async def set_hipaa(*, account_id: int, enabled: bool) -> Account:
    """The operator's compliance switch."""
    account = await Account.get_or_none(id=account_id)
    if account is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No account with this ID exists.", ["accountId"])
    account.hipaa_enabled = enabled
    await account.save(update_fields=["hipaa_enabled"])
    return account


async def add_number(*, api_key: str, msisdn: str, country: str) -> Number:
    """Register a rented number (E.164 digits) on a key."""
    digits = msisdn.lstrip("+")
    if not (digits.isascii() and digits.isdigit() and 7 <= len(digits) <= 15):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "msisdn must be 7 to 15 digits (E.164).", ["msisdn"]
        )
    if not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "country must be a two-letter ISO code.", ["country"]
        )
    key = await ApiKey.get_or_none(key=api_key) if is_api_key(api_key) else None
    if key is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No API key with this value exists.", ["apiKey"])
    if await Number.exists(msisdn=digits):
        raise DomainError(ErrorCode.INVALID_INPUT, "This number is already registered.", ["msisdn"])
    return await Number.create(
        account_id=key.account_id, api_key=key, msisdn=digits, country=country.upper()
    )


DEMO_ACCOUNT_NAME = "Demo account"
DEMO_MSISDN = "447700900001"


async def principal_for_key(*, api_key: str, now: datetime | None = None) -> Principal:
    """The operator's view of a key: ADMIN, account-wide for a primary key, else that key only.
    It stands on the key's live secret that lasts longest (no expiry first, then the latest
    expiry, then the newest), so a token made from it ends when that secret is revoked,
    rolled away or expires, like any session."""
    key = await ApiKey.get_or_none(key=api_key) if is_api_key(api_key) else None
    if key is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No API key with this value exists.", ["apiKey"])
    live = await ApiSecret.filter(live_secrets_filter(now or datetime.now(UTC)), api_key=key)
    if not live:
        raise DomainError(ErrorCode.NOT_FOUND, "This API key has no live secret.", ["apiKey"])
    lasting = max(
        live,
        key=lambda s: (
            s.expires_at is None,
            s.expires_at or datetime.min.replace(tzinfo=UTC),
            s.id,
        ),
    )
    return Principal(
        account_id=key.account_id,
        role=Role.ADMIN,
        api_key_id=None if key.is_primary else key.id,
        via_api_key_id=key.id,
        actor=f"operator:{key.key}",
        secret_id=lasting.id,
    )


async def ensure_demo_account(*, deps: Deps) -> tuple[Account, ApiKey, str]:
    """The demo account (primary key, one secret, a number), created once and found after."""
    account = await Account.filter(name=DEMO_ACCOUNT_NAME).order_by("id").first()
    if account is None:
        account, key, secret = await create_account(deps=deps, name=DEMO_ACCOUNT_NAME)
        if not await Number.exists(msisdn=DEMO_MSISDN):
            await add_number(api_key=key.key, msisdn=DEMO_MSISDN, country="GB")
        return account, key, secret
    key = await ApiKey.get(account=account, is_primary=True)
    stored = await ApiSecret.filter(live_secrets_filter(deps.clock()), api_key=key).order_by("id")
    if not stored:
        raise DomainError(ErrorCode.NOT_FOUND, "The demo key has no live secret.", ["apiSecret"])
    return account, key, open_api_secret(deps, stored[0], key.key)
