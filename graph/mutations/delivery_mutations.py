"""Test delivery actions: starting one, and redelivering a stored one."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from graph.context import principal_of
from graph.errors import UserError, user_errors
from graph.relay import Edge, edge_of, pk_of
from graph.types.delivery import TestDelivery
from graph.types.test_webhook_input import TestWebhookFields
from models.deliveries import TestDelivery as TestDeliveryRow
from resolvers import deliveries
from resolvers.errors import DomainError

_USER_ERRORS = "Why nothing was sent; empty on success."


@strawberry.input(description="Which sample webhook to send, and where.")
class TestDeliveryStartInput(TestWebhookFields):
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Any string of yours (1 to 255 characters), e.g. a UUID per click. Within 24 "
        "hours the same key on the same API key returns the delivery it first started instead "
        "of sending another webhook (whatever the rest of the input says), so a retried "
        "request does not send twice.",
    )


@strawberry.type(description="The started delivery, already running: follow it with deliverySteps.")
class TestDeliveryStartPayload:
    delivery: TestDelivery | None = strawberry.field(
        description="The delivery (PENDING when new); null when nothing was sent."
    )
    delivery_edge: Edge[TestDelivery] | None = strawberry.field(
        description="The delivery as an edge of `ApiKey.testDeliveries`, to prepend to a cached "
        "list."
    )
    user_errors: list[UserError] = strawberry.field(description=_USER_ERRORS)


@strawberry.input(description="Which test delivery to send again.")
class TestDeliveryRedeliverInput:
    delivery_id: strawberry.ID = strawberry.field(description="The TestDelivery to send again.")


@strawberry.type(description="The new delivery, already running: follow it with deliverySteps.")
class TestDeliveryRedeliverPayload:
    delivery: TestDelivery | None = strawberry.field(
        description="The new delivery (PENDING), with a fresh payload and signature."
    )
    delivery_edge: Edge[TestDelivery] | None = strawberry.field(
        default=None,
        description="The new delivery as an edge of `ApiKey.testDeliveries`, to prepend to a "
        "cached list.",
    )
    user_errors: list[UserError] = strawberry.field(description=_USER_ERRORS)


def _delivery_and_edge(row: TestDeliveryRow) -> tuple[TestDelivery, Edge[TestDelivery]]:
    delivery = TestDelivery.from_row(row)
    return delivery, edge_of(delivery, row.id)


@strawberry.type
class DeliveryMutations:
    @strawberry.mutation(
        description="Send a sample webhook of a key's settings (or to a one-off URL). ADMIN "
        "only. Returns at once with the delivery; its steps stream on `deliverySteps`, which "
        "a page may (re)subscribe to as often as it likes without sending again. Refusals: "
        "NOT_FOUND, FORBIDDEN, INVALID_URL, INVALID_INPUT, RATE_LIMITED (too many in flight)."
    )
    async def test_delivery_start(
        self,
        info: Info,
        input: Annotated[TestDeliveryStartInput, strawberry.argument(description="What to send.")],
    ) -> TestDeliveryStartPayload:
        deps = info.context.deps
        try:
            started = await deliveries.begin_test_delivery(
                deps=deps,
                principal=principal_of(info),
                **input.sample(input.idempotency_key),
            )
        except DomainError as error:
            return TestDeliveryStartPayload(
                delivery=None, delivery_edge=None, user_errors=user_errors(error)
            )
        if started.is_new:
            deliveries.launch_delivery(deps, started.delivery)
        delivery, edge = _delivery_and_edge(started.delivery)
        return TestDeliveryStartPayload(delivery=delivery, delivery_edge=edge, user_errors=[])

    @strawberry.mutation(
        description="Send a stored test delivery's event again, on the same channel and to the "
        "same URL, as a new delivery with a fresh timestamp and signature. ADMIN only. Returns "
        "at once; the steps stream on `deliverySteps`."
    )
    async def test_delivery_redeliver(
        self,
        info: Info,
        input: Annotated[
            TestDeliveryRedeliverInput, strawberry.argument(description="What to resend.")
        ],
    ) -> TestDeliveryRedeliverPayload:
        try:
            row = await deliveries.redeliver(
                deps=info.context.deps,
                principal=principal_of(info),
                delivery_id=pk_of(input.delivery_id, "TestDelivery"),
            )
        except DomainError as error:
            return TestDeliveryRedeliverPayload(delivery=None, user_errors=user_errors(error))
        delivery, edge = _delivery_and_edge(row)
        return TestDeliveryRedeliverPayload(delivery=delivery, delivery_edge=edge, user_errors=[])
