"""Webhook settings through the API: partial updates, URL rules, versions, roles and tenancy."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from graph.relay import to_global_id
from models.account import Account
from models.audit import AuditEvent
from models.webhooks import MessagingConfig
from resolvers import provisioning
from resolvers.deps import Deps
from resolvers.principal import Role
from tests.conftest import Seeded, basic_header, gql, seed_account

MESSAGING_FIELDS = """
  messaging { api version sms { format deliveryReceiptUrl inboundSmsUrl }
              messages { statusUrl inboundUrl } }
  apiKey { key messaging { version } }
  userErrors { field code message }
"""
SMS_UPDATE = (
    "mutation($input: SmsWebhooksUpdateInput!) { smsWebhooksUpdate(input: $input) {"
    + MESSAGING_FIELDS
    + "} }"
)
MESSAGES_UPDATE = (
    "mutation($input: MessagesWebhooksUpdateInput!) { messagesWebhooksUpdate(input: $input) {"
    + MESSAGING_FIELDS
    + "} }"
)
API_SET = (
    "mutation($input: MessagingApiSetInput!) { messagingApiSet(input: $input) {"
    + MESSAGING_FIELDS
    + "} }"
)
AUDIT = """
query { viewer { account { auditEvents(first: 20) { edges { node {
  action actor targetId before after
} } } } } }
"""

DLR = "https://example.com/webhooks/delivery-receipt"
INBOUND = "https://example.com/webhooks/inbound-sms"


def key_id(seeded: Seeded) -> str:
    return to_global_id("ApiKey", seeded.api_key_id)


async def sms_update(
    client: httpx.AsyncClient, seeded: Seeded, auth: str | None = None, **fields: Any
) -> dict[str, Any]:
    body = await gql(
        client,
        SMS_UPDATE,
        {"input": {"apiKeyId": key_id(seeded), **fields}},
        auth=auth or seeded.basic,
    )
    assert "errors" not in body, body
    return body["data"]["smsWebhooksUpdate"]


async def stored(seeded: Seeded) -> MessagingConfig:
    return await MessagingConfig.get(api_key_id=seeded.api_key_id)


async def test_absent_fields_stay_and_null_or_empty_clears(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    first = await sms_update(
        client, seeded, format="POST", deliveryReceiptUrl=DLR, inboundSmsUrl=INBOUND
    )
    assert first["userErrors"] == []
    assert first["messaging"]["sms"] == {
        "format": "POST",
        "deliveryReceiptUrl": DLR,
        "inboundSmsUrl": INBOUND,
    }
    # Only the DLR URL is sent, as null: the format and the inbound URL stay.
    second = await sms_update(client, seeded, deliveryReceiptUrl=None)
    assert second["messaging"]["sms"] == {
        "format": "POST",
        "deliveryReceiptUrl": None,
        "inboundSmsUrl": INBOUND,
    }
    third = await sms_update(client, seeded, inboundSmsUrl="")
    assert third["messaging"]["sms"]["inboundSmsUrl"] is None
    row = await stored(seeded)
    assert (row.delivery_receipt_url, row.inbound_sms_url) == (None, None)
    assert row.version == 4


async def test_urls_are_stored_normalised(client: httpx.AsyncClient, seeded: Seeded) -> None:
    result = await sms_update(client, seeded, deliveryReceiptUrl="HTTPS://Example.COM/Hook?A=B")
    assert result["messaging"]["sms"]["deliveryReceiptUrl"] == "https://example.com/Hook?A=B"
    assert (await stored(seeded)).delivery_receipt_url == "https://example.com/Hook?A=B"


BLOCKED_SPELLINGS = [
    "http://127.1/hook",
    "http://0x7f000001/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://localhost./hook",
    "http://10.0.0.1/hook",
]


@pytest.mark.parametrize("url", BLOCKED_SPELLINGS)
async def test_blocked_addresses_name_the_field_and_change_nothing(
    client: httpx.AsyncClient, seeded: Seeded, url: str
) -> None:
    await sms_update(client, seeded, deliveryReceiptUrl=DLR)
    result = await sms_update(client, seeded, deliveryReceiptUrl=url)
    assert result["messaging"] is None
    (error,) = result["userErrors"]
    assert error["code"] == "BLOCKED_ADDRESS"
    assert error["field"] == ["input", "deliveryReceiptUrl"]
    row = await stored(seeded)
    assert row.delivery_receipt_url == DLR
    assert row.version == 2


@pytest.mark.parametrize("url", BLOCKED_SPELLINGS)
async def test_private_targets_are_accepted_when_the_deployment_allows_them(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps, url: str
) -> None:
    deps.allow_private_webhooks = True
    result = await sms_update(client, seeded, deliveryReceiptUrl=url)
    assert result["userErrors"] == []
    assert (await stored(seeded)).delivery_receipt_url == result["messaging"]["sms"][
        "deliveryReceiptUrl"
    ]


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "https://user:pw@example.com/", "https://exa mple.com", "example.com"],
)
async def test_malformed_urls_are_invalid(
    client: httpx.AsyncClient, seeded: Seeded, url: str
) -> None:
    result = await sms_update(client, seeded, inboundSmsUrl=url)
    assert [(e["code"], e["field"]) for e in result["userErrors"]] == [
        ("INVALID_URL", ["input", "inboundSmsUrl"])
    ]
    assert url not in result["userErrors"][0]["message"]


async def test_every_wrong_field_is_reported_and_nothing_changes(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    result = await sms_update(
        client,
        seeded,
        format=None,
        deliveryReceiptUrl="http://127.0.0.1/",
        inboundSmsUrl="gopher://example.com",
    )
    assert sorted((e["code"], e["field"][1]) for e in result["userErrors"]) == [
        ("BLOCKED_ADDRESS", "deliveryReceiptUrl"),
        ("INVALID_INPUT", "format"),
        ("INVALID_URL", "inboundSmsUrl"),
    ]
    row = await stored(seeded)
    assert row.version == 1 and row.delivery_receipt_url is None
    assert await AuditEvent.filter(account_id=seeded.account_id).count() == 0


async def test_messages_webhooks_are_a_partial_update_too(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    variables = {"input": {"apiKeyId": key_id(seeded), "statusUrl": "https://example.com/s"}}
    body = await gql(client, MESSAGES_UPDATE, variables, auth=seeded.basic)
    assert body["data"]["messagesWebhooksUpdate"]["messaging"]["messages"] == {
        "statusUrl": "https://example.com/s",
        "inboundUrl": None,
    }
    variables = {"input": {"apiKeyId": key_id(seeded), "inboundUrl": "https://example.com/i"}}
    body = await gql(client, MESSAGES_UPDATE, variables, auth=seeded.basic)
    assert body["data"]["messagesWebhooksUpdate"]["messaging"]["messages"] == {
        "statusUrl": "https://example.com/s",
        "inboundUrl": "https://example.com/i",
    }
    variables = {"input": {"apiKeyId": key_id(seeded), "statusUrl": "http://[::1]/"}}
    body = await gql(client, MESSAGES_UPDATE, variables, auth=seeded.basic)
    (error,) = body["data"]["messagesWebhooksUpdate"]["userErrors"]
    assert (error["code"], error["field"]) == ("BLOCKED_ADDRESS", ["input", "statusUrl"])


async def test_switching_the_api_keeps_both_webhook_sets(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sms_update(client, seeded, deliveryReceiptUrl=DLR)
    variables = {"input": {"apiKeyId": key_id(seeded), "statusUrl": "https://example.com/s"}}
    await gql(client, MESSAGES_UPDATE, variables, auth=seeded.basic)
    for api in ("MESSAGES_API", "SMS_API", "MESSAGES_API"):
        body = await gql(
            client, API_SET, {"input": {"apiKeyId": key_id(seeded), "api": api}}, auth=seeded.basic
        )
        messaging = body["data"]["messagingApiSet"]["messaging"]
        assert messaging["api"] == api
        assert messaging["sms"]["deliveryReceiptUrl"] == DLR
        assert messaging["messages"]["statusUrl"] == "https://example.com/s"
    assert (await stored(seeded)).version == 6


async def test_a_stale_expected_version_is_refused(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    ok = await sms_update(client, seeded, deliveryReceiptUrl=DLR, expectedVersion=1)
    assert ok["messaging"]["version"] == 2
    assert ok["apiKey"]["messaging"]["version"] == 2
    stale = await sms_update(client, seeded, deliveryReceiptUrl=INBOUND, expectedVersion=1)
    (error,) = stale["userErrors"]
    assert (error["code"], error["field"]) == ("VERSION_CONFLICT", ["input", "expectedVersion"])
    assert "version 2" in error["message"]
    assert stale["messaging"] is None
    row = await stored(seeded)
    assert (row.version, row.delivery_receipt_url) == (2, DLR)
    body = await gql(
        client,
        API_SET,
        {"input": {"apiKeyId": key_id(seeded), "api": "MESSAGES_API", "expectedVersion": 7}},
        auth=seeded.basic,
    )
    assert body["data"]["messagingApiSet"]["userErrors"][0]["code"] == "VERSION_CONFLICT"
    assert (await stored(seeded)).api.value == "SMS_API"


async def test_without_expected_version_the_write_applies_and_bumps(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sms_update(client, seeded, format="GET")
    result = await sms_update(client, seeded, format="POST", expectedVersion=None)
    assert result["messaging"]["version"] == 3


async def test_a_change_to_the_same_values_is_a_no_op(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sms_update(client, seeded, deliveryReceiptUrl=DLR)
    audits = await AuditEvent.filter(account_id=seeded.account_id).count()
    again = await sms_update(client, seeded, deliveryReceiptUrl=DLR, format="POST_JSON")
    nothing = await sms_update(client, seeded)
    assert again["messaging"]["version"] == nothing["messaging"]["version"] == 2
    assert again["userErrors"] == nothing["userErrors"] == []
    assert await AuditEvent.filter(account_id=seeded.account_id).count() == audits
    # A stale tab still learns it is stale, even when it changes nothing.
    stale = await sms_update(client, seeded, expectedVersion=1)
    assert stale["userErrors"][0]["code"] == "VERSION_CONFLICT"


async def test_changes_are_audited_with_before_and_after(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sms_update(client, seeded, deliveryReceiptUrl=DLR, format="GET")
    await gql(
        client,
        API_SET,
        {"input": {"apiKeyId": key_id(seeded), "api": "MESSAGES_API"}},
        auth=seeded.basic,
    )
    body = await gql(client, AUDIT, auth=seeded.basic)
    nodes = [e["node"] for e in body["data"]["viewer"]["account"]["auditEvents"]["edges"]]
    api_set, sms = nodes
    assert api_set["action"] == "messaging_api.set"
    assert api_set["before"] == {"api": "SMS_API", "version": 2}
    assert api_set["after"] == {"api": "MESSAGES_API", "version": 3}
    assert sms["action"] == "sms_webhooks.update"
    assert sms["actor"] == f"key:{seeded.api_key}"
    assert sms["targetId"] == key_id(seeded)
    assert sms["before"] == {"format": "POST_JSON", "deliveryReceiptUrl": None, "version": 1}
    assert sms["after"] == {"format": "GET", "deliveryReceiptUrl": DLR, "version": 2}


async def test_viewers_may_not_change_settings(client: httpx.AsyncClient, seeded: Seeded) -> None:
    result = await sms_update(
        client, seeded, auth=seeded.bearer(Role.VIEWER), deliveryReceiptUrl=DLR
    )
    assert [e["code"] for e in result["userErrors"]] == ["FORBIDDEN"]
    assert (await stored(seeded)).delivery_receipt_url is None


async def test_foreign_and_malformed_ids_answer_like_missing_ones(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    other = await seed_account(deps, "Other")
    answers = []
    for api_key_id in (
        to_global_id("ApiKey", other.api_key_id),
        to_global_id("ApiKey", 999_999),
        to_global_id("Number", seeded.api_key_id),
        "not-an-id",
    ):
        body = await gql(
            client,
            SMS_UPDATE,
            {"input": {"apiKeyId": api_key_id, "deliveryReceiptUrl": DLR}},
            auth=seeded.basic,
        )
        answers.append(body["data"]["smsWebhooksUpdate"])
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["userErrors"][0]["code"] == "NOT_FOUND"
    assert answers[0]["userErrors"][0]["field"] == ["input", "apiKeyId"]
    assert (await MessagingConfig.get(api_key_id=other.api_key_id)).delivery_receipt_url is None


async def test_a_non_primary_key_changes_only_itself(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    account = await Account.get(id=seeded.account_id)
    second, secret = await provisioning.create_api_key(
        deps=deps, account=account, nickname="Testing", is_primary=False
    )
    auth = basic_header(second.key, secret)
    own = await gql(
        client,
        SMS_UPDATE,
        {"input": {"apiKeyId": to_global_id("ApiKey", second.id), "deliveryReceiptUrl": DLR}},
        auth=auth,
    )
    assert own["data"]["smsWebhooksUpdate"]["userErrors"] == []
    primary = await sms_update(client, seeded, auth=auth, deliveryReceiptUrl=DLR)
    assert primary["userErrors"][0]["code"] == "NOT_FOUND"
    assert (await stored(seeded)).delivery_receipt_url is None


async def test_unauthenticated_mutations_are_refused(client: httpx.AsyncClient) -> None:
    body = await gql(client, SMS_UPDATE, {"input": {"apiKeyId": "x", "deliveryReceiptUrl": DLR}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
