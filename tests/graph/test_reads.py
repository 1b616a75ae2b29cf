"""The read side: the dashboard query, tenancy, global IDs and Relay pagination."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from graph.relay import to_global_id
from models.account import Account
from models.credentials import ApiKey
from resolvers import provisioning
from resolvers.deps import Deps
from tests.conftest import Seeded, basic_header, gql, seed_account

DASHBOARD = """
query Dashboard {
  viewer {
    role
    account {
      id name
      compliance { hipaaEnabled notice }
      apiKeys(first: 100) {
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node {
          id key nickname isPrimary createdAt
          secrets { id masked createdAt lastUsedAt expiresAt }
          messaging { api version sms { format deliveryReceiptUrl inboundSmsUrl }
                      messages { statusUrl inboundUrl } }
          signature { method maskedSecret signSmsWebhooks }
        } }
      }
      numbers(first: 100) { edges { node { id msisdn country inboundWebhookUrl apiKey { key } } } }
    }
    apiKey { key }
  }
}
"""
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


async def _second_key(deps: Deps, seeded: Seeded, nickname: str = "Testing") -> tuple[ApiKey, str]:
    account = await Account.get(id=seeded.account_id)
    return await provisioning.create_api_key(
        deps=deps, account=account, nickname=nickname, is_primary=False
    )


async def test_dashboard_shows_masked_settings(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await provisioning.add_number(api_key=seeded.api_key, msisdn="447700900123", country="gb")
    body = await gql(client, DASHBOARD, auth=seeded.basic)
    assert "errors" not in body
    account = body["data"]["viewer"]["account"]
    assert account["compliance"] == {"hipaaEnabled": False, "notice": None}
    (edge,) = account["apiKeys"]["edges"]
    key = edge["node"]
    assert key["key"] == seeded.api_key and key["isPrimary"] is True
    (secret,) = key["secrets"]
    assert secret["masked"] == "•" * 12 + seeded.secret[-4:]
    assert seeded.secret not in str(body)
    assert key["messaging"]["api"] == "SMS_API"
    assert key["messaging"]["sms"]["format"] == "POST_JSON"
    assert key["signature"]["method"] == "SHA256_HMAC"
    assert account["numbers"]["edges"][0]["node"]["country"] == "GB"
    assert body["data"]["viewer"]["apiKey"] == {"key": seeded.api_key}


async def test_hipaa_notice_appears_when_enabled(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await provisioning.set_hipaa(account_id=seeded.account_id, enabled=True)
    body = await gql(client, DASHBOARD, auth=seeded.basic)
    compliance = body["data"]["viewer"]["account"]["compliance"]
    assert compliance["hipaaEnabled"] is True
    assert compliance["notice"].startswith(
        "This account has been enabled to purchase HIPAA numbers."
    )


async def test_non_primary_key_sees_only_itself(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    other, secret = await _second_key(deps, seeded)
    auth = basic_header(other.key, secret)
    body = await gql(client, DASHBOARD, auth=auth)
    keys = [e["node"]["key"] for e in body["data"]["viewer"]["account"]["apiKeys"]["edges"]]
    assert keys == [other.key]
    assert (await gql(client, f'{{ apiKey(key: "{seeded.api_key}") {{ key }} }}', auth=auth))[
        "data"
    ]["apiKey"] is None
    primary_id = to_global_id("ApiKey", seeded.api_key_id)
    assert (await gql(client, NODE, {"id": primary_id}, auth=auth))["data"]["node"] is None
    # The primary key sees both.
    body = await gql(client, DASHBOARD, auth=seeded.basic)
    assert len(body["data"]["viewer"]["account"]["apiKeys"]["edges"]) == 2


async def test_node_answers_for_own_objects(client: httpx.AsyncClient, seeded: Seeded) -> None:
    number = await provisioning.add_number(
        api_key=seeded.api_key, msisdn="447700900124", country="GB"
    )
    for type_name, pk in [
        ("Account", seeded.account_id),
        ("ApiKey", seeded.api_key_id),
        ("Number", number.id),
    ]:
        gid = to_global_id(type_name, pk)
        node = (await gql(client, NODE, {"id": gid}, auth=seeded.basic))["data"]["node"]
        assert node == {"__typename": type_name, "id": gid}


async def test_foreign_garbage_and_missing_ids_look_alike(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    stranger = await seed_account(deps, "Stranger")
    number = await provisioning.add_number(
        api_key=stranger.api_key, msisdn="447700900999", country="GB"
    )
    ids = [
        to_global_id("Account", stranger.account_id),
        to_global_id("ApiKey", stranger.api_key_id),
        to_global_id("Number", number.id),
        to_global_id("ApiKey", 999999),
        to_global_id("Unknown", 1),
        "not base64 at all!",
        base64.b64encode(b"ApiKey:-1").decode(),
        base64.b64encode(b"ApiKey:1e9").decode(),
        base64.b64encode(b"\xff\xfe").decode(),
        "",
    ]
    for gid in ids:
        body = await gql(client, NODE, {"id": gid}, auth=seeded.basic)
        assert body == {"data": {"node": None}}, gid


async def test_pagination_forward_and_backward(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    for i in range(4):
        await _second_key(deps, seeded, f"k{i}")
    query = """query($first: Int, $after: String, $last: Int, $before: String) { viewer { account {
      apiKeys(first: $first, after: $after, last: $last, before: $before) {
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { node { nickname } } } } } }"""

    async def page(**variables: object) -> dict:
        body = await gql(client, query, variables, auth=seeded.basic)
        return body["data"]["viewer"]["account"]["apiKeys"]

    first = await page(first=2)
    assert [e["node"]["nickname"] for e in first["edges"]] == [None, "k0"]
    assert first["pageInfo"]["hasNextPage"] is True
    second = await page(first=2, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["nickname"] for e in second["edges"]] == ["k1", "k2"]
    assert second["pageInfo"]["hasPreviousPage"] is True
    last = await page(last=2)
    assert [e["node"]["nickname"] for e in last["edges"]] == ["k2", "k3"]
    assert last["pageInfo"]["hasPreviousPage"] is True
    before = await page(last=10, before=last["pageInfo"]["startCursor"])
    assert [e["node"]["nickname"] for e in before["edges"]] == [None, "k0", "k1"]


@pytest.mark.parametrize("variables", [{"first": 101}, {"first": -1}, {"after": "bogus"}])
async def test_bad_page_arguments_are_clear_errors(
    client: httpx.AsyncClient, seeded: Seeded, variables: dict
) -> None:
    query = """query($first: Int, $after: String) { viewer { account {
      apiKeys(first: $first, after: $after) { edges { cursor } } } } }"""
    body = await gql(client, query, variables, auth=seeded.basic)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "first" in body["errors"][0]["message"] or "after" in body["errors"][0]["message"]


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "after",
    [
        cursor_of("c1:" + "9" * 40),  # past any 64-bit key: the database overflowed
        cursor_of("c1:" + "9" * 5000),  # past Python's int-parsing digit limit
        cursor_of("c1:-5"),
        cursor_of("c1: 5"),
        cursor_of("c1:1_0"),
        "A" * 10_000,
    ],
)
async def test_malformed_or_oversized_cursors_are_bad_input_naming_the_argument(
    client: httpx.AsyncClient, seeded: Seeded, after: str
) -> None:
    for field in ("apiKeys", "auditEvents", "numbers"):
        query = f"""query($after: String) {{ viewer {{ account {{
          {field}(first: 5, after: $after) {{ edges {{ cursor }} }} }} }} }}"""
        body = await gql(client, query, {"after": after}, auth=seeded.basic)
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (field, body)
        assert "`after`" in error["message"]


@contextmanager
def count_sql() -> Iterator[list[str]]:
    statements: list[str] = []

    class Counter(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            statements.append(record.getMessage())

    logger = logging.getLogger("tortoise.db_client")
    handler, level = Counter(level=logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield statements
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_dashboard_sql_count_does_not_grow_with_keys(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    await provisioning.add_number(api_key=seeded.api_key, msisdn="447700900125", country="GB")
    auth = seeded.bearer()
    await gql(client, DASHBOARD, auth=auth)
    with count_sql() as one_key:
        body = await gql(client, DASHBOARD, auth=auth)
    assert len(body["data"]["viewer"]["account"]["apiKeys"]["edges"]) == 1
    for i in range(19):
        await _second_key(deps, seeded, f"k{i}")
    with count_sql() as twenty_keys:
        body = await gql(client, DASHBOARD, auth=auth)
    assert len(body["data"]["viewer"]["account"]["apiKeys"]["edges"]) == 20
    assert len(one_key) == len(twenty_keys), (one_key, twenty_keys)
    assert 0 < len(one_key) <= 7
