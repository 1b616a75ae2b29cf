"""Persisted documents by ID over real HTTP and WebSocket, and the trusted-documents-only rule
for sessions: the request and manifest shapes the console relies on."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from resolvers.deps import Deps
from resolvers.principal import Role
from server.app import create_app
from server.persisted import ManifestError, TrustedDocumentsOnly
from server.settings import Settings, SettingsError
from tests.conftest import TEST_MASTER_KEY, Seeded
from tests.live import graphql_ws, live_server

ROLE = "query ViewerRole { viewer { role } }"
KEY = "query KeyByValue($key: String!) { apiKey(key: $key) { key } }"
LOGIN = """
mutation Login($input: SessionCreateInput!) {
  sessionCreate(input: $input) { token userErrors { code } }
}
"""
ROLE_ID = "sha256:" + hashlib.sha256(ROLE.encode()).hexdigest()
# Relay's persist config writes bare hashes (md5 by default) as keys.
KEY_ID = hashlib.md5(KEY.encode()).hexdigest()
LOGIN_ID = "login-1"
JSON_ACCEPT = {"Accept": "application/graphql-response+json"}


def write_manifest(folder: Path) -> Path:
    path = folder / "persisted-documents.json"
    path.write_text(json.dumps({ROLE_ID: ROLE, KEY_ID: KEY, LOGIN_ID: LOGIN}))
    return path


@asynccontextmanager
async def served(
    deps: Deps, manifest: Path | None, mode: TrustedDocumentsOnly = TrustedDocumentsOnly.OFF
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    settings = Settings(
        master_key=TEST_MASTER_KEY, persisted_documents=manifest, trusted_documents_only=mode
    )
    app = create_app(settings, deps=deps, init_database=False)
    async with live_server(app) as base, httpx.AsyncClient(base_url=base) as client:
        yield client, base


async def post(client: httpx.AsyncClient, body: dict[str, Any], auth: str | None) -> httpx.Response:
    headers = {**JSON_ACCEPT, **({"Authorization": auth} if auth else {})}
    return await client.post("/graphql", json=body, headers=headers)


def code_of(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


async def test_documents_run_by_id_in_every_accepted_shape(
    deps: Deps, seeded: Seeded, tmp_path: Path
) -> None:
    async with served(deps, write_manifest(tmp_path)) as (client, _):
        bodies = [
            {"documentId": ROLE_ID},
            {"documentId": ROLE_ID.removeprefix("sha256:")},
            {"doc_id": ROLE_ID, "variables": {}},
            {"id": ROLE_ID, "operationName": "ViewerRole"},
        ]
        for body in bodies:
            response = await post(client, body, seeded.basic)
            assert response.status_code == 200, (body, response.text)
            assert response.json() == {"data": {"viewer": {"role": "ADMIN"}}}
        by_get = await client.get(
            "/graphql",
            params={"documentId": KEY_ID, "variables": json.dumps({"key": seeded.api_key})},
            headers={**JSON_ACCEPT, "Authorization": seeded.basic},
        )
        assert by_get.json() == {"data": {"apiKey": {"key": seeded.api_key}}}


async def test_an_unknown_or_malformed_id_is_a_clear_400(
    deps: Deps, seeded: Seeded, tmp_path: Path
) -> None:
    async with served(deps, write_manifest(tmp_path)) as (client, _):
        unknown = await post(client, {"documentId": "sha256:" + "0" * 64}, seeded.basic)
        assert unknown.status_code == 400
        assert code_of(unknown) == "PERSISTED_DOCUMENT_NOT_FOUND"
        assert "data" not in unknown.json()
        by_get = await client.get(
            "/graphql", params={"documentId": "nope"}, headers={"Authorization": seeded.basic}
        )
        assert (by_get.status_code, code_of(by_get)) == (400, "PERSISTED_DOCUMENT_NOT_FOUND")
        for body in ({"documentId": 7}, {"documentId": ROLE_ID, "query": KEY}):
            refused = await post(client, body, seeded.basic)
            assert (refused.status_code, code_of(refused)) == (400, "BAD_REQUEST"), body
    async with served(deps, None) as (client, _):
        # No manifest loaded: every ID is unknown, query text still runs.
        missing = await post(client, {"documentId": ROLE_ID}, seeded.basic)
        assert code_of(missing) == "PERSISTED_DOCUMENT_NOT_FOUND"
        text = await post(client, {"query": ROLE}, seeded.bearer())
        assert text.json() == {"data": {"viewer": {"role": "ADMIN"}}}


async def test_sessions_may_run_only_known_documents_when_the_operator_says_so(
    deps: Deps, seeded: Seeded, tmp_path: Path
) -> None:
    async with served(deps, write_manifest(tmp_path), TrustedDocumentsOnly.SESSIONS) as (
        client,
        _,
    ):
        arbitrary = "{ viewer { account { name } } }"
        refused = await post(client, {"query": arbitrary}, seeded.bearer())
        assert (refused.status_code, code_of(refused)) == (400, "PERSISTED_DOCUMENT_REQUIRED")
        by_id = await post(client, {"documentId": ROLE_ID}, seeded.bearer(Role.VIEWER))
        assert by_id.json() == {"data": {"viewer": {"role": "VIEWER"}}}
        # The exact text of a known document is that document.
        known_text = await post(client, {"query": ROLE}, seeded.bearer())
        assert known_text.status_code == 200
        # Integrations on Basic keep arbitrary queries.
        integration = await post(client, {"query": arbitrary}, seeded.basic)
        assert integration.json() == {"data": {"viewer": {"account": {"name": "Acme"}}}}
        # Signing in from a browser carries no Authorization: only the known login runs.
        login = {"input": {"apiKey": seeded.api_key, "apiSecret": seeded.secret}}
        as_text = await post(
            client, {"query": LOGIN.replace("Login", "L2"), "variables": login}, None
        )
        assert code_of(as_text) == "PERSISTED_DOCUMENT_REQUIRED"
        as_id = await post(client, {"documentId": LOGIN_ID, "variables": login}, None)
        assert as_id.json()["data"]["sessionCreate"]["token"]


async def test_websocket_subscribe_accepts_a_document_id(
    deps: Deps, seeded: Seeded, tmp_path: Path
) -> None:
    async with served(deps, write_manifest(tmp_path), TrustedDocumentsOnly.SESSIONS) as (_, base):
        async with graphql_ws(base) as ws:
            assert (await ws.init({"Authorization": seeded.bearer()}))["type"] == "connection_ack"
            await ws.send({"id": "1", "type": "subscribe", "payload": {"documentId": ROLE_ID}})
            assert await ws.receive() == {
                "id": "1",
                "type": "next",
                "payload": {"data": {"viewer": {"role": "ADMIN"}}},
            }
            assert (await ws.receive())["type"] == "complete"
            await ws.send({"id": "2", "type": "subscribe", "payload": {"documentId": "nope"}})
            unknown = await ws.receive()
            assert (unknown["id"], unknown["type"]) == ("2", "error")
            assert unknown["payload"][0]["extensions"]["code"] == "PERSISTED_DOCUMENT_NOT_FOUND"
            await ws.send(
                {"id": "3", "type": "subscribe", "payload": {"query": "{ viewer { role } }"}}
            )
            text = await ws.receive()
            assert text["type"] == "error"
            assert text["payload"][0]["extensions"]["code"] == "PERSISTED_DOCUMENT_REQUIRED"
        async with graphql_ws(base) as ws:
            await ws.init({"Authorization": seeded.basic})
            await ws.send(
                {"id": "1", "type": "subscribe", "payload": {"query": "{ viewer { role } }"}}
            )
            assert (await ws.receive())["payload"] == {"data": {"viewer": {"role": "ADMIN"}}}


def test_settings_name_the_manifest_and_the_mode(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path)
    env = {
        "SWITCHBOARD_SECRET_KEY": "",
        "SWITCHBOARD_DATA_DIR": str(tmp_path),
        "SWITCHBOARD_PERSISTED_DOCUMENTS": str(manifest),
        "SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY": "sessions",
    }
    settings = Settings.from_env(env)
    assert settings.persisted_documents == manifest
    assert settings.trusted_documents_only is TrustedDocumentsOnly.SESSIONS
    with pytest.raises(SettingsError, match="SWITCHBOARD_PERSISTED_DOCUMENTS"):
        Settings.from_env({**env, "SWITCHBOARD_PERSISTED_DOCUMENTS": str(tmp_path / "none.json")})
    with pytest.raises(SettingsError, match="SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY"):
        Settings.from_env({**env, "SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY": "browsers"})


@pytest.mark.parametrize("content", ['["a"]', '{"x": 1}', "{not json", '{"": "query { a }"}'])
def test_a_malformed_manifest_stops_the_server_from_starting(tmp_path: Path, content: str) -> None:
    path = tmp_path / "persisted-documents.json"
    path.write_text(content)
    with pytest.raises(ManifestError, match="persisted documents manifest"):
        create_app(Settings(master_key=TEST_MASTER_KEY, persisted_documents=path))
