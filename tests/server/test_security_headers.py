"""Responses that may carry secrets are never cached; HSTS whenever the server is reached by TLS."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Seeded

QUERY = {"query": "{ viewer { role } }"}
JSON_TYPE = {"Content-Type": "application/json"}
HSTS = "max-age=31536000; includeSubDomains"


async def test_every_graphql_response_says_no_store(app: Any, seeded: Seeded) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answers = [
            await client.post("/graphql", json=QUERY, headers={"Authorization": seeded.basic}),
            await client.post("/graphql", json=QUERY),  # 401
            await client.post(
                "/graphql", content=b"{", headers={"Content-Type": "application/json"}
            ),
            await client.put("/graphql", json=QUERY),  # 405
            await client.get("/graphql", params=QUERY, headers={"Accept": "application/json"}),
        ]
    for response in answers:
        assert response.headers["cache-control"] == "no-store", response.status_code
        assert "strict-transport-security" not in response.headers


async def test_hsts_is_sent_over_tls_only(app: Any, seeded: Seeded) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        response = await client.post(
            "/graphql", json=QUERY, headers={"Authorization": seeded.basic}
        )
        health = await client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["strict-transport-security"] == HSTS
    assert health.headers["strict-transport-security"] == HSTS
