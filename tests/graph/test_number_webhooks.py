"""Numbers' own inbound webhooks, and the effective webhook of a number for each event."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from graph.relay import to_global_id
from models.account import Account
from models.audit import AuditEvent
from models.webhooks import MessagingConfig, Number
from resolvers import provisioning
from resolvers.deps import Deps
from resolvers.principal import Role
from tests.conftest import Seeded, basic_header, gql, seed_account

NUMBER_SET = """
mutation($input: NumberWebhookSetInput!) { numberWebhookSet(input: $input) {
  number { id msisdn inboundWebhookUrl }
  userErrors { field code message }
} }
"""
EFFECTIVE = """
query($id: ID!, $event: WebhookEvent!) { node(id: $id) { ... on Number {
  effectiveWebhook(event: $event) { url source reason }
} } }
"""
OVERRIDE = "https://example.com/numbers/inbound"


async def add_number(seeded: Seeded, msisdn: str = "447700900123") -> Number:
    return await provisioning.add_number(api_key=seeded.api_key, msisdn=msisdn, country="GB")


async def number_set(
    client: httpx.AsyncClient, auth: str, number_id: str, **fields: Any
) -> dict[str, Any]:
    body = await gql(client, NUMBER_SET, {"input": {"numberId": number_id, **fields}}, auth=auth)
    assert "errors" not in body, body
    return body["data"]["numberWebhookSet"]


async def effective(
    client: httpx.AsyncClient, seeded: Seeded, number: Number, event: str
) -> dict[str, Any]:
    variables = {"id": to_global_id("Number", number.id), "event": event}
    body = await gql(client, EFFECTIVE, variables, auth=seeded.bearer(Role.VIEWER))
    assert "errors" not in body, body
    return body["data"]["node"]["effectiveWebhook"]


async def test_set_and_clear_a_numbers_inbound_webhook(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    number = await add_number(seeded)
    number_id = to_global_id("Number", number.id)
    result = await number_set(client, seeded.basic, number_id, inboundWebhookUrl=OVERRIDE)
    assert result == {
        "number": {"id": number_id, "msisdn": "447700900123", "inboundWebhookUrl": OVERRIDE},
        "userErrors": [],
    }
    assert (await Number.get(id=number.id)).inbound_webhook_url == OVERRIDE
    cleared = await number_set(client, seeded.basic, number_id, inboundWebhookUrl="")
    assert cleared["number"]["inboundWebhookUrl"] is None
    await number_set(client, seeded.basic, number_id, inboundWebhookUrl=OVERRIDE)
    left_out = await number_set(client, seeded.basic, number_id)
    assert left_out["number"]["inboundWebhookUrl"] is None
    actions = await AuditEvent.filter(action="number_webhook.set").order_by("id")
    assert [(a.before, a.after) for a in actions] == [
        ({"inboundWebhookUrl": None}, {"inboundWebhookUrl": OVERRIDE}),
        ({"inboundWebhookUrl": OVERRIDE}, {"inboundWebhookUrl": None}),
        ({"inboundWebhookUrl": None}, {"inboundWebhookUrl": OVERRIDE}),
        ({"inboundWebhookUrl": OVERRIDE}, {"inboundWebhookUrl": None}),
    ]
    assert {a.api_key_id for a in actions} == {seeded.api_key_id}


@pytest.mark.parametrize("url", ["http://127.1/", "http://[::ffff:127.0.0.1]/", "http://10.0.0.1"])
async def test_number_webhooks_follow_the_url_rules(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps, url: str
) -> None:
    number = await add_number(seeded)
    number_id = to_global_id("Number", number.id)
    await number_set(client, seeded.basic, number_id, inboundWebhookUrl=OVERRIDE)
    result = await number_set(client, seeded.basic, number_id, inboundWebhookUrl=url)
    assert result["number"] is None
    assert [(e["code"], e["field"]) for e in result["userErrors"]] == [
        ("BLOCKED_ADDRESS", ["input", "inboundWebhookUrl"])
    ]
    assert (await Number.get(id=number.id)).inbound_webhook_url == OVERRIDE
    deps.allow_private_webhooks = True
    allowed = await number_set(client, seeded.basic, number_id, inboundWebhookUrl=url)
    assert allowed["userErrors"] == []


async def test_roles_and_tenancy_for_numbers(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    mine = await add_number(seeded, "447700900001")
    other = await seed_account(deps, "Other")
    theirs = await add_number(other, "447700900002")
    viewer = await number_set(
        client,
        seeded.bearer(Role.VIEWER),
        to_global_id("Number", mine.id),
        inboundWebhookUrl=OVERRIDE,
    )
    assert [e["code"] for e in viewer["userErrors"]] == ["FORBIDDEN"]
    answers = [
        await number_set(client, seeded.basic, number_id, inboundWebhookUrl=OVERRIDE)
        for number_id in (
            to_global_id("Number", theirs.id),
            to_global_id("Number", 999_999),
            to_global_id("ApiKey", mine.id),
            "%%%",
        )
    ]
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["userErrors"][0]["code"] == "NOT_FOUND"
    assert answers[0]["userErrors"][0]["field"] == ["input", "numberId"]
    assert (await Number.get(id=theirs.id)).inbound_webhook_url is None
    assert (await Number.get(id=mine.id)).inbound_webhook_url is None


async def test_a_non_primary_key_touches_only_its_own_numbers(
    client: httpx.AsyncClient, seeded: Seeded, deps: Deps
) -> None:
    account = await Account.get(id=seeded.account_id)
    second, secret = await provisioning.create_api_key(
        deps=deps, account=account, nickname="Testing", is_primary=False
    )
    on_primary = await add_number(seeded, "447700900001")
    on_second = await provisioning.add_number(
        api_key=second.key, msisdn="447700900002", country="GB"
    )
    auth = basic_header(second.key, secret)
    refused = await number_set(
        client, auth, to_global_id("Number", on_primary.id), inboundWebhookUrl=OVERRIDE
    )
    assert refused["userErrors"][0]["code"] == "NOT_FOUND"
    allowed = await number_set(
        client, auth, to_global_id("Number", on_second.id), inboundWebhookUrl=OVERRIDE
    )
    assert allowed["userErrors"] == []


async def test_effective_webhook_for_every_source(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    number = await add_number(seeded)
    await MessagingConfig.filter(api_key_id=seeded.api_key_id).update(
        inbound_sms_url="https://example.com/key-inbound",
        delivery_receipt_url="https://example.com/key-dlr",
    )
    assert await effective(client, seeded, number, "INBOUND_SMS") == {
        "url": "https://example.com/key-inbound",
        "source": "KEY_SETTING",
        "reason": "The key's webhook setting.",
    }
    await number_set(
        client, seeded.basic, to_global_id("Number", number.id), inboundWebhookUrl=OVERRIDE
    )
    inbound = await effective(client, seeded, number, "INBOUND_SMS")
    assert (inbound["url"], inbound["source"]) == (OVERRIDE, "NUMBER_OVERRIDE")
    # The override is for inbound traffic; receipts still follow the key.
    receipt = await effective(client, seeded, number, "DELIVERY_RECEIPT")
    assert (receipt["url"], receipt["source"]) == ("https://example.com/key-dlr", "KEY_SETTING")
    status = await effective(client, seeded, number, "MESSAGE_STATUS")
    assert (status["url"], status["source"]) == (None, "INACTIVE_API")
    await MessagingConfig.filter(api_key_id=seeded.api_key_id).update(api="MESSAGES_API")
    status = await effective(client, seeded, number, "MESSAGE_STATUS")
    assert (status["url"], status["source"]) == (None, "NOT_SET")
    inbound = await effective(client, seeded, number, "INBOUND_MESSAGE")
    assert (inbound["url"], inbound["source"]) == (OVERRIDE, "NUMBER_OVERRIDE")


async def test_a_number_without_a_key_sends_nothing(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    number = await add_number(seeded)
    await Number.filter(id=number.id).update(api_key_id=None, inbound_webhook_url=OVERRIDE)
    result = await effective(client, seeded, number, "INBOUND_SMS")
    assert (result["url"], result["source"]) == (None, "NOT_SET")
    assert "not linked to an API key" in result["reason"]
