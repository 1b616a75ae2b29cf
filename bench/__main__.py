"""`python -m bench [section ...]`: seed a scratch database, serve, measure, print one report."""

from __future__ import annotations

import argparse
import os
import platform
import sys

import uvloop

from bench.run import Options, open_bench, pin_client
from bench.sections import DEFAULT_SECTIONS, SECTIONS


def _options(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "sections",
        nargs="*",
        metavar="section",
        help=f"any of {', '.join(SECTIONS)} (default: {' '.join(DEFAULT_SECTIONS)})",
    )
    parser.add_argument(
        "--database-url",
        help="PostgreSQL URL with {} for the scratch database's name (created, then dropped); "
        "default: a temporary SQLite file",
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
    return Options(
        sections=args.sections or list(DEFAULT_SECTIONS),
        database_url=args.database_url,
        seconds=args.seconds,
        warmup_seconds=args.warmup,
        max_requests=args.requests,
        concurrency=args.concurrency,
        rounds=args.rounds,
        pin=not args.no_pin,
    )


async def _main(options: Options) -> None:
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
        print(f"load average before: {_load()}")
        for name in options.sections:
            await SECTIONS[name](bench)
        print(f"\nload average after: {_load()} (other processes on these cores make req/s noisy)")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    uvloop.run(_main(_options(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    main()
