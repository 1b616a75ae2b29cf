"""Prometheus metrics: what the server counts, and the ASGI middleware that counts HTTP."""

# Every label value here comes from a short, fixed set (routes, methods, status codes, schema
# field names, error codes, event names): never an ID, a URL or what a client typed. Hot paths
# look their label children up in a dict keyed by the values, so no request builds one.

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics
from starlette.types import ASGIApp, Receive, Scope, Send

from server.response_status import StatusRecorder

# `_created` series double every counter and histogram for nothing a dashboard reads.
disable_created_metrics()

HTTP_REQUESTS = Counter(
    "switchboard_http_requests",
    "HTTP requests answered, by route, method and status code.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "switchboard_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route.",
    ["route"],
)
GRAPHQL_OPERATIONS = Counter(
    "switchboard_graphql_operations",
    "GraphQL operations, by type, name and outcome (ok, user_error, or the error code).",
    ["type", "name", "outcome"],
)
GRAPHQL_DURATION = Histogram(
    "switchboard_graphql_operation_duration_seconds",
    "Time to run a query or mutation, from parsing to its result.",
    ["type", "name"],
)
DOCUMENTS_REFUSED = Counter(
    "switchboard_graphql_documents_refused",
    "Documents refused by the query limits, by limit (tokens, depth, aliases, fields, ...).",
    ["limit"],
)
WEBSOCKETS_OPEN = Gauge(
    "switchboard_websockets_open",
    "WebSocket connections open now.",
    multiprocess_mode="livesum",
)
SUBSCRIPTIONS_OPEN = Gauge(
    "switchboard_subscriptions_open",
    "GraphQL subscriptions open now, by kind (the subscription field).",
    ["kind"],
    multiprocess_mode="livesum",
)
SHARED_EXECUTIONS = Counter(
    "switchboard_shared_subscription_executions",
    "Executions of shared subscriptions (one per event per group of equal subscribers), "
    "by kind (the subscription field).",
    ["kind"],
)
SHARED_FRAMES = Counter(
    "switchboard_shared_subscription_frames",
    "`next` frames sent to members of shared subscriptions, by kind: divided by "
    "executions, how many subscribers one execution served.",
    ["kind"],
)
TEST_DELIVERIES = Counter(
    "switchboard_test_deliveries",
    "Test deliveries finished, by event, outcome (succeeded, failed) and error code.",
    ["event", "outcome", "error_code"],
)
TEST_DELIVERY_RESPONSE = Histogram(
    "switchboard_test_delivery_response_seconds",
    "Time from sending a test webhook to its receiver's complete answer.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
)
AUTHENTICATION_FAILURES = Counter(
    "switchboard_authentication_failures",
    "Refused credentials, by door (http, websocket).",
    ["door"],
)
RATE_LIMITED = Counter(
    "switchboard_rate_limited",
    "Requests refused by a rate limit, by door (http, websocket, or the mutation).",
    ["door"],
)
REDIS_CONNECTIONS = Counter(
    "switchboard_redis_connections",
    "Connections opened to Redis (a rising rate means reconnects).",
)
REDIS_CONNECTION_FAILURES = Counter(
    "switchboard_redis_connection_failures",
    "Attempts to connect to Redis that failed.",
)
REDIS_PUBLISH_FAILURES = Counter(
    "switchboard_redis_publish_failures",
    "Events that could not be published to Redis.",
)
DB_POOL_IN_USE = Gauge(
    "switchboard_db_pool_connections_in_use",
    "Database pool connections lent out now (PostgreSQL; SQLite has no pool).",
    multiprocess_mode="livesum",
)
DB_POOL_WAITING = Gauge(
    "switchboard_db_pool_waiting",
    "Tasks waiting for a database pool connection now (PostgreSQL; SQLite has no pool).",
    multiprocess_mode="livesum",
)
READINESS_CHECKS = Counter(
    "switchboard_readiness_checks",
    "Answers of /readyz, by outcome (ok, failed).",
    ["outcome"],
)

# The routes the app serves; anything else is counted as "other", never by its path.
_ROUTES = {"/graphql": "/graphql", "/healthz": "/healthz", "/readyz": "/readyz", "/": "/"}
_GRAPHIQL_STATIC = "/graphiql/static/"
_METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})


def _route(path: str) -> str:
    route = _ROUTES.get(path)
    if route is not None:
        return route
    return "/graphiql/static" if path.startswith(_GRAPHIQL_STATIC) else "other"


class LabelChildren:
    """A metric's label children by their values, bound once: `labels()` takes a lock and
    builds a tuple on every call."""

    def __init__(self, metric: Any) -> None:
        self.metric = metric
        self._bound: dict[tuple[str, ...], Any] = {}

    def get(self, *values: str) -> Any:
        child = self._bound.get(values)
        if child is None:
            child = self._bound[values] = self.metric.labels(*values)
        return child


http_requests = LabelChildren(HTTP_REQUESTS)
http_duration = LabelChildren(HTTP_DURATION)
subscriptions_open = LabelChildren(SUBSCRIPTIONS_OPEN)
shared_executions = LabelChildren(SHARED_EXECUTIONS)
shared_frames = LabelChildren(SHARED_FRAMES)
authentication_failures = LabelChildren(AUTHENTICATION_FAILURES)
rate_limited = LabelChildren(RATE_LIMITED)
readiness_checks = LabelChildren(READINESS_CHECKS)
test_deliveries = LabelChildren(TEST_DELIVERIES)

# Series that exist at zero from the start, so a rate() over them has a baseline and a rule
# that names them never reads "no data" on a quiet server.
for _door in ("http", "websocket"):
    authentication_failures.get(_door)
    rate_limited.get(_door)
for _limit in ("tokens", "depth", "aliases", "fields", "pairs", "fragments", "directives"):
    DOCUMENTS_REFUSED.labels(_limit)
for _outcome in ("ok", "failed"):
    readiness_checks.get(_outcome)


class MetricsMiddleware:
    """Counts every HTTP request by route, method and status, with its duration; and the
    WebSockets open."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            WEBSOCKETS_OPEN.inc()
            try:
                await self.app(scope, receive, send)
            finally:
                WEBSOCKETS_OPEN.dec()
            return
        if kind != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        recorder = StatusRecorder(send)
        try:
            await self.app(scope, receive, recorder)
        finally:
            status = recorder.status
            route = _route(scope["path"])
            method = scope["method"]
            if method not in _METHODS:
                method = "other"
            http_requests.get(route, method, str(status)).inc()
            http_duration.get(route).observe(time.perf_counter() - started)


def delivery_finished(event: str, outcome: str, error_code: str | None) -> None:
    """One finished test delivery (the resolvers call this through Deps)."""
    test_deliveries.get(event, outcome, error_code or "none").inc()


def counted_connection_class(base: Any) -> Any:
    """`base` (a redis-py connection class) counting every connection it opens and every
    failed attempt: a Redis that restarts or drops connections shows as a rising rate."""

    class CountedConnection(base):  # type: ignore[misc,valid-type]
        async def _connect(self) -> None:
            try:
                await super()._connect()
            except BaseException:
                REDIS_CONNECTION_FAILURES.inc()
                raise
            REDIS_CONNECTIONS.inc()

    return CountedConnection


def count_redis_connections(client: Any) -> None:
    """Counts every connection `client`'s pool opens, and every failed attempt."""
    pool = client.connection_pool
    pool.connection_class = counted_connection_class(pool.connection_class)
