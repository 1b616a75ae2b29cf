"""Fan-out (target 4): --subscribers settingsChanged subscriptions on replica A, each on its
own WebSocket with the same document and key (browser tabs of one account), and edits of
that key made on replica B over HTTP: how long each edit takes to reach every tab, and what
the open tabs cost A in memory and CPU."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench import targets, wsclient
from bench.documents import DASHBOARD
from bench.load import Request, fetch, process_rss_bytes, tree_cpu_seconds
from bench.report import section, table, verdict
from bench.run import Bench, Server
from bench.sections.replica_streams import PLACEMENT
from graph.relay import to_global_id
from models.credentials import ApiKey

ROUNDS = 5  # measured edits, after one that only checks every subscription is live
WARMUP_SECONDS = 60.0
SETTLE_SECONDS = 30.0
IDLE_SECONDS = 5.0
HANDSHAKES_IN_FLIGHT = 64
EDIT = """mutation($input: SignatureSettingsUpdateInput!) {
  signatureSettingsUpdate(input: $input) { userErrors { code message } } }"""
# Replica A's shared-execution counters (server/metrics.py), printed after the rounds: frames
# divided by executions is how many subscribers one execution served.
SHARED_EXECUTION_METRICS: tuple[str, ...] = (
    "switchboard_shared_subscription_executions_total",
    "switchboard_shared_subscription_frames_total",
)


def console_document() -> str:
    """The console's own LiveUpdates subscription, as its persisted-documents manifest has it:
    what every open console tab sends."""
    manifest = Path(__file__).resolve().parents[2] / "console" / "persisted-documents.json"
    documents = json.loads(manifest.read_text())
    return next(t for t in documents.values() if t.startswith("subscription LiveUpdates"))


def _stamp(payload: bytes) -> bytes:
    """The change's `at` (the first "at" of the message: settingsChanged's own), found without
    decoding the JSON: it tells which edit a `next` frame is about."""
    start = payload.find(b'"at"')
    first = payload.find(b'"', start + 4) + 1
    return payload[first : payload.find(b'"', first)]


class Arrivals:
    """The first `next` of each subscriber about an edit made after `earlier` ones: a late
    frame about an earlier edit (one that had not reached everyone in its round) is not
    counted as this edit's."""

    def __init__(self, count: int, earlier: set[bytes]) -> None:
        self.times: list[float | None] = [None] * count
        self.received = 0
        self.frames = 0  # every `next`, the late ones of an earlier edit too
        self.earlier = earlier
        self.stamps: set[bytes] = set()
        self.everyone = asyncio.Event()

    async def settled(self) -> bool:
        """Until no `next` arrived for a second (False if they still came at SETTLE_SECONDS):
        the server's backlog of an earlier edit would slow the next round."""
        deadline = time.perf_counter() + SETTLE_SECONDS
        while time.perf_counter() < deadline:
            before = self.frames
            await asyncio.sleep(1.0)
            if self.frames == before:
                return True
        return False

    def recorder(self, index: int):
        def record(at: float, payload: bytes) -> None:
            self.frames += 1
            stamp = _stamp(payload)
            if stamp in self.earlier:
                return
            self.stamps.add(stamp)
            if self.times[index] is None:
                self.times[index] = at
                self.received += 1
                if self.received == len(self.times):
                    self.everyone.set()

        return record


@dataclass(frozen=True)
class Round:
    received: int
    latencies_ms: list[float]  # sorted; subscribers that got nothing are not in it
    server_cpu_s: float
    client_cpu_s: float
    drained: bool = True  # no `next` frames still coming in when the next round began

    def percentile(self, count: int, fraction: float) -> float:
        """Over all `count` subscribers: one that never received counts as infinitely late."""
        index = min(count - 1, int(fraction * count))
        return self.latencies_ms[index] if index < len(self.latencies_ms) else float("inf")


class Editor:
    """Edits the key's signSmsWebhooks on replica B, flipping it each time so every edit is a
    change."""

    def __init__(self, bench: Bench, replica_b: Server, key_id: str) -> None:
        self._headers = {
            "Authorization": f"Bearer {bench.seeded.dashboard.session_token}",
            "Content-Type": "application/json",
        }
        self._port, self._key_id, self._sign = replica_b.port, key_id, True
        self.stamps: set[bytes] = set()  # the `at` of every edit seen so far

    async def __call__(self) -> None:
        self._sign = not self._sign
        variables = {"input": {"apiKeyId": self._key_id, "signSmsWebhooks": self._sign}}
        body = json.dumps({"query": EDIT, "variables": variables}).encode()
        request = Request.build(self._port, "POST", "/graphql", self._headers, body)
        answer = json.loads(await fetch(request))
        if answer.get("errors") or answer["data"]["signatureSettingsUpdate"]["userErrors"]:
            raise SystemExit(f"the edit on replica B was refused: {answer}")


async def _round(
    edit: Editor, replica_a: Server, sockets: list[wsclient.GraphQLSocket], within: float
) -> Round:
    arrivals = Arrivals(len(sockets), edit.stamps)
    for index, socket in enumerate(sockets):
        socket.on_next = arrivals.recorder(index)
    cpu_before, client_before = tree_cpu_seconds([replica_a.pid]), time.process_time()
    sent = time.perf_counter()
    await edit()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(arrivals.everyone.wait(), within)
    cpu = (tree_cpu_seconds([replica_a.pid]) or 0.0) - (cpu_before or 0.0)
    latencies = sorted((at - sent) * 1000 for at in arrivals.times if at is not None)
    client = time.process_time() - client_before
    drained = await arrivals.settled()
    edit.stamps |= arrivals.stamps
    return Round(arrivals.received, latencies, cpu, client, drained)


async def _warm_up(edit: Editor, replica_a: Server, sockets: list[wsclient.GraphQLSocket]) -> Round:
    """Edits every few seconds until every subscriber received one (subscriptions give no
    sign they are in place): the first edit's row, with how many it reached in the end."""
    arrivals = Arrivals(len(sockets), set())
    for index, socket in enumerate(sockets):
        socket.on_next = arrivals.recorder(index)
    cpu_before, client_before = tree_cpu_seconds([replica_a.pid]), time.process_time()
    sent = time.perf_counter()
    deadline = sent + WARMUP_SECONDS
    drained = True
    while time.perf_counter() < deadline and not arrivals.everyone.is_set():
        await edit()
        # The edit reached everyone it could once `next` frames stop coming.
        drained = await arrivals.settled()
    cpu = (tree_cpu_seconds([replica_a.pid]) or 0.0) - (cpu_before or 0.0)
    latencies = sorted((at - sent) * 1000 for at in arrivals.times if at is not None)
    edit.stamps |= arrivals.stamps
    client = time.process_time() - client_before
    return Round(arrivals.received, latencies, cpu, client, drained)


async def _idle_cpu(replica_a: Server) -> float:
    """What holding the sockets costs with nothing happening (e.g. credential re-checks)."""
    before = tree_cpu_seconds([replica_a.pid]) or 0.0
    await asyncio.sleep(IDLE_SECONDS)
    return ((tree_cpu_seconds([replica_a.pid]) or 0.0) - before) / IDLE_SECONDS


def _open_files(pid: int) -> str:
    with open(f"/proc/{pid}/limits") as limits:
        line = next(line for line in limits if line.startswith("Max open files"))
    return line.split()[3]


async def run(bench: Bench) -> None:
    if bench.options.redis_url is None:
        section("fanout: SKIPPED (needs --redis-url: the edit is made on another replica)")
        return
    count = bench.options.subscribers
    # A replica of its own: one that served replica-streams first has heap to spare, which
    # would make subscriptions look cheaper than on a server that only holds them.
    servers = {"A": await bench.replica("fanout-A"), "B": await bench.replica("B")}
    key = await ApiKey.get(key=bench.seeded.dashboard.api_key)
    key_id = to_global_id("ApiKey", key.id)
    init = {"Authorization": f"Bearer {bench.seeded.dashboard.session_token}"}
    # Idle, not cold: its database pool, caches and lazy imports are in place.
    await targets.answer(targets.graphql(servers["A"], DASHBOARD, init["Authorization"]))
    idle_rss = process_rss_bytes(servers["A"].pid)
    started = time.perf_counter()
    sockets = await wsclient.connect_many(
        servers["A"].port, init, count, concurrency=HANDSHAKES_IN_FLIGHT
    )
    opened = time.perf_counter() - started
    document = console_document()
    for socket in sockets:
        socket.subscribe("1", document, {"apiKeyId": key_id})
    try:
        # Subscriptions give no sign they are in place: an edit every tab receives is one.
        edit = Editor(bench, servers["B"], key_id)
        warm = await _warm_up(edit, servers["A"], sockets)
        open_rss = process_rss_bytes(servers["A"].pid)
        within = max(10.0, count / 1000)
        rounds = [await _round(edit, servers["A"], sockets, within) for _ in range(ROUNDS)]
        idle_cpu = await _idle_cpu(servers["A"])
        refused = [s.others[0] for s in sockets if s.others]
    finally:
        for socket in sockets:
            socket.close()
    setup = _Setup(count, opened, warm, (open_rss - idle_rss) / count / 1024, refused, idle_cpu)
    _report(bench, servers, setup, rounds, time.perf_counter() - started)
    _print_shared_executions(servers["A"])


@dataclass(frozen=True)
class _Setup:
    count: int
    open_seconds: float
    warm: Round
    kb_per_subscription: float
    refused: list[dict]
    idle_cpu: float  # share of one core replica A spends with every socket open and no edits


def _ms(value: float) -> str:
    return "never" if value == float("inf") else f"{value:.0f}"


def _row(label: str, count: int, r: Round) -> list[object]:
    return [
        label,
        f"{r.received}/{count}",
        _ms(r.percentile(count, 0.50)),
        _ms(r.percentile(count, 0.99)),
        f"{r.latencies_ms[-1]:.0f}" if r.latencies_ms else "n/a",
        f"{r.server_cpu_s * 1e6 / r.received:.0f}" if r.received else "n/a",
        f"{r.client_cpu_s * 1e6 / r.received:.0f}" if r.received else "n/a",
        "yes" if r.drained else "no",
    ]


def _report(
    bench: Bench, servers: dict[str, Server], setup: _Setup, rounds: list[Round], seconds: float
) -> None:
    count = setup.count
    section(
        f"fanout: {count} settingsChanged subscriptions on replica A (one WebSocket each, the "
        f"console's LiveUpdates document, one key), {len(rounds)} edits made on replica B over "
        f"HTTP; {bench.database_label}; {seconds:.0f} s"
    )
    print(PLACEMENT)
    print(
        f"opened {count} sockets in {setup.open_seconds:.1f} s ({HANDSHAKES_IN_FLIGHT} "
        f"handshakes at a time); replica A's open-files limit {_open_files(servers['A'].pid)} "
        f"(inherited from the bench); refused or closed: {len(setup.refused)}"
        + (f", first: {json.dumps(setup.refused[0])[:200]}" if setup.refused else "")
    )
    print(
        f"replica A with every socket open and no edits: {setup.idle_cpu * 100:.0f}% of a core "
        f"(over {IDLE_SECONDS:g} s after the edits)"
    )
    headers = (
        "",
        "received",
        "p50 ms",
        "p99 ms",
        "max ms",
        "A CPU µs/event",
        "client CPU µs/event",
        "drained after",
    )
    rows = [_row("warm-up (edits until all had one)", count, setup.warm)]
    rows += [_row(f"edit {i + 1}", count, r) for i, r in enumerate(rounds)]
    print(table(headers, rows))
    print(
        "times: from sending the edit to B to each subscriber's first `next` about that edit "
        "(told apart by its `at`); never: that share got nothing in the round's window; an "
        "event is one subscriber's `next`; A's CPU is its whole process over the round; "
        f"drained: no frames still coming {SETTLE_SECONDS:.0f} s after the round"
    )
    middle = sorted(rounds, key=lambda r: r.percentile(count, 0.99))[len(rounds) // 2]
    p99 = middle.percentile(count, 0.99)
    each = ", ".join(_ms(r.percentile(count, 0.99)) for r in rounds)
    print(
        verdict(
            f"{count} subscribers: p99 from edit on B to `next` on A (median round)",
            f"{_ms(p99)} ms (rounds: {each} ms)",
            "≤ 1000 ms",
            p99 <= 1000,
        )
    )
    kb = setup.kb_per_subscription
    print(
        verdict(
            "replica A's memory per open subscription (RSS over the idle server)",
            f"{kb:.1f} KB",
            "≤ 50 KB",
            kb <= 50,
        )
    )


def _print_shared_executions(replica: Server) -> None:
    if not SHARED_EXECUTION_METRICS or replica.metrics_port is None:
        print("shared-execution counters: replica A serves no /metrics")
        return
    url = f"http://127.0.0.1:{replica.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        lines = response.read().decode().splitlines()
    wanted = [line for line in lines if line.startswith(SHARED_EXECUTION_METRICS)]
    print("shared-execution counters on replica A:\n  " + "\n  ".join(wanted or ["(none)"]))
