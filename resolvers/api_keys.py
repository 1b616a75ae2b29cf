"""API keys: "Request more API keys" (with the per-account limit) and renaming."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from tortoise.transactions import in_transaction

from models.account import Account
from models.credentials import ApiKey, ApiSecret
from resolvers import audit, provisioning
from resolvers.credentials import lock_key, require_admin, secret_snapshot
from resolvers.deps import Deps
from resolvers.errors import DomainError, ErrorCode
from resolvers.events import settings_changed
from resolvers.principal import Principal, RequestInfo
from signing.text import control_character

NICKNAME_MAX_LENGTH = 80
API_KEY_SECTION = "apiKey"


class Unchanged(Enum):
    """Marks an optional input the caller left out, as opposed to one set to null."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


@dataclass(frozen=True)
class NewApiKey:
    """A key just created with its first secret; `plaintext` goes to the caller once."""

    api_key: ApiKey
    secret: ApiSecret
    plaintext: str = field(repr=False)


def clean_nickname(nickname: str | None) -> str | None:
    """Trimmed; blank means "no nickname" (as an empty webhook URL clears it), so a dashboard
    field emptied by the user simply clears the name."""
    if nickname is None or not nickname.strip():
        return None
    nickname = nickname.strip()
    if len(nickname) > NICKNAME_MAX_LENGTH:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"nickname must be 1 to {NICKNAME_MAX_LENGTH} characters.",
            ["nickname"],
        )
    if control_character(nickname) is not None:
        # Emoji sequences (👩‍💻 joins two emoji with a zero-width joiner) are names too.
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "nickname must not contain line breaks, control characters or direction overrides.",
            ["nickname"],
        )
    return nickname


async def create_api_key(
    *, deps: Deps, principal: Principal, request: RequestInfo, nickname: str | None
) -> NewApiKey:
    """A new non-primary key with one generated secret and default settings, within the
    account's limit (its own `api_key_limit`, else the deployment's `max_api_keys`)."""
    require_admin(principal)
    if principal.api_key_id is not None:
        raise DomainError(
            ErrorCode.FORBIDDEN,
            "Only the account's primary key, or a session issued from it, can create API keys.",
            None,
        )
    nickname = clean_nickname(nickname)
    async with in_transaction():
        # Locking the account serialises concurrent creations, so the count below stays true.
        account = await Account.select_for_update(no_key=True).get(id=principal.account_id)
        limit = deps.max_api_keys if account.api_key_limit is None else account.api_key_limit
        if await ApiKey.filter(account_id=account.id).count() >= limit:
            raise DomainError(
                ErrorCode.API_KEY_LIMIT_REACHED,
                f"This account may have at most {limit} API keys; "
                "contact your account manager for more.",
                None,
            )
        key, plaintext = await provisioning.create_api_key(
            deps=deps, account=account, nickname=nickname, is_primary=False
        )
        secret = await ApiSecret.get(api_key_id=key.id)
        await audit.record(
            account_id=account.id,
            action="api_key.create",
            principal=principal,
            request=request,
            target_id=f"ApiKey:{key.id}",
            api_key_id=key.id,
            after={"key": key.key, "nickname": key.nickname, "first": secret_snapshot(secret)},
        )
    return NewApiKey(api_key=key, secret=secret, plaintext=plaintext)


async def update_api_key(
    *,
    deps: Deps,
    principal: Principal,
    request: RequestInfo,
    api_key_id: int | None,
    nickname: str | Unchanged | None = UNCHANGED,
) -> ApiKey:
    """Rename a key (null or blank clears the nickname; left out keeps it)."""
    require_admin(principal)
    if nickname is not UNCHANGED:
        nickname = clean_nickname(nickname)
    async with in_transaction():
        key = await lock_key(principal=principal, api_key_id=api_key_id, field=["apiKeyId"])
        if nickname is UNCHANGED or nickname == key.nickname:
            return key
        before = {"nickname": key.nickname}
        key.nickname = nickname
        await key.save(update_fields=["nickname"])
        await audit.record(
            account_id=key.account_id,
            action="api_key.update",
            principal=principal,
            request=request,
            target_id=f"ApiKey:{key.id}",
            api_key_id=key.id,
            before=before,
            after={"nickname": key.nickname},
        )
    await settings_changed(
        deps=deps, api_key_id=key.id, section=API_KEY_SECTION, actor=principal.actor
    )
    return key
