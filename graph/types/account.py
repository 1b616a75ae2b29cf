"""The account, its keys, numbers, audit log and compliance status; and the viewer."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graph.context import principal_of
from graph.enums import Role
from graph.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    Node,
    node_fields,
    page_args,
    to_global_id,
)
from graph.types.api_key import ApiKey
from graph.types.audit import AuditEvent
from graph.types.number import Number
from models.account import Account as AccountRow
from resolvers import reads, rows


@strawberry.type(description="HIPAA compliance status; only an operator changes it.")
class Compliance:
    hipaa_enabled: bool = strawberry.field(
        description="The account may purchase HIPAA-compliant numbers."
    )
    notice: str | None = strawberry.field(description="The notice to show when enabled.")


@strawberry.type(description="A customer account.")
class Account(Node):
    row: strawberry.Private[AccountRow | rows.Account]
    name: str = strawberry.field(description="The account's name.")

    @strawberry.field(description="API keys the caller may see (a non-primary key sees itself).")
    async def api_keys(
        self,
        info: Info,
        before: Before = None,
        after: After = None,
        first: First = None,
        last: Last = None,
    ) -> Connection[ApiKey]:
        page = await reads.list_api_keys(
            principal=principal_of(info), page=page_args(first, after, last, before)
        )
        await info.context.loaders.preload_keys(page.rows, node_fields(info))
        principal = principal_of(info)
        return Connection.from_page(
            page, ApiKey.from_row, lambda: reads.count_api_keys(principal=principal)
        )

    @strawberry.field(description='Numbers the account rents ("Your numbers").')
    async def numbers(
        self,
        info: Info,
        before: Before = None,
        after: After = None,
        first: First = None,
        last: Last = None,
    ) -> Connection[Number]:
        page = await reads.list_numbers(
            principal=principal_of(info),
            page=page_args(first, after, last, before),
            with_keys="apiKey" in node_fields(info),
        )
        linked = {row.linked_key.id: row.linked_key for row in page.rows if row.linked_key}
        info.context.loaders.api_key.prime_many(linked)
        principal = principal_of(info)
        return Connection.from_page(
            page, Number.from_row, lambda: reads.count_numbers(principal=principal)
        )

    @strawberry.field(description="Every change and reveal, newest first.")
    async def audit_events(
        self,
        info: Info,
        before: Before = None,
        after: After = None,
        first: First = None,
        last: Last = None,
    ) -> Connection[AuditEvent]:
        page = await reads.list_audit_events(
            principal=principal_of(info), page=page_args(first, after, last, before)
        )
        principal = principal_of(info)
        return Connection.from_page(
            page, AuditEvent.from_row, lambda: reads.count_audit_events(principal=principal)
        )

    @strawberry.field(
        description="How many API keys the account may have in all (the page shows "
        '"3 of 10 keys"); creating more answers API_KEY_LIMIT_REACHED.'
    )
    async def api_key_limit(self, info: Info) -> int:
        return await reads.api_key_limit(deps=info.context.deps, principal=principal_of(info))

    @strawberry.field(description="HIPAA compliance status.")
    def compliance(self) -> Compliance:
        return Compliance(hipaa_enabled=self.row.hipaa_enabled, notice=reads.hipaa_notice(self.row))

    @classmethod
    def from_row(cls, row: AccountRow | rows.Account) -> Account:
        return cls(row=row, id=to_global_id("Account", row.id), name=row.name)


@strawberry.type(description="The authenticated caller.")
class Viewer:
    role: Role = strawberry.field(description="What the caller may do.")

    @strawberry.field(description="The caller's account.")
    async def account(self, info: Info) -> Account:
        principal = principal_of(info)
        return Account.from_row(await info.context.loaders.account.load(principal.account_id))

    @strawberry.field(description="The key the caller authenticated with, if any.")
    async def api_key(self, info: Info) -> ApiKey | None:
        principal = principal_of(info)
        if principal.via_api_key_id is None:
            return None
        row = await info.context.loaders.api_key.load(principal.via_api_key_id)
        return ApiKey.from_row(row) if row else None
