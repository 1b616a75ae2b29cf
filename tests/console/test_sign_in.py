"""Signing in to the console and finding every part of the seed page by its label."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.console.pages import section, sign_in


def test_sign_in_shows_the_page_and_keeps_the_token_out_of_local_storage(context, account):
    page = context.new_page()
    bodies: list[dict] = []
    page.on(
        "request",
        lambda r: bodies.append(json.loads(r.post_data)) if r.url.endswith("/graphql") else None,
    )
    sign_in(page, account)
    expect(page.get_by_role("heading", name="API Settings", level=1)).to_be_visible()
    keys = section(page, "API keys")
    expect(keys.get_by_label("API key")).to_have_value(account.api_key)
    assert page.evaluate("() => window.localStorage.length") == 0
    stored = page.evaluate("() => Object.keys(window.sessionStorage)")
    assert stored == ["switchboard.session"]
    # Persisted documents only: every request names its document by ID, none sends text.
    assert len(bodies) >= 2
    assert all(set(b) == {"documentId", "operationName", "variables"} for b in bodies), bodies
    assert all(re.fullmatch("sha256:[0-9a-f]{64}", b["documentId"]) for b in bodies)


def test_wrong_secret_is_refused_with_a_message(context, account):
    page = context.new_page()
    page.goto("/")
    page.get_by_label("API key").fill(account.api_key)
    page.get_by_label("API secret").fill("Wrong0secret")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile(".+"))
    expect(page.get_by_role("heading", name="API Key & Secret")).to_have_count(0)


def test_a_reload_keeps_the_session_another_tab_does_not_and_sign_out_ends_it(context, account):
    page = context.new_page()
    sign_in(page, account)
    page.reload()
    expect(page.get_by_role("heading", name="API Key & Secret")).to_be_visible()

    other = context.new_page()
    other.goto("/")
    expect(other.get_by_role("button", name="Sign in")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.evaluate("() => window.sessionStorage.length") == 0
