"""The typed request context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import GraphQLError
from starlette.requests import HTTPConnection
from starlette.responses import Response
from strawberry.types import Info

from graph.dataloaders import Loaders
from resolvers.deps import Deps
from resolvers.principal import Principal, RequestInfo


@dataclass
class Context:
    request: HTTPConnection
    response: Response | None
    deps: Deps
    principal: Principal | None
    request_info: RequestInfo
    loaders: Loaders = field(init=False)
    cache_loaders: bool = True
    # Set by Strawberry from a WebSocket's connection_init.
    connection_params: dict | None = None

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.deps, cache=self.cache_loaders)

    def note_operation(self, name: str | None) -> None:
        """Leave the operation's name where the server's access log finds it."""
        self.request.scope["switchboard.operation"] = name


def unauthenticated() -> GraphQLError:
    return GraphQLError(
        "Authentication required: send Authorization: Basic base64(api_key:api_secret) "
        "or Bearer <session token>.",
        extensions={"code": "UNAUTHENTICATED"},
    )


def principal_of(info: Info[Context, None]) -> Principal:
    """The authenticated caller, or a top-level UNAUTHENTICATED error."""
    principal = info.context.principal
    if principal is None:
        raise unauthenticated()
    return principal
