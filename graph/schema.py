"""Schema assembly: the root types, their mixins and the extensions every request runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from graph.document_cache import DocumentCache
from graph.executor import PlainFieldExecutor
from graph.extensions import ErrorCodes, OperationName
from graph.limits import DocumentLimits, request_limits
from graph.mutations import MUTATION_TYPES
from graph.queries import Query
from graph.subscriptions import SUBSCRIPTION_TYPES
from graph.types.account import Account
from graph.types.api_key import ApiKey, ApiSecret
from graph.types.audit import AuditEvent
from graph.types.delivery import TestDelivery
from graph.types.number import Number


class SwitchboardSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors are answers, not incidents; ErrorCodes already logged the unexpected.
        return None


def _root(name: str, mixins: tuple[type, ...], description: str) -> type:
    """One root type from its domain classes (what strawberry.tools.merge_types does, with the
    description an explorer user reads)."""
    return strawberry.type(type(name, mixins, {}), description=description)


LIMITS = DocumentLimits()


def build_schema(
    *,
    introspection: bool = True,
    trusted_documents: frozenset[str] = frozenset(),
    observers: Sequence[Any] = (),
    **overrides: Any,
) -> strawberry.Schema:
    """The schema; with introspection off, field suggestions ("Did you mean …") go too.
    `trusted_documents` (the persisted documents' text) are exempt from the document limits.
    `observers` (the server's metrics and tracing) come first: they see the result last,
    once every error has its code."""
    extensions: list[Any] = [
        *observers,
        ErrorCodes,
        OperationName,
        request_limits(dataclasses.replace(LIMITS, trusted=trusted_documents)),
        DocumentCache,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return SwitchboardSchema(
        query=Query,
        mutation=_root(
            "Mutation", MUTATION_TYPES, "Change API settings; every payload carries `userErrors`."
        ),
        subscription=_root(
            "Subscription",
            SUBSCRIPTION_TYPES,
            "Live events over graphql-transport-ws: test deliveries and settings changes.",
        ),
        types=[Account, ApiKey, ApiSecret, Number, AuditEvent, TestDelivery],
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True, disable_field_suggestions=not introspection),
        execution_context_class=PlainFieldExecutor,
        **overrides,
    )


schema = build_schema()
