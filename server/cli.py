"""The `switchboard` command: serve, migrate, and the operator's account tools."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from tortoise.context import TortoiseContext

from graph.relay import pk_of, to_global_id
from models.config import tortoise_config
from models.migrate import apply_migrations
from resolvers import provisioning
from resolvers.auth import issue_session_token
from resolvers.errors import DomainError
from resolvers.principal import Role
from resolvers.rekey import DEFAULT_BATCH, rekey
from server.app import build_deps
from server.limits import MAX_BODY_BYTES
from server.logs import configure_logging
from server.metrics_endpoint import (
    MULTIPROC_ENV,
    prepare_multiprocess_dir,
    remove_multiprocess_dir,
    start_metrics_server,
)
from server.settings import Settings, SettingsError
from signing.crypto import format_master_key, generate_master_key
from signing.text import lone_surrogate


class CliError(Exception):
    """A one-line reason for stderr."""


@contextlib.asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[None]:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(settings.database_url))
        yield


# How every Switchboard server runs under uvicorn; the benchmark serves with the same.
UVICORN_OPTIONS: dict[str, Any] = {
    # Forwarded-for headers are trusted only from the proxies the operator names
    # (--forwarded-allow-ips / SWITCHBOARD_TRUSTED_PROXIES; see proxy_options).
    "proxy_headers": False,
    # server/logs.py writes the access log, as JSON with the request ID.
    "access_log": False,
    # Subscription messages are small JSON. Compressing them cost CPU on every message and a
    # zlib context per socket, most of an open stream's memory (bench streams).
    "ws_per_message_deflate": False,
    # A WebSocket message may be as large as an HTTP body (server/limits.py), no larger: past
    # it uvicorn closes with 1009 before the frame is buffered (its default is 16 MiB).
    "ws_max_size": MAX_BODY_BYTES,
    # Named rather than "auto" (which picks it today because `websockets` is installed): the
    # sans-I/O protocol runs no task of its own per connection, where websockets' legacy
    # protocol runs three. Measured with 10,000 open sockets each holding one settingsChanged
    # subscription: ~34 KB per socket, against ~32 KB with wsproto (not a dependency, and
    # more CPU per frame) and ~41 KB with the legacy protocol at 1,000 sockets.
    "ws": "websockets-sansio",
}


def proxy_options(trusted: str | None) -> dict[str, Any]:
    """uvicorn's proxy-header handling, on only for the named proxies: from them the client
    address (which the per-address login limits count) is taken from X-Forwarded-For."""
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


def _raise_open_files() -> None:
    """Every open WebSocket is a file descriptor: a replica holding thousands of open pages
    needs more than the usual soft limit of 1,024. Raised to the hard limit, no further."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    _raise_open_files()

    if args.dev:
        os.environ["SWITCHBOARD_DEV"] = "1"
        print(
            "*** DEVELOPMENT MODE: webhooks may target loopback and private addresses. "
            "Never run this in production. ***",
            file=sys.stderr,
        )
    log_config = configure_logging()
    folder, owned = None, False
    if settings.metrics and (args.workers > 1 or MULTIPROC_ENV in os.environ):
        # Each worker writes its metrics to files here; /metrics sums them.
        folder, owned = prepare_multiprocess_dir()
    metrics_port = args.metrics_port if args.metrics_port is not None else settings.metrics_port
    metrics_server = None
    try:
        if settings.metrics and metrics_port is not None:
            host = args.metrics_host or settings.metrics_host
            metrics_server = start_metrics_server(host, metrics_port, folder)
        uvicorn.run(
            "server.app:create_app",
            factory=True,
            host=args.host or settings.host,
            port=args.port or settings.port,
            workers=args.workers,
            log_config=log_config,
            **{
                **UVICORN_OPTIONS,
                **proxy_options(args.forwarded_allow_ips or settings.trusted_proxies),
            },
        )
    finally:
        if metrics_server is not None:
            metrics_server.shutdown()
        if owned and folder is not None:
            remove_multiprocess_dir(folder)


async def _migrate(args: argparse.Namespace, settings: Settings) -> None:
    applied = await apply_migrations(settings.database_url)
    print("\n".join(f"applied {name}" for name in applied) or "no migrations to apply")


async def _demo(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    deps = build_deps(settings)
    async with database(settings):
        account, key, secret = await provisioning.ensure_demo_account(deps=deps)
        principal = await provisioning.principal_for_key(api_key=key.key)
    token, _ = issue_session_token(deps=deps, principal=principal)
    return {
        "accountId": to_global_id("Account", account.id),
        "apiKey": key.key,
        "apiSecret": secret,
        "token": token,
    }


async def _account_create(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    async with database(settings):
        account, key, secret = await provisioning.create_account(
            deps=build_deps(settings), name=args.name
        )
    return {
        "accountId": to_global_id("Account", account.id),
        "apiKey": key.key,
        "apiSecret": secret,
    }


async def _account_hipaa(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    account_pk = pk_of(args.account_id, "Account")
    if account_pk is None:
        raise CliError("--account-id is not an account ID (use the accountId the CLI printed)")
    async with database(settings):
        account = await provisioning.set_hipaa(account_id=account_pk, enabled=args.enable)
    return {"accountId": args.account_id, "hipaaEnabled": account.hipaa_enabled}


async def _number_add(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    async with database(settings):
        number = await provisioning.add_number(
            api_key=args.api_key, msisdn=args.msisdn, country=args.country
        )
    return {"numberId": to_global_id("Number", number.id), "msisdn": number.msisdn}


async def _token(args: argparse.Namespace, settings: Settings) -> str:
    deps = build_deps(settings)
    async with database(settings):
        principal = await provisioning.principal_for_key(api_key=args.api_key)
    try:
        token, _ = issue_session_token(
            deps=deps, principal=principal, role=Role(args.role), ttl_seconds=args.ttl
        )
    except ValueError as exc:
        raise CliError(f"--ttl: {exc}") from None
    return token


async def _rekey(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    deps = build_deps(settings)

    def report(progress: dict[str, Any]) -> None:
        # One JSON line per batch, flushed, so a long run can be followed (and resumed).
        print(json.dumps(progress), flush=True)

    async with database(settings):
        complete = await rekey(deps=deps, report=report, batch_size=args.batch_size)
    if not complete:
        raise CliError(
            "some rows did not open with any configured key: keep every old key and "
            "look into those rows before dropping one"
        )
    return {"done": True, "activeKeyId": deps.box.key_id}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the API under uvicorn",
        description="Run the API under uvicorn. Settings from the environment: DATABASE_URL, "
        "REDIS_URL (events between replicas; failed-login and reveal limits counted across "
        "them), SWITCHBOARD_SECRET_KEY, SWITCHBOARD_TRUSTED_PROXIES, "
        "SWITCHBOARD_WS_RECHECK_SECONDS (how often open WebSockets re-check credentials, "
        "default 10), and the others the README lists.",
    )
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--dev", action="store_true", help="allow private webhook targets")
    serve.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="comma-separated addresses or networks of trusted proxies (or '*'): their "
        "X-Forwarded-For names the client that login limits count; default "
        "$SWITCHBOARD_TRUSTED_PROXIES, else forwarded headers are ignored",
    )
    serve.add_argument(
        "--metrics-port",
        type=int,
        help="serve Prometheus /metrics on this operator port (SWITCHBOARD_METRICS_PORT)",
    )
    serve.add_argument("--metrics-host", help="where /metrics listens (default 127.0.0.1)")
    serve.set_defaults(run=_serve, sync=True)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)
    commands.add_parser("demo", help="create the demo account once").set_defaults(run=_demo)
    account = commands.add_parser("account", help="operator account tools")
    account_commands = account.add_subparsers(dest="account_command", required=True)
    create = account_commands.add_parser("create", help="a new account with its primary key")
    create.add_argument("--name", required=True)
    create.set_defaults(run=_account_create)
    hipaa = account_commands.add_parser("hipaa", help="the HIPAA compliance switch")
    hipaa.add_argument("--account-id", required=True)
    switch = hipaa.add_mutually_exclusive_group(required=True)
    switch.add_argument("--enable", dest="enable", action="store_true")
    switch.add_argument("--disable", dest="enable", action="store_false")
    hipaa.set_defaults(run=_account_hipaa)
    number = commands.add_parser("number", help="numbers")
    number_commands = number.add_subparsers(dest="number_command", required=True)
    add = number_commands.add_parser("add", help="register a rented number on a key")
    add.add_argument("--api-key", required=True)
    add.add_argument("--msisdn", required=True)
    add.add_argument("--country", required=True)
    add.set_defaults(run=_number_add)
    token = commands.add_parser(
        "token",
        help="a session token for a key's account",
        description="A session token bound to the key's live secret that lasts longest (no "
        "expiry first, then the latest expiry, then the newest): it stops working when that "
        "secret is revoked, rolled away or expires, or with sessionRevoke.",
    )
    token.add_argument("--api-key", required=True)
    token.add_argument("--role", choices=[r.value for r in Role], default=Role.ADMIN.value)
    token.add_argument("--ttl", type=int)
    token.set_defaults(run=_token)
    rekey_command = commands.add_parser(
        "rekey", help="re-encrypt stored secrets under the active key (safe while serving)"
    )
    rekey_command.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    rekey_command.set_defaults(run=_rekey)
    commands.add_parser("keygen", help="print a new random master or session key")
    return parser


def _undecodable(argv: list[str]) -> str | None:
    """Which argument is not UTF-8 (Python hands such bytes on as lone surrogates)."""
    for position, argument in enumerate(argv):
        if lone_surrogate(argument) is not None:
            before = argv[position - 1] if position else ""
            name = before if before.startswith("--") else f"argument {position + 1}"
            return f"{name}: the value is not valid UTF-8."
    return None


def main(argv: list[str] | None = None) -> int:
    problem = _undecodable(sys.argv[1:] if argv is None else argv)
    if problem is not None:
        print(f"switchboard: {problem}", file=sys.stderr)
        return 2
    args = _parser().parse_args(argv)
    if args.command == "keygen":
        # Needs no settings: it is what an operator runs to make them.
        print(format_master_key(generate_master_key()))
        return 0
    try:
        settings = Settings.from_env()
        if getattr(args, "sync", False):
            args.run(args, settings)
            return 0
        run: Callable[..., Awaitable[Any]] = args.run
        result = asyncio.run(run(args, settings))
    except (CliError, SettingsError) as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 1
    except DomainError as exc:
        field = f"--{_kebab(exc.field[-1])}: " if exc.field else ""
        print(f"switchboard: {field}{exc.message}", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"switchboard: {type(exc).__name__}: {_first_line(exc)}", file=sys.stderr)
        return 1
    if isinstance(result, dict):
        print(json.dumps(result, indent=2))
    elif isinstance(result, str):
        print(result)
    return 0


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [""])[0][:200]


if __name__ == "__main__":
    sys.exit(main())
