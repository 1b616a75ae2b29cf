"""Parsed and validated documents kept by query text, so a repeated query skips both steps."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import suppress
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

# Bounded: anyone may send new query texts; the documents a deployment's clients send are few.
MAX_DOCUMENTS = 256
# Each validation error costs a scan of the document for its line and column: a document of
# hundreds of unused variables spent most of its validation there. Ten name the problem.
MAX_ERRORS = 10

Rules = tuple[type[ASTValidationRule], ...]


@lru_cache(maxsize=MAX_DOCUMENTS)
def _parsed(query: str, options: tuple[tuple[str, Any], ...]) -> DocumentNode:
    return parse(query, **dict(options))


# Validation results by schema, query, parse options and rule names. The limiter extensions
# build a new rule class per request (they are factories), so rules are known by name: one
# schema's extensions add the same rules, configured alike, every time.
_VALIDATED: OrderedDict[tuple[Any, ...], list[GraphQLError]] = OrderedDict()


def _validated(
    schema: GraphQLSchema, query: str, options: tuple[tuple[str, Any], ...], rules: Rules
) -> list[GraphQLError]:
    key = (schema, query, options, tuple(f"{r.__module__}.{r.__qualname__}" for r in rules))
    errors = _VALIDATED.get(key)
    if errors is None:
        # What Strawberry's validate_document runs, with fewer errors allowed.
        every_rule = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)
        errors = validate(schema, _parsed(query, options), every_rule, max_errors=MAX_ERRORS)
        _VALIDATED[key] = errors
        if len(_VALIDATED) > MAX_DOCUMENTS:
            _VALIDATED.popitem(last=False)
    else:
        _VALIDATED.move_to_end(key)
    return errors


class DocumentCache(SchemaExtension):
    """Strawberry's ParserCache and ValidationCache in one, keyed by the query text: the
    built-in validation cache hashes the whole document tree on every request, and misses
    whenever a limiter extension supplies its rule afresh."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query:
            options = tuple(sorted(context.parse_options.items()))
            # A failure is not cached: Strawberry parses again and reports it as usual.
            with suppress(GraphQLError):
                context.graphql_document = _parsed(context.query, options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        options = tuple(sorted(context.parse_options.items()))
        # Errors already here: the document was refused before validation (graph/limits.py).
        if (
            context.pre_execution_errors is None
            and context.query
            and context.graphql_document is _parsed(context.query, options)
        ):
            context.pre_execution_errors = _validated(
                context.schema._schema, context.query, options, context.validation_rules
            )
        yield
