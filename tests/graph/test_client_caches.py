"""What normalised client caches (Relay, Apollo, urql) need from payloads and lists: the changed
node with its ID, the new edge, totals and limits, enums, and a described schema."""

from __future__ import annotations

from typing import Any

import httpx
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
)

from graph.relay import to_global_id
from graph.schema import schema
from models.account import Account
from resolvers.principal import Role
from tests.conftest import Seeded, gql
from tests.graph.test_reads import count_sql

ROTATE = """
mutation($input: SignatureSecretRotateInput!) {
  signatureSecretRotate(input: $input) {
    secretPlaintext
    signature { maskedSecret }
    apiKey { id signature { maskedSecret } }
    userErrors { code }
  }
}
"""
MASKED = "query($key: String!) { apiKey(key: $key) { signature { maskedSecret } } }"
CREATE_KEY = """
mutation($input: ApiKeyCreateInput!) {
  apiKeyCreate(input: $input) {
    apiKey { id }
    apiKeyEdge { cursor node { id nickname } }
    userErrors { code }
  }
}
"""
KEYS = """
query($first: Int) { viewer { account {
  apiKeyLimit
  apiKeys(first: $first) { totalCount edges { cursor node { id } } }
  numbers(first: 1) { totalCount }
  auditEvents(first: 1) { totalCount }
} } }
"""
RENAME = """
mutation($input: ApiKeyUpdateInput!) { apiKeyUpdate(input: $input) { userErrors { code } } }
"""
AUDIT = """
query { viewer { account { auditEvents(first: 5) { edges { node {
  action role targetId
  target { id __typename ... on ApiKey { nickname } }
} } } } } }
"""
BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


async def data(client: httpx.AsyncClient, document: str, auth: str, **variables: Any) -> Any:
    body = await gql(client, document, variables, auth=auth)
    assert "errors" not in body, body
    return body["data"]


async def test_rotating_the_signature_secret_returns_the_key_with_the_new_mask(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    before = await data(client, MASKED, seeded.basic, key=seeded.api_key)
    rotated = await data(
        client, ROTATE, seeded.basic, input={"apiKeyId": to_global_id("ApiKey", seeded.api_key_id)}
    )
    payload = rotated["signatureSecretRotate"]
    assert payload["userErrors"] == []
    new_mask = payload["signature"]["maskedSecret"]
    assert new_mask != before["apiKey"]["signature"]["maskedSecret"]
    assert payload["apiKey"] == {
        "id": to_global_id("ApiKey", seeded.api_key_id),
        "signature": {"maskedSecret": new_mask},
    }
    assert new_mask.endswith(payload["secretPlaintext"][-4:])


async def test_a_new_key_comes_with_its_edge_and_the_totals_follow(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    created = (await data(client, CREATE_KEY, seeded.basic, input={"nickname": "Production"}))[
        "apiKeyCreate"
    ]
    assert created["userErrors"] == []
    edge = created["apiKeyEdge"]
    assert edge["node"] == {"id": created["apiKey"]["id"], "nickname": "Production"}
    account = (await data(client, KEYS, seeded.basic, first=10))["viewer"]["account"]
    last = account["apiKeys"]["edges"][-1]
    assert last == {"cursor": edge["cursor"], "node": {"id": edge["node"]["id"]}}
    # The total counts every key, not the page: "2 of 10 keys".
    one_page = (await data(client, KEYS, seeded.basic, first=1))["viewer"]["account"]
    assert len(one_page["apiKeys"]["edges"]) == 1
    assert one_page["apiKeys"]["totalCount"] == 2
    assert one_page["apiKeyLimit"] == 10
    assert one_page["numbers"]["totalCount"] == 0
    assert one_page["auditEvents"]["totalCount"] == 1


async def test_the_key_limit_is_the_accounts_own_when_set(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await Account.filter(id=seeded.account_id).update(api_key_limit=3)
    account = (await data(client, KEYS, seeded.bearer(Role.VIEWER), first=1))["viewer"]["account"]
    assert account["apiKeyLimit"] == 3


async def test_an_audit_event_gives_its_role_as_an_enum_and_its_target_as_a_node(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    key = to_global_id("ApiKey", seeded.api_key_id)
    await data(client, RENAME, seeded.bearer(), input={"apiKeyId": key, "nickname": "Main"})
    (event,) = (await data(client, AUDIT, seeded.basic))["viewer"]["account"]["auditEvents"][
        "edges"
    ]
    assert event["node"] == {
        "action": "api_key.update",
        "role": "ADMIN",
        "targetId": key,
        "target": {"id": key, "__typename": "ApiKey", "nickname": "Main"},
    }


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    undescribed: list[str] = []
    for name, kind in schema._schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN_SCALARS:
            continue
        if not kind.description:
            undescribed.append(name)
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in kind.fields.items():
                if not field.description:
                    undescribed.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        undescribed.append(f"{name}.{field_name}({arg_name})")
        if isinstance(kind, GraphQLEnumType):
            undescribed += [
                f"{name}.{v}" for v, value in kind.values.items() if not value.description
            ]
        assert not isinstance(kind, GraphQLScalarType) or kind.description, name
    assert undescribed == []


def test_fixed_lists_are_enums() -> None:
    types = schema._schema.type_map
    fields = {
        ("AuditEvent", "role"): "Role",
        ("DeliveryStep", "errorCode"): "DeliveryErrorCode",
        ("TestDelivery", "errorCode"): "DeliveryErrorCode",
        ("SignatureCheckResult", "scheme"): "SignatureScheme!",
        ("SignatureCheckResult", "method"): "SignatureMethod",
    }
    found = {place: str(types[place[0]].fields[place[1]].type) for place in fields}  # type: ignore[union-attr]
    assert found == fields


TARGETS = """
query { viewer { account { auditEvents(first: 20) { edges { node {
  target { id ... on ApiKey { nickname } }
} } } } } }
"""


async def test_a_page_of_audit_targets_loads_in_one_statement_per_type(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    key = to_global_id("ApiKey", seeded.api_key_id)
    created = [
        (await data(client, CREATE_KEY, seeded.basic, input={"nickname": name}))["apiKeyCreate"]
        for name in ("Two", "Three")
    ]
    await data(client, RENAME, seeded.bearer(), input={"apiKeyId": key, "nickname": "One"})
    with count_sql() as statements:
        events = (await data(client, TARGETS, seeded.basic))["viewer"]["account"]["auditEvents"]
    targets = [edge["node"]["target"] for edge in events["edges"]]
    assert targets == [
        {"id": key, "nickname": "One"},
        {"id": created[1]["apiKey"]["id"], "nickname": "Three"},
        {"id": created[0]["apiKey"]["id"], "nickname": "Two"},
    ]
    # Three events name three keys: one statement reads them all, not one per event.
    key_reads = [statement for statement in statements if 'FROM "api_key" WHERE' in statement]
    assert len(key_reads) == 1, statements
    assert sum("audit_event" in statement for statement in statements) == 1, statements
