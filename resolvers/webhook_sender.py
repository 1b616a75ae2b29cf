"""What test deliveries need from the server: an outbound webhook sender and a task runner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from models.enums import DeliveryStepKind
from signing.payloads import WebhookRequest


class FailureCode:
    """Why an attempt or a delivery failed, as shown in `DeliveryStep.errorCode`."""

    NO_URL = "NO_URL"
    DNS_FAILED = "DNS_FAILED"
    BLOCKED_ADDRESS = "BLOCKED_ADDRESS"
    BLOCKED_PORT = "BLOCKED_PORT"
    CONNECT_TIMEOUT = "CONNECT_TIMEOUT"
    CONNECT_FAILED = "CONNECT_FAILED"
    TLS_ERROR = "TLS_ERROR"
    TIMEOUT = "TIMEOUT"
    HTTP_STATUS = "HTTP_STATUS"
    REDIRECT = "REDIRECT"
    TOO_LARGE = "TOO_LARGE"
    INTERRUPTED = "INTERRUPTED"
    # The server stopped (or died) after the request may have gone out, before its answer.
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"
    INTERNAL = "INTERNAL"


@dataclass(frozen=True)
class StepReport:
    """One thing that happened during an attempt, as the sender saw it.

    `request` is {method, url, headers: [[name, value]], body}; `response` is
    {statusCode, headers, body, durationMs} — the shapes stored on a DeliveryStep.
    """

    kind: DeliveryStepKind
    detail: str | None = None
    address: str | None = None
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None


# Called with the steps that happened since its last call, in order: under load several
# arrive together, and are stored together.
StepCallback = Callable[[list[StepReport]], Awaitable[None]]


@dataclass(frozen=True)
class AttemptOutcome:
    """How one attempt ended: a transport failure code, or the receiver's status code.

    `error_code` is set when no usable answer came (DNS_FAILED, BLOCKED_ADDRESS, BLOCKED_PORT,
    CONNECT_TIMEOUT, CONNECT_FAILED, TLS_ERROR, TIMEOUT, or TOO_LARGE with the status).
    Whether a status code counts as success is the caller's rule, not the sender's.
    """

    detail: str
    error_code: str | None = None
    status_code: int | None = None


class WebhookSender(Protocol):
    """Sends one attempt of a webhook, reporting each step through `report` as it happens."""

    async def attempt(
        self, request: WebhookRequest, *, allow_private: bool, report: StepCallback
    ) -> AttemptOutcome: ...


class TaskRunner(Protocol):
    """Runs work that must outlive the request that started it, and is stopped on shutdown."""

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None: ...
