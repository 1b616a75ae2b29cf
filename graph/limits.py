"""Depth, alias and token limits as one extension whose validation rules are built once."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule


def request_limits(*, max_depth: int, max_aliases: int, max_tokens: int) -> type[SchemaExtension]:
    """What QueryDepthLimiter, MaxAliasesLimiter and MaxTokensLimiter do, with the same rules
    and messages; as factories those three cost a new rule class each, per request."""
    rules = (depth_rule(max_depth, None, None), alias_rule(max_aliases))

    class RequestLimits(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            context = self.execution_context
            context.parse_options["max_tokens"] = max_tokens
            context.validation_rules = (*context.validation_rules, *rules)
            yield

    return RequestLimits
