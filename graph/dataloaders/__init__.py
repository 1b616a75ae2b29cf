"""Per-request DataLoaders: every batch of the same kind is one SQL statement."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from resolvers import reads
from resolvers.deps import Deps

V = TypeVar("V")


def _loader(
    fetch: Callable[[Iterable[int]], Awaitable[Mapping[int, V]]], default: Any, cache: bool
) -> DataLoader[int, V]:
    async def load(keys: list[int]) -> list[V]:
        found = await fetch(keys)
        return [found.get(key, default() if callable(default) else default) for key in keys]

    return DataLoader(load_fn=load, cache=cache)


class Loaders:
    """One set per operation; on a WebSocket they do not cache, so no event sees stale rows."""

    def __init__(self, deps: Deps, *, cache: bool = True) -> None:
        self.account = _loader(reads.accounts_by_id, None, cache)
        self.api_key = _loader(reads.api_keys_by_id, None, cache)
        self.secrets = _loader(
            lambda ids: reads.live_secrets_by_key(ids, deps.clock()), list, cache
        )
        self.messaging = _loader(reads.messaging_by_key, None, cache)
        self.signature = _loader(reads.signature_by_key, None, cache)
        self.steps = _loader(reads.steps_by_delivery, list, cache)
