"""The outbound sender against a real receiver on 127.0.0.1: pinning, vetting, limits, failures."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from models.enums import DeliveryStepKind as Kind
from resolvers.webhook_sender import AttemptOutcome, StepReport
from server.sender import SHOWN_BODY_BYTES, SHOWN_HEADER_BYTES, HttpxWebhookSender
from signing.payloads import WebhookRequest
from signing.ports import DEFAULT_PORT_RULE, PortRule
from tests.resolving import loopback_resolver
from tests.server.receiver import Answer, closed_port, full_backlog, receiver
from tests.server.tls_certs import TestCA

BODY = b'{"status":"delivered"}'


def post(url: str) -> WebhookRequest:
    return WebhookRequest(
        "POST",
        url,
        [("User-Agent", "Switchboard-Webhooks/1.0"), ("Content-Type", "application/json")],
        BODY,
    )


def static_resolver(table: dict[str, list[str]]) -> Callable[[str, int], Awaitable[list[str]]]:
    """A DNS stand-in that answers from a table and counts the questions."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return list(table[host])

    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


async def attempt(
    sender: HttpxWebhookSender, request: WebhookRequest, *, allow_private: bool = True
) -> tuple[AttemptOutcome, list[StepReport]]:
    steps: list[StepReport] = []

    async def report(reported: list[StepReport]) -> None:
        steps.extend(reported)

    outcome = await sender.attempt(request, allow_private=allow_private, report=report)
    return outcome, steps


def kinds(steps: list[StepReport]) -> list[Kind]:
    return [step.kind for step in steps]


async def test_success_reports_every_step_and_what_was_sent() -> None:
    async with receiver() as rx:
        outcome, steps = await attempt(
            HttpxWebhookSender(resolver=loopback_resolver), post(rx.url())
        )
    assert outcome == AttemptOutcome(outcome.detail, status_code=200)
    assert kinds(steps) == [Kind.RESOLVED, Kind.CONNECTED, Kind.REQUEST_SENT, Kind.RESPONSE]
    (received,) = rx.requests
    sent = steps[2].request
    assert sent is not None
    assert sent["method"] == "POST" and sent["url"] == rx.url()
    assert sent["body"] == BODY.decode() == received.body.decode()
    assert ["Host", f"127.0.0.1:{rx.port}"] in sent["headers"]
    assert received.header("Accept-Encoding") == "identity"
    assert steps[1].address == "127.0.0.1"
    response = steps[3].response
    assert response is not None
    assert response["statusCode"] == 200 and response["body"] == "ok"
    assert ["Content-Length", "2"] in response["headers"]
    assert response["durationMs"] >= 0


async def test_connection_is_pinned_to_the_vetted_address_and_keeps_the_host_name() -> None:
    # The name resolves once, to 127.0.0.1; a second lookup would get 127.0.0.2, where
    # nothing listens. Success proves the connection used the vetted answer.
    answers = iter([["127.0.0.1"], ["127.0.0.2"]])
    asked: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        asked.append(host)
        return next(answers)

    async with receiver() as rx:
        sender = HttpxWebhookSender(resolver=rebinding)
        outcome, steps = await attempt(sender, post(rx.url(host="webhook.test")))
    assert outcome.status_code == 200, outcome
    assert asked == ["webhook.test"]
    (received,) = rx.requests
    assert received.header("Host") == f"webhook.test:{rx.port}"
    assert steps[0].kind is Kind.RESOLVED and steps[0].address == "127.0.0.1"


async def test_every_resolved_address_is_vetted_before_any_connection() -> None:
    resolve = static_resolver({"mixed.test": ["93.184.215.14", "127.0.0.1"]})
    async with receiver() as rx:
        sender = HttpxWebhookSender(resolver=resolve)
        outcome, steps = await attempt(sender, post(rx.url(host="mixed.test")), allow_private=False)
    assert outcome.error_code == "BLOCKED_ADDRESS"
    assert kinds(steps) == [Kind.BLOCKED]
    assert steps[0].address == "127.0.0.1"
    assert "loopback" in (steps[0].detail or "")
    assert rx.requests == []


async def test_a_name_that_resolves_to_a_private_address_is_blocked() -> None:
    resolve = static_resolver({"rebind.test": ["127.0.0.1"]})
    async with receiver() as rx:
        sender = HttpxWebhookSender(resolver=resolve)
        outcome, steps = await attempt(
            sender, post(rx.url(host="rebind.test")), allow_private=False
        )
    assert outcome.error_code == "BLOCKED_ADDRESS"
    assert kinds(steps) == [Kind.BLOCKED]
    assert rx.requests == []


async def test_tls_uses_the_host_name_for_sni_and_the_certificate() -> None:
    ca = TestCA()
    names: list[str | None] = []
    resolve = static_resolver({"webhook.test": ["127.0.0.1"]})
    async with receiver(ssl_context=ca.server_context("webhook.test", names)) as rx:
        sender = HttpxWebhookSender(resolver=resolve, ssl_context=ca.client_context())
        outcome, _ = await attempt(sender, post(rx.url(host="webhook.test")))
    assert outcome.status_code == 200, outcome
    assert names == ["webhook.test"]
    assert rx.requests[0].header("Host") == f"webhook.test:{rx.port}"


async def test_a_certificate_for_another_name_is_a_tls_error() -> None:
    ca = TestCA()
    resolve = static_resolver({"webhook.test": ["127.0.0.1"]})
    async with receiver(ssl_context=ca.server_context("other.test", [])) as rx:
        sender = HttpxWebhookSender(resolver=resolve, ssl_context=ca.client_context())
        outcome, steps = await attempt(sender, post(rx.url(host="webhook.test")))
    assert outcome.error_code == "TLS_ERROR", outcome
    assert "webhook.test" in outcome.detail
    assert kinds(steps) == [Kind.RESOLVED, Kind.CONNECTED]
    assert rx.requests == []


async def test_an_answer_over_the_limit_is_too_large_and_shown_in_part() -> None:
    huge = Answer(body=b"x" * (100 * 1024))
    async with receiver(huge) as rx:
        outcome, steps = await attempt(
            HttpxWebhookSender(resolver=loopback_resolver), post(rx.url())
        )
    assert outcome.error_code == "TOO_LARGE" and outcome.status_code == 200
    response = steps[-1].response
    assert response is not None and len(response["body"]) == SHOWN_BODY_BYTES


async def test_an_answer_at_the_limit_is_read_whole() -> None:
    async with receiver(Answer(body=b"y" * 1000)) as rx:
        outcome, _ = await attempt(HttpxWebhookSender(max_response_bytes=1000), post(rx.url()))
    assert outcome.error_code is None and outcome.status_code == 200


async def test_redirects_are_reported_not_followed() -> None:
    async with receiver(Answer(302, b"", (("Location", "/elsewhere"),))) as rx:
        outcome, steps = await attempt(
            HttpxWebhookSender(resolver=loopback_resolver), post(rx.url())
        )
    assert outcome.status_code == 302
    assert len(rx.requests) == 1
    assert ["Location", "/elsewhere"] in (steps[-1].response or {})["headers"]


async def test_a_slow_receiver_times_out() -> None:
    async with receiver(Answer(gate=asyncio.Event())) as rx:
        outcome, steps = await attempt(HttpxWebhookSender(total_timeout=0.5), post(rx.url()))
    assert outcome.error_code == "TIMEOUT"
    assert kinds(steps) == [Kind.RESOLVED, Kind.CONNECTED, Kind.REQUEST_SENT]


async def test_a_refused_connection_is_connect_failed() -> None:
    url = f"http://127.0.0.1:{closed_port()}/hook"
    outcome, steps = await attempt(HttpxWebhookSender(resolver=loopback_resolver), post(url))
    assert outcome.error_code == "CONNECT_FAILED"
    assert kinds(steps) == [Kind.RESOLVED]


async def test_a_dropped_connection_is_connect_failed() -> None:
    async with receiver(Answer(drop=True)) as rx:
        outcome, _ = await attempt(HttpxWebhookSender(resolver=loopback_resolver), post(rx.url()))
    assert outcome.error_code == "CONNECT_FAILED"
    assert len(rx.requests) == 1


async def test_a_connection_that_never_completes_is_connect_timeout() -> None:
    with full_backlog() as port:
        sender = HttpxWebhookSender(connect_timeout=0.2)
        outcome, steps = await attempt(sender, post(f"http://127.0.0.1:{port}/hook"))
    assert outcome.error_code == "CONNECT_TIMEOUT", outcome
    assert kinds(steps) == [Kind.RESOLVED]


async def test_a_name_that_does_not_exist_is_dns_failed() -> None:
    # RFC 6761: .invalid never resolves; answered locally, no query leaves the machine.
    sender = HttpxWebhookSender(resolver=loopback_resolver)
    outcome, steps = await attempt(sender, post("http://switchboard-test.invalid/hook"))
    assert outcome.error_code == "DNS_FAILED"
    assert steps == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hook",
        "http://127.1:{port}/hook",
        "http://[::1]:{port}/hook",
        "http://localhost:{port}/hook",
        "http://0x7f000001:{port}/hook",
    ],
)
async def test_loopback_spellings_are_blocked_without_a_connection(url: str) -> None:
    async with receiver() as rx:
        outcome, steps = await attempt(
            HttpxWebhookSender(resolver=loopback_resolver),
            post(url.format(port=rx.port)),
            allow_private=False,
        )
    assert outcome.error_code == "BLOCKED_ADDRESS"
    assert kinds(steps) == [Kind.BLOCKED]
    assert rx.requests == []


async def test_private_targets_are_reachable_when_allowed() -> None:
    async with receiver() as rx:
        outcome, steps = await attempt(HttpxWebhookSender(), post(rx.url(host="localhost")))
    assert outcome.status_code == 200
    assert "Private targets are allowed" in (steps[0].detail or "")


@contextlib.asynccontextmanager
async def banner_server(banner: bytes) -> AsyncIterator[tuple[int, list[int]]]:
    """A non-HTTP service on 127.0.0.1 that greets every connection with `banner`."""
    connections: list[int] = []

    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        writer.write(banner)
        await writer.drain()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(reader.read(65536), 2)
            # What OpenSSH says to an HTTP request before hanging up.
            writer.write(b"Invalid SSH identification string.\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(greet, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], connections
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    "banner",
    [
        b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n\r\n",
        b"220 mail.internal ESMTP Postfix\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Internal-Token: hunter2-banner\r\nbroken header line\r\n\r\n",
    ],
)
async def test_failure_details_never_quote_what_the_peer_sent(banner: bytes) -> None:
    async with banner_server(banner) as (port, _):
        sender = HttpxWebhookSender(resolver=loopback_resolver)
        outcome, steps = await attempt(sender, post(f"http://127.0.0.1:{port}/hook"))
    assert outcome.error_code == "CONNECT_FAILED", outcome
    said = outcome.detail + " ".join(step.detail or "" for step in steps)
    for word in (b"SSH", b"Postfix", b"mail.internal", b"hunter2", b"broken", b"identification"):
        assert word.decode() not in said, said
    assert outcome.detail == (
        "The connection failed before a complete answer: the answer was not valid HTTP/1.1."
    )


async def test_a_port_outside_the_allowed_ones_is_refused_before_connecting() -> None:
    async with banner_server(b"SSH-2.0-OpenSSH_9.6\r\n") as (port, connections):
        resolve = static_resolver({"ssh.test": ["127.0.0.1"]})
        for rule in (
            PortRule(allowed=frozenset({80, 443})),
            PortRule(allowed=frozenset(range(1, 65536)), denied=frozenset({port})),
        ):
            sender = HttpxWebhookSender(resolver=resolve, port_rule=rule)
            outcome, steps = await attempt(sender, post(f"http://ssh.test:{port}/hook"))
            assert outcome.error_code == "BLOCKED_PORT"
            assert kinds(steps) == [Kind.BLOCKED]
            assert f"Port {port}" in outcome.detail
    assert connections == [] and resolve.asked == []  # type: ignore[attr-defined]


async def test_the_default_rule_lets_test_receivers_through() -> None:
    async with receiver() as rx:
        outcome, _ = await attempt(HttpxWebhookSender(resolver=loopback_resolver), post(rx.url()))
    assert outcome.status_code == 200 and rx.port not in DEFAULT_PORT_RULE.denied


async def test_an_idn_host_is_resolved_and_connected_by_the_name_in_the_url() -> None:
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    async with receiver() as rx:
        sender = HttpxWebhookSender(resolver=resolve)
        outcome, steps = await attempt(sender, post(rx.url(host="xn--fa-hia.test")))
    # IDNA 2003 maps faß to fass: looking the name up decoded would ask another host.
    assert asked == ["xn--fa-hia.test"]
    assert outcome.status_code == 200, outcome
    (received,) = rx.requests
    assert received.header("Host") == f"xn--fa-hia.test:{rx.port}"
    assert "xn--fa-hia.test resolved to 127.0.0.1" in (steps[0].detail or "")


async def test_response_headers_count_towards_the_limit_and_are_shown_in_part() -> None:
    padded = Answer(headers=tuple((f"X-Pad-{i}", "x" * 1000) for i in range(90)))
    async with receiver(padded) as rx:
        outcome, steps = await attempt(
            HttpxWebhookSender(resolver=loopback_resolver), post(rx.url())
        )
    assert outcome.error_code == "TOO_LARGE" and outcome.status_code == 200
    response = steps[-1].response
    assert response is not None
    shown = sum(len(name) + len(value) for name, value in response["headers"])
    assert 0 < shown <= SHOWN_HEADER_BYTES
    assert "headers" in (steps[-1].detail or "")


async def test_a_few_headers_are_shown_whole() -> None:
    async with receiver(Answer(headers=(("X-Trace", "abc"),))) as rx:
        outcome, steps = await attempt(
            HttpxWebhookSender(resolver=loopback_resolver), post(rx.url())
        )
    assert outcome.status_code == 200 and outcome.error_code is None
    assert ["X-Trace", "abc"] in (steps[-1].response or {})["headers"]
