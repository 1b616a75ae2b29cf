"""No credential outlives its validity: revoked secrets and expired tokens fail at once."""

from __future__ import annotations

import asyncio
import time

import httpx
import jwt

from models.account import Account
from models.credentials import ApiSecret
from resolvers import provisioning
from resolvers.deps import Deps
from tests.conftest import Seeded, basic_header, gql
from tests.server.test_auth import VIEWER, _claims, _refused


async def test_a_revoked_secret_fails_on_the_next_request(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    key = await (await Account.get(id=seeded.account_id)).api_keys.all().first()
    second = await provisioning.store_secret(deps=deps, api_key=key, plaintext="Second1secret")
    auth = basic_header(seeded.api_key, "Second1secret")
    assert (await gql(client, VIEWER, auth=auth))["data"]["viewer"]["role"] == "ADMIN"
    await ApiSecret.filter(id=second.id).update(revoked_at=deps.clock())
    await _refused(client, auth)
    # The other live secret is untouched.
    assert "errors" not in await gql(client, VIEWER, auth=seeded.basic)


async def test_either_live_secret_authenticates_and_nothing_else(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    key = await (await Account.get(id=seeded.account_id)).api_keys.all().first()
    await provisioning.store_secret(deps=deps, api_key=key, plaintext="Second1secret")
    for secret in (seeded.secret, "Second1secret"):
        body = await gql(client, VIEWER, auth=basic_header(seeded.api_key, secret))
        assert body["data"]["viewer"]["account"]["name"] == "Acme"
    await _refused(client, basic_header(seeded.api_key, "Third1secret"))
    await _refused(client, basic_header("00000000", seeded.secret))


async def test_a_verified_session_token_still_expires(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    expires = int(time.time()) + 1
    claims = _claims(seeded, exp=expires)
    token = "Bearer " + jwt.encode(claims, seeded.deps.box.session_signing_key, "HS256")
    # Verified (and remembered) while valid ...
    assert "errors" not in await gql(client, VIEWER, auth=token)
    await asyncio.sleep(max(0.0, expires - time.time()) + 0.05)
    # ... and refused once its expiry has passed, as an expired token.
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": token}
    )
    assert response.status_code == 401
    assert "expired" in response.json()["errors"][0]["message"]
