"""`python -m bench [section ...]`: seed a scratch database, serve, measure, print one report."""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
from urllib.parse import urlsplit

import uvloop

from bench.run import Options, open_bench, pin_client
from bench.sections import DEFAULT_SECTIONS, DESCRIPTIONS, REDIS_SECTIONS, SECTIONS


def _epilog() -> str:
    width = max(len(name) for name in SECTIONS)
    lines = [f"  {name.ljust(width)}  {DESCRIPTIONS[name]}" for name in SECTIONS]
    return (
        "sections ([Redis]: needs --redis-url, skipped with a note without it):\n"
        + "\n".join(lines)
        + f"\n\ndefault: {' '.join(DEFAULT_SECTIONS)}; with --redis-url also "
        + " ".join(REDIS_SECTIONS)
    )


def _options(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sections", nargs="*", metavar="section", help="see the list below")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL URL with {} for the scratch database's name (created, then dropped); "
        "default: a temporary SQLite file",
    )
    parser.add_argument(
        "--redis-url",
        help="e.g. redis://127.0.0.1:6379/0: replicas share it under a random per-run key "
        "prefix; enables the [Redis] sections",
    )
    parser.add_argument(
        "--subscribers", type=int, default=10_000, help="settingsChanged sockets in fanout"
    )
    parser.add_argument("--seconds", type=float, default=2.0, help="per round and target")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds, per target")
    parser.add_argument("--requests", type=int, default=50_000, help="at most, per round")
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive connections")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds; median kept")
    parser.add_argument("--no-pin", action="store_true", help="do not pin client and server")
    args = parser.parse_args(argv)
    unknown = [name for name in args.sections if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    default = DEFAULT_SECTIONS + (REDIS_SECTIONS if args.redis_url else [])
    return Options(
        sections=args.sections or default,
        database_url=args.database_url,
        seconds=args.seconds,
        warmup_seconds=args.warmup,
        max_requests=args.requests,
        concurrency=args.concurrency,
        rounds=args.rounds,
        pin=not args.no_pin,
        redis_url=args.redis_url,
        subscribers=args.subscribers,
    )


def _raise_file_limit() -> int:
    """Every socket the bench opens, and every server it starts (they inherit it)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


async def _main(options: Options) -> None:
    files = _raise_file_limit()
    placement = pin_client(options)
    async with open_bench(options) as bench:
        print(
            f"Switchboard bench: Python {platform.python_version()}, {bench.database_label}, "
            f"one uvicorn worker per server (uvloop, httptools) in its own process; "
            f"{placement}\nload: {options.concurrency} keep-alive connections on 127.0.0.1, "
            f"{options.rounds} alternating rounds of ≤ {options.seconds:g} s / "
            f"≤ {options.max_requests} requests per target (median round shown) after "
            f"{options.warmup_seconds:g} s warm-up"
        )
        redis = _redis_label(options.redis_url)
        print(f"{redis}; open files per process ≤ {files}; load average before: {_load()}")
        for name in options.sections:
            await SECTIONS[name](bench)
            # Each section starts the servers it needs: those left running would hold their
            # database connections (up to 20 each), and with replicas and the workers' four
            # processes PostgreSQL ran out of slots (max_connections 100).
            await bench.close()
        print(f"\nload average after: {_load()} (other processes on these cores make req/s noisy)")


def _redis_label(url: str | None) -> str:
    """Where Redis is, without any password the URL carries."""
    if not url:
        return "no Redis"
    parts = urlsplit(url)
    return f"Redis at {parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    uvloop.run(_main(_options(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    main()
