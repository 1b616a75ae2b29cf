"""Prometheus metrics scraped from real `switchboard serve` processes after real traffic:
one process, and `--workers 2` (multiprocess files summed, dead workers dropped, fresh per
serve)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import httpx
from websockets.exceptions import ConnectionClosed

from tests.deliveries import collect
from tests.live import graphql_ws
from tests.server.receiver import closed_port, receiver
from tests.server.served import Demo, Samples, Served, demo_env, graphql, kill, served

VIEWER_ROLE = "query ViewerRole { viewer { role } }"
KEY_ID = "query { viewer { account { apiKeys(first: 1) { edges { node { id } } } } } }"
SETTINGS_CHANGED = "subscription($id: ID!) { settingsChanged(apiKeyId: $id) { section } }"
TEST_WEBHOOK = (
    "subscription($input: TestWebhookInput!) { testWebhook(input: $input) { kind errorCode } }"
)
SMS_UPDATE = """
mutation Update($input: SmsWebhooksUpdateInput!) {
  smsWebhooksUpdate(input: $input) { userErrors { code } }
}
"""
# Past the 2,000-token limit: refused before validation.
TOO_MANY_TOKENS = "query { viewer { " + "role " * 2100 + "} }"


async def _key_id(http: httpx.AsyncClient, server: Served, auth: str) -> str:
    answer = (await graphql(http, server.url, KEY_ID, auth)).json()
    return answer["data"]["viewer"]["account"]["apiKeys"]["edges"][0]["node"]["id"]


async def _until(server: Served, check: object, attempts: int = 200) -> Samples:
    """Scrapes until `check(samples)` holds: gauges follow a socket's close a moment later."""
    samples = await server.scrape()
    for _ in range(attempts):
        if check(samples):  # type: ignore[operator]
            return samples
        await asyncio.sleep(0.05)
        samples = await server.scrape()
    return samples


async def test_one_process_counts_http_graphql_auth_limits_and_sockets(tmp_path: Path) -> None:
    demo = demo_env(tmp_path, SWITCHBOARD_METRICS_OPERATIONS="ViewerRole")
    bearer = f"Bearer {demo.token}"
    async with (
        served(demo.env, tmp_path / "serve.log") as server,
        httpx.AsyncClient() as http,
    ):
        for _ in range(3):
            assert (await graphql(http, server.url, VIEWER_ROLE, bearer)).status_code == 200
        # A name the operator did not list is not a label: the root field stands in for it.
        await graphql(http, server.url, "query Chosen_By_Client_42 { viewer { role } }", bearer)
        key_id = await _key_id(http, server, bearer)
        bad_url = {"apiKeyId": key_id, "deliveryReceiptUrl": "ftp://example.com/x"}
        answer = (await graphql(http, server.url, SMS_UPDATE, bearer, input=bad_url)).json()
        assert answer["data"]["smsWebhooksUpdate"]["userErrors"], answer
        assert (await graphql(http, server.url, VIEWER_ROLE, "Bearer nope")).status_code == 401
        refused = (await graphql(http, server.url, TOO_MANY_TOKENS, bearer)).json()
        assert refused["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        # The console answers GET anywhere; other methods are refused.
        assert (await http.post(server.url + "/no/such/42")).status_code == 405
        # /metrics is the operator's port only: the public port knows nothing of it.
        assert "# TYPE" not in (await http.get(server.url + "/metrics")).text

        samples = await server.scrape()
        ops = "switchboard_graphql_operations_total"
        assert samples.value(ops, type="query", name="ViewerRole", outcome="ok") == 3
        assert samples.value(ops, type="query", name="viewer", outcome="ok") == 2
        assert samples.value(ops, name="Chosen_By_Client_42") == 0
        assert samples.value(ops, name="smsWebhooksUpdate", outcome="user_error") == 1
        assert samples.value(ops, type="unknown", name="other", outcome="QUERY_TOO_COMPLEX") == 1
        assert samples.value("switchboard_graphql_documents_refused_total", limit="tokens") == 1
        latency = "switchboard_graphql_operation_duration_seconds_count"
        assert samples.value(latency, type="query", name="ViewerRole") == 3
        requests = "switchboard_http_requests_total"
        assert samples.value(requests, route="/graphql", method="POST") == 8
        assert samples.value(requests, route="/graphql", status="401") == 1
        assert samples.value(requests, route="other", method="POST", status="405") == 1
        assert samples.value(requests, route="other", method="GET") == 1
        assert samples.labels_of(requests, "route") <= {"/graphql", "/readyz", "other"}
        assert samples.value("switchboard_readiness_checks_total", outcome="ok") >= 1
        failures = "switchboard_authentication_failures_total"
        assert samples.value(failures, door="http") == 1

        async with graphql_ws(server.url) as ws:
            assert (await ws.init({"Authorization": bearer}))["type"] == "connection_ack"
            await ws.subscribe(SETTINGS_CHANGED, {"id": key_id})
            opened = await _until(
                server,
                lambda s: s.value("switchboard_subscriptions_open", kind="settingsChanged") == 1,
            )
            assert opened.value("switchboard_websockets_open") == 1
            assert opened.value("switchboard_subscriptions_open", kind="settingsChanged") == 1
        closed = await _until(server, lambda s: s.value("switchboard_websockets_open") == 0)
        assert closed.value("switchboard_websockets_open") == 0
        assert closed.value("switchboard_subscriptions_open", kind="settingsChanged") == 0

        with contextlib.suppress(ConnectionClosed):
            async with graphql_ws(server.url) as ws:
                await ws.init({"Authorization": "Bearer nope"})
        after = await _until(server, lambda s: s.value(failures, door="websocket") == 1)
        assert after.value(failures, door="websocket") == 1


async def test_test_deliveries_are_counted_by_event_outcome_and_code(tmp_path: Path) -> None:
    demo = demo_env(tmp_path)
    async with served(demo.env, tmp_path / "serve.log", "--dev") as server, receiver() as rx:
        for url in (rx.url(), f"http://127.0.0.1:{closed_port()}/hook"):
            await deliver(server, demo, url)
        samples = await server.scrape()
    deliveries = "switchboard_test_deliveries_total"
    assert samples.value(deliveries, event="MESSAGE_STATUS", outcome="SUCCEEDED") == 1
    assert (
        samples.value(
            deliveries, event="MESSAGE_STATUS", outcome="FAILED", error_code="CONNECT_FAILED"
        )
        == 1
    )
    assert samples.value("switchboard_test_delivery_response_seconds_count") == 1
    assert samples.value("switchboard_subscriptions_open", kind="testWebhook") == 0


async def deliver(server: Served, demo: Demo, url: str) -> None:
    """One MESSAGE_STATUS test delivery to `url`, followed to its end over a WebSocket."""
    bearer = f"Bearer {demo.token}"
    async with httpx.AsyncClient() as http:
        key_id = await _key_id(http, server, bearer)
    async with graphql_ws(server.url) as ws:
        await ws.init({"Authorization": bearer})
        variables = {"input": {"apiKeyId": key_id, "event": "MESSAGE_STATUS", "url": url}}
        steps, errors = await collect(ws, TEST_WEBHOOK, variables)
    assert errors == [] and steps[-1]["kind"] in ("SUCCEEDED", "FAILED"), (steps, errors)


async def _traffic(demo: Demo, server: Served, requests: int) -> None:
    bearer = f"Bearer {demo.token}"

    async def one() -> int:
        # A connection of its own, all at once, so both workers take a share.
        async with httpx.AsyncClient(timeout=60) as http:
            return (await graphql(http, server.url, VIEWER_ROLE, bearer)).status_code

    assert await asyncio.gather(*(one() for _ in range(requests))) == [200] * requests


async def test_two_workers_sum_their_counts_and_drop_dead_workers(tmp_path: Path) -> None:
    demo = demo_env(tmp_path, SWITCHBOARD_METRICS_OPERATIONS="ViewerRole")
    log = tmp_path / "serve.log"
    ops = "switchboard_graphql_operations_total"
    async with served(demo.env, log, "--workers", "2") as server:
        workers = server.worker_pids()
        folder = Path(_environ_of(workers[0])["PROMETHEUS_MULTIPROC_DIR"])
        await _traffic(demo, server, 20)
        samples = await server.scrape()
        assert samples.value(ops, name="ViewerRole", outcome="ok") == 20
        assert samples.value("switchboard_http_requests_total", route="/graphql") == 20
        # Both workers answered (more, if uvicorn replaced one that missed its health check
        # on a busy machine), and one scrape shows the sum of their files.
        assert len(_writers(folder)) >= 2

        workers = await _kill_workers_with_a_socket_open(server, demo)
        await _wait_replaced(server, workers)
        after = await _until(server, lambda s: s.value("switchboard_websockets_open") == 0)
        assert after.value("switchboard_websockets_open") == 0
        # What the killed workers counted still counts: counters never go down.
        assert after.value(ops, name="ViewerRole", outcome="ok") == 20
    assert _writers(folder) == set()  # the folder went with the serve that made it

    async with served(demo.env, log, "--workers", "2") as again:
        await _traffic(demo, again, 3)
        fresh = await again.scrape()
    assert fresh.value(ops, name="ViewerRole", outcome="ok") == 3


async def _kill_workers_with_a_socket_open(server: Served, demo: Demo) -> list[int]:
    """SIGKILL every worker while a WebSocket is open (so its gauge stays in a worker's
    file); the killed PIDs. Tried again if uvicorn replaced a worker meanwhile."""
    for _ in range(3):
        with contextlib.suppress(ConnectionClosed):
            async with graphql_ws(server.url) as ws:
                await ws.init({"Authorization": f"Bearer {demo.token}"})
                opened = await _until(server, lambda s: s.value("switchboard_websockets_open") == 1)
                if opened.value("switchboard_websockets_open") == 1:
                    workers = server.worker_pids()
                    for pid in workers:
                        kill(pid)
                    return workers
    raise AssertionError("no scrape showed the open WebSocket")


def _writers(folder: Path) -> set[str]:
    """The processes with counter files in the multiprocess folder."""
    return {path.name.rsplit("_", 1)[1] for path in folder.glob("counter_*.db")}


def _alive(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}")


def _environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    pairs = (entry.decode().split("=", 1) for entry in raw if b"=" in entry)
    return dict(pairs)  # type: ignore[arg-type]


async def _wait_replaced(server: Served, dead: list[int]) -> None:
    for _ in range(300):
        alive = [pid for pid in server.worker_pids() if pid not in dead and _alive(pid)]
        if len(alive) == 2:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("uvicorn did not replace its killed workers")
