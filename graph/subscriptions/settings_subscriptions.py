"""Live settings: open dashboards hear about every change of a key, from any replica."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from graph.context import principal_of
from graph.relay import pk_of
from graph.types.settings_change import SettingsChange
from resolvers.errors import DomainError
from resolvers.live_settings import watch_settings

# Shared by every subscription's description: what ends a socket whose login ends.
SOCKET_CREDENTIALS = (
    "The socket's credentials are checked again for every operation and every few seconds: "
    "once the secret behind them is revoked, rolled away or expired, or the session token "
    "is logged out or expires, the socket is closed with code 4401 (Credentials no longer "
    "valid) and its streams end. A database outage answers an operation with an error "
    "whose extensions.code is UNAVAILABLE."
)


@strawberry.type
class SettingsSubscriptions:
    @strawberry.subscription(
        description="Every change of this key's settings, whichever server replica made it. "
        "A key the caller cannot see ends the stream with a NOT_FOUND error. If the server "
        "loses its connection to the other replicas (Redis), the stream stays open and, once "
        "the connection is back, sends one event with kind EVENTS_MAY_BE_MISSED: changes "
        "made meanwhile may not have been announced, so refetch what you show. "
        + SOCKET_CREDENTIALS
    )
    async def settings_changed(
        self,
        info: Info,
        api_key_id: Annotated[
            strawberry.ID, strawberry.argument(description="Global ID of the API key.")
        ],
    ) -> AsyncGenerator[SettingsChange, None]:
        stream = watch_settings(
            deps=info.context.deps,
            principal=principal_of(info),
            api_key_id=pk_of(api_key_id, "ApiKey"),
        )
        try:
            # aclosing: a client's `complete` must unsubscribe from the broker right away.
            async with aclosing(stream) as changes:
                async for change in changes:
                    yield SettingsChange.from_event(change)
        except DomainError as error:
            raise GraphQLError(error.message, extensions={"code": error.code.value}) from None
