"""Relay plumbing: opaque global IDs, the Node interface, PageInfo and generic connections."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from graphql import OperationDefinitionNode
from graphql.pyutils import Path
from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

from resolvers.pagination import Page, PageArgs, encode_cursor

NodeType = TypeVar("NodeType")


def to_global_id(type_name: str, pk: int | str) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode())


def global_id_of(target: str | None) -> strawberry.ID | None:
    """A stored "Type:pk" reference as a global ID."""
    if not target:
        return None
    type_name, _, pk = target.partition(":")
    return to_global_id(type_name, pk)


def from_global_id(global_id: str) -> tuple[str, int] | None:
    """(type name, primary key), or None for anything that is not one of our IDs."""
    try:
        text = base64.urlsafe_b64decode(global_id.encode("ascii")).decode("utf-8")
        type_name, sep, pk = text.partition(":")
        if not sep or not type_name.isidentifier() or not pk.isdigit() or len(pk) > 18:
            return None
        return type_name, int(pk)
    except (binascii.Error, UnicodeError, ValueError):
        return None


def pk_of(global_id: str, type_name: str) -> int | None:
    """The primary key if `global_id` names an object of `type_name`, else None."""
    decoded = from_global_id(global_id)
    return decoded[1] if decoded and decoded[0] == type_name else None


@strawberry.interface(description="An object with a globally unique, opaque ID.")
class Node:
    id: strawberry.ID = strawberry.field(description="The object's opaque global ID.")


@strawberry.type(description="Where a page of a connection sits in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="More items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first item.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last item.")


@strawberry.type(description="An item of a connection with its cursor.")
class Edge(Generic[NodeType]):
    cursor: str = strawberry.field(description="Opaque cursor for `after`/`before`.")
    node: NodeType = strawberry.field(description="The item.")


def edge_of(node: NodeType, pk: int) -> Edge[NodeType]:
    """A new item as an edge of the list it joins, with the cursor that list gives it, so a
    client cache can append it without refetching."""
    return Edge(cursor=encode_cursor(pk), node=node)


@strawberry.type(description="A page of items (at most 100), with cursors to move on.")
class Connection(Generic[NodeType]):
    page_info: PageInfo = strawberry.field(description="Where this page sits.")
    edges: list[Edge[NodeType]] = strawberry.field(description="The items of this page.")
    # Counted only when asked for: most pages never show the total.
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items the whole list holds, across every page.")
    async def total_count(self) -> int:
        return await self.count()

    @classmethod
    def from_page(
        cls,
        page: Page[Any],
        convert: Callable[[Any], NodeType],
        count: Callable[[], Awaitable[int]],
    ) -> Connection[NodeType]:
        edges = [
            Edge(cursor=c, node=convert(r)) for r, c in zip(page.rows, page.cursors, strict=True)
        ]
        return cls(
            count=count,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            edges=edges,
        )


# The four pagination arguments every connection field takes, described once.
Before = Annotated[
    str | None, strawberry.argument(description="Items before this cursor (with `last`).")
]
After = Annotated[
    str | None, strawberry.argument(description="Items after this cursor (with `first`).")
]
First = Annotated[
    int | None, strawberry.argument(description="At most this many from the start (0 to 100).")
]
Last = Annotated[
    int | None, strawberry.argument(description="At most this many from the end (0 to 100).")
]


def page_args(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageArgs:
    return PageArgs(first=first, after=after, last=last, before=before)


# (operation's id, field's place in it) -> (the operation, the names): the documents are cached
# (DocumentCache), so the same query meets the same operation object on every request.
_NODE_FIELDS: dict[tuple[int, tuple[str, ...]], tuple[OperationDefinitionNode, frozenset[str]]] = {}
_NODE_FIELDS_MAX = 1024


def node_fields(info: Info) -> frozenset[str]:
    """The names of the fields this connection's query may select on each node, through
    fragments and whatever their directives say: what is worth loading for a page at once."""
    operation, place = info.operation, _place(info.path)
    cached = _NODE_FIELDS.get((id(operation), place))
    # The identity check guards against an id reused by a newer operation.
    if cached is not None and cached[0] is operation:
        return cached[1]
    names = frozenset(_selected_at(info.selected_fields, ("edges", "node"), top=True))
    if len(_NODE_FIELDS) >= _NODE_FIELDS_MAX:
        _NODE_FIELDS.clear()
    _NODE_FIELDS[(id(operation), place)] = (operation, names)
    return names


def _place(path: Path | None) -> tuple[str, ...]:
    """A field's place in its operation: response keys and parent types, without list indexes."""
    place: list[str] = []
    while path is not None:
        if isinstance(path.key, str):
            place.append(f"{path.typename}.{path.key}")
        path = path.prev
    return tuple(place)


def _selected_at(selections: list[Selection], path: tuple[str, ...], top: bool = False) -> set[str]:
    names: set[str] = set()
    for selection in selections:
        if top or not isinstance(selection, SelectedField):
            names |= _selected_at(selection.selections, path)
        elif not path:
            names.add(selection.name)
        elif selection.name == path[0]:
            names |= _selected_at(selection.selections, path[1:])
    return names
