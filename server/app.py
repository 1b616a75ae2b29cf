"""The Starlette application: GraphQL over HTTP and WebSocket, GraphiQL, health, wiring."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from tortoise.contrib.starlette import RegisterTortoise

from graph.context import Context
from graph.schema import schema
from models.config import tortoise_config
from resolvers.auth import authenticate
from resolvers.deps import Deps
from resolvers.errors import AuthenticationError
from server.auth import PRINCIPAL_KEY, REQUEST_INFO_KEY, AuthMiddleware, request_info
from server.broker import InProcessBroker
from server.graphiql import graphiql_html, graphiql_routes
from server.health import healthz, readyz
from server.sender import HttpxWebhookSender
from server.settings import Settings
from server.tasks import BackgroundTasks
from signing.crypto import SecretBox


def build_deps(settings: Settings) -> Deps:
    return Deps(
        box=SecretBox(settings.master_key),
        broker=InProcessBroker(),
        max_api_keys=settings.max_api_keys,
        session_ttl_seconds=settings.session_ttl_seconds,
        allow_private_webhooks=settings.allow_private_webhooks,
        webhook_issuer=settings.webhook_issuer,
        webhook_sender=HttpxWebhookSender(
            connect_timeout=settings.webhook_connect_timeout_seconds,
            total_timeout=settings.webhook_total_timeout_seconds,
        ),
        delivery_tasks=BackgroundTasks(),
        delivery_attempts=settings.delivery_attempts,
        delivery_backoff_seconds=settings.delivery_backoff_seconds,
        max_deliveries_in_flight=settings.max_deliveries_in_flight,
    )


class SwitchboardGraphQL(GraphQL):
    """Strawberry's ASGI view with our context, WebSocket authentication and offline GraphiQL."""

    def __init__(self, *, deps: Deps, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=20,
            allowed_origins=settings.cors_origins,
        )
        self.deps = deps

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        if isinstance(request, WebSocket):
            info = request_info(request.scope, request.headers.get("x-request-id") or "ws")
            return Context(request, None, self.deps, None, info, cache_loaders=False)
        return Context(
            request,
            response,
            self.deps,
            request.scope.get(PRINCIPAL_KEY),
            request.scope[REQUEST_INFO_KEY],
        )

    async def on_ws_connect(self, context: Context) -> None:
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        if not isinstance(header, str):
            raise ConnectionRejectionError({"reason": "connectionParams.Authorization is required"})
        try:
            context.principal = await authenticate(deps=self.deps, header=header)
        except AuthenticationError as exc:
            raise ConnectionRejectionError({"reason": str(exc)}) from None

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(graphiql_html(str(request.url.path)))


def create_app(
    settings: Settings | None = None, *, deps: Deps | None = None, init_database: bool = True
) -> Starlette:
    """The app; tests pass `init_database=False` and bring their own database context."""
    settings = settings or Settings.from_env()
    deps = deps or build_deps(settings)
    graphql = SwitchboardGraphQL(deps=deps, settings=settings)

    async def stop_deliveries() -> None:
        # Before the database closes: an interrupted delivery still stores its final step.
        if isinstance(deps.delivery_tasks, BackgroundTasks):
            await deps.delivery_tasks.close(settings.delivery_shutdown_grace_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not init_database:
            yield
            await stop_deliveries()
            return
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            yield
            await stop_deliveries()

    middleware = [Middleware(AuthMiddleware, deps=deps)]
    if settings.cors_origins:
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=600,
            ),
        )
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *graphiql_routes(),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.deps = deps
    app.state.settings = settings
    return app
