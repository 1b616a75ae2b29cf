"""Malformed input at the HTTP door: 4xx with a code and a sentence, never a 5xx or INTERNAL."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from graph.relay import to_global_id
from resolvers.deps import Deps
from tests.conftest import Seeded

GRAPHQL_RESPONSE = "application/graphql-response+json"
DEEP = "[" * 20_000 + "]" * 20_000


def assert_refused(response: httpx.Response, status: int, code: str, *words: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == code, error
    for word in words:
        assert word in error["message"], error


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (b'{"query":"{ __typename \xff }"}', "BAD_REQUEST", ("UTF-8",)),
        (
            b'{"query": "{ __typename }", "variables": ' + DEEP.encode() + b"}",
            "BAD_REQUEST",
            ("nested",),
        ),
        (DEEP.encode(), "BAD_REQUEST", ("nested",)),
        (
            b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 40 + b"]" * 40 + b"}}",
            "BAD_REQUEST",
            ("nested more than 32",),
        ),
        (b'"x"', "BAD_REQUEST", ("JSON object",)),
        (b"null", "BAD_REQUEST", ("JSON object",)),
        (b"42", "BAD_REQUEST", ("JSON object",)),
        (b"[1, 2]", "BAD_REQUEST", ("JSON object",)),
        (b"{", "BAD_REQUEST", ("JSON",)),
    ],
)
async def test_malformed_bodies_are_400_with_a_code(
    client: httpx.AsyncClient, body: bytes, code: str, words: tuple[str, ...]
) -> None:
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        response = await client.post(
            "/graphql", content=body, headers={"Content-Type": "application/json", "Accept": accept}
        )
        assert_refused(response, 400, code, *words)


async def test_deeply_nested_get_variables_are_400(client: httpx.AsyncClient) -> None:
    deep = "[" * 3000 + "]" * 3000  # past the JSON decoder's own recursion limit
    response = await client.get(
        "/graphql",
        params={"query": "{ __typename }", "variables": '{"a": ' + deep + "}"},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    assert_refused(response, 400, "BAD_REQUEST", "nested")


async def test_a_malformed_request_is_logged_once_without_payload_or_traceback(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    secret_looking = b'{"query":"{ __typename }", "apiSecret": "Hunter2-\xff"}'
    response = await client.post(
        "/graphql", content=secret_looking, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    text = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert "Hunter2" not in text and "Traceback" not in text
    refusals = [r for r in caplog.records if getattr(r, "refused", None) == "BAD_REQUEST"]
    assert len(refusals) == 1 and refusals[0].name == "switchboard.access"


SESSION_CREATE = """mutation($input: SessionCreateInput!) {
  sessionCreate(input: $input) { token userErrors { field code message } } }"""


async def test_a_lone_surrogate_secret_is_a_failed_login_and_counted(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    body = json.dumps(
        {
            "query": SESSION_CREATE,
            "variables": {"input": {"apiKey": seeded.api_key, "apiSecret": "Abcdefgh1\ud800"}},
        }
    )
    limiter = deps.credential_limits.login_failures_by_address
    before = await limiter.retry_after("address:127.0.0.1", deps.clock())
    seen = []
    for _ in range(limiter.limit + 1):
        response = await client.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.text
        seen.append(response.json()["data"]["sessionCreate"]["userErrors"][0])
    assert seen[0]["field"] == ["input", "apiSecret"] and seen[0]["code"] == "INVALID_INPUT"
    assert "lone surrogate" in seen[0]["message"]
    assert before == 0 and seen[-1]["code"] == "RATE_LIMITED"


async def test_a_lone_surrogate_in_a_string_names_the_field(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    query = """query($id: ID!, $body: String) { node(id: $id) { ... on ApiKey {
      signatureCheck(input: {body: $body}) { valid reason } } } }"""
    variables = {"id": to_global_id("ApiKey", seeded.api_key_id), "body": "\ud800"}
    response = await client.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables}),
        headers={"Content-Type": "application/json", "Authorization": seeded.basic},
    )
    assert response.status_code < 500
    errors = response.json().get("errors", [])
    assert errors, response.text
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", errors
    assert "input.body" in errors[0]["message"] and "UTF-8" in errors[0]["message"], errors


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_subscriptions_over_plain_http_say_where_they_go(
    client: httpx.AsyncClient, seeded: Seeded, method: str
) -> None:
    query = "subscription($id: ID!) { settingsChanged(apiKeyId: $id) { section } }"
    variables = {"id": to_global_id("ApiKey", seeded.api_key_id)}
    headers = {"Authorization": seeded.basic, "Accept": GRAPHQL_RESPONSE}
    if method == "GET":
        response = await client.get(
            "/graphql",
            params={"query": query, "variables": json.dumps(variables)},
            headers=headers,
        )
    else:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
    assert response.status_code in (400, 405), response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "SUBSCRIPTION_OVER_HTTP", error
    assert "ws://testserver/graphql" in error["message"]
    assert "graphql-transport-ws" in error["message"]
