"""Outbound webhooks on httpx: resolve, vet every address, connect only to a vetted one."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from models.enums import DeliveryStepKind
from resolvers.webhook_sender import AttemptOutcome, FailureCode, StepCallback, StepReport
from server import sender_failures as failures
from server.metrics import TEST_DELIVERY_RESPONSE
from server.sender_failures import (
    MAX_HEADER_BYTES,
    SHOWN_HEADER_BYTES,
    connect_failure,
    header_pairs,
    shown_headers,
)
from server.tracing import DeliverySpans, tracer
from signing.payloads import WebhookRequest
from signing.ports import DEFAULT_PORT_RULE, PortRule
from signing.urls import UrlRuleError, check_webhook_url, classify_address, parse_ip_literal

MAX_RESPONSE_BYTES = 64 * 1024
SHOWN_BODY_BYTES = 4 * 1024

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver, in its order, without repeats."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses vetted beforehand, whatever httpcore asks for.

    The URL keeps its host name, so the Host header and the TLS server name (SNI and the
    certificate check) still use it; DNS is never asked again, so an answer that changes
    between the check and the connection (DNS rebinding) cannot redirect the request.
    """

    def __init__(self, host: str, addresses: Iterable[str]) -> None:
        self._host = host
        self._addresses = list(addresses)
        self._inner = httpcore.AnyIOBackend()
        self.connected_address: str | None = None

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if host != self._host:
            raise httpcore.ConnectError(f"refusing to connect to unvetted host {host!r}")
        failure: Exception = httpcore.ConnectError("no vetted address")
        for address in self._addresses:
            try:
                stream = await self._inner.connect_tcp(
                    address, port, timeout=timeout, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
                continue
            self.connected_address = address
            return stream
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are never sent over Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a PinnedBackend: one connection, never kept alive."""

    def __init__(self, backend: PinnedBackend, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx 0.28 takes no network backend; swap in a pool built on ours (pinned in
        # pyproject, and tests/server/test_sender.py fails if this stops pinning).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            network_backend=backend,
            max_connections=1,
            max_keepalive_connections=0,
            retries=0,
        )


class _Progress:
    """How far an attempt got, to name a timeout, with the reports it queued in order.

    Reports are written by a separate task: a timeout cancels network I/O only, never a
    step halfway through being stored.
    """

    def __init__(self, report: StepCallback) -> None:
        self.phase = "resolving"
        self.spans = DeliverySpans()
        self._queue: asyncio.Queue[StepReport | None] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write(report))

    def put(self, step: StepReport) -> None:
        self._queue.put_nowait(step)

    async def _write(self, report: StepCallback) -> None:
        while True:
            steps = [await self._queue.get()]
            # What queued up while the last steps were being stored goes in one call.
            while not self._queue.empty():
                steps.append(self._queue.get_nowait())
            finished = steps[-1] is None  # flush's marker always comes last
            reports = [step for step in steps if step is not None]
            if reports:
                await report(reports)
            if finished:
                return

    async def flush(self) -> None:
        self._queue.put_nowait(None)
        await self._writer

    def cancel(self) -> None:
        self._writer.cancel()


@dataclass(frozen=True)
class _Target:
    host: str
    port: int
    https: bool


class HttpxWebhookSender:
    """Sends one attempt of a webhook with its own client: no pool is shared across deliveries
    (httpx's pool degrades sharply past ~100 concurrent requests, and gains nothing here)."""

    def __init__(
        self,
        *,
        connect_timeout: float = 3.0,
        total_timeout: float = 15.0,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        resolver: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
        port_rule: PortRule = DEFAULT_PORT_RULE,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.port_rule = port_rule
        self.total_timeout = total_timeout
        self.max_response_bytes = max_response_bytes
        self.resolver = resolver
        self._ssl_context = ssl_context

    @property
    def ssl_context(self) -> ssl.SSLContext:
        # Loading the CA bundle is slow: once, on first use (CLI commands never send), and
        # one context then serves every connection.
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context(trust_env=False)
        return self._ssl_context

    async def attempt(
        self, request: WebhookRequest, *, allow_private: bool, report: StepCallback
    ) -> AttemptOutcome:
        progress = _Progress(report)
        with tracer.start_as_current_span("webhook attempt") as span:
            try:
                try:
                    async with asyncio.timeout(self.total_timeout):
                        outcome = await self._attempt(request, allow_private, progress)
                except TimeoutError:
                    outcome = self._timed_out(progress.phase)
            except BaseException:
                progress.cancel()
                raise
            finally:
                progress.spans.close()
            if outcome.error_code is not None:
                span.set_attribute("error.type", outcome.error_code)
            if outcome.status_code is not None:
                span.set_attribute("http.response.status_code", outcome.status_code)
            await progress.flush()
        return outcome

    async def _attempt(
        self, request: WebhookRequest, allow_private: bool, progress: _Progress
    ) -> AttemptOutcome:
        url = httpx.URL(request.url)
        target = _Target(
            # The host exactly as the URL spells it (an IDN as its A-label, as the URL rules
            # require), which is what httpcore connects to: `url.host` is decoded, and the
            # system resolver would re-encode it by IDNA 2003 (faß → fass), another name.
            host=url.raw_host.decode("ascii"),
            port=url.port or (443 if url.scheme == "https" else 80),
            https=url.scheme == "https",
        )
        try:
            check_webhook_url(request.url, allow_private=allow_private)
        except UrlRuleError as error:
            literal = parse_ip_literal(target.host)
            address = str(literal) if literal is not None else None
            blocked = StepReport(DeliveryStepKind.BLOCKED, detail=error.message, address=address)
            progress.put(blocked)
            return AttemptOutcome(error.message, error_code=error.code)
        refusal = self.port_rule.refusal(target.port)
        if refusal is not None:
            # Checked before any lookup or connection: no answer may tell what listens there.
            progress.put(StepReport(DeliveryStepKind.BLOCKED, detail=refusal))
            return AttemptOutcome(refusal, error_code=FailureCode.BLOCKED_PORT)
        # The host and port only: a webhook URL's path or query may hold the receiver's token.
        attributes = {"server.address": target.host, "server.port": target.port}
        progress.spans.start("resolve", **attributes)
        addresses = await self._resolve(target, allow_private, progress)
        progress.spans.end("resolve")
        if isinstance(addresses, AttemptOutcome):
            return addresses
        progress.phase = "connecting"
        return await self._exchange(request, target, addresses, progress)

    async def _resolve(
        self, target: _Target, allow_private: bool, progress: _Progress
    ) -> list[str] | AttemptOutcome:
        """Every address of the host, vetted; or why the attempt stops here."""
        literal = parse_ip_literal(target.host)
        if literal is not None:
            addresses, how = [str(literal)], f"{target.host} is an IP address: no DNS lookup."
        else:
            try:
                addresses = await self.resolver(target.host, target.port)
            except (OSError, UnicodeError) as error:
                detail = f"DNS lookup for {target.host} failed: {failures.reason(error)}."
                return AttemptOutcome(detail, error_code=FailureCode.DNS_FAILED)
            if not addresses:
                detail = f"DNS lookup for {target.host} returned no addresses."
                return AttemptOutcome(detail, error_code=FailureCode.DNS_FAILED)
            how = f"{target.host} resolved to {', '.join(addresses)}."
        for address in addresses:
            reason = classify_address(address)
            if reason is not None and not allow_private:
                detail = (
                    f"{target.host} resolves to {address}, a {reason} address; webhooks only "
                    "go to public addresses, so nothing was sent."
                )
                progress.put(StepReport(DeliveryStepKind.BLOCKED, detail=detail, address=address))
                return AttemptOutcome(detail, error_code=FailureCode.BLOCKED_ADDRESS)
        verdict = (
            "Private targets are allowed on this server."
            if allow_private
            else "Every address is public."
        )
        progress.put(
            StepReport(DeliveryStepKind.RESOLVED, detail=f"{how} {verdict}", address=addresses[0])
        )
        return addresses

    async def _exchange(
        self, request: WebhookRequest, target: _Target, addresses: list[str], progress: _Progress
    ) -> AttemptOutcome:
        """Connect to a vetted address, send, and read at most `max_response_bytes` back."""
        backend = PinnedBackend(target.host, addresses)
        timeout = httpx.Timeout(self.total_timeout, connect=self.connect_timeout)
        client = httpx.AsyncClient(
            transport=PinnedTransport(backend, self.ssl_context),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
        )
        async with client:
            outgoing = client.build_request(
                request.method,
                request.url,
                # Identity: the byte limit applies to what crosses the wire, unexpanded.
                headers=[*request.headers, ("Accept-Encoding", "identity")],
                content=request.body or None,
            )
            outgoing.extensions["trace"] = _tracer(outgoing, target, backend, progress)
            try:
                return await self._send(client, outgoing, progress)
            except httpx.ConnectTimeout:
                detail = f"Could not connect within {self.connect_timeout:g} s."
                return AttemptOutcome(detail, error_code=FailureCode.CONNECT_TIMEOUT)
            except httpx.ConnectError as error:
                return connect_failure(error)
            except httpx.TimeoutException:
                return self._timed_out(progress.phase)
            except httpx.TransportError as error:
                detail = (
                    f"The connection failed before a complete answer: {failures.reason(error)}."
                )
                return AttemptOutcome(detail, error_code=FailureCode.CONNECT_FAILED)

    async def _send(
        self, client: httpx.AsyncClient, outgoing: httpx.Request, progress: _Progress
    ) -> AttemptOutcome:
        started = time.perf_counter()
        try:
            response = await client.send(outgoing, stream=True)
        except BaseException:
            progress.spans.end("send")
            raise
        received = bytearray()
        header_bytes = sum(len(name) + len(value) + 4 for name, value in response.headers.raw)
        too_large = header_bytes > MAX_HEADER_BYTES
        try:
            async for chunk in response.aiter_raw():
                if too_large:
                    break
                received += chunk
                if len(received) > self.max_response_bytes:
                    too_large = True
                    break
        finally:
            await response.aclose()
        elapsed = time.perf_counter() - started
        TEST_DELIVERY_RESPONSE.observe(elapsed)
        progress.spans.end("send", **{"http.response.status_code": response.status_code})
        duration_ms = round(elapsed * 1000, 1)
        # The standard phrase, not the receiver's: its status line is bytes from the peer.
        phrase = httpx.codes.get_reason_phrase(response.status_code)
        detail = f"HTTP {response.status_code} {phrase} in {duration_ms:g} ms.".replace("  ", " ")
        if too_large:
            detail += (
                f" The answer is larger than {self.max_response_bytes // 1024} KiB, or its "
                f"headers than {MAX_HEADER_BYTES // 1024} KiB: stopped."
            )
        headers, hidden = shown_headers(response.headers.raw)
        if hidden:
            detail += f" {hidden} more headers (past {SHOWN_HEADER_BYTES // 1024} KiB) not shown."
        progress.put(
            StepReport(
                DeliveryStepKind.RESPONSE,
                detail=detail,
                response={
                    "statusCode": response.status_code,
                    "headers": headers,
                    "body": bytes(received[:SHOWN_BODY_BYTES]).decode("utf-8", "replace"),
                    "durationMs": duration_ms,
                },
            )
        )
        if too_large:
            detail = (
                f"The receiver answered HTTP {response.status_code} with more than "
                f"{self.max_response_bytes // 1024} KiB of body or {MAX_HEADER_BYTES // 1024} "
                "KiB of headers; webhook answers must be smaller."
            )
            return AttemptOutcome(
                detail, error_code=FailureCode.TOO_LARGE, status_code=response.status_code
            )
        return AttemptOutcome(detail, status_code=response.status_code)

    def _timed_out(self, phase: str) -> AttemptOutcome:
        if phase == "resolving":
            detail = f"The DNS lookup took longer than {self.total_timeout:g} s."
            return AttemptOutcome(detail, error_code=FailureCode.DNS_FAILED)
        if phase == "connecting":
            detail = f"Could not connect within {self.total_timeout:g} s."
            return AttemptOutcome(detail, error_code=FailureCode.CONNECT_TIMEOUT)
        detail = f"No complete answer within {self.total_timeout:g} s."
        return AttemptOutcome(detail, error_code=FailureCode.TIMEOUT)


def _tracer(
    outgoing: httpx.Request, target: _Target, backend: PinnedBackend, progress: _Progress
) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    """httpcore's trace hook, turned into CONNECTED and REQUEST_SENT steps as they happen."""

    async def trace(event: str, info: dict[str, Any]) -> None:
        address = backend.connected_address
        if event == "connection.connect_tcp.started":
            progress.spans.start("connect", **{"server.port": target.port})
        elif event == "connection.connect_tcp.failed":
            progress.spans.end("connect")
        elif event == "http11.send_request_headers.started":
            progress.spans.start("send")
        if event == "connection.connect_tcp.complete":
            progress.spans.end("connect", **{"network.peer.address": address or ""})
            progress.phase = "connected"
            tls = " (TLS next, verified for the host name)" if target.https else ""
            detail = f"Connected to {address} port {target.port}{tls}."
            progress.put(StepReport(DeliveryStepKind.CONNECTED, detail=detail, address=address))
        elif event == "http11.send_request_body.complete":
            progress.put(
                StepReport(
                    DeliveryStepKind.REQUEST_SENT,
                    detail=f"{outgoing.method} {target.host} sent; waiting for the answer.",
                    address=address,
                    request={
                        "method": outgoing.method,
                        "url": str(outgoing.url),
                        "headers": header_pairs(outgoing.headers.raw),
                        "body": outgoing.content.decode("utf-8", "replace") or None,
                    },
                )
            )

    return trace
