"""Accessibility: axe-core finds no serious or critical violation, and a keyboard alone
signs in and changes a setting."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.console.conftest import AXE
from tests.console.pages import screenshot, section, sign_in

# WCAG 2.1 A and AA rules, as axe-core tags them.
AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
  });
  return {
    passes: result.passes.length,
    violations: result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")),
    })),
  };
}"""


def serious_violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(AXE_RUN)
    assert result["passes"] > 10, result  # axe really ran its rules on this page
    return [v for v in result["violations"] if v["impact"] in {"serious", "critical"}]


@pytest.fixture
def axe_context(browser, server):  # type: ignore[no-untyped-def]
    # The console's CSP allows no inline script, which is how axe-core gets into the page.
    ctx = browser.new_context(
        base_url=server.url, viewport={"width": 1100, "height": 900}, bypass_csp=True
    )
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()


def test_axe_finds_nothing_serious_signed_out_and_in(axe_context, account, tmp_path):
    page = axe_context.new_page()
    page.goto("/")
    page.get_by_role("button", name="Sign in").wait_for()
    assert serious_violations(page) == []
    screenshot(page, "sign-in", tmp_path)

    sign_in(page, account)
    expect(section(page, "Audit log").get_by_role("row")).not_to_have_count(0)
    screenshot(page, "page", tmp_path)
    assert serious_violations(page) == []


def focus_named(page: Any, name: str, *, limit: int = 80) -> None:
    """Press Tab until the focused control's accessible text is `name`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => (document.activeElement.getAttribute('aria-label') || "
            "document.activeElement.labels?.[0]?.textContent || "
            "document.activeElement.textContent || '').trim()"
        )
        if focused == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_keyboard_only_sign_in_and_change_settings(context, account):
    page = context.new_page()
    page.goto("/")
    page.get_by_role("button", name="Sign in").wait_for()
    focus_named(page, "API key")
    page.keyboard.type(account.api_key)
    page.keyboard.press("Tab")
    page.keyboard.type(account.api_secret)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="API Key & Secret").wait_for()

    focus_named(page, "Nickname")
    page.keyboard.type("Keyboard")
    page.keyboard.press("Enter")
    expect(section(page, "API keys").get_by_role("status")).to_have_text("Saved")

    focus_named(page, "Messages API")
    page.keyboard.press("Space")
    messages = section(page, "Messaging API Type").get_by_role("button", name="Messages API")
    expect(messages).to_have_attribute("aria-pressed", "true")

    focus_named(page, "Delivery receipts (DLR) webhooks")
    page.keyboard.type("https://example.com/webhooks/delivery-receipt")
    page.keyboard.press("Enter")
    expect(section(page, "SMS API").get_by_role("status")).to_have_text("Saved")
