"""The root Query: the viewer, a key by its value, and any object by its global ID."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from graph.context import principal_of
from graph.enums import Role
from graph.relay import Node, from_global_id
from graph.types.account import Account, Viewer
from graph.types.api_key import ApiKey, ApiSecret
from graph.types.audit import AuditEvent
from graph.types.delivery import DeliveryStep, TestDelivery, step_of
from graph.types.number import Number
from resolvers import reads

NODE_TYPES: dict[str, Callable[[Any], Node]] = {
    "Account": Account.from_row,
    "ApiKey": ApiKey.from_row,
    "ApiSecret": ApiSecret.from_row,
    "Number": Number.from_row,
    "AuditEvent": AuditEvent.from_row,
    "TestDelivery": TestDelivery.from_row,
}


async def load_node(info: Info, global_id: str) -> Node | None:
    """The object behind a global ID if the caller owns it; foreign, malformed and missing alike
    answer None."""
    principal = principal_of(info)
    step = step_of(global_id)
    if step is not None:
        found = await reads.owned_step(principal=principal, delivery_id=step[0], sequence=step[1])
        return DeliveryStep.from_row(found) if found is not None else None
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] not in NODE_TYPES:
        return None
    convert = NODE_TYPES[decoded[0]]
    row = await reads.get_node(principal=principal, kind=decoded[0], pk=decoded[1])
    return convert(row) if row is not None else None


@strawberry.type(description="Read API settings.")
class Query:
    @strawberry.field(description="The authenticated caller, their account and key.")
    def viewer(self, info: Info) -> Viewer:
        return Viewer(role=Role(principal_of(info).role.value))

    @strawberry.field(description="An API key by its value, if the caller may see it.")
    async def api_key(
        self,
        info: Info,
        key: Annotated[str, strawberry.argument(description="8 lowercase hex characters.")],
    ) -> ApiKey | None:
        row = await reads.api_key_by_value(principal=principal_of(info), key=key)
        return ApiKey.from_row(row) if row else None

    @strawberry.field(description="Any object by its global ID; null if the caller cannot see it.")
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global ID.")],
    ) -> Node | None:
        return await load_node(info, id)
