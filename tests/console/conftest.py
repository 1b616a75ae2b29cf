"""Fixtures for the console's browser tests: one server process for the package, one Chromium
per module, a fresh account and browser context per test.

In CI (CI=true) a missing Chromium or console build fails the run; locally it skips."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.console.harness import ROOT, Account, ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
DIST_INDEX = ROOT / "console" / "dist" / "index.html"
AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
# Headless and quiet: no GPU, no sandbox (root in a container), no calls home.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--metrics-recording-only",
]


# Generous: the CI machine is small and shared; an assertion waits this long for the page.
expect.set_options(timeout=15_000)


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{what} (CI runs the browser tests: .ci/run installs and builds them)")
    pytest.skip(what)


# The server process serves this package's tests and stops after them.
@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    if not DIST_INDEX.exists() or not AXE.exists():
        _missing("the console is not built: run make install")
    process = ServerProcess(tmp_path_factory.mktemp("console-server"))
    process.start()
    try:
        yield process
    finally:
        process.stop()


# Per module, not per session: Playwright's sync API keeps an event loop running on this
# thread while it is open, and the rest of the suite's asyncio tests cannot start one then.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-dejavu-core")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser, server):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(base_url=server.url, viewport={"width": 1100, "height": 900})
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()


class Accounts:
    """Fresh accounts made a batch at a time (one process for many is much quicker)."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.plain: list[Account] = []
        self.hipaa: list[Account] = []

    def take(self, *, hipaa: bool = False) -> Account:
        if not (self.hipaa if hipaa else self.plain):
            made = self.server.provision(12)
            self.hipaa.append(made[0])
            self.plain.extend(made[1:])
        return (self.hipaa if hipaa else self.plain).pop()


@pytest.fixture(scope="package")
def accounts(server: ServerProcess) -> Accounts:
    return Accounts(server)


@pytest.fixture
def account(accounts: Accounts) -> Account:
    """An account of this test's own (a key, one secret, one number), so tests never meet."""
    return accounts.take()
