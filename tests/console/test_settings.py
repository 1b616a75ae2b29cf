"""Messaging API Type, SMS API and Messages API webhooks, Your numbers, Signed Webhooks,
Compliance and the audit log, each found by the seed's own words."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.console.harness import graphql
from tests.console.pages import section, sign_in

DLR = "https://example.com/webhooks/delivery-receipt"
STATUS = "https://example.com/webhooks/status-updates"


def test_messaging_api_type_buttons(context, account):
    page = context.new_page()
    sign_in(page, account)
    messaging = section(page, "Messaging API Type")
    sms = messaging.get_by_role("button", name="SMS API")
    messages = messaging.get_by_role("button", name="Messages API")
    expect(sms).to_have_attribute("aria-pressed", "true")
    messages.click()
    expect(messages).to_have_attribute("aria-pressed", "true")
    expect(sms).to_have_attribute("aria-pressed", "false")
    expect(messaging).to_contain_text("In use: Messages API")


def test_sms_and_messages_webhooks_save_and_show_user_errors_beside_their_field(context, account):
    page = context.new_page()
    sign_in(page, account)
    sms = section(page, "SMS API")
    form_post = "POST - Webhook data sent as form-encoded body"
    sms.get_by_label("Webhook format").select_option(label=form_post)
    sms.get_by_label("Delivery receipts (DLR) webhooks").fill(DLR)
    sms.get_by_label("Inbound SMS webhooks").fill("ftp://example.com/inbound")
    sms.get_by_role("button", name="Save SMS API webhooks").click()
    inbound = sms.get_by_label("Inbound SMS webhooks")
    expect(inbound).to_have_attribute("aria-invalid", "true")
    expect(inbound).to_have_accessible_description(re.compile("http"))
    expect(sms.get_by_label("Delivery receipts (DLR) webhooks")).not_to_have_attribute(
        "aria-invalid", "true"
    )

    inbound.fill("https://example.com/webhooks/inbound-sms")
    sms.get_by_role("button", name="Save SMS API webhooks").click()
    expect(sms.get_by_role("status")).to_have_text("Saved")

    messages = section(page, "Messages API")
    messages.get_by_label("Status webhooks").fill(STATUS)
    messages.get_by_label("Inbound webhooks").fill("https://example.com/webhooks/inbound-message")
    messages.get_by_role("button", name="Save Messages API webhooks").click()
    expect(messages.get_by_role("status")).to_have_text("Saved")

    page.reload()
    sms = section(page, "SMS API")
    expect(sms.get_by_label("Webhook format")).to_have_value("POST")
    expect(sms.get_by_label("Delivery receipts (DLR) webhooks")).to_have_value(DLR)
    expect(section(page, "Messages API").get_by_label("Status webhooks")).to_have_value(STATUS)


def test_per_number_webhook_under_your_numbers(context, account):
    page = context.new_page()
    sign_in(page, account)
    numbers = section(page, "Your numbers")
    number = numbers.get_by_role("form", name=re.compile(r"^Number \d+"))
    number.get_by_label("Inbound webhook").fill("https://example.com/webhooks/number")
    number.get_by_role("button", name="Save").click()
    expect(number.get_by_role("status")).to_have_text("Saved")
    page.reload()
    expect(section(page, "Your numbers").get_by_label("Inbound webhook")).to_have_value(
        "https://example.com/webhooks/number"
    )


def test_signed_webhooks_secret_method_and_sms_signing(context, account):
    page = context.new_page()
    sign_in(page, account)
    signed = section(page, "Signed Webhooks")
    secret = signed.get_by_role("group", name="Signature secret")
    value = secret.get_by_label("Signature secret value")
    masked = value.inner_text()
    assert "•" in masked or "*" in masked, masked
    secret.get_by_role("button", name="Reveal").click()
    expect(value).not_to_have_text(masked)
    revealed = value.inner_text()
    secret.get_by_role("button", name="Hide").click()

    secret.get_by_role("button", name="Rotate").click()
    shown = secret.get_by_role("group", name="New signature secret")
    rotated = shown.locator("code").inner_text()
    assert rotated != revealed
    expect(value).not_to_have_text(masked)  # the masked secret is the new one's

    method = signed.get_by_label("Signature method")
    labels = method.locator("option").all_inner_texts()
    assert [label.split(" (")[0] for label in labels] == [
        "MD5 HASH signature",
        "MD5 HMAC signature",
        "SHA1 HMAC signature",
        "SHA-256 HMAC signature",
        "SHA-512 HMAC signature",
    ]
    method.select_option(label="SHA-512 HMAC signature (most secure)")
    signing = signed.get_by_label("Sign SMS API webhooks")
    signing.check()
    expect(signing).to_be_checked()
    page.reload()
    signed = section(page, "Signed Webhooks")
    expect(signed.get_by_label("Signature method")).to_have_value("SHA512_HMAC")
    expect(signed.get_by_label("Sign SMS API webhooks")).to_be_checked()


def test_compliance_hipaa_notice(context, accounts):
    enabled = accounts.take(hipaa=True)
    page = context.new_page()
    sign_in(page, enabled)
    compliance = section(page, "Compliance")
    expect(compliance).to_contain_text("This account has been enabled to purchase HIPAA numbers.")
    expect(compliance.get_by_role("note")).to_be_visible()


def test_compliance_without_hipaa_and_the_audit_log_pages(context, server, account):
    key_id = graphql(server, account, "{ viewer { apiKey { id } } }")["viewer"]["apiKey"]["id"]
    rename = "mutation($id: ID!, $n: String) { apiKeyUpdate(input: {apiKeyId: $id, nickname: $n}) { userErrors { code } } }"  # noqa: E501
    for n in range(12):
        graphql(server, account, rename, id=key_id, n=f"Name {n}")
    page = context.new_page()
    sign_in(page, account)
    expect(section(page, "Compliance")).not_to_contain_text("has been enabled")
    audit = section(page, "Audit log")
    rows = audit.get_by_role("row")
    expect(rows).to_have_count(11)  # the header and a page of 10
    expect(rows.nth(1)).to_contain_text(f"API key {account.api_key} (Name 11)")  # its target
    audit.get_by_role("button", name="Load older events").click()
    expect(rows).not_to_have_count(11)
    assert rows.count() > 11
