"""Test deliveries and the steps they stream."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph.enums import DeliveryErrorCode, DeliveryStatus, DeliveryStepKind, WebhookEvent
from graph.relay import Node, to_global_id
from models.deliveries import TestDelivery as TestDeliveryRow
from resolvers.reads import test_delivery_by_id
from resolvers.rows import DeliveryStep as DeliveryStepRow
from signing.redact import redact_request


@strawberry.type(description="One HTTP header.")
class Header:
    name: str = strawberry.field(description="Header name.")
    value: str = strawberry.field(description="Header value (secrets are never shown).")


def _headers(pairs: list[list[str]] | None) -> list[Header]:
    return [Header(name=name, value=value) for name, value in pairs or []]


@strawberry.type(
    description="What a sent request's signature covered; the signature itself is never kept."
)
class DeliverySignature:
    scheme: str = strawberry.field(
        description="MESSAGES_JWT (Authorization: Bearer) or SMS_SIG (the `sig` parameter)."
    )
    claims: JSON | None = strawberry.field(
        description="MESSAGES_JWT: the token's decoded claims (iat, exp, iss, api_key, jti, "
        "payload_hash)."
    )
    signed_base: str | None = strawberry.field(
        description="SMS_SIG: the signature base string the `sig` was computed over."
    )

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DeliverySignature | None:
        if not data:
            return None
        return cls(
            scheme=data["scheme"], claims=data.get("claims"), signed_base=data.get("signedBase")
        )


@strawberry.type(description="The request a delivery attempt sent, its signature redacted.")
class DeliveryRequest:
    method: str = strawberry.field(description="HTTP method.")
    url: str = strawberry.field(
        description="Full URL, including any query parameters (an SMS `sig` shows as REDACTED)."
    )
    headers: list[Header] = strawberry.field(
        description="Request headers (a Bearer token shows as `Bearer REDACTED`)."
    )
    body: str | None = strawberry.field(
        description="Request body, if any (an SMS `sig` shows as REDACTED)."
    )
    signature: DeliverySignature | None = strawberry.field(
        description="What the redacted signature covered; null when the request was unsigned."
    )

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DeliveryRequest | None:
        if not data:
            return None
        if "signature" not in data:
            # Stored before signatures were redacted on the way in: redact on the way out.
            data = redact_request(data)
        return cls(
            method=data["method"],
            url=data["url"],
            headers=_headers(data.get("headers")),
            body=data.get("body"),
            signature=DeliverySignature.from_json(data.get("signature")),
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


def step_global_id(delivery_id: int, sequence: int) -> strawberry.ID:
    """A step is named by its delivery and its place in it: the stored and the live copy of
    one step (which carries no row ID) get the same ID, so a client cache holds it once."""
    return to_global_id("DeliveryStep", f"{delivery_id}.{sequence}")


def step_of(global_id: str) -> tuple[int, int] | None:
    """(delivery's primary key, sequence) from a step's global ID, or None."""
    try:
        text = base64.urlsafe_b64decode(global_id.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    type_name, _, key = text.partition(":")
    delivery, _, sequence = key.partition(".")
    if type_name != "DeliveryStep" or not delivery.isdigit() or not sequence.isdigit():
        return None
    if len(delivery) > 18 or len(sequence) > 9:
        return None
    return int(delivery), int(sequence)


@strawberry.type(description="One step of a test delivery, as it happened.")
class DeliveryStep(Node):
    row: strawberry.Private[DeliveryStepRow]
    delivery_id: strawberry.ID = strawberry.field(description="The delivery this belongs to.")
    sequence: int = strawberry.field(description="Order of the step within its delivery, from 1.")
    kind: DeliveryStepKind = strawberry.field(description="What happened.")
    at: datetime = strawberry.field(description="When it happened.")
    attempt: int | None = strawberry.field(description="Attempt number, from 1.")
    detail: str | None = strawberry.field(description="Human-readable detail.")
    address: str | None = strawberry.field(description="The IP address used or refused.")
    request: DeliveryRequest | None = strawberry.field(description="For REQUEST_SENT.")
    response: DeliveryResponse | None = strawberry.field(description="For RESPONSE.")
    error_code: DeliveryErrorCode | None = strawberry.field(
        description="Why the attempt or the delivery failed; null unless it did."
    )
    final: bool = strawberry.field(description="The last step: the stream ends after it.")
    status: DeliveryStatus = strawberry.field(description="The delivery's status after this step.")

    @strawberry.field(
        description="The delivery as stored when this step is read: on the final step it "
        "already shows the final status, finishedAt and errorCode."
    )
    async def delivery(self) -> TestDelivery:
        # Read fresh, never from a loader: a WebSocket keeps its context for every step, and
        # each step must show the delivery as that step left it.
        row = await test_delivery_by_id(self.row.delivery_id)
        if row is None:
            raise LookupError(f"test delivery {self.row.delivery_id} is gone")
        return TestDelivery.from_row(row)

    @classmethod
    def from_row(cls, row: DeliveryStepRow) -> DeliveryStep:
        return cls(
            row=row,
            id=step_global_id(row.delivery_id, row.sequence),
            delivery_id=to_global_id("TestDelivery", row.delivery_id),
            sequence=row.sequence,
            kind=DeliveryStepKind(row.kind.value),
            at=row.at,
            attempt=row.attempt,
            detail=row.detail,
            address=row.address,
            request=DeliveryRequest.from_json(row.request),
            response=DeliveryResponse.from_json(row.response),
            error_code=DeliveryErrorCode.of(row.error_code),
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
    error_code: DeliveryErrorCode | None = strawberry.field(
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
            error_code=DeliveryErrorCode.of(row.error_code),
        )
