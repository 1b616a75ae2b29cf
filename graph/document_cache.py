"""Parsed and validated documents kept by query text, so a repeated query skips both steps."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

# Bounded: anyone may send new query texts; the documents a deployment's clients send are few.
MAX_DOCUMENTS = 256


@lru_cache(maxsize=MAX_DOCUMENTS)
def _parsed(query: str) -> DocumentNode:
    return parse(query)


@lru_cache(maxsize=MAX_DOCUMENTS)
def _validated(
    schema: GraphQLSchema, query: str, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    return validate_document(schema, _parsed(query), rules)


class DocumentCache(SchemaExtension):
    """Strawberry's ParserCache and ValidationCache in one, keyed by the query text: the
    built-in validation cache hashes the whole document tree on every request."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and not context.parse_options:
            # Failures are not cached: they raise here and are reported as usual.
            context.graphql_document = _parsed(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and context.graphql_document is _parsed(context.query):
            context.pre_execution_errors = _validated(
                context.schema._schema, context.query, context.validation_rules
            )
        yield
