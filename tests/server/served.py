"""`switchboard serve` as operators run it: a real process on 127.0.0.1 with its /metrics port,
and a reader for the Prometheus text it serves."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.server.test_cli import ROOT, clean_env, cli


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Demo:
    env: dict[str, str]
    api_key: str
    api_secret: str
    token: str


def demo_env(folder: Path, **extra: str) -> Demo:
    """A migrated SQLite database with the demo account, and the environment to serve it."""
    env = clean_env(folder)
    env.update(extra)
    cli(env, "migrate")
    demo = json.loads(cli(env, "demo").stdout)
    return Demo(env, demo["apiKey"], demo["apiSecret"], demo["token"])


@dataclass
class Served:
    url: str
    metrics_url: str
    process: asyncio.subprocess.Process
    log: Path

    async def scrape(self) -> Samples:
        async with httpx.AsyncClient() as http:
            response = await http.get(self.metrics_url)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        return Samples(response.text)

    def worker_pids(self) -> list[int]:
        """The processes `serve` started (uvicorn's workers), from /proc."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        # multiprocessing's resource tracker is a child too; workers run spawn_main.
        return [int(child) for child in children if b"spawn_main" in _cmdline(int(child))]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


class Samples:
    """Every sample of a scrape: value(name, **labels) sums those whose labels match."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: list[tuple[str, dict[str, str], float]] = [
            (sample.name, sample.labels, sample.value)
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        ]

    def value(self, metric: str, /, **labels: str) -> float:
        return sum(
            value
            for sample_name, sample_labels, value in self.samples
            if sample_name == metric and all(sample_labels.get(k) == v for k, v in labels.items())
        )

    def names(self) -> set[str]:
        return {name for name, _, _ in self.samples}

    def labels_of(self, name: str, label: str) -> set[str]:
        return {labels[label] for n, labels, _ in self.samples if n == name and label in labels}


@contextlib.asynccontextmanager
async def served(env: dict[str, str], log: Path, *args: str) -> AsyncIterator[Served]:
    """`switchboard serve` with a metrics port, until the block ends; ready when /readyz is."""
    port, metrics_port = free_port(), free_port()
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--port",
            str(port),
            "--metrics-port",
            str(metrics_port),
            *args,
            env={**env, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            stdout=output,
            stderr=output,
        )
    server = Served(
        f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}/metrics", process, log
    )
    try:
        await _wait_ready(server)
        yield server
    finally:
        await stop(process)


async def _wait_ready(server: Served) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            if server.process.returncode is not None:
                raise AssertionError(f"serve exited: {server.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(server.url + "/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"serve never became ready: {server.log.read_text()[-2000:]}")


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


async def graphql(
    http: httpx.AsyncClient, url: str, query: str, auth: str, **variables: Any
) -> httpx.Response:
    return await http.post(
        url + "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": auth},
    )
