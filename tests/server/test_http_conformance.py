"""GraphQL over HTTP at the edge: media types, status codes, methods, limits, headers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.app import create_app
from server.settings import Settings
from tests.conftest import Seeded

GRAPHQL_RESPONSE = "application/graphql-response+json"


async def post(
    client: httpx.AsyncClient, body: Any, accept: str = GRAPHQL_RESPONSE, auth: str | None = None
) -> httpx.Response:
    headers = {"Accept": accept} | ({"Authorization": auth} if auth else {})
    return await client.post("/graphql", json=body, headers=headers)


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ viewer {", {}, "GRAPHQL_PARSE_FAILED"),
        ("{ viewer { noSuchField } }", {}, "GRAPHQL_VALIDATION_FAILED"),
        (
            "query($n: Int) { viewer { account { apiKeys(first: $n) { edges { cursor } } } } }",
            {"n": "ten"},
            "BAD_USER_INPUT",
        ),
    ],
)
async def test_request_errors_are_400_without_data(
    client: httpx.AsyncClient, seeded: Seeded, query: str, variables: dict, code: str
) -> None:
    response = await post(client, {"query": query, "variables": variables}, auth=seeded.basic)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body and body["errors"][0]["extensions"]["code"] == code
    # Legacy clients asking for application/json keep 200 with the same errors.
    legacy = await post(
        client, {"query": query, "variables": variables}, "application/json", seeded.basic
    )
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")


async def test_field_errors_stay_200_with_data(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "{ viewer { role } }"})
    assert response.status_code == 200
    assert response.json()["data"] is None
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_queries_over_get_mutations_only_over_post(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    ok = await client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert ok.status_code == 200 and ok.json() == {"data": {"__typename": "Query"}}
    refused = await client.get(
        "/graphql",
        params={"query": "mutation { __typename }"},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    assert refused.status_code == 405
    assert refused.headers["allow"] == "POST"
    assert refused.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert (await client.put("/graphql", json={"query": "{ __typename }"})).status_code == 405


async def test_unsupported_and_unacceptable_media_types(client: httpx.AsyncClient) -> None:
    unsupported = await client.post(
        "/graphql", content=b"{ __typename }", headers={"Content-Type": "text/plain"}
    )
    assert unsupported.status_code == 415
    assert unsupported.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    refused = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Accept": "text/csv"}
    )
    assert refused.status_code == 406


async def test_bodies_over_64_kib_are_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ __typename }" + " " * 70000})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

    async def chunks():  # no Content-Length: the limit must hold on the streamed bytes
        for _ in range(10):
            yield b" " * 8192

    chunked = await client.post(
        "/graphql",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert chunked.status_code == 413


@pytest.mark.parametrize(
    ("query", "measure", "limit", "value"),
    [
        (
            "{ viewer { account { apiKeys { edges { node { testDeliveries { edges { node { "
            "steps { request { headers { name } } } } } } } } } } } }",
            "depth",
            10,
            11,
        ),
        ("{ " + " ".join(f"a{i}: __typename" for i in range(16)) + " }", "aliases", 15, 16),
        ("{ " + "__typename " * 2100 + "}", "tokens", 1000, 2102),
        # Validation compares same-named fields pairwise: refused before it runs.
        ("{ " + "viewer { role } " * 200 + "}", "fields", 100, 400),
        ("{ " + "viewer { role } " * 15 + "}", "pairs", 100, 105 + 105),
        (
            "{ ...F ...F ...F ...F ...F ...F ...F ...F ...F ...F ...F ...F ...F ...F ...F ...F } "
            "fragment F on Query { viewer { role account { id name compliance { notice "
            "hipaaEnabled } apiKeys { edges { cursor } } } } }",
            "fields",
            100,
            16 * 11,
        ),
        (
            "{ viewer { account { ...F0 } } } "
            + " ".join(f"fragment F{i} on Account {{ ...F{i + 1} }}" for i in range(31))
            + " fragment F31 on Account { id }",
            "fragments",
            30,
            32,
        ),
        (
            "{ " + " ".join(f"t{i}: __typename @include(if: true)" for i in range(11)) + " "
            "viewer @skip(if: false) @include(if: true) { role @skip(if: false) } "
            + "__typename @include(if: true) @skip(if: false) " * 9
            + "}",
            "directives",
            30,
            11 + 3 + 18,
        ),
    ],
)
async def test_query_limits_refuse_clearly(
    client: httpx.AsyncClient, seeded: Seeded, query: str, measure: str, limit: int, value: int
) -> None:
    response = await post(client, {"query": query}, auth=seeded.basic)
    body = response.json()
    assert response.status_code == 400, body
    error = body["errors"][0]
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "measure": measure,
        "limit": limit,
        "value": value,
    }, error
    assert f"has {value} " in error["message"] and f"at most {limit} " in error["message"]


async def test_depth_ten_is_allowed(client: httpx.AsyncClient, seeded: Seeded) -> None:
    query = (
        "{ viewer { account { apiKeys { edges { node { testDeliveries { edges { node { "
        "id } } } } } } } } }"
    )
    response = await post(client, {"query": query}, auth=seeded.basic)
    assert response.status_code == 200, response.text


async def test_introspection_is_a_setting(db: None, deps: Any) -> None:
    app = create_app(
        Settings(master_key=bytes(32), introspection=False), deps=deps, init_database=False
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        response = await post(client, {"query": "{ __schema { types { name } } }"})
        assert response.status_code == 400
        typo = await post(client, {"query": "{ viewr { role } }"})
        assert "Did you mean" not in typo.json()["errors"][0]["message"]


async def test_security_headers_on_every_response(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/healthz"), await post(client, {"query": "{ __typename }"})):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_cors_allows_only_configured_origins(db: None, deps: Any) -> None:
    settings = Settings(master_key=bytes(32), cors_origins=("https://dash.example",))
    app = create_app(settings, deps=deps, init_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        headers = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        }
        allowed = await client.options(
            "/graphql", headers={"Origin": "https://dash.example", **headers}
        )
        assert allowed.headers["access-control-allow-origin"] == "https://dash.example"
        refused = await client.options(
            "/graphql", headers={"Origin": "https://evil.example", **headers}
        )
        assert "access-control-allow-origin" not in refused.headers
