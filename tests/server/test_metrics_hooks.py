"""The counters other modules feed, read from this process's registry: Redis connections and
publish failures, rate-limit refusals at the HTTP door, and the database pool sampler."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from resolvers.deps import Deps
from server.metrics import DB_POOL_IN_USE
from server.metrics_endpoint import _pool_stats, pool_sampler
from server.redis_broker import RedisBroker
from tests.brokers import REDIS_URL
from tests.conftest import Seeded, basic_header, on_postgres
from tests.server.receiver import closed_port


def value(metric: str, /, **labels: str) -> float:
    return REGISTRY.get_sample_value(metric, labels) or 0.0


async def test_a_redis_that_is_not_there_counts_connection_and_publish_failures() -> None:
    broker = RedisBroker(f"redis://127.0.0.1:{closed_port()}/0", prefix="metrics-test:")
    connects = value("switchboard_redis_connection_failures_total")
    publishes = value("switchboard_redis_publish_failures_total")
    try:
        await broker.publish("channel", {"x": 1})
    finally:
        await broker.close()
    assert value("switchboard_redis_connection_failures_total") > connects
    assert value("switchboard_redis_publish_failures_total") == publishes + 1


@pytest.mark.skipif(REDIS_URL is None, reason="TEST_REDIS_URL is not set")
async def test_connections_to_a_real_redis_are_counted() -> None:
    assert REDIS_URL is not None
    broker = RedisBroker(REDIS_URL, prefix="metrics-test:")
    before = value("switchboard_redis_connections_total")
    failures = value("switchboard_redis_publish_failures_total")
    try:
        await broker.publish("channel", {"x": 1})
        await broker.ping()
    finally:
        await broker.close()
    assert value("switchboard_redis_connections_total") >= before + 1
    assert value("switchboard_redis_publish_failures_total") == failures


async def test_refusals_at_the_http_door_are_counted(app: Any, seeded: Seeded, deps: Deps) -> None:
    now = deps.clock()
    deps.clock = lambda: now
    allowed = deps.credential_limits.login_failures_by_address.limit
    failed = value("switchboard_authentication_failures_total", door="http")
    limited = value("switchboard_rate_limited_total", door="http")
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    wrong = {"Authorization": basic_header(seeded.api_key, "Wrong-secret-1")}
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        statuses = [
            (
                await http.post("/graphql", json={"query": "{ viewer { role } }"}, headers=wrong)
            ).status_code
            for _ in range(allowed + 2)
        ]
    refused, limited_now = statuses.count(401), statuses.count(429)
    assert refused >= 1 and limited_now >= 2 and refused + limited_now == len(statuses)
    assert value("switchboard_authentication_failures_total", door="http") == failed + refused
    assert value("switchboard_rate_limited_total", door="http") == limited + limited_now


async def test_the_pool_sampler_reports_the_postgresql_pool(db: None) -> None:
    if not on_postgres():
        # SQLite has no pool: nothing is reported rather than a made-up zero.
        assert _pool_stats() is None
        return
    stats = _pool_stats()
    assert stats is not None and stats[1] == 0
    DB_POOL_IN_USE.set(-1)
    async with pool_sampler(0.01):
        for _ in range(200):
            if value("switchboard_db_pool_connections_in_use") >= 0:
                break
            await asyncio.sleep(0.01)
    assert value("switchboard_db_pool_connections_in_use") >= 0


SESSION_CREATE = """
mutation($input: SessionCreateInput!) {
  sessionCreate(input: $input) { token userErrors { code } }
}
"""


async def test_a_rate_limited_mutation_is_counted_by_its_field(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    now = deps.clock()
    deps.clock = lambda: now
    allowed = deps.credential_limits.login_failures_by_address.limit
    limited = value("switchboard_rate_limited_total", door="sessionCreate")
    user_errors = value(
        "switchboard_graphql_operations_total",
        type="mutation",
        name="sessionCreate",
        outcome="user_error",
    )
    variables = {"input": {"apiKey": seeded.api_key, "apiSecret": "Wrong-secret-1"}}
    codes = []
    for _ in range(allowed + 1):
        body = (
            await client.post("/graphql", json={"query": SESSION_CREATE, "variables": variables})
        ).json()
        codes.append(body["data"]["sessionCreate"]["userErrors"][0]["code"])
    assert codes.count("RATE_LIMITED") >= 1
    assert value("switchboard_rate_limited_total", door="sessionCreate") == limited + codes.count(
        "RATE_LIMITED"
    )
    assert (
        value(
            "switchboard_graphql_operations_total",
            type="mutation",
            name="sessionCreate",
            outcome="user_error",
        )
        == user_errors + allowed + 1
    )


def test_tracing_is_off_unless_the_otel_variables_ask() -> None:
    from server.settings import Settings
    from signing.crypto import format_master_key
    from tests.conftest import TEST_MASTER_KEY

    base = {"SWITCHBOARD_SECRET_KEY": format_master_key(TEST_MASTER_KEY)}
    assert not Settings.from_env(base).tracing
    assert Settings.from_env({**base, "OTEL_TRACES_EXPORTER": "otlp"}).tracing
    assert Settings.from_env(
        {**base, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
    ).tracing
    assert not Settings.from_env({**base, "OTEL_TRACES_EXPORTER": "none"}).tracing
    disabled = {**base, "OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}
    assert not Settings.from_env(disabled).tracing
    assert Settings.from_env(base).metrics
    assert not Settings.from_env({**base, "SWITCHBOARD_METRICS": "0"}).metrics
