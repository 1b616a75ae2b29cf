"""The Starlette application: GraphQL over HTTP and WebSocket, GraphiQL, health, wiring."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute
from tortoise.contrib.starlette import RegisterTortoise

from graph.schema import build_schema
from models.config import tortoise_config
from resolvers.delivery_leases import DeliveryLeases
from resolvers.deps import Deps, EventBroker
from server.auth import AuthMiddleware
from server.background import background_jobs
from server.broker import InProcessBroker
from server.graphiql import graphiql_routes
from server.health import healthz, readyz
from server.heap import freeze_startup_heap
from server.limits import MAX_BODY_BYTES, BodyLimitMiddleware, SecurityHeadersMiddleware
from server.logs import AccessLogMiddleware
from server.redis_broker import RedisBroker
from server.sender import HttpxWebhookSender
from server.settings import Settings
from server.tasks import BackgroundTasks
from server.view import SwitchboardGraphQL
from signing.crypto import SecretBox


def build_broker(settings: Settings) -> EventBroker:
    """Redis when REDIS_URL is set (events cross replicas), else in-process (one replica)."""
    if settings.redis_url:
        return RedisBroker(settings.redis_url, prefix=settings.redis_prefix)
    return InProcessBroker()


def build_deps(settings: Settings) -> Deps:
    return Deps(
        box=SecretBox(settings.master_key),
        broker=build_broker(settings),
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
        delivery_leases=DeliveryLeases(lease_seconds=settings.delivery_lease_seconds),
    )


async def _close_broker(broker: EventBroker) -> None:
    close = getattr(broker, "close", None)
    if close is not None:
        await close()


def _lifespan(
    settings: Settings, deps: Deps, *, init_database: bool, background: bool, owns_broker: bool
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """The database connection, the broker and the background jobs, while the app runs."""

    async def stop_deliveries() -> None:
        # No request goes out after shutdown begins; one already out gets the grace period
        # for its answer, then ends OUTCOME_UNKNOWN rather than a blind INTERRUPTED.
        deps.delivery_leases.stop_unsent()
        if isinstance(deps.delivery_tasks, BackgroundTasks):
            await deps.delivery_tasks.close(settings.delivery_shutdown_grace_seconds)
        # A delivery cancelled while its step was being written leaves the write to finish.
        await deps.step_journal.drained()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if owns_broker:
                # A caller that brings its own Deps owns (and closes) its broker.
                stack.push_async_callback(_close_broker, deps.broker)
            if init_database:
                config = tortoise_config(settings.database_url)
                await stack.enter_async_context(RegisterTortoise(app, config=config))
            # Unwound before the database closes: an interrupted delivery still stores its
            # final step.
            stack.push_async_callback(stop_deliveries)
            if background:
                jobs = background_jobs(
                    deps=deps,
                    expiry_sweep_seconds=settings.expiry_sweep_seconds,
                    delivery_sweep_seconds=settings.delivery_sweep_seconds,
                )
                await stack.enter_async_context(jobs)
            if init_database:
                # Serving from here on: what startup built lives as long as the process.
                freeze_startup_heap()
            yield

    return lifespan


def create_app(
    settings: Settings | None = None,
    *,
    deps: Deps | None = None,
    init_database: bool = True,
    background: bool | None = None,
) -> Starlette:
    """The app; tests pass `init_database=False` and bring their own database context.
    Background jobs run when the app owns its database, unless `background` says otherwise."""
    settings = settings or Settings.from_env()
    owns_broker = deps is None
    deps = deps or build_deps(settings)
    graphql = SwitchboardGraphQL(
        schema=build_schema(introspection=settings.introspection),
        deps=deps,
        allowed_origins=settings.cors_origins,
    )
    lifespan = _lifespan(
        settings,
        deps,
        init_database=init_database,
        background=init_database if background is None else background,
        owns_broker=owns_broker,
    )
    middleware = [
        Middleware(SecurityHeadersMiddleware),
        Middleware(AccessLogMiddleware),
        Middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES),
        Middleware(AuthMiddleware, deps=deps),
    ]
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
