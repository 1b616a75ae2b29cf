"""Shared fixtures: a real database (SQLite in memory, or PostgreSQL), the app, a seeded account."""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis.configuration import set_hypothesis_home_dir
from tortoise.context import tortoise_test_context

from models.config import MODEL_MODULES
from models.credentials import ApiSecret
from resolvers import provisioning
from resolvers.auth import issue_session_token
from resolvers.deps import Deps
from resolvers.principal import Principal, Role
from server.app import create_app
from server.broker import InProcessBroker
from server.settings import Settings
from signing.crypto import SecretBox

TEST_MASTER_KEY = bytes(range(32))

# Hypothesis keeps its caches under the working directory by default: `make test` must
# leave the working tree as it found it.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "switchboard-hypothesis")


def database_url() -> str:
    """SQLite in memory by default; TEST_DATABASE_URL (a `{}` in it randomises the name)."""
    return os.environ.get("TEST_DATABASE_URL") or "sqlite://:memory:"


def on_postgres() -> bool:
    return database_url().startswith(("postgres://", "asyncpg://"))


@pytest.fixture
async def db() -> AsyncIterator[None]:
    async with tortoise_test_context(MODEL_MODULES, db_url=database_url()):
        yield


@pytest.fixture
def settings() -> Settings:
    return Settings(master_key=TEST_MASTER_KEY, allow_private_webhooks=False)


@pytest.fixture
def deps(settings: Settings) -> Deps:
    return Deps(
        box=SecretBox(settings.master_key),
        broker=InProcessBroker(),
        max_api_keys=settings.max_api_keys,
        session_ttl_seconds=settings.session_ttl_seconds,
        allow_private_webhooks=settings.allow_private_webhooks,
    )


@pytest.fixture
def app(db: None, settings: Settings, deps: Deps) -> Any:
    return create_app(settings, deps=deps, init_database=False)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@dataclass
class Seeded:
    account_id: int
    api_key: str
    api_key_id: int
    secret: str
    deps: Deps
    secret_id: int | None = None

    @property
    def basic(self) -> str:
        return basic_header(self.api_key, self.secret)

    def principal(self) -> Principal:
        return Principal(
            account_id=self.account_id,
            role=Role.ADMIN,
            api_key_id=None,
            via_api_key_id=self.api_key_id,
            actor=f"key:{self.api_key}",
            secret_id=self.secret_id,
        )

    def bearer(self, role: Role = Role.ADMIN) -> str:
        token, _ = issue_session_token(deps=self.deps, principal=self.principal(), role=role)
        return f"Bearer {token}"


def basic_header(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


async def seed_account(deps: Deps, name: str = "Acme") -> Seeded:
    account, key, secret = await provisioning.create_account(deps=deps, name=name)
    stored = await ApiSecret.get(api_key_id=key.id)
    return Seeded(account.id, key.key, key.id, secret, deps, stored.id)


@pytest.fixture
async def seeded(db: None, deps: Deps) -> Seeded:
    return await seed_account(deps)


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    auth: str | None = None,
    expect_status: int = 200,
) -> dict[str, Any]:
    """POST a GraphQL document and return the decoded body, checking the HTTP status."""
    headers = {"Authorization": auth} if auth else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == expect_status, response.text
    return response.json()


@pytest.fixture
async def delivery_env(db: None) -> AsyncIterator[Any]:
    """Build apps that send real webhooks (tests/deliveries.py); their delivery tasks are
    stopped before the database goes away."""
    from tests.deliveries import DeliveryEnvs

    envs = DeliveryEnvs()
    yield envs
    await envs.close()
