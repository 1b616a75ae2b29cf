"""What the browser tests run against: a real server process serving the built console on
127.0.0.1, accounts made with the operator CLI, and a webhook receiver on its own thread."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.server.receiver import Receiver, receiver

ROOT = Path(__file__).resolve().parents[2]
SWITCHBOARD = Path(sys.executable).parent / "switchboard"


@dataclass
class Account:
    account_id: str
    api_key: str
    api_secret: str
    msisdn: str


class ServerProcess:
    """uvicorn in a child process; stopped (SIGTERM, then SIGKILL) when the block ends."""

    def __init__(self, data_dir: Path) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite://{data_dir}/console.sqlite3",
            "SWITCHBOARD_DATA_DIR": str(data_dir),
            # The receiver listens on 127.0.0.1, which webhooks may not target otherwise.
            "SWITCHBOARD_ALLOW_PRIVATE_WEBHOOKS": "1",
            # Browser sessions may send only the console's own documents, by ID: a page that
            # sent query text anywhere would fail these tests.
            "SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY": "sessions",
            "SWITCHBOARD_DELIVERY_BACKOFF": "0.2",
        }
        self.env.pop("REDIS_URL", None)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self._batches = 0

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [str(SWITCHBOARD), *args], env=self.env, cwd=ROOT, capture_output=True, timeout=60
        )
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode()

    def start(self) -> None:
        self.cli("migrate")
        command = [
            sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, env=self.env, cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the server process exited at start"
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/healthz", timeout=2),
            ):
                return
            time.sleep(0.2)
        raise AssertionError("the server did not answer /healthz within 60 s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def provision(self, count: int) -> list[Account]:
        """`count` fresh accounts with one number each; the first has HIPAA enabled."""
        first = 447700900000 + 1000 * self._batches
        self._batches += 1
        done = subprocess.run(
            [sys.executable, "-m", "tests.console.provision", str(count), str(first)],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr.decode()
        made = json.loads(done.stdout)
        return [Account(m["accountId"], m["apiKey"], m["apiSecret"], m["msisdn"]) for m in made]


def graphql(server: ServerProcess, account: Account, query: str, **variables: Any) -> Any:
    """A request as a partner integration makes it (HTTP Basic with the key and secret): how
    a test changes settings behind the page's back, like another person would."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    credentials = base64.b64encode(f"{account.api_key}:{account.api_secret}".encode()).decode()
    request = urllib.request.Request(
        f"{server.url}/graphql",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Basic {credentials}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    assert "errors" not in answer, answer
    return answer["data"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def threaded_receiver() -> Iterator[Receiver]:
    """tests/server/receiver.py's receiver, served by an event loop on its own thread so the
    synchronous browser test can wait on it."""
    loop = asyncio.new_event_loop()
    ready: asyncio.Future[Receiver] = loop.create_future()
    stop = asyncio.Event()

    async def serve() -> None:
        async with receiver() as rx:
            ready.set_result(rx)
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    rx = asyncio.run_coroutine_threadsafe(_wait(ready), loop).result(timeout=10)
    try:
        yield rx
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()


async def _wait(future: asyncio.Future[Receiver]) -> Receiver:
    return await future
