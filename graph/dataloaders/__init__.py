"""Per-request DataLoaders: every batch of the same kind is one SQL statement."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from resolvers import reads
from resolvers.auth import ReadAlong
from resolvers.deps import Deps
from resolvers.principal import Principal

V = TypeVar("V")
T = TypeVar("T")


def _loader(
    fetch: Callable[[Iterable[int]], Awaitable[Mapping[int, V]]], default: Any, cache: bool
) -> DataLoader[int, V]:
    async def load(keys: list[int]) -> list[V]:
        found = await fetch(keys)
        return [found.get(key, default() if callable(default) else default) for key in keys]

    return DataLoader(load_fn=load, cache=cache)


def _part(whole: DataLoader[int, Any], pick: Callable[[Any], V], cache: bool) -> DataLoader[int, V]:
    """A loader of one part of what `whole` loads, sharing its statement."""

    async def load(keys: list[int]) -> list[V | None]:
        found = await whole.load_many(keys)
        return [None if value is None else pick(value) for value in found]

    return DataLoader(load_fn=load, cache=cache)


class Loaders:
    """One set per operation; on a WebSocket they do not cache, so no event sees stale rows."""

    def __init__(self, deps: Deps, *, cache: bool = True) -> None:
        self.account = _loader(reads.accounts_by_id, None, cache)
        self.api_key = _loader(reads.api_keys_by_id, None, cache)
        self.secrets = _loader(
            lambda ids: reads.live_secrets_by_key(ids, deps.clock()), list, cache
        )
        # Messaging and signature configuration: one statement serves both.
        self.settings = _loader(reads.settings_by_key, None, cache)
        self.messaging = _part(self.settings, lambda settings: settings.messaging, cache)
        self.signature = _part(self.settings, lambda settings: settings.signature, cache)
        self.steps = _loader(reads.steps_by_delivery, list, cache)
        self.cache = cache
        self._nodes: DataLoader[tuple[str, int], Any] | None = None

    def nodes(self, principal: Principal) -> DataLoader[tuple[str, int], Any]:
        """Rows by (type name, primary key) that `principal` owns, None for any other; made on
        first use, since a context's caller is known only once it has authenticated."""
        if self._nodes is None:

            async def load(refs: list[tuple[str, int]]) -> list[Any]:
                found = await reads.owned_nodes(principal=principal, refs=refs)
                return [found.get(ref) for ref in refs]

            self._nodes = DataLoader(load_fn=load, cache=self.cache)
        return self._nodes

    def prime_read_along(self, principal: Principal, read_along: ReadAlong) -> None:
        """What authenticating this request read (its session's key and account): the viewer's
        `account` and `apiKey` need no statement of their own."""
        found = read_along.rows
        if not self.cache or found is None or found.account.id != principal.account_id:
            return
        self.account.prime(found.account.id, found.account)
        if found.api_key.id == principal.via_api_key_id:
            self.api_key.prime(found.api_key.id, found.api_key)

    async def preload_keys(self, rows: Iterable[Any], fields: Collection[str]) -> None:
        """Settle, for a page of keys, what `fields` will ask of each key: the statements the
        fields would send, but sent now, so that their resolvers answer at once."""
        if not self.cache:
            return
        by_id = {row.id: row for row in rows}
        # Numbers and the viewer link to these same keys: they need no statement of their own.
        self.api_key.prime_many(by_id)
        wanted = []
        if "secrets" in fields:
            wanted.append(self.secrets.load_many(by_id))
        if "messaging" in fields or "signature" in fields:
            wanted.append(self.settings.load_many(by_id))
        if by_id and wanted:
            await asyncio.gather(*wanted)


def now_or_later(
    loader: DataLoader[int, V], key: int, convert: Callable[[V], T]
) -> T | Awaitable[T]:
    """`convert` of the loaded value: at once if the loader already holds it, so the field costs
    no task, else once it is loaded. (GraphQL resolvers may return either.)"""
    if loader.cache:
        future = loader.cache_map.get(key)
        if future is not None and future.done() and future.exception() is None:
            return convert(future.result())
    return _converted(loader.load(key), convert)


async def _converted(pending: Awaitable[V], convert: Callable[[V], T]) -> T:
    return convert(await pending)
