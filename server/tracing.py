"""OpenTelemetry traces, off unless the standard OTEL_* variables ask for them: the HTTP span
(ASGI), the GraphQL operation and its resolvers (Strawberry), SQL (asyncpg) and test
deliveries (httpx, and the sender's own spans), with nothing secret in any attribute."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from graphql import GraphQLResolveInfo
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from starlette.types import ASGIApp, Scope
from strawberry.extensions import LifecycleStep
from strawberry.extensions.tracing import OpenTelemetryExtension

log = logging.getLogger("switchboard.tracing")
# Follows whichever provider is installed, and costs next to nothing while none is.
tracer = trace.get_tracer("switchboard")
_configured = False


def _exporter() -> SpanExporter:
    name = (os.environ.get("OTEL_TRACES_EXPORTER") or "otlp").split(",")[0].strip().lower()
    if name == "console":
        return ConsoleSpanExporter()
    if name != "otlp":
        raise ValueError(f"OTEL_TRACES_EXPORTER={name!r} is not supported: use otlp or console")
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    if protocol != "http/protobuf":
        log.warning("OTLP protocol %r is not installed; sending http/protobuf", protocol)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # Endpoint, headers, timeout and compression come from OTEL_EXPORTER_OTLP_* as usual.
    return OTLPSpanExporter()


def configure_tracing(processor: SpanProcessor | None = None) -> None:
    """Install the process's tracer provider (once) and instrument asyncpg and httpx.

    `processor` replaces the exporter the environment names (tests pass an in-memory one).
    """
    global _configured
    if _configured:
        return
    service = os.environ.get("OTEL_SERVICE_NAME") or "switchboard"
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    provider.add_span_processor(processor or BatchSpanProcessor(_exporter()))
    trace.set_tracer_provider(provider)
    _instrument_libraries()
    _configured = True


def _instrument_libraries() -> None:
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    # Statements only: asyncpg's instrumentation records no parameter unless asked to.
    AsyncPGInstrumentor(capture_parameters=False).instrument()
    HTTPXClientInstrumentor().instrument(
        request_hook=_outbound_request, async_request_hook=_async_outbound_request
    )


def _origin(url: str) -> str:
    """scheme://host[:port] only: webhook URLs often carry a token in their path or query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


_URL_ATTRIBUTES = ("http.url", "url.full")


def _outbound_request(span: Any, request: Any) -> None:
    url = str(request.url if hasattr(request, "url") else request[1])
    for name in _URL_ATTRIBUTES:
        if name in (getattr(span, "attributes", None) or {}):
            span.set_attribute(name, _origin(url))


async def _async_outbound_request(span: Any, request: Any) -> None:
    _outbound_request(span, request)


# The request line's query string holds a GET request's document and variables.
_PATH_ATTRIBUTES = ("http.target", "url.path")
_DROPPED_ATTRIBUTES = ("url.query",)


def _inbound_request(span: Any, scope: Scope) -> None:
    attributes = getattr(span, "attributes", None) or {}
    path = scope.get("path", "")
    for name in _PATH_ATTRIBUTES:
        if name in attributes:
            span.set_attribute(name, path)
    for name in _URL_ATTRIBUTES:
        if name in attributes:
            span.set_attribute(name, _origin(str(attributes[name])) + path)
    for name in _DROPPED_ATTRIBUTES:
        if name in attributes:
            span.set_attribute(name, "")


def tracing_middleware(app: ASGIApp) -> ASGIApp:
    """The ASGI server span around every request; its URL without the query string, and no
    header captured whatever OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_* say."""
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware(
        app,
        server_request_hook=_inbound_request,
        http_capture_headers_server_request=[],
        http_capture_headers_server_response=[],
        # A span per WebSocket message would outnumber everything else a socket does.
        exclude_spans=["receive", "send"],
    )


class OperationTracing(OpenTelemetryExtension):
    """Strawberry's tracing, without what it would leak: it records the query text (which may
    hold literal secrets) and every resolver argument; here the operation span carries its
    name and type only, and resolver spans no arguments. Resolver spans are for root fields
    only: a dashboard resolves hundreds of nested fields, whose SQL (batched by DataLoaders)
    shows under the root field that caused it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(arg_filter=lambda args, info: {}, **kwargs)

    def resolve(  # type: ignore[override]
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        # Not a coroutine: an async hook would turn every nested field into an awaitable.
        if info.path.prev is not None:
            return _next(root, info, *args, **kwargs)
        return super().resolve(_next, root, info, *args, **kwargs)

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        span = self._tracer.start_span("GraphQL operation", kind=trace.SpanKind.SERVER)
        self._span_holder[LifecycleStep.OPERATION] = span
        span.set_attribute("component", "graphql")
        try:
            yield
        finally:
            try:
                op_type = ctx.operation_type.value
            except Exception:  # no document, or several operations and none chosen
                op_type = None
            if op_type:
                span.set_attribute("graphql.operation.type", op_type)
            name = ctx.operation_name
            if name and not ctx.pre_execution_errors:
                span.set_attribute("graphql.operation.name", name)
            span.update_name(f"{op_type or 'GraphQL'} {name or ''}".strip())
            span.end()


class DeliverySpans:
    """The resolve, connect and send spans of one webhook attempt, opened and closed as the
    attempt reaches each phase (httpcore reports connect and send through its trace hook)."""

    def __init__(self) -> None:
        self._open: dict[str, Any] = {}

    def start(self, phase: str, **attributes: Any) -> None:
        if phase not in self._open:
            self._open[phase] = tracer.start_span(f"webhook {phase}", attributes=attributes)

    def end(self, phase: str, **attributes: Any) -> None:
        span = self._open.pop(phase, None)
        if span is not None:
            span.set_attributes(attributes)
            span.end()

    def close(self) -> None:
        for phase in list(self._open):
            self.end(phase)
