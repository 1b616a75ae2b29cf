"""A page of keys loads ahead only what its nodes select, and answers as a lone key does."""

from __future__ import annotations

import httpx

from graph.relay import to_global_id
from models.account import Account
from models.credentials import ApiKey
from resolvers import provisioning
from resolvers.deps import Deps
from tests.conftest import Seeded, basic_header, gql
from tests.graph.test_reads import DASHBOARD, count_sql

KEYS_ONLY = "{ viewer { account { apiKeys(first: 10) { edges { node { key } } } } } }"
SETTINGS = """
fragment Settings on ApiKey {
  secrets { masked }
  ... on ApiKey { messaging { api version } }
}
query Aliased {
  viewer { account {
    ours: apiKeys(first: 10) { edges { node { key ...Settings signature { method } } } }
  } }
}
"""
KEY_BY_NODE = """
query($id: ID!) { node(id: $id) { ... on ApiKey {
  key secrets { masked } messaging { api sms { format } } signature { method }
} } }
"""
VIEWER_KEY = (
    "{ viewer { apiKey { key secrets { masked } messaging { api } signature { method } } } }"
)


async def _three_keys(deps: Deps, seeded: Seeded) -> None:
    account = await Account.get(id=seeded.account_id)
    for nickname in ("Staging", "Testing"):
        await provisioning.create_api_key(
            deps=deps, account=account, nickname=nickname, is_primary=False
        )


async def test_a_page_loads_only_what_its_nodes_select(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    await _three_keys(deps, seeded)
    auth = seeded.bearer()
    with count_sql() as statements:
        body = await gql(client, KEYS_ONLY, auth=auth)
    assert len(body["data"]["viewer"]["account"]["apiKeys"]["edges"]) == 3
    # The session's liveness check (which reads the account on the way) and the page: no
    # account, secrets, messaging or signature statement.
    assert len(statements) == 2, statements
    assert '"revoked_session"' in statements[0] and '"account"' in statements[0]
    reads = statements[1:]
    assert not any("api_secret" in s or "messaging_config" in s for s in reads)


async def test_what_authentication_read_is_used_by_its_own_request_only(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    auth, query = seeded.bearer(), "{ viewer { account { name } apiKey { nickname } } }"
    with count_sql() as statements:
        await gql(client, query, auth=auth)
    # The session check read the account and the key: nothing else is sent.
    assert len(statements) == 1, statements
    await Account.filter(id=seeded.account_id).update(name="Renamed Ltd")
    await ApiKey.filter(id=seeded.api_key_id).update(nickname="Renamed key")
    # The next request checks the session again, and so reads both afresh.
    body = await gql(client, query, auth=auth)
    assert body["data"]["viewer"] == {
        "account": {"name": "Renamed Ltd"},
        "apiKey": {"nickname": "Renamed key"},
    }


async def test_fragments_and_aliases_are_looked_into(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    await _three_keys(deps, seeded)
    auth = seeded.bearer()
    with count_sql() as statements:
        body = await gql(client, SETTINGS, auth=auth)
    edges = body["data"]["viewer"]["account"]["ours"]["edges"]
    assert [len(e["node"]["secrets"]) for e in edges] == [1, 1, 1]
    assert {e["node"]["messaging"]["api"] for e in edges} == {"SMS_API"}
    assert {e["node"]["signature"]["method"] for e in edges} == {"SHA256_HMAC"}
    # The session's liveness check (with the account), then page, secrets,
    # messaging+signature: one statement per kind for the whole page.
    assert len(statements) == 4, statements


async def test_a_key_reached_alone_answers_the_same(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    await _three_keys(deps, seeded)
    dashboard = await gql(client, DASHBOARD, auth=seeded.basic)
    primary = dashboard["data"]["viewer"]["account"]["apiKeys"]["edges"][0]["node"]
    node = await gql(
        client, KEY_BY_NODE, {"id": to_global_id("ApiKey", seeded.api_key_id)}, auth=seeded.basic
    )
    assert node["data"]["node"] == {
        "key": seeded.api_key,
        "secrets": [{"masked": s["masked"]} for s in primary["secrets"]],
        "messaging": {"api": "SMS_API", "sms": {"format": "POST_JSON"}},
        "signature": {"method": "SHA256_HMAC"},
    }
    viewer = await gql(client, VIEWER_KEY, auth=seeded.basic)
    assert viewer["data"]["viewer"]["apiKey"] == {
        "key": seeded.api_key,
        "secrets": [{"masked": s["masked"]} for s in primary["secrets"]],
        "messaging": {"api": "SMS_API"},
        "signature": {"method": "SHA256_HMAC"},
    }


async def test_a_scoped_key_sees_its_numbers_with_itself(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    account = await Account.get(id=seeded.account_id)
    other, secret = await provisioning.create_api_key(
        deps=deps, account=account, nickname="Scoped", is_primary=False
    )
    await provisioning.add_number(api_key=seeded.api_key, msisdn="447700900301", country="GB")
    await provisioning.add_number(api_key=other.key, msisdn="447700900302", country="GB")
    body = await gql(client, DASHBOARD, auth=basic_header(other.key, secret))
    numbers = body["data"]["viewer"]["account"]["numbers"]["edges"]
    assert [(n["node"]["msisdn"], n["node"]["apiKey"]) for n in numbers] == [
        ("447700900302", {"key": other.key})
    ]
