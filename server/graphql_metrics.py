"""The schema extension that counts GraphQL operations, their outcomes, latency, refused
documents, rate-limited mutations and open subscriptions."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

from graphql import DocumentNode, FieldNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from server.metrics import (
    DOCUMENTS_REFUSED,
    GRAPHQL_DURATION,
    GRAPHQL_OPERATIONS,
    LabelChildren,
    rate_limited,
    subscriptions_open,
)

OTHER = "other"
# Error codes are ours (extensions.code); anything else shaped differently is not a label.
_CODE = re.compile(r"[A-Z][A-Z_]{0,39}")
# The limits graph/limits.py names in `extensions.measure`.
MEASURES = ("tokens", "depth", "aliases", "fields", "pairs", "fragments", "directives")
# How Strawberry's own limiters word their refusals, for a refusal without a measure.
_LIMITS = (
    ("exceeds maximum operation depth", "depth"),
    ("aliases found", "aliases"),
    ("tokens. Parsing aborted", "tokens"),
)

operations = LabelChildren(GRAPHQL_OPERATIONS)
durations = LabelChildren(GRAPHQL_DURATION)
refused = LabelChildren(DOCUMENTS_REFUSED)


def operation_metrics(known_operations: Iterable[str] = ()) -> type[SchemaExtension]:
    """The extension; an operation is labelled with its own name only when that name is in
    `known_operations` (the operator's allow-list), else with the first root field it selects
    (a name the schema fixes), else "other": clients choose operation names freely."""
    known = frozenset(known_operations)

    class OperationMetrics(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            self._subscription: str | None = None
            started = time.perf_counter()
            try:
                yield
            finally:
                if self._subscription is not None:
                    subscriptions_open.get(self._subscription).dec()
            ctx = self.execution_context
            op_type, name, root = _labels(
                ctx.graphql_document, ctx.operation_name, ctx.result, known
            )
            outcome = _outcome(ctx.result, op_type, root)
            operations.get(op_type, name, outcome).inc()
            if op_type != "subscription":
                durations.get(op_type, name).observe(time.perf_counter() - started)

        def on_validate(self) -> Iterator[None]:
            yield
            ctx = self.execution_context
            if ctx.pre_execution_errors or ctx.graphql_document is None:
                return
            operation = _operation(ctx.graphql_document, ctx.operation_name)
            # A shared execution serves many subscriptions: its members are counted as they
            # join and leave (server/shared_subscriptions.py).
            shared = getattr(ctx.context, "shared_execution", False)
            if operation is not None and operation.operation.value == "subscription" and not shared:
                self._subscription = _root_field(operation) or OTHER
                subscriptions_open.get(self._subscription).inc()

    return OperationMetrics


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    found = None
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if name is None:
                if found is not None:
                    return None  # several operations and none chosen
                found = definition
            elif definition.name is not None and definition.name.value == name:
                return definition
    return found


def _root_field(operation: OperationDefinitionNode) -> str | None:
    first = operation.selection_set.selections[0] if operation.selection_set.selections else None
    return first.name.value if isinstance(first, FieldNode) else None


def _labels(
    document: DocumentNode | None, name: str | None, result: Any, known: frozenset[str]
) -> tuple[str, str, str]:
    """(type, name, root field) of the operation that ran."""
    operation = _operation(document, name) if document is not None else None
    if operation is None:
        return "unknown", OTHER, OTHER
    op_type = operation.operation.value
    if _is_request_error(result):
        # It did not validate: its field names may be anything a client typed.
        return op_type, OTHER, OTHER
    root = _root_field(operation) or OTHER
    own = operation.name.value if operation.name is not None else None
    return op_type, own if own is not None and own in known else root, root


def _is_request_error(result: Any) -> bool:
    errors = getattr(result, "errors", None)
    return bool(errors) and result.data is None and all(e.path is None for e in errors)


def _outcome(result: Any, op_type: str, root: str) -> str:
    errors = getattr(result, "errors", None)
    if errors:
        code = (errors[0].extensions or {}).get("code")
        if code == "QUERY_TOO_COMPLEX":
            measure = (errors[0].extensions or {}).get("measure")
            refused.get(measure if measure in MEASURES else _limit(errors[0].message)).inc()
        return code if isinstance(code, str) and _CODE.fullmatch(code) else "error"
    data = getattr(result, "data", None)
    if op_type != "mutation" or not isinstance(data, dict):
        return "ok"
    user_errors = [
        error
        for payload in data.values()
        if isinstance(payload, dict)
        for error in payload.get("userErrors") or ()
    ]
    if not user_errors:
        return "ok"
    if any(isinstance(e, dict) and e.get("code") == "RATE_LIMITED" for e in user_errors):
        rate_limited.get(root).inc()
    return "user_error"


def _limit(message: str) -> str:
    for mark, limit in _LIMITS:
        if mark in message:
            return limit
    return OTHER
