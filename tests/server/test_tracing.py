"""OpenTelemetry traces, read back with the SDK's in-memory exporter: one trace per request
(HTTP, operation, resolvers, SQL on PostgreSQL), a test delivery's own spans, log lines that
carry the IDs, and no secret in any attribute."""

from __future__ import annotations

import io
import json
import logging
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

from graph.relay import to_global_id
from resolvers.deps import Deps
from server import tracing
from server.app import create_app
from server.logs import JsonFormatter
from server.settings import Settings
from tests.conftest import TEST_MASTER_KEY, Seeded, on_postgres
from tests.deliveries import MakeEnv, collect
from tests.live import graphql_ws, live_server
from tests.server.receiver import receiver

CHOSEN_SECRET = "Chosen-Secret-Value-42x"
INLINE_SECRET = "Inline-Secret-Literal-77y"
SECRET_CREATE = """
mutation Create($input: ApiSecretCreateInput!) {
  apiSecretCreate(input: $input) { userErrors { code } }
}
"""
VIEWER_ROLE = "query ViewerRole { viewer { role } }"


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """The process's tracer provider, exporting to memory, for this module only."""
    exporter = InMemorySpanExporter()
    tracing.configure_tracing(SimpleSpanProcessor(exporter))
    provider = trace.get_tracer_provider()
    try:
        yield exporter
    finally:
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        AsyncPGInstrumentor().uninstrument()
        HTTPXClientInstrumentor().uninstrument()
        provider.shutdown()  # type: ignore[attr-defined]
        # The SDK allows one provider per process; the rest of the suite runs without.
        trace._TRACER_PROVIDER_SET_ONCE = Once()
        trace._TRACER_PROVIDER = None
        tracing._configured = False


@pytest.fixture
def exporter(spans: InMemorySpanExporter) -> InMemorySpanExporter:
    spans.clear()
    return spans


@pytest.fixture
def traced_app(db: None, deps: Deps) -> Any:
    settings = Settings(master_key=TEST_MASTER_KEY, tracing=True)
    return create_app(settings, deps=deps, init_database=False)


def attribute_text(finished: tuple[ReadableSpan, ...]) -> str:
    return json.dumps([{"name": s.name, **dict(s.attributes or {})} for s in finished], default=str)


def assert_no_secret(finished: tuple[ReadableSpan, ...], *secrets: str) -> None:
    text = attribute_text(finished)
    for secret in secrets:
        assert secret not in text
        assert urllib.parse.quote(secret) not in text


async def test_a_request_is_one_trace_with_no_secret_in_it(
    exporter: InMemorySpanExporter, traced_app: Any, seeded: Seeded
) -> None:
    transport = httpx.ASGITransport(app=traced_app, client=("127.0.0.1", 50000))
    key_id = to_global_id("ApiKey", seeded.api_key_id)
    bearer = seeded.bearer()
    inline = (
        f'mutation {{ apiSecretCreate(input: {{apiKeyId: "{key_id}", '
        f'secret: "{INLINE_SECRET}"}}) {{ userErrors {{ code }} }} }}'
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        variables = {"input": {"apiKeyId": key_id, "secret": CHOSEN_SECRET}}
        body = {"query": SECRET_CREATE, "variables": variables}
        created = await http.post("/graphql", json=body, headers={"Authorization": seeded.basic})
        assert created.status_code == 200, created.text
        await http.post("/graphql", json={"query": inline}, headers={"Authorization": bearer})
        params = {"query": VIEWER_ROLE, "variables": json.dumps({"x": CHOSEN_SECRET})}
        await http.get("/graphql", params=params, headers={"Authorization": bearer})
    finished = exporter.get_finished_spans()
    assert_no_secret(
        finished, seeded.secret, CHOSEN_SECRET, INLINE_SECRET, bearer.split()[1], seeded.basic
    )
    assert "variables" not in attribute_text(finished)

    (operation,) = [s for s in finished if s.name == "mutation Create"]
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.name"] == "Create"
    assert operation.attributes["graphql.operation.type"] == "mutation"
    trace_id = operation.context.trace_id
    same_trace = [s for s in finished if s.context.trace_id == trace_id]
    names = {s.name for s in same_trace}
    assert "POST /graphql" in names
    assert "GraphQL Resolving: apiSecretCreate" in names
    assert {"GraphQL Parsing", "GraphQL Validation"} <= names
    if on_postgres():
        assert any((s.attributes or {}).get("db.system") == "postgresql" for s in same_trace)
    # Each request is its own trace.
    assert len({s.context.trace_id for s in finished if s.name.endswith("/graphql")}) == 3


async def test_log_lines_carry_the_trace_and_span_ids(
    exporter: InMemorySpanExporter, traced_app: Any, seeded: Seeded
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("switchboard.access")
    access.addHandler(handler)
    level = access.level
    access.setLevel(logging.INFO)
    try:
        transport = httpx.ASGITransport(app=traced_app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            body = {"query": VIEWER_ROLE}
            await http.post("/graphql", json=body, headers={"Authorization": seeded.bearer()})
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    line = json.loads(stream.getvalue().splitlines()[-1])
    (server_span,) = [s for s in exporter.get_finished_spans() if s.name == "POST /graphql"]
    assert line["trace_id"] == format(server_span.context.trace_id, "032x")
    assert line["span_id"] == format(server_span.context.span_id, "016x")


def test_log_lines_have_no_trace_fields_without_a_span() -> None:
    record = logging.LogRecord("switchboard.access", logging.INFO, "", 0, "x", None, None)
    assert "trace_id" not in json.loads(JsonFormatter().format(record))


async def test_a_test_delivery_has_resolve_connect_and_send_spans_and_no_secret(
    exporter: InMemorySpanExporter, delivery_env: MakeEnv
) -> None:
    env = delivery_env(tracing=True)
    seeded = await env.seed()
    signature_secret = await env.signature_secret(seeded)
    query = "subscription($input: TestWebhookInput!) { testWebhook(input: $input) { kind } }"
    async with receiver() as rx, live_server(env.app) as base, graphql_ws(base) as ws:
        await ws.init({"Authorization": seeded.bearer()})
        url = rx.url() + "/hooks/Path-Token-123?token=Query-Token-456"
        key_id = to_global_id("ApiKey", seeded.api_key_id)
        variables = {"input": {"apiKeyId": key_id, "event": "MESSAGE_STATUS", "url": url}}
        steps, errors = await collect(ws, query, variables)
        assert errors == [] and steps[-1]["kind"] == "SUCCEEDED", steps
    await env.tasks.close()
    finished = exporter.get_finished_spans()
    by_name = {s.name: s for s in finished}
    for name in ("webhook attempt", "webhook resolve", "webhook connect", "webhook send"):
        assert name in by_name, sorted(by_name)
    attempt = by_name["webhook attempt"]
    operation = next(s for s in finished if s.name.startswith("subscription"))
    assert attempt.context.trace_id == operation.context.trace_id
    for phase in ("webhook resolve", "webhook connect", "webhook send"):
        assert by_name[phase].parent is not None
        assert by_name[phase].context.trace_id == attempt.context.trace_id
    assert (by_name["webhook send"].attributes or {})["http.response.status_code"] == 200
    (received,) = rx.requests
    assert_no_secret(
        finished,
        "Path-Token-123",
        "Query-Token-456",
        signature_secret,
        received.header("Authorization") or "no header",
    )
