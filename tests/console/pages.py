"""How a person gets around the console: sign in, find a section by its heading."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.console.harness import ROOT, Account

DOCS = ROOT / "docs"


def sign_in(page: Any, account: Account, *, role: str = "Admin (read and change)") -> None:
    page.goto("/")
    page.get_by_label("API key").fill(account.api_key)
    page.get_by_label("API secret").fill(account.api_secret)
    page.get_by_label("Role").select_option(label=role)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="API Key & Secret").wait_for()


def section(page: Any, heading: str) -> Any:
    """The page section a heading names (sections are labelled by their heading)."""
    return page.get_by_role("region", name=heading)


def screenshot(target: Any, name: str, tmp_path: Path) -> Path:
    """Save a screenshot as docs/console-NAME.png when SWITCHBOARD_SCREENSHOTS=docs (how the
    README's pictures are refreshed), else beside the test's other temporary files."""
    folder = DOCS if os.environ.get("SWITCHBOARD_SCREENSHOTS") == "docs" else tmp_path
    folder.mkdir(exist_ok=True)
    path = folder / f"console-{name}.png"
    target.screenshot(path=str(path))
    return path
