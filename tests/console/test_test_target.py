"""Send test webhook's channel and number: a Messages API status sample on the channel picked,
and an inbound sample for a number that goes to that number's own inbound webhook."""

from __future__ import annotations

import json
import time

from playwright.sync_api import expect

from tests.console.harness import Account, ServerProcess, graphql, threaded_receiver
from tests.console.pages import section, sign_in
from tests.server.receiver import Receiver

KEY_ID = "{ viewer { apiKey { id } } }"
USE_API = (
    "mutation($i: MessagingApiSetInput!) { messagingApiSet(input: $i) { userErrors { code } } }"
)
MESSAGES = "mutation($i: MessagesWebhooksUpdateInput!) { messagesWebhooksUpdate(input: $i) { userErrors { code } } }"  # noqa: E501
SMS = (
    "mutation($i: SmsWebhooksUpdateInput!) { smsWebhooksUpdate(input: $i) { userErrors { code } } }"
)


def _key_id(server: ServerProcess, account: Account) -> str:
    return graphql(server, account, KEY_ID)["viewer"]["apiKey"]["id"]


def _send_and_wait(test, rx: Receiver, count: int) -> None:  # type: ignore[no-untyped-def]
    """Send, then wait until the receiver has had `count` requests and the page shows this
    send's delivery succeeded (its row joins the earlier ones)."""
    test.get_by_role("button", name="Send test webhook").click()
    deadline = time.monotonic() + 30  # generous: the machine is small and shared
    while len(rx.requests) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(rx.requests) == count, rx.requests
    expect(test.get_by_role("heading", name=f"Earlier deliveries ({count})")).to_be_visible()
    expect(test.get_by_role("status").filter(has_text="Delivery")).to_have_text(
        "Delivery succeeded"
    )


def test_a_message_status_sample_comes_from_the_channel_picked(context, server, account):
    with threaded_receiver() as rx:
        key_id = _key_id(server, account)
        graphql(server, account, USE_API, i={"apiKeyId": key_id, "api": "MESSAGES_API"})
        status = {"apiKeyId": key_id, "statusUrl": rx.url("/status")}
        graphql(server, account, MESSAGES, i=status)
        page = context.new_page()
        sign_in(page, account)
        test = section(page, "Send test webhook")

        # SMS API events have no channel; the Messages API events offer one.
        test.get_by_label("Webhook", exact=True).select_option(label="Delivery receipt (DLR)")
        expect(test.get_by_label("Channel")).to_have_count(0)
        test.get_by_label("Webhook", exact=True).select_option(label="Message status")
        channel = test.get_by_label("Channel")
        expect(channel.get_by_role("option")).to_have_text(
            ["SMS", "MMS", "WhatsApp", "Viber", "Facebook Messenger"]
        )
        expect(channel).to_have_value("SMS")
        # Keyboard only: focus the select, then move down twice (SMS → MMS → WhatsApp).
        channel.focus()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        expect(channel).to_have_value("WHATSAPP")
        _send_and_wait(test, rx, 1)

        assert [r.target for r in rx.requests] == ["/status"]
        body = json.loads(rx.requests[0].body)
        assert body["channel"] == "whatsapp", body


def test_an_inbound_sample_for_a_number_goes_to_its_own_webhook(context, server, account):
    with threaded_receiver() as rx:
        key_id = _key_id(server, account)
        graphql(server, account, SMS, i={"apiKeyId": key_id, "inboundSmsUrl": rx.url("/key")})
        page = context.new_page()
        sign_in(page, account)
        number = section(page, "Your numbers").get_by_role("form", name=f"Number {account.msisdn}")
        number.get_by_label("Inbound webhook").fill(rx.url("/number"))
        number.get_by_role("button", name="Save").click()
        expect(number.get_by_role("status")).to_have_text("Saved")

        test = section(page, "Send test webhook")
        test.get_by_label("Webhook", exact=True).select_option(label="Inbound SMS")
        expect(test.get_by_label("Channel")).to_have_count(0)
        picker = test.get_by_label("Number", exact=True)
        expect(picker.get_by_role("option")).to_have_text(
            ["Key's webhook", f"+{account.msisdn} (own inbound webhook)"]
        )
        expect(picker).to_have_value("")
        _send_and_wait(test, rx, 1)
        assert [r.target.split("?")[0] for r in rx.requests] == ["/key"]

        picker.select_option(label=f"+{account.msisdn} (own inbound webhook)")
        _send_and_wait(test, rx, 2)
        assert [r.target.split("?")[0] for r in rx.requests] == ["/key", "/number"]
        sent = rx.requests[1]
        assert account.msisdn in sent.target + sent.body.decode(), sent
