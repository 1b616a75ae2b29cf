"""API keys and secrets in the console: Nickname, Request more API keys, Reveal, Copy,
Create new secret (shown once), Revoke, Roll with a grace period, last use."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.console.pages import section, sign_in


def test_nickname_and_request_more_api_keys(context, account):
    page = context.new_page()
    sign_in(page, account)
    keys = section(page, "API keys")
    keys.get_by_label("Nickname").fill("Production")
    keys.get_by_role("button", name="Save nickname").click()
    expect(keys.get_by_role("status")).to_have_text("Saved")
    expect(keys.get_by_label("API key")).to_contain_text(f"{account.api_key} (Production)")

    keys.get_by_role("button", name="Request more API keys").click()
    shown = keys.get_by_role("group", name=re.compile("^API secret of the new key"))
    expect(shown).to_contain_text("shown only this once")
    expect(keys.get_by_label("API key").locator("option")).to_have_count(2)
    new_key = shown.get_attribute("aria-label").rsplit(" ", 1)[-1]
    shown.get_by_role("button", name="Done").click()
    expect(shown).to_have_count(0)
    expect(keys).to_contain_text("2 of 10 keys")

    keys.get_by_label("API key").select_option(value=new_key)
    secrets = section(page, "API Key & Secret")
    expect(secrets.get_by_label("API key")).to_have_text(new_key)
    expect(keys.get_by_label("Nickname")).to_have_value("")


def test_reveal_and_copy_a_secret_and_its_last_use(context, account):
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in(page, account)
    first = section(page, "API Key & Secret").get_by_role("group", name="API secret 1")
    value = first.get_by_label("API secret 1 value")
    expect(value).not_to_have_text(account.api_secret)
    expect(first).to_contain_text(re.compile(r"Last used: (?!never)"))

    first.get_by_role("button", name="Reveal").click()
    expect(value).to_have_text(account.api_secret)
    first.get_by_role("button", name="Hide").click()
    expect(value).not_to_have_text(account.api_secret)

    first.get_by_role("button", name="Copy").click()
    expect(first.get_by_role("status")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == account.api_secret


def test_create_revoke_and_roll_secrets(context, account):
    page = context.new_page()
    sign_in(page, account)
    secrets = section(page, "API Key & Secret")
    secrets.get_by_role("button", name="Create new secret").click()
    shown = secrets.get_by_role("group", name="New API secret")
    new_secret = shown.locator("code").inner_text()
    assert re.fullmatch(r"[A-Za-z0-9]{8,25}", new_secret), new_secret
    second = secrets.get_by_role("group", name="API secret 2")
    expect(second).to_be_visible()
    expect(secrets.get_by_role("button", name="Create new secret")).to_have_count(0)
    shown.get_by_role("button", name="Done").click()

    second.get_by_role("button", name="Revoke").click()
    second.get_by_role("button", name="Confirm revoke").click()
    expect(secrets.get_by_role("group", name="API secret 2")).to_have_count(0)

    first = secrets.get_by_role("group", name="API secret 1")
    first.get_by_label("Grace period").select_option(label="1 hour")
    first.get_by_role("button", name="Roll").click()
    expect(secrets.get_by_role("group", name="New API secret")).to_be_visible()
    expect(secrets.get_by_role("group", name=re.compile("^API secret"))).to_have_count(2)
    expect(secrets.get_by_text(re.compile("Expires"))).to_have_count(1)


def test_the_last_secret_cannot_be_revoked_and_says_why(context, account):
    page = context.new_page()
    sign_in(page, account)
    first = section(page, "API Key & Secret").get_by_role("group", name="API secret 1")
    first.get_by_role("button", name="Revoke").click()
    first.get_by_role("button", name="Confirm revoke").click()
    expect(first.get_by_role("alert")).to_contain_text("last secret")
