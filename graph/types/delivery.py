"""Test deliveries and the steps they stream."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from graph.enums import DeliveryStatus, DeliveryStepKind, WebhookEvent
from graph.relay import Node, to_global_id
from models.deliveries import TestDelivery as TestDeliveryRow
from resolvers.rows import DeliveryStep as DeliveryStepRow


@strawberry.type(description="One HTTP header.")
class Header:
    name: str = strawberry.field(description="Header name.")
    value: str = strawberry.field(description="Header value (secrets are never shown).")


def _headers(pairs: list[list[str]] | None) -> list[Header]:
    return [Header(name=name, value=value) for name, value in pairs or []]


@strawberry.type(description="The request a delivery attempt sent.")
class DeliveryRequest:
    method: str = strawberry.field(description="HTTP method.")
    url: str = strawberry.field(description="Full URL, including any query parameters.")
    headers: list[Header] = strawberry.field(description="Request headers.")
    body: str | None = strawberry.field(description="Request body, if any.")

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DeliveryRequest | None:
        if not data:
            return None
        return cls(
            method=data["method"],
            url=data["url"],
            headers=_headers(data.get("headers")),
            body=data.get("body"),
        )


@strawberry.type(description="What the receiver answered.")
class DeliveryResponse:
    status_code: int = strawberry.field(description="HTTP status code.")
    headers: list[Header] = strawberry.field(description="Response headers.")
    body: str | None = strawberry.field(description="The first 4 KiB of the body.")
    duration_ms: float = strawberry.field(description="Time from sending to the full answer.")

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DeliveryResponse | None:
        if not data:
            return None
        return cls(
            status_code=data["statusCode"],
            headers=_headers(data.get("headers")),
            body=data.get("body"),
            duration_ms=data["durationMs"],
        )


@strawberry.type(description="One step of a test delivery, as it happened.")
class DeliveryStep:
    delivery_id: strawberry.ID = strawberry.field(description="The delivery this belongs to.")
    sequence: int = strawberry.field(description="Order of the step within its delivery, from 1.")
    kind: DeliveryStepKind = strawberry.field(description="What happened.")
    at: datetime = strawberry.field(description="When it happened.")
    attempt: int | None = strawberry.field(description="Attempt number, from 1.")
    detail: str | None = strawberry.field(description="Human-readable detail.")
    address: str | None = strawberry.field(description="The IP address used or refused.")
    request: DeliveryRequest | None = strawberry.field(description="For REQUEST_SENT.")
    response: DeliveryResponse | None = strawberry.field(description="For RESPONSE.")
    error_code: str | None = strawberry.field(
        description="Why it failed: DNS_FAILED, BLOCKED_ADDRESS, CONNECT_TIMEOUT, CONNECT_FAILED, "
        "TLS_ERROR, TIMEOUT, HTTP_STATUS, TOO_LARGE, NO_URL, REDIRECT (3xx answers are not "
        "followed), INVALID_URL, INTERRUPTED (the server stopped before the request went "
        "out: nothing was sent), OUTCOME_UNKNOWN (the server stopped or died after the request "
        "may have gone out and before its answer: the receiver may have it, so a redeliver "
        "may be a duplicate), INTERNAL."
    )
    final: bool = strawberry.field(description="The last step: the stream ends after it.")
    status: DeliveryStatus = strawberry.field(description="The delivery's status after this step.")

    @classmethod
    def from_row(cls, row: DeliveryStepRow) -> DeliveryStep:
        return cls(
            delivery_id=to_global_id("TestDelivery", row.delivery_id),
            sequence=row.sequence,
            kind=DeliveryStepKind(row.kind.value),
            at=row.at,
            attempt=row.attempt,
            detail=row.detail,
            address=row.address,
            request=DeliveryRequest.from_json(row.request),
            response=DeliveryResponse.from_json(row.response),
            error_code=row.error_code,
            final=row.final,
            status=DeliveryStatus(row.status.value),
        )


@strawberry.type(description="A sample webhook sent on request, with every step recorded.")
class TestDelivery(Node):
    row: strawberry.Private[TestDeliveryRow]
    event: WebhookEvent = strawberry.field(description="The kind of webhook sent.")
    url: str = strawberry.field(description="Where it was sent.")
    status: DeliveryStatus = strawberry.field(description="Where it stands.")
    created_at: datetime = strawberry.field(description="When it was requested.")
    finished_at: datetime | None = strawberry.field(description="When it succeeded or failed.")
    error_code: str | None = strawberry.field(
        description="Why it failed (the final step's errorCode); null unless FAILED."
    )

    @strawberry.field(description="Every step, in order.")
    async def steps(self, info: Info) -> list[DeliveryStep]:
        rows = await info.context.loaders.steps.load(self.row.id)
        return [DeliveryStep.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: TestDeliveryRow) -> TestDelivery:
        return cls(
            row=row,
            id=to_global_id("TestDelivery", row.id),
            event=WebhookEvent(row.event.value),
            url=row.url,
            status=DeliveryStatus(row.status.value),
            created_at=row.created_at,
            finished_at=row.finished_at,
            error_code=row.error_code,
        )
