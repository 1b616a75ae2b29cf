"""What only this page has: a test delivery's steps live, an edit from another tab appearing
without clobbering a field being typed in, a stale save's conflict, a VIEWER's read-only page."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.console.harness import threaded_receiver
from tests.console.pages import screenshot, section, sign_in


def test_send_test_webhook_shows_steps_live_and_redelivers(context, account, tmp_path):
    with threaded_receiver() as rx:
        page = context.new_page()
        sign_in(page, account)
        test = section(page, "Send test webhook")
        test.get_by_label("Webhook", exact=True).select_option(label="Delivery receipt (DLR)")
        target = test.get_by_label("Send to URL (optional)")
        target.fill("ftp://example.com/dlr")
        test.get_by_role("button", name="Send test webhook").click()
        expect(target).to_have_accessible_description(re.compile("http"))
        assert rx.requests == []
        target.fill(rx.url("/dlr"))
        test.get_by_role("button", name="Send test webhook").click()

        steps = test.get_by_role("list", name="Delivery steps")
        expect(test.get_by_role("status").filter(has_text="Delivery")).to_have_text(
            "Delivery succeeded"
        )
        for kind in ("Started", "Resolved", "Connected", "Request sent", "Response", "Succeeded"):
            expect(steps.get_by_text(kind, exact=True)).to_have_count(1)
        assert [r.target for r in rx.requests] == ["/dlr"]

        steps.get_by_text(re.compile("^Request: POST")).click()
        request = steps.locator("details[open] pre").first
        expect(request).to_contain_text("Content-Type: application/json")
        assert isinstance(json.loads(rx.requests[0].body), dict)  # POST-JSON, the default
        steps.get_by_text(re.compile("^Response: 200")).click()
        screenshot(test, "delivery", tmp_path)

        earlier = test.get_by_role("group", name=re.compile("^DELIVERY_RECEIPT delivery"))
        expect(earlier).to_have_count(1)
        expect(test.get_by_role("heading", name="Earlier deliveries (1)")).to_be_visible()
        earlier.get_by_role("button", name="Redeliver").click()
        expect(
            test.get_by_role("group", name=re.compile("^DELIVERY_RECEIPT delivery"))
        ).to_have_count(2)
        expect(test.get_by_role("status").filter(has_text="Delivery")).to_have_text(
            "Delivery succeeded"
        )
        assert [r.target for r in rx.requests] == ["/dlr", "/dlr"]


def test_an_edit_in_another_tab_appears_live_and_a_stale_save_conflicts(context, account, tmp_path):
    first, second = context.new_page(), context.new_page()
    sign_in(first, account)
    sign_in(second, account)
    mine = section(first, "SMS API")
    theirs = section(second, "SMS API")
    typed = "https://example.com/mine/inbound"
    mine.get_by_label("Inbound SMS webhooks").fill(typed)

    # A subscription has no acknowledgement: edit until the first tab shows one live.
    for attempt in range(5):
        url = f"https://example.com/theirs/dlr/{attempt}"
        theirs.get_by_label("Delivery receipts (DLR) webhooks").fill(url)
        theirs.get_by_role("button", name="Save SMS API webhooks").click()
        expect(theirs.get_by_role("status")).to_have_text("Saved")
        try:
            expect(mine.get_by_label("Delivery receipts (DLR) webhooks")).to_have_value(
                url, timeout=3_000
            )
            break
        except AssertionError:
            continue
    else:
        raise AssertionError("the first tab never showed the second tab's edit")
    expect(mine.get_by_label("Inbound SMS webhooks")).to_have_value(typed)

    theirs.get_by_label("Inbound SMS webhooks").fill("https://example.com/theirs/inbound")
    theirs.get_by_role("button", name="Save SMS API webhooks").click()
    expect(theirs.get_by_role("status")).to_have_text("Saved")
    expect(mine.get_by_label("Inbound SMS webhooks")).to_have_value(typed)

    mine.get_by_role("button", name="Save SMS API webhooks").click()
    conflict = mine.get_by_role("alert").filter(has_text="VERSION_CONFLICT")
    expect(conflict).to_be_visible()
    expect(conflict.get_by_role("row", name=re.compile("Inbound SMS webhooks"))).to_contain_text(
        "https://example.com/theirs/inbound"
    )
    screenshot(mine, "conflict", tmp_path)
    conflict.get_by_role("button", name="Save mine over them").click()
    expect(mine.get_by_role("status")).to_have_text("Saved")
    expect(theirs.get_by_label("Inbound SMS webhooks")).to_have_value(typed)


def test_a_viewer_sees_the_page_read_only(context, account):
    page = context.new_page()
    sign_in(page, account, role="Viewer (read-only)")
    expect(page.get_by_role("note").filter(has_text="Read-only")).to_be_visible()
    expect(
        section(page, "SMS API").get_by_label("Delivery receipts (DLR) webhooks")
    ).to_be_disabled()
    for heading, name in [
        ("API keys", "Request more API keys"),
        ("API Key & Secret", "Reveal"),
        ("API Key & Secret", "Roll"),
        ("API Key & Secret", "Create new secret"),
        ("Messaging API Type", "Messages API"),
        ("Signed Webhooks", "Rotate"),
        ("Send test webhook", "Send test webhook"),
    ]:
        expect(section(page, heading).get_by_role("button", name=name, exact=True)).to_be_disabled()
    expect(section(page, "Signed Webhooks").get_by_label("Signature method")).to_be_disabled()
    expect(section(page, "API keys").get_by_label("Nickname")).to_be_disabled()
    expect(section(page, "Send test webhook").get_by_label("Number", exact=True)).to_be_disabled()
    # Read-only still reads: the masked secret and the audit log are there.
    expect(section(page, "Audit log").get_by_role("row")).not_to_have_count(0)
