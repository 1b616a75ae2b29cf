"""The README's leak procedures, run end to end on a database written by the pre-key-ring code.

tests/fixtures/v1_store.sqlite3 was made by tests/fixtures/make_v1_store.py run against the
code before key IDs (v1 ciphertexts, bare-hex digests, four-character hints).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.migrate import apply_migrations
from server.app import create_app
from server.settings import Settings
from signing.crypto import format_master_key, generate_master_key, key_id, parse_master_key
from tests.replicas import run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
STORE = json.loads((FIXTURES / "v1_store.json").read_text())
OLD_KEY = parse_master_key(STORE["masterKey"])
SECRETS = "{ viewer { apiKey { id secrets { masked } } } }"
REVEAL = """mutation($input: SignatureSecretRevealInput!) {
  signatureSecretReveal(input: $input) { secretPlaintext userErrors { code } } }"""
ROLE = "{ viewer { role } }"


def basic(secret: str) -> str:
    return "Basic " + base64.b64encode(f"{STORE['apiKey']}:{secret}".encode()).decode()


@pytest.fixture
async def database(tmp_path: Path) -> str:
    path = tmp_path / "store.sqlite3"
    shutil.copy(FIXTURES / "v1_store.sqlite3", path)
    url = f"sqlite://{path}"
    await apply_migrations(url)  # the digest column widens for key IDs
    return url


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, background=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def query(client: httpx.AsyncClient, document: str, auth: str, **variables: Any) -> Any:
    response = await client.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": auth},
    )
    return response.status_code, response.json()


async def session_token(client: httpx.AsyncClient, secret: str) -> str:
    create = """mutation($input: SessionCreateInput!) {
      sessionCreate(input: $input) { token userErrors { code } } }"""
    credentials = {"apiKey": STORE["apiKey"], "apiSecret": secret}
    response = await client.post(
        "/graphql", json={"query": create, "variables": {"input": credentials}}
    )
    status, body = response.status_code, response.json()
    assert status == 200 and body["data"]["sessionCreate"]["token"], body
    return "Bearer " + body["data"]["sessionCreate"]["token"]


async def check_everything_opens(client: httpx.AsyncClient) -> list[str]:
    """Both API secrets authenticate and the signature secret reveals: returns the masks."""
    for secret in (STORE["apiSecret"], STORE["chosenSecret"]):
        status, body = await query(client, SECRETS, basic(secret))
        assert status == 200, body
    api_key_id = body["data"]["viewer"]["apiKey"]["id"]
    _, revealed = await query(
        client, REVEAL, basic(STORE["apiSecret"]), input={"apiKeyId": api_key_id}
    )
    assert revealed["data"]["signatureSecretReveal"]["secretPlaintext"] == STORE["signatureSecret"]
    return [s["masked"] for s in body["data"]["viewer"]["apiKey"]["secrets"]]


def rekey(url: str, keys: list[bytes], batch_size: int = 1) -> list[dict[str, Any]]:
    """`switchboard rekey` as an operator runs it: a separate process, JSON lines out."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SWITCHBOARD_SECRET_KEYS": ",".join(format_master_key(key) for key in keys),
    }
    env.pop("SWITCHBOARD_SECRET_KEY", None)
    done = run_cli(env, "rekey", "--batch-size", str(batch_size), timeout=120)
    # One JSON document per batch, then the summary (indented, like every CLI answer).
    decoder, text, documents = json.JSONDecoder(), done.stdout.strip(), []
    while text:
        document, end = decoder.raw_decode(text)
        documents.append(document)
        text = text[end:].strip()
    return documents


def stored_formats(url: str) -> tuple[set[str], set[str]]:
    with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite://"))) as db:
        secrets = db.execute("SELECT ciphertext, digest FROM api_secret").fetchall()
        signatures = db.execute("SELECT secret_ciphertext FROM signature_config").fetchall()
    prefixes = {c.split(".")[0] + "." + c.split(".")[1][:8] for c, _ in secrets}
    prefixes |= {c.split(".")[0] + "." + c.split(".")[1][:8] for (c,) in signatures}
    return prefixes, {d.partition("$")[0] if "$" in d else "legacy" for _, d in secrets}


async def test_a_leaked_master_key_is_rotated_out_while_serving(database: str) -> None:
    new_key = generate_master_key()
    # Before: today's data, today's single key.
    async with serving(Settings(database_url=database, master_key=OLD_KEY)) as client:
        masks = await check_everything_opens(client)
        old_session = await session_token(client, STORE["apiSecret"])
        assert (await query(client, ROLE, old_session))[0] == 200
    assert "•" * 12 + "Xy4k" in masks  # the old hint showed half of the 8-character secret
    # Step 1: the new key becomes active, the leaked one is kept for reading.
    ring = Settings(database_url=database, master_key=new_key, old_master_keys=(OLD_KEY,))
    async with serving(ring) as client:
        await check_everything_opens(client)
        # Step 2: rekey while this replica serves, in small batches.
        progress = rekey(database, [new_key, OLD_KEY], batch_size=1)
        await check_everything_opens(client)
    assert progress[-1] == {"done": True, "activeKeyId": key_id(new_key)}
    tables = {line["table"]: line for line in progress[:-1]}
    assert tables["api_secret"]["rewritten"] == 2 and tables["api_secret"]["failed"] == 0
    assert tables["signature_config"]["rewritten"] == 1
    assert stored_formats(database) == ({f"v2.{key_id(new_key)}"}, {key_id(new_key)})
    # Idempotent: a second run rewrites nothing.
    again = rekey(database, [new_key, OLD_KEY])
    assert all(line.get("rewritten", 0) == 0 for line in again[:-1])
    # Step 3: the leaked key is dropped; everything still opens, its sessions do not.
    async with serving(Settings(database_url=database, master_key=new_key)) as client:
        masks = await check_everything_opens(client)
        status, _ = await query(client, ROLE, old_session)
        assert status == 401
        fresh = await session_token(client, STORE["apiSecret"])
        assert (await query(client, ROLE, fresh))[0] == 200
    assert "•" * 14 + "4k" in masks  # rekey rewrote the hint too


async def test_a_leaked_session_key_is_rotated_on_its_own(database: str) -> None:
    first, second = generate_master_key(), generate_master_key()
    before = Settings(database_url=database, master_key=OLD_KEY, session_keys=(first,))
    async with serving(before) as client:
        leaked = await session_token(client, STORE["apiSecret"])
        assert (await query(client, ROLE, leaked))[0] == 200
    after = Settings(database_url=database, master_key=OLD_KEY, session_keys=(second,))
    async with serving(after) as client:
        assert (await query(client, ROLE, leaked))[0] == 401
        fresh = await session_token(client, STORE["apiSecret"])
        assert (await query(client, ROLE, fresh))[0] == 200
        # Stored secrets were never touched: the master key did not change.
        await check_everything_opens(client)
