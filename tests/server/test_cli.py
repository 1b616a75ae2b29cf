"""The operator CLI, run as operators run it: a real process, JSON out, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.settings import Settings
from tests.live import live_server
from tests.replicas import run_cli as cli

ROOT = Path(__file__).resolve().parents[2]


def clean_env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SWITCHBOARD_", "DATABASE"))}
    clean.update(
        DATABASE_URL=f"sqlite://{tmp_path}/cli.sqlite3",
        SWITCHBOARD_DATA_DIR=str(tmp_path / "data"),
        PYTHONPATH=str(ROOT),
    )
    clean.pop("REDIS_URL", None)
    return clean


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_env(tmp_path)


@pytest.fixture(scope="module")
def migrated_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One migrated database for the tests that only read it (each CLI run costs a process)."""
    env = clean_env(tmp_path_factory.mktemp("cli"))
    cli(env, "migrate")
    return env


def as_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    return json.loads(result.stdout)


def test_migrate_then_demo_is_idempotent(env: dict[str, str], tmp_path: Path) -> None:
    assert "applied models.0001_initial" in cli(env, "migrate").stdout
    assert "no migrations to apply" in cli(env, "migrate").stdout
    first = as_json(cli(env, "demo"))
    assert set(first) == {"accountId", "apiKey", "apiSecret", "token"}
    second = as_json(cli(env, "demo"))
    assert (second["accountId"], second["apiKey"], second["apiSecret"]) == (
        first["accountId"],
        first["apiKey"],
        first["apiSecret"],
    )
    key_file = tmp_path / "data" / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_account_number_hipaa_and_token(env: dict[str, str]) -> None:
    cli(env, "migrate")
    account = as_json(cli(env, "account", "create", "--name", "Acme"))
    assert len(account["apiKey"]) == 8 and len(account["apiSecret"]) == 16
    hipaa = as_json(cli(env, "account", "hipaa", "--account-id", account["accountId"], "--enable"))
    assert hipaa == {"accountId": account["accountId"], "hipaaEnabled": True}
    number = as_json(
        cli(
            env,
            "number",
            "add",
            "--api-key",
            account["apiKey"],
            "--msisdn",
            "+447700900111",
            "--country",
            "GB",
        )
    )
    assert number["msisdn"] == "447700900111" and number["numberId"]
    token = cli(env, "token", "--api-key", account["apiKey"], "--role", "VIEWER", "--ttl", "60")
    assert token.stdout.count(".") == 2


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("token", "--api-key", "ffffffff"), "--api-key"),
        (("account", "hipaa", "--account-id", "garbage", "--enable"), "--account-id"),
        (
            ("number", "add", "--api-key", "ffffffff", "--msisdn", "12ab", "--country", "GB"),
            "--msisdn",
        ),
        (("account", "create", "--name", "   "), "--name"),
        (("token", "--api-key", "ffffffff", "--ttl", "0"), "switchboard:"),
    ],
)
def test_errors_are_one_line_on_stderr_with_nonzero_exit(
    migrated_env: dict[str, str], args: tuple[str, ...], needle: str
) -> None:
    result = cli(migrated_env, *args, ok=False)
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr


def test_arguments_that_are_not_utf8_are_named(migrated_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "account", "create", "--name", b"Acme \xff"],
        env=migrated_env,
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == b""
    lines = result.stderr.decode().strip().splitlines()
    assert lines == ["switchboard: --name: the value is not valid UTF-8."], result.stderr


def test_missing_secret_key_outside_sqlite_is_refused(env: dict[str, str]) -> None:
    env = {**env, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/nothing"}
    result = cli(env, "migrate", ok=False)
    assert result.returncode == 1
    assert "SWITCHBOARD_SECRET_KEY is required" in result.stderr


async def test_demo_token_and_secret_work_against_the_served_app(
    env: dict[str, str], tmp_path: Path
) -> None:
    cli(env, "migrate")
    demo = as_json(cli(env, "demo"))
    app = create_app(Settings.from_env(env))
    query = {"query": "{ viewer { account { id numbers { edges { node { msisdn } } } } } }"}
    async with live_server(app, lifespan="on") as url, httpx.AsyncClient(base_url=url) as http:
        by_token = await http.post(
            "/graphql", json=query, headers={"Authorization": f"Bearer {demo['token']}"}
        )
        by_basic = await http.post("/graphql", json=query, auth=(demo["apiKey"], demo["apiSecret"]))
        ready = await http.get("/readyz")
    for response in (by_token, by_basic):
        account = response.json()["data"]["viewer"]["account"]
        assert account["id"] == demo["accountId"]
        assert account["numbers"]["edges"][0]["node"]["msisdn"] == "447700900001"
    assert ready.status_code == 200 and ready.json() == {"status": "ok"}
