"""What one document may ask for, measured before validation runs, refused with a typed error."""

# graphql-core's validation compares fields pairwise (OverlappingFieldsCanBeMerged): 400
# repeated `viewer { role }` in 7 KB cost ~0.9 s of CPU. So the document is measured first,
# in one walk over its fields with fragments expanded (each fragment measured once), and a
# document past any bound is refused before validation sees it. The walk's verdict is kept
# per parsed document, which DocumentCache keeps per query text.

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TokenKind,
)
from graphql.language import Lexer, Source
from strawberry.extensions import SchemaExtension

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"


@dataclass(frozen=True)
class DocumentLimits:
    max_tokens: int = 1000
    # Nesting below a root field: `{ viewer { account { id } } }` has depth 2.
    max_depth: int = 10
    max_aliases: int = 15
    # Fields in one operation, fragments expanded where they are spread.
    max_fields: int = 100
    # Pairs of fields sharing a response name in one selection set, the selections of
    # same-named fields merged as validation merges them: what validation compares pairwise.
    max_pairs: int = 100
    # Fragment definitions and directives: validation follows each fragment from every place
    # it is spread, and a chain of 110 one-line fragments cost six dashboard queries (bench).
    max_fragments: int = 30
    max_directives: int = 30


# What each measure is called in messages.
_WORDING = {
    "tokens": "tokens",
    "depth": "levels of nesting",
    "aliases": "aliases",
    "fields": "fields (fragments counted where they are spread)",
    "pairs": "pairs of same-named fields to compare",
    "fragments": "fragment definitions",
    "directives": "directives (fragments counted where they are spread)",
}


class QueryTooComplex(GraphQLError):
    """A document past one of the limits; `extensions` carry the measure, limit and value."""

    def __init__(self, measure: str, limit: int, value: int, *, at_least: bool = False) -> None:
        amount = f"at least {value}" if at_least else str(value)
        super().__init__(
            f"The document has {amount} {_WORDING[measure]}; at most {limit} are allowed.",
            extensions={
                "code": QUERY_TOO_COMPLEX,
                "measure": measure,
                "limit": limit,
                "value": value,
            },
        )


class _Stop(Exception):
    """The walk went far enough past the field limit to stop counting."""


class _Walk:
    """Counts one operation's fields, aliases, depth and pairs, with fragments expanded.

    Fields are grouped by response name with the selections of same-named fields merged, as
    validation groups them, so nested repeats (5 `viewer` with 5 `account` each) count as
    validation pays for them (25 `account` together). Counting stops at a multiple of the
    field limit, so fragments spread inside fragments cannot make the walk itself costly."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode], ceiling: int) -> None:
        self.fragments = fragments
        self.ceiling = ceiling
        self.fields = self.aliases = self.depth = self.pairs = self.directives = 0

    def visit(self, selection_sets: list[SelectionSetNode], depth: int) -> None:
        groups: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect(selection_set, groups, ())
        for fields in groups.values():
            self.pairs += len(fields) * (len(fields) - 1) // 2
            children = [f.selection_set for f in fields if f.selection_set is not None]
            if children:
                self.depth = max(self.depth, depth + 1)
                self.visit(children, depth + 1)

    def _collect(
        self,
        selection_set: SelectionSetNode,
        groups: dict[str, list[FieldNode]],
        entered: tuple[str, ...],
    ) -> None:
        for selection in selection_set.selections:
            self.directives += len(selection.directives or ())
            if isinstance(selection, FieldNode):
                self.fields += 1
                if self.fields >= self.ceiling:
                    raise _Stop
                self.aliases += selection.alias is not None
                groups.setdefault((selection.alias or selection.name).value, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                self._collect(selection.selection_set, groups, entered)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                # Unknown fragments and cycles are validation's to report.
                if fragment is not None and name not in entered:
                    self._collect(fragment.selection_set, groups, (*entered, name))


def measure(document: DocumentNode, limits: DocumentLimits) -> QueryTooComplex | None:
    """The first limit an operation of the document passes, or None."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    if len(fragments) > limits.max_fragments:
        return QueryTooComplex("fragments", limits.max_fragments, len(fragments))
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        walk = _Walk(fragments, ceiling=10 * limits.max_fields)
        walk.directives = len(definition.directives or ())
        try:
            walk.visit([definition.selection_set], 0)
        except _Stop:
            return QueryTooComplex("fields", limits.max_fields, walk.fields, at_least=True)
        for name, value, limit in (
            ("fields", walk.fields, limits.max_fields),
            ("pairs", walk.pairs, limits.max_pairs),
            ("aliases", walk.aliases, limits.max_aliases),
            ("directives", walk.directives, limits.max_directives),
            ("depth", walk.depth, limits.max_depth),
        ):
            if value > limit:
                return QueryTooComplex(name, limit, value)
    return None


def count_tokens(query: str) -> int:
    """Tokens up to the end or the first lexing error (the parser reports that one)."""
    lexer = Lexer(Source(query))
    count = 0
    try:
        while lexer.advance().kind is not TokenKind.EOF:
            count += 1
    except GraphQLError:
        pass
    return count


# Verdicts by parsed document: DocumentCache hands out one object per query text.
MAX_VERDICTS = 256
_VERDICTS: OrderedDict[int, tuple[DocumentNode, QueryTooComplex | None]] = OrderedDict()


def _verdict(document: DocumentNode, limits: DocumentLimits) -> QueryTooComplex | None:
    known = _VERDICTS.get(id(document))
    if known is not None and known[0] is document:
        _VERDICTS.move_to_end(id(document))
        return known[1]
    verdict = measure(document, limits)
    _VERDICTS[id(document)] = (document, verdict)
    if len(_VERDICTS) > MAX_VERDICTS:
        _VERDICTS.popitem(last=False)
    return verdict


def request_limits(limits: DocumentLimits) -> type[SchemaExtension]:
    """Tokens bound the parse; the other limits are measured after it, before validation."""

    class RequestLimits(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            yield
            self._name_the_token_limit()

        def on_parse(self) -> Iterator[None]:
            # The parser stops at the limit; the error is named after the parse (below).
            self.execution_context.parse_options["max_tokens"] = limits.max_tokens
            yield

        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            if context.graphql_document is not None and context.pre_execution_errors is None:
                refused = _verdict(context.graphql_document, limits)
                if refused is not None:
                    context.pre_execution_errors = [refused]
            yield

        def _name_the_token_limit(self) -> None:
            context = self.execution_context
            result = context.result
            errors = getattr(result, "errors", None)
            if context.graphql_document is not None or not errors or not context.query:
                return
            if len(errors) == 1 and isinstance(errors[0], GraphQLSyntaxError):
                tokens = count_tokens(context.query)
                if tokens > limits.max_tokens:
                    result.errors = [QueryTooComplex("tokens", limits.max_tokens, tokens)]  # type: ignore[union-attr]

    return RequestLimits
