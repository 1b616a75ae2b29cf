"""The Starlette application: GraphQL over HTTP and WebSocket, GraphiQL, health, wiring."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

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
from server.console import console_routes
from server.graphiql import graphiql_routes
from server.graphql_metrics import operation_metrics
from server.health import healthz, readyz
from server.heap import freeze_startup_heap
from server.limits import MAX_BODY_BYTES, BodyLimitMiddleware, SecurityHeadersMiddleware
from server.logs import AccessLogMiddleware
from server.metrics import MetricsMiddleware, delivery_finished
from server.metrics_endpoint import pool_sampler
from server.persisted import PersistedDocuments
from server.redis_broker import RedisBroker
from server.sender import HttpxWebhookSender
from server.settings import Settings
from server.shared_limits import RedisCounters
from server.tasks import BackgroundTasks
from server.tracing import OperationTracing, configure_tracing, tracing_middleware
from server.view import SwitchboardGraphQL
from signing.crypto import SecretBox


def build_broker(settings: Settings) -> EventBroker:
    """Redis when REDIS_URL is set (events cross replicas), else in-process (one replica)."""
    if settings.redis_url:
        return RedisBroker(settings.redis_url, prefix=settings.redis_prefix)
    return InProcessBroker()


def build_deps(settings: Settings) -> Deps:
    deps = Deps(
        box=SecretBox(
            settings.master_key,
            old_keys=settings.old_master_keys,
            session_keys=settings.session_keys,
        ),
        broker=build_broker(settings),
        max_api_keys=settings.max_api_keys,
        session_ttl_seconds=settings.session_ttl_seconds,
        allow_private_webhooks=settings.allow_private_webhooks,
        webhook_issuer=settings.webhook_issuer,
        webhook_sender=HttpxWebhookSender(
            connect_timeout=settings.webhook_connect_timeout_seconds,
            total_timeout=settings.webhook_total_timeout_seconds,
            port_rule=settings.webhook_ports,
        ),
        delivery_tasks=BackgroundTasks(),
        delivery_attempts=settings.delivery_attempts,
        delivery_backoff_seconds=settings.delivery_backoff_seconds,
        max_deliveries_in_flight=settings.max_deliveries_in_flight,
        on_delivery_finished=delivery_finished if settings.metrics else None,
        delivery_leases=DeliveryLeases(lease_seconds=settings.delivery_lease_seconds),
    )
    if isinstance(deps.broker, RedisBroker):
        # With Redis, every replica counts the same failed logins and reveals, through the
        # broker's own publishing pool (connections per process stay at most four).
        deps.credential_limits.share(
            RedisCounters(deps.broker.client, prefix=settings.redis_prefix)
        )
    return deps


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
        await deps.delivery_starts.drained()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if owns_broker:
                # A caller that brings its own Deps owns (and closes) its broker and counters.
                stack.push_async_callback(_close_broker, deps.broker)
                stack.push_async_callback(deps.credential_limits.close)
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
                    retention=settings.delivery_retention,
                    delivery_sweep_seconds=settings.delivery_sweep_seconds,
                )
                await stack.enter_async_context(jobs)
            if init_database and settings.metrics:
                interval = settings.metrics_pool_interval_seconds
                await stack.enter_async_context(pool_sampler(interval))
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
    documents = PersistedDocuments.load(settings.persisted_documents)
    observers: list[Any] = []
    if settings.metrics:
        observers.append(operation_metrics(settings.metrics_operations))
    if settings.tracing:
        configure_tracing()
        observers.append(OperationTracing)
    graphql = SwitchboardGraphQL(
        schema=build_schema(
            introspection=settings.introspection,
            trusted_documents=documents.texts,
            observers=observers,
        ),
        deps=deps,
        allowed_origins=settings.cors_origins,
        ws_recheck_seconds=settings.ws_recheck_seconds,
        documents=documents,
        trusted_only=settings.trusted_documents_only,
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
                # A cross-origin page may read the request ID it should quote, and how long
                # to wait after a 429.
                expose_headers=["X-Request-Id", "Retry-After"],
                max_age=600,
            ),
        )
    if settings.metrics:
        middleware.insert(0, Middleware(MetricsMiddleware))
    if settings.tracing:
        # Outermost: the HTTP span is every other span's parent, and the access log's.
        middleware.insert(0, Middleware(tracing_middleware))
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *graphiql_routes(),
            # Last: every path nothing above took is the console's.
            *console_routes(settings.console_dist),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.deps = deps
    app.state.settings = settings
    return app
