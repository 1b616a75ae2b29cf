"""Audit events: who changed what, when."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graph.context import principal_of
from graph.enums import Role
from graph.relay import Node, from_global_id, global_id_of, to_global_id
from models.audit import AuditEvent as AuditEventRow


@strawberry.type(description="One change or reveal, recorded with its actor.")
class AuditEvent(Node):
    action: str = strawberry.field(description="What was done, e.g. api_secret.create.")
    actor: str = strawberry.field(description="Who did it, e.g. key:abcd1234.")
    target_id: strawberry.ID | None = strawberry.field(description="Global ID of the object.")
    created_at: datetime = strawberry.field(description="When.")
    role: Role | None = strawberry.field(
        description="The actor's role; null for changes made by an operator or the system."
    )
    client_address: str | None = strawberry.field(description="Where the request came from.")
    request_id: str | None = strawberry.field(description="The request's ID, as in server logs.")
    before: strawberry.scalars.JSON | None = strawberry.field(
        description="The values before the change, secrets redacted."
    )
    after: strawberry.scalars.JSON | None = strawberry.field(
        description="The values after the change, secrets redacted."
    )

    @strawberry.field(
        description="The object changed or revealed, if it still exists and the caller may see "
        "it; `targetId` keeps its ID either way."
    )
    async def target(self, info: Info) -> Node | None:
        # Imported here: the node table knows every type, this one included.
        from graph.queries import NODE_TYPES

        decoded = from_global_id(self.target_id) if self.target_id else None
        if decoded is None or decoded[0] not in NODE_TYPES:
            return None
        # One statement per type for a whole page of events.
        row = await info.context.loaders.nodes(principal_of(info)).load(decoded)
        return None if row is None else NODE_TYPES[decoded[0]](row)

    @classmethod
    def from_row(cls, row: AuditEventRow) -> AuditEvent:
        return cls(
            id=to_global_id("AuditEvent", row.id),
            action=row.action,
            actor=row.actor,
            target_id=global_id_of(row.target_id),
            created_at=row.created_at,
            role=Role.__members__.get(row.role) if row.role else None,
            client_address=row.client_address,
            request_id=row.request_id,
            before=row.before,
            after=row.after,
        )
