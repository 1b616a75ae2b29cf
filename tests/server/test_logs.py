"""Structured logs: every request leaves one JSON line with its ID, principal and operation."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from graph.types import account as account_types
from server.logs import JsonFormatter
from tests.conftest import Seeded, basic_header


async def test_access_log_names_request_principal_and_operation(
    client: httpx.AsyncClient, seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = await client.post(
        "/graphql",
        json={"query": "query Dashboard { viewer { role } }", "operationName": "Dashboard"},
        headers={"Authorization": seeded.basic},
    )
    await client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Authorization": basic_header(seeded.api_key, "Wrong-secret-9")},
    )
    records = [r for r in caplog.records if r.name == "switchboard.access"]
    ok, refused = records
    assert ok.request_id == response.headers["x-request-id"]
    assert (ok.principal, ok.operation, ok.status) == (f"key:{seeded.api_key}", "Dashboard", 200)
    assert (refused.principal, refused.status) == (None, 401)
    lines = [JsonFormatter().format(r) for r in caplog.records]
    assert all(json.loads(line)["message"] for line in lines)
    everything = "\n".join(lines)
    assert seeded.secret not in everything and "Wrong-secret-9" not in everything


async def test_unexpected_errors_are_masked_with_the_request_id(
    client: httpx.AsyncClient,
    seeded: Seeded,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No real input reaches an unexpected exception (that is the point), so plant one.
    def explode(row: object) -> None:
        raise RuntimeError("boom: internal detail /etc/secret-path")

    monkeypatch.setattr(account_types.Account, "from_row", explode)
    caplog.set_level(logging.ERROR)
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { account { name } } }"},
        headers={"Authorization": seeded.basic},
    )
    error = response.json()["errors"][0]
    assert error["extensions"] == {
        "code": "INTERNAL",
        "requestId": response.headers["x-request-id"],
    }
    assert "boom" not in response.text and "secret-path" not in response.text
    logged = [r for r in caplog.records if r.name == "switchboard.graphql"]
    assert logged and "boom" in str(logged[0].exc_info[1])
