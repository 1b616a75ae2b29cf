"""Who may change what: the ADMIN rule, and the keys and numbers in the caller's scope."""

from __future__ import annotations

from models.credentials import ApiKey
from models.webhooks import Number
from resolvers import reads
from resolvers.errors import forbidden, not_found
from resolvers.principal import Principal


def require_admin(principal: Principal) -> None:
    """Changes and reveals need the ADMIN role; a VIEWER only reads masked settings."""
    if not principal.is_admin:
        raise forbidden()


async def owned_api_key(*, principal: Principal, api_key_id: int | None) -> ApiKey:
    """The key if the caller may see it; a foreign, malformed or missing ID answers alike."""
    key = None
    if api_key_id is not None:
        key = await reads.api_key_by_id(principal=principal, api_key_id=api_key_id)
    if key is None:
        raise not_found(["apiKeyId"], "API key")
    return key


async def owned_number(*, principal: Principal, number_id: int | None) -> Number:
    """The number if the caller's account owns it and, for a non-primary key, it is linked to
    that key."""
    number = None
    if number_id is not None:
        number = await reads.get_owned(principal=principal, model=Number, pk=number_id)
    if not isinstance(number, Number):
        raise not_found(["numberId"], "number")
    return number
