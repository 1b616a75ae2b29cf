"""Keyset pagination in SQL for Relay connections: opaque cursors over primary keys."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tortoise.queryset import QuerySet

from resolvers.errors import BadRequest

MAX_PAGE_SIZE = 100
T = TypeVar("T")
_PREFIX = "c1:"
# Primary keys are 64-bit signed integers everywhere this runs; a larger number made the
# database driver overflow (INTERNAL). Cursors this code gives out are far shorter.
MAX_PRIMARY_KEY = 2**63 - 1
MAX_CURSOR_LENGTH = 40


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, argument: str) -> int:
    """The primary key in a cursor; BadRequest naming `argument` for anything else."""
    refused = BadRequest(f"`{argument}` is not a cursor this connection gave out.")
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise refused
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise refused from None
    digits = text.removeprefix(_PREFIX)
    # Only plain digits: int() would also take signs, spaces and underscores.
    if not text.startswith(_PREFIX) or not digits.isascii() or not digits.isdigit():
        raise refused
    pk = int(digits)
    if pk > MAX_PRIMARY_KEY:
        raise refused
    return pk


@dataclass(frozen=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def limit(self) -> int:
        for name, value in (("first", self.first), ("last", self.last)):
            if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
                raise BadRequest(f"`{name}` must be between 0 and {MAX_PAGE_SIZE}.")
        if self.first is not None and self.last is not None:
            raise BadRequest("Pass `first` or `last`, not both.")
        return self.last if self.last is not None else (self.first or MAX_PAGE_SIZE)


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


@dataclass(frozen=True)
class Window:
    """What one page asks of the database: primary keys strictly between the bounds, in one
    order, at most `limit` rows (one more than the page, to tell whether more follow)."""

    above: int | None
    below: int | None
    descending: bool
    limit: int


def window(args: PageArgs, *, newest_first: bool = False) -> Window:
    """The rows a page needs, ordered by primary key; `newest_first` reverses the order."""
    limit = args.limit()
    after = decode_cursor(args.after, "after") if args.after is not None else None
    before = decode_cursor(args.before, "before") if args.before is not None else None
    return Window(
        above=before if newest_first else after,
        below=after if newest_first else before,
        descending=newest_first != (args.last is not None),
        limit=limit + 1,
    )


def page_from(rows: list[Any], args: PageArgs) -> Page[Any]:
    """The page of rows fetched for `window(args)`, with its cursors and neighbours."""
    limit = args.limit()
    more = len(rows) > limit
    rows = rows[:limit]
    backwards = args.last is not None
    if backwards:
        rows.reverse()
    return Page(
        rows=rows,
        cursors=[encode_cursor(row.id) for row in rows],
        has_next_page=more if not backwards else args.before is not None,
        has_previous_page=more if backwards else args.after is not None,
    )


async def paginate(
    query: QuerySet[Any], args: PageArgs, *, newest_first: bool = False
) -> Page[Any]:
    """One page of `query` ordered by primary key; `newest_first` reverses the order."""
    bounds = window(args, newest_first=newest_first)
    if bounds.above is not None:
        query = query.filter(id__gt=bounds.above)
    if bounds.below is not None:
        query = query.filter(id__lt=bounds.below)
    rows = await query.order_by("-id" if bounds.descending else "id").limit(bounds.limit)
    return page_from(list(rows), args)
