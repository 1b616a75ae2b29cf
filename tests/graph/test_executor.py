"""The plain-field executor answers exactly what Strawberry's own executor answers: values,
nulls, and the errors of values that cannot be answered."""

from __future__ import annotations

import enum
import gc
import weakref
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from graph.executor import PlainFieldExecutor, plain_leaf
from graph.schema import schema as switchboard_schema


@strawberry.enum
class Colour(enum.Enum):
    RED = "RED"
    BLUE = "BLUE"


@strawberry.type
class Item:
    name: str
    nickname: str | None
    count: int
    colour: Colour
    at: datetime
    tags: list[str]

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    def repeat(self, times: int) -> str:
        return self.name * times


class Broken:
    """Attributes the way a buggy object might hold them."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    @property
    def count(self) -> int:
        raise RuntimeError("no count")


def _items() -> list[Any]:
    at = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    good = Item(name="a", nickname=None, count=3, colour=Colour.RED, at=at, tags=["x"])
    # Each wrong in its own way: a null where none may be, an attribute that raises, a value
    # that is not an Int, a colour that is not one.
    return [
        good,
        Item(name=None, nickname="n", count=1, colour=Colour.BLUE, at=at, tags=[]),  # type: ignore[arg-type]
        Broken(name="e", nickname=None, colour=Colour.BLUE, at=at, tags=[]),
        Item(name="b", nickname="c", count="many", colour=Colour.BLUE, at=at, tags=[]),  # type: ignore[arg-type]
        Item(name="d", nickname=None, count=1, colour="PURPLE", at=at, tags=[]),  # type: ignore[arg-type]
    ]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return _items()


QUERY = "{ items { name nickname count colour at tags shout repeat(times: 2) } }"


def _run(executor: Any, extensions: list[Any] | None = None) -> dict[str, Any]:
    schema = strawberry.Schema(
        query=Query, execution_context_class=executor, extensions=extensions or []
    )
    result = schema.execute_sync(QUERY)
    errors = sorted((tuple(error.path or ()), error.message) for error in result.errors or [])
    return {"data": result.data, "errors": errors}


def test_answers_and_errors_match_strawberrys_own_executor() -> None:
    plain, general = _run(PlainFieldExecutor), _run(None)
    assert plain == general
    # The cases are really there: one good item, four nulled by an error each.
    assert plain["data"]["items"][0]["name"] == "a"
    assert plain["data"]["items"][1:] == [None, None, None, None]
    assert len(plain["errors"]) == 4


def test_a_resolve_hook_still_sees_plain_fields() -> None:
    seen: list[str] = []

    class Watch(SchemaExtension):
        def resolve(self, _next, root, info, *args, **kwargs):
            seen.append(info.field_name)
            return _next(root, info, *args, **kwargs)

    _run(PlainFieldExecutor, [Watch])
    assert {"name", "nickname", "count", "colour", "at"} <= set(seen)


class Held:
    """Stands for a request's context: whatever hangs off it lives as long as it does."""


@strawberry.type
class AsyncQuery:
    @strawberry.field
    async def items(self) -> list[Item | None]:
        return _items()[:1]


async def test_an_execution_is_freed_without_the_cyclic_collector() -> None:
    # A cycle through the executor left each request's whole state to the cyclic collector,
    # whose pauses were the dashboard's p99 (graph/executor.py).
    schema = strawberry.Schema(query=AsyncQuery, execution_context_class=PlainFieldExecutor)
    held = Held()
    freed = weakref.ref(held)
    gc.collect()
    gc.disable()
    try:
        result = await schema.execute("{ items { name shout } }", context_value=held)
        assert result.errors is None
        assert result.data == {"items": [{"name": "a", "shout": "A"}]}
        del held, result
        assert freed() is None
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("type_name", "field", "plain"),
    [
        ("ApiKey", "key", True),  # attribute, String!
        ("ApiKey", "nickname", True),  # attribute, String
        ("ApiKey", "createdAt", True),  # attribute, DateTime!
        ("ApiSecret", "masked", True),
        ("ApiKey", "id", True),  # the global ID, made when the object is
        ("ApiKey", "signature", False),  # a resolver
        ("ApiKey", "secrets", False),  # a list of objects, through a loader
        ("Account", "apiKeys", False),  # arguments
    ],
)
def test_which_switchboard_fields_are_read_plainly(type_name: str, field: str, plain: bool) -> None:
    graphql_schema = switchboard_schema._schema
    parent = graphql_schema.get_type(type_name)
    assert (plain_leaf(graphql_schema, parent, field) is not None) is plain  # type: ignore[arg-type]
