"""Authentication at the HTTP edge: Basic, session tokens, and every way to get them wrong."""

from __future__ import annotations

import base64
import time
from datetime import timedelta

import httpx
import jwt
import pytest

from models.credentials import ApiSecret
from resolvers.auth import TOKEN_AUDIENCE, TOKEN_ISSUER
from resolvers.principal import Role
from tests.conftest import Seeded, basic_header, gql

VIEWER = "{ viewer { role account { name } } }"


def _claims(seeded: Seeded, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims = {
        "iss": TOKEN_ISSUER,
        "aud": TOKEN_AUDIENCE,
        "sub": f"key:{seeded.api_key}",
        "acc": seeded.account_id,
        "scope": None,
        "via": seeded.api_key_id,
        "sid": seeded.secret_id,
        "role": "ADMIN",
        "iat": now,
        "exp": now + 600,
        "jti": "x",
    }
    claims.update(overrides)
    return claims


async def _refused(client: httpx.AsyncClient, header: str) -> None:
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": header}
    )
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in body


async def test_basic_credentials_authenticate(client: httpx.AsyncClient, seeded: Seeded) -> None:
    body = await gql(client, VIEWER, auth=seeded.basic)
    assert body["data"]["viewer"] == {"role": "ADMIN", "account": {"name": "Acme"}}


async def test_session_token_authenticates(client: httpx.AsyncClient, seeded: Seeded) -> None:
    body = await gql(client, VIEWER, auth=seeded.bearer(Role.VIEWER))
    assert body["data"]["viewer"]["role"] == "VIEWER"


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        "Basic ",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b":secret-only").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\x80").decode(),
        "Digest abc",
        "Bearer",
        "Bearer not.a.jwt",
        "Bearer " + "a" * 5000,
        "   ",
    ],
)
async def test_malformed_headers_are_401_never_500(
    client: httpx.AsyncClient, seeded: Seeded, header: str
) -> None:
    await _refused(client, header)


async def test_unknown_key_and_wrong_secret(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await _refused(client, basic_header("00000000", seeded.secret))
    await _refused(client, basic_header("a" * 300, seeded.secret))
    # Keys are lowercase hex; an uppercase spelling is another (unknown) key.
    await _refused(client, basic_header("ABCDEF12", seeded.secret))
    await _refused(client, basic_header(seeded.api_key, seeded.secret + "x"))
    await _refused(client, basic_header(seeded.api_key, seeded.secret.upper()))


async def test_forged_tokens_are_refused(client: httpx.AsyncClient, seeded: Seeded) -> None:
    good_key = seeded.deps.box.session_signing_key
    unsigned = jwt.encode(_claims(seeded), key=None, algorithm="none")
    await _refused(client, f"Bearer {unsigned}")
    await _refused(client, "Bearer " + jwt.encode(_claims(seeded), "wrong-key" * 4, "HS256"))
    expired = _claims(seeded, iat=int(time.time()) - 7200, exp=int(time.time()) - 60)
    await _refused(client, "Bearer " + jwt.encode(expired, good_key, "HS256"))
    await _refused(client, "Bearer " + jwt.encode(_claims(seeded, aud="other"), good_key, "HS256"))
    await _refused(client, "Bearer " + jwt.encode(_claims(seeded, iss="other"), good_key, "HS256"))
    await _refused(client, "Bearer " + jwt.encode(_claims(seeded, role="ROOT"), good_key, "HS256"))
    # A genuine token with its payload swapped for one naming another account.
    header, _, signature = seeded.bearer().removeprefix("Bearer ").split(".")
    forged_payload = (
        base64.urlsafe_b64encode(jwt.api_jws.json.dumps(_claims(seeded, acc=999)).encode())
        .decode()
        .rstrip("=")
    )
    await _refused(client, f"Bearer {header}.{forged_payload}.{signature}")


async def test_without_credentials_only_typename_works(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    assert (await gql(client, "{ __typename }"))["data"] == {"__typename": "Query"}
    body = await gql(client, VIEWER)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await gql(client, '{ node(id: "QWNjb3VudDox") { id } }')
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_last_used_is_recorded_at_most_once_a_minute(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    secret = await ApiSecret.get(api_key_id=seeded.api_key_id)
    assert secret.last_used_at is None
    await gql(client, VIEWER, auth=seeded.basic)
    first = (await ApiSecret.get(id=secret.id)).last_used_at
    assert first is not None
    await ApiSecret.filter(id=secret.id).update(last_used_at=first - timedelta(hours=1))
    await gql(client, VIEWER, auth=seeded.basic)
    # Within the minute no write happens, so the value we planted stays.
    assert (await ApiSecret.get(id=secret.id)).last_used_at == first - timedelta(hours=1)


async def test_expired_secret_stops_authenticating(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await gql(client, VIEWER, auth=seeded.basic)
    now = seeded.deps.clock()
    await ApiSecret.filter(api_key_id=seeded.api_key_id).update(
        expires_at=now - timedelta(seconds=1)
    )
    await _refused(client, seeded.basic)


async def test_response_carries_a_request_id(client: httpx.AsyncClient, seeded: Seeded) -> None:
    response = await client.post("/graphql", json={"query": "{ __typename }"})
    assert len(response.headers["x-request-id"]) == 32
