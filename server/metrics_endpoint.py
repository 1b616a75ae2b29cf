"""The operator's /metrics port: one process's registry, or every `--workers` process's files
(prometheus-client's multiprocess mode); and the database pool sampler each worker runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server
from prometheus_client.metrics_core import Metric
from tortoise.connection import get_connection

from server.metrics import DB_POOL_IN_USE, DB_POOL_WAITING

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
log = logging.getLogger("switchboard.metrics")
_PID = re.compile(r"_(\d+)\.db$")


def prepare_multiprocess_dir() -> tuple[Path, bool]:
    """The folder every worker writes its metric files to, empty; set in the environment
    the workers inherit. The operator's own PROMETHEUS_MULTIPROC_DIR is emptied; else a fresh
    temporary folder, which the caller removes (the bool) when serving ends."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        # Files of a previous run would add its counts (and dead workers' gauges) to ours.
        for stale in folder.glob("*.db"):
            stale.unlink()
        return folder, False
    folder = Path(tempfile.mkdtemp(prefix="switchboard-metrics-"))
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder, True


def remove_multiprocess_dir(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


class LiveWorkersCollector:
    """Every worker's metrics, summed; before each scrape, the live gauges of workers that are
    gone (crashed and replaced by uvicorn) are dropped, so open sockets are not counted twice."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._inner = multiprocess.MultiProcessCollector(None, path=str(folder))

    def collect(self) -> Iterable[Metric]:
        for pid in self._dead_pids():
            multiprocess.mark_process_dead(pid, str(self.folder))
        return self._inner.collect()

    def _dead_pids(self) -> set[int]:
        pids = set()
        for path in self.folder.glob("gauge_live*.db"):
            match = _PID.search(path.name)
            if match and not _alive(int(match.group(1))):
                pids.add(int(match.group(1)))
        return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_metrics_server(host: str, port: int, folder: Path | None) -> Any:
    """Serve /metrics on host:port from a thread; the workers' files when `folder` is set,
    else this process's own registry. Returns the server (`.shutdown()` stops it)."""
    registry: Any = REGISTRY
    if folder is not None:
        registry = CollectorRegistry()
        registry.register(LiveWorkersCollector(folder))
    server, _thread = start_http_server(port, addr=host, registry=registry)
    log.info("metrics on http://%s:%s/metrics", host, server.server_port)
    return server


def _pool_stats() -> tuple[int, int] | None:
    """(in use, waiting) of the asyncpg pool, or None where there is none (SQLite)."""
    try:
        pool = getattr(get_connection("default"), "_pool", None)
    except Exception:
        return None
    if pool is None or not hasattr(pool, "get_idle_size"):
        return None
    in_use = pool.get_size() - pool.get_idle_size()
    # asyncpg counts no waiters itself: its holder queue is an asyncio.Queue, whose waiting
    # getters are the tasks blocked in acquire().
    waiting = len(getattr(getattr(pool, "_queue", None), "_getters", ()) or ())
    return in_use, waiting


@contextlib.asynccontextmanager
async def pool_sampler(interval_seconds: float) -> AsyncIterator[None]:
    """Samples the database pool every `interval_seconds` while the app runs."""

    async def sample() -> None:
        while True:
            stats = _pool_stats()
            if stats is not None:
                DB_POOL_IN_USE.set(stats[0])
                DB_POOL_WAITING.set(stats[1])
            await asyncio.sleep(interval_seconds)

    task = asyncio.create_task(sample())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
