"""Executing plain attribute fields without the general machinery."""

# Most fields Switchboard answers are scalars and enums read straight off an object: a
# key's `nickname`, a secret's `createdAt`. For each, graphql-core builds a resolve-info
# record and Strawberry runs its default resolver, which reads the attribute through
# several layers, before the value is coerced: most of the CPU of the dashboard query,
# which has about 120 such fields. Here a field Strawberry itself marks as having no
# resolver, no arguments and no field extensions, and whose type is a scalar or enum
# (maybe non-null), is read and coerced directly. Anything unusual about the value goes
# back to the general path, which reports it exactly as before.

from __future__ import annotations

from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
    Undefined,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.executor import Executor
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

STRAWBERRY_FIELD = "strawberry-definition"


class PlainLeaf(NamedTuple):
    attribute: str
    leaf_type: GraphQLLeafType
    nullable: bool


# Per schema: (object type, field) -> how to read it plainly, or None when it cannot be.
_PLAIN: WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], PlainLeaf | None]] = (
    WeakKeyDictionary()
)


_UNKNOWN: Any = object()


def plain_leaf(schema: GraphQLSchema, parent: GraphQLObjectType, name: str) -> PlainLeaf | None:
    known = _PLAIN.setdefault(schema, {})
    key = (parent.name, name)
    if key not in known:
        known[key] = _classify(parent, name)
    return known[key]


def _classify(parent: GraphQLObjectType, name: str) -> PlainLeaf | None:
    field = parent.fields.get(name)
    if field is None or field.args:
        return None
    # Strawberry marks the resolver of a field with no resolver and no extensions.
    if not getattr(field.resolve, "_is_default", False):
        return None
    definition = field.extensions.get(STRAWBERRY_FIELD)
    attribute = getattr(definition, "python_name", None)
    leaf = get_nullable_type(field.type)
    if not isinstance(attribute, str) or not is_leaf_type(leaf):
        return None
    return PlainLeaf(attribute, leaf, not is_non_null_type(field.type))  # type: ignore[arg-type]


class _AsyncWork:
    """What graphql-core's resolve-info helpers use of an executor, held apart from it.

    graphql-core gives every executor helpers made of its own bound methods: executor ->
    helpers -> method -> executor, a reference cycle that made everything one request's
    execution touched (its fields, loaders, rows, about 380 objects) garbage only the cyclic
    collector could free. A young collection came every hundred-odd dashboard requests and
    took over 100 ms on this machine: the p99 of /graphql in `make bench` (bench/probe.py).
    These helpers run graphql-core's own methods on the executor's shared state instead.
    """

    __slots__ = ("background_futures", "is_awaitable")

    track_async_work = Executor.track_async_work
    gather_async_work = Executor.gather_async_work
    settle_in_background = Executor.settle_in_background

    def __init__(self, is_awaitable: Any, background_futures: set[Any]) -> None:
        self.is_awaitable = is_awaitable
        self.background_futures = background_futures


class PlainFieldExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, reading plain scalar and enum attributes directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # This schema's classified fields, looked up without the weak dictionary per field.
        self.plain_fields = _PLAIN.setdefault(self.schema, {})
        work = _AsyncWork(self.is_awaitable, self.background_futures)
        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=work.gather_async_work, track=work.track_async_work
        )

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        # A resolve middleware (an extension with a `resolve` hook) sees every field.
        if not self.middleware_manager or not self.middleware_manager.middlewares:
            name = field_details_list[0].node.name.value
            plain = self.plain_fields.get((parent_type.name, name), _UNKNOWN)
            if plain is _UNKNOWN:
                plain = plain_leaf(self.schema, parent_type, name)
            if plain is not None:
                try:
                    value = getattr(source, plain.attribute)
                    if value is None:
                        if plain.nullable:
                            return None
                    else:
                        coerced = plain.leaf_type.coerce_output_value(value)
                        if coerced is not None and coerced is not Undefined:
                            return coerced
                except Exception:  # noqa: S110 (the general path reports it)
                    pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
