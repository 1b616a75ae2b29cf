"""What the bench sends: requests to the real servers, and in-process calls that count SQL."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from starlette.types import ASGIApp

from bench.load import Request, fetch
from bench.run import Server


def graphql(server: Server, document: str, authorization: str) -> tuple[Server, Request]:
    body = json.dumps({"query": document}).encode()
    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    return server, Request.build(server.port, "POST", "/graphql", headers, body)


def rest_dashboard(server: Server, authorization: str) -> tuple[Server, Request]:
    return server, Request.build(server.port, "GET", "/dashboard", {"Authorization": authorization})


async def answer(target: tuple[Server, Request]) -> Any:
    """The decoded JSON a target answers (over the network, like the measured requests)."""
    return json.loads(await fetch(target[1]))


@contextmanager
def count_sql() -> Iterator[list[str]]:
    """Every statement Tortoise sends while the block runs (its `tortoise.db_client` log)."""
    statements: list[str] = []

    class Counter(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            statements.append(record.getMessage())

    logger = logging.getLogger("tortoise.db_client")
    handler, level, propagate = Counter(level=logging.DEBUG), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield statements
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


async def statements_for(
    app: ASGIApp, method: str, path: str, authorization: str, body: dict | None = None
) -> tuple[list[str], Any]:
    """The SQL one request costs in-process, after one warming call; and its answer."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        headers = {"Authorization": authorization}
        await client.request(method, path, json=body, headers=headers)
        with count_sql() as statements:
            response = await client.request(method, path, json=body, headers=headers)
    response.raise_for_status()
    return statements, response.json()
