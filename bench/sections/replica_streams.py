"""Delivery streams through Redis (target 3): N deliveries started on replica A with
testDeliveryStart, each followed with deliverySteps on replica B over its own WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from redis.exceptions import RedisError

from bench import wsclient
from bench.load import Request, tree_cpu_seconds
from bench.receiver import RECEIVER_DELAY, start_receiver
from bench.redis_clients import RedisClients, RedisCount
from bench.report import section, table, verdict
from bench.run import ORIGINAL_CPUS, Bench, Server
from graph.relay import pk_of, to_global_id
from models.credentials import ApiKey
from models.deliveries import DeliveryStep

COUNTS = (10, 100, 500)
WARMUP_COUNT = 10
PLACEMENT = (
    f"placement: replicas A and B each may run on CPUs {','.join(map(str, ORIGINAL_CPUS))} "
    "(not pinned; with PostgreSQL, Redis and the load generator on the same cores)"
)
ROUNDS = 3  # of the largest N, the median send→response gap kept (at most --rounds)
FOLLOW_SECONDS = 60.0
START = """mutation($input: TestDeliveryStartInput!) {
  testDeliveryStart(input: $input) { delivery { id } userErrors { code message } } }"""
DELIVERY_STEPS = """subscription($id: ID!) {
  deliverySteps(deliveryId: $id) { sequence kind final at } }"""
# perf_counter() + this is the wall clock, which the steps' `at` (the server's) is on.
WALL_OFFSET = time.time() - time.perf_counter()


@dataclass
class Followed:
    sent_at: float = 0.0  # when the mutation went to A
    answered_at: float = 0.0  # when A answered it
    delivery_id: int | None = None
    steps: list[tuple[int, str, float]] = field(default_factory=list)  # sequence, kind, seen
    happened: dict[str, float] = field(default_factory=dict)  # kind: the step's own `at`
    error: str | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def on_next(self, at: float, payload: bytes) -> None:
        message = json.loads(payload)
        data = (message.get("payload") or {}).get("data") or {}
        step = data.get("deliverySteps")
        if step is None:
            self.error = json.dumps(message.get("payload"))[:200]
            self.done.set()
            return
        self.steps.append((step["sequence"], step["kind"], at))
        self.happened[step["kind"]] = datetime.fromisoformat(step["at"]).timestamp()
        if step["final"]:
            self.done.set()

    def live(self) -> bool:
        """Whether B showed REQUEST_SENT before the response came back: followed as it
        happened, not read from the store afterwards (a follower that subscribes after the
        response sees both stored steps at once, a gap of ~0)."""
        seen = {kind: at for _, kind, at in self.steps}
        if "REQUEST_SENT" not in seen or "RESPONSE" not in self.happened:
            return False
        return seen["REQUEST_SENT"] + WALL_OFFSET < self.happened["RESPONSE"]

    def gap_ms(self) -> float | None:
        seen = {kind: at for _, kind, at in self.steps}
        if "REQUEST_SENT" in seen and "RESPONSE" in seen:
            return (seen["RESPONSE"] - seen["REQUEST_SENT"]) * 1000
        return None


@dataclass(frozen=True)
class Result:
    count: int
    failed: int
    lost: int  # stored steps never received
    reordered: int  # streams whose sequences were not 1, 2, 3… as stored
    answered_ms: list[float]  # testDeliveryStart's answer from A
    first_step_ms: list[float]
    gaps_ms: list[float]
    live: int  # streams B followed live (REQUEST_SENT shown before the response came)
    redis: dict[str, RedisCount]  # the most seen during the run, per replica
    cpu_ms: dict[str, float]  # per delivery, per replica

    @property
    def gap(self) -> float:
        return median(self.gaps_ms) if self.gaps_ms else float("inf")


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


async def _start(request: Request, followed: Followed, socket: wsclient.GraphQLSocket) -> None:
    """The mutation on A, then at once the subscription on B."""
    reader, writer = await asyncio.open_connection("127.0.0.1", request.port)
    try:
        followed.sent_at = time.perf_counter()
        writer.write(request.payload)
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        body = json.loads(await reader.readexactly(length))
        followed.answered_at = time.perf_counter()
    finally:
        writer.close()
    payload = (body.get("data") or {}).get("testDeliveryStart") or {}
    if not payload.get("delivery"):
        followed.error = json.dumps(body.get("errors") or payload.get("userErrors"))[:200]
        followed.done.set()
        return
    global_id = payload["delivery"]["id"]
    followed.delivery_id = pk_of(global_id, "TestDelivery")
    socket.on_next = followed.on_next
    socket.subscribe("1", DELIVERY_STEPS, {"id": global_id})


async def _stored(ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    steps: dict[int, list[tuple[int, str]]] = {i: [] for i in ids}
    rows = await DeliveryStep.filter(delivery_id__in=ids).order_by("delivery_id", "sequence")
    for row in rows:
        steps[row.delivery_id].append((row.sequence, str(row.kind.value)))
    return steps


async def _sample_once(
    clients: RedisClients, replicas: dict[str, Server], most: dict[str, RedisCount]
) -> None:
    for name, server in replicas.items():
        count = await clients.count(server.pid)
        if name not in most or count.owned > most[name].owned:
            most[name] = count


async def _sample_redis(
    clients: RedisClients, replicas: dict[str, Server], most: dict[str, RedisCount]
) -> None:
    while True:
        # A dropped connection of the bench's own loses one sample, not the run.
        with contextlib.suppress(RedisError, OSError):
            await _sample_once(clients, replicas, most)
        await asyncio.sleep(0.25)


async def _measure(
    bench: Bench, replicas: dict[str, Server], clients: RedisClients, count: int, url: str
) -> Result:
    tenant = bench.seeded.dashboard
    key = await ApiKey.get(key=tenant.api_key)
    variables = {
        "input": {"apiKeyId": to_global_id("ApiKey", key.id), "event": "MESSAGE_STATUS", "url": url}
    }
    headers = {"Authorization": f"Bearer {tenant.session_token}"}
    body = json.dumps({"query": START, "variables": variables}).encode()
    request = Request.build(
        replicas["A"].port,
        "POST",
        "/graphql",
        {**headers, "Content-Type": "application/json"},
        body,
    )
    sockets = await wsclient.connect_many(replicas["B"].port, headers, count)
    followed = [Followed() for _ in range(count)]
    most: dict[str, RedisCount] = {}
    sampler = asyncio.create_task(_sample_redis(clients, replicas, most))
    cpu_before = {name: tree_cpu_seconds([s.pid]) or 0.0 for name, s in replicas.items()}
    try:
        await asyncio.gather(
            *(_start(request, f, s) for f, s in zip(followed, sockets, strict=True))
        )
        waits = [asyncio.wait_for(f.done.wait(), FOLLOW_SECONDS) for f in followed]
        for outcome in await asyncio.gather(*waits, return_exceptions=True):
            if isinstance(outcome, BaseException) and not isinstance(outcome, TimeoutError):
                raise outcome
        await _sample_once(clients, replicas, most)
        # Closing before the server's `complete` would only make it log a failed send.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(s.completed.wait() for s in sockets)), 5)
    finally:
        sampler.cancel()
        for socket in sockets:
            socket.close()
    cpu = {
        name: ((tree_cpu_seconds([s.pid]) or 0.0) - cpu_before[name]) * 1000 / count
        for name, s in replicas.items()
    }
    stored = await _stored([f.delivery_id for f in followed if f.delivery_id is not None])
    lost = reordered = failed = 0
    for f in followed:
        expected = stored.get(f.delivery_id or -1, [])
        seen = [(sequence, kind) for sequence, kind, _ in f.steps]
        if f.error is not None or not f.done.is_set():
            failed += 1
        lost += len(set(expected) - set(seen))
        reordered += seen != [step for step in expected if step in seen]
    return Result(
        count=count,
        failed=failed,
        lost=lost,
        reordered=reordered,
        answered_ms=[(f.answered_at - f.sent_at) * 1000 for f in followed if f.answered_at],
        first_step_ms=[(f.steps[0][2] - f.sent_at) * 1000 for f in followed if f.steps],
        gaps_ms=[g for f in followed if (g := f.gap_ms()) is not None],
        live=sum(f.live() for f in followed),
        redis=most,
        cpu_ms=cpu,
    )


def _row(result: Result) -> list[object]:
    return [
        f"N={result.count}",
        result.failed,
        result.lost,
        result.reordered,
        f"{result.live}/{result.count}",
        f"{median(result.answered_ms):.1f}" if result.answered_ms else "n/a",
        f"{median(result.first_step_ms):.1f}" if result.first_step_ms else "n/a",
        f"{_percentile(result.first_step_ms, 0.99):.1f}",
        f"{result.gap:.1f}",
        f"{_percentile(result.gaps_ms, 0.99):.1f}",
        f"{result.cpu_ms['A']:.2f} / {result.cpu_ms['B']:.2f}",
        f"{result.redis['A']} / {result.redis['B']}",
    ]


async def run(bench: Bench) -> None:
    if bench.options.redis_url is None:
        section("replica-streams: SKIPPED (needs --redis-url: two replicas share Redis)")
        return
    replicas = {"A": await bench.replica("A"), "B": await bench.replica("B")}
    clients = RedisClients(bench.options.redis_url)
    receiver, port = await start_receiver()
    url = f"http://127.0.0.1:{port}/status"
    rounds = max(1, min(bench.options.rounds, ROUNDS))
    started = time.perf_counter()
    try:
        # Unreported: every replica's Redis connections and database pool are made lazily.
        await _measure(bench, replicas, clients, WARMUP_COUNT, url)
        results = [await _measure(bench, replicas, clients, n, url) for n in COUNTS[:-1]]
        big_rounds = [
            await _measure(bench, replicas, clients, COUNTS[-1], url) for _ in range(rounds)
        ]
    finally:
        receiver.close()
        await receiver.wait_closed()
        await clients.close()
    big = sorted(big_rounds, key=lambda r: r.gap)[len(big_rounds) // 2]
    _report(bench, [*results, big], big_rounds, time.perf_counter() - started)


def _report(bench: Bench, results: list[Result], big_rounds: list[Result], seconds: float) -> None:
    big = results[-1]
    section(
        f"replica streams: N deliveries started on replica A (testDeliveryStart), each followed "
        f"on replica B (deliverySteps, a WebSocket each) through Redis; receiver answers after "
        f"{RECEIVER_DELAY * 1000:.0f} ms; N={big.count}: the median of {len(big_rounds)} rounds; "
        f"{bench.database_label}; {seconds:.0f} s"
    )
    print(PLACEMENT)
    headers = (
        "",
        "failed",
        "lost steps",
        "reordered",
        "followed live",
        "start answered p50 ms",
        "1st step p50 ms",
        "p99",
        "send→response p50 ms",
        "p99",
        "CPU ms/delivery A / B",
        "Redis conns A / B (named)",
    )
    print(table(headers, [_row(r) for r in results]))
    print(
        "start answered: testDeliveryStart's answer from A; first step: from sending it to "
        "A to B's first deliverySteps message; followed live: B showed REQUEST_SENT before "
        "the response came back (the rest subscribed later and read both from the store); "
        "Redis connections: the most CLIENT LIST showed per server process while the streams "
        "ran: all of its sockets, and in brackets those named switchboard:<pid>:…"
    )
    delay_ms = RECEIVER_DELAY * 1000
    each = ", ".join(f"{r.gap / delay_ms:.2f}x" for r in big_rounds)
    clean = all(r.failed == r.lost == r.reordered == 0 for r in big_rounds)
    print(
        verdict(
            f"N={big.count} through Redis: median send→response gap on B",
            f"{big.gap:.1f} ms ({big.gap / delay_ms:.2f}x the receiver's delay; rounds: {each}); "
            f"over the {len(big_rounds)} rounds {sum(r.failed for r in big_rounds)} streams "
            f"failed, {sum(r.lost for r in big_rounds)} steps lost, "
            f"{sum(r.reordered for r in big_rounds)} streams reordered",
            "0.90x-1.10x, none lost or reordered",
            abs(big.gap - delay_ms) <= delay_ms * 0.10 and clean,
        )
    )
    counts = [r.redis[name].owned for r in results for name in ("A", "B")]
    print(
        verdict(
            "Redis connections per server process, N=" + "/".join(str(r.count) for r in results),
            " ".join(f"{r.redis['A'].owned}/{r.redis['B'].owned}" for r in results),
            "≤ 4 and the same at every N",
            max(counts) <= 4
            and all(len({r.redis[name].owned for r in results}) == 1 for name in ("A", "B")),
        )
    )
