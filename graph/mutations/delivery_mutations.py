"""Test delivery actions: redelivering a stored delivery."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from graph.context import principal_of
from graph.errors import UserError, user_errors
from graph.relay import pk_of
from graph.types.delivery import TestDelivery
from resolvers import deliveries
from resolvers.errors import DomainError


@strawberry.input(description="Which test delivery to send again.")
class TestDeliveryRedeliverInput:
    delivery_id: strawberry.ID = strawberry.field(description="The TestDelivery to send again.")


@strawberry.type(description="The new delivery, already running: follow it with deliverySteps.")
class TestDeliveryRedeliverPayload:
    delivery: TestDelivery | None = strawberry.field(
        description="The new delivery (PENDING), with a fresh payload and signature."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was sent.")


@strawberry.type
class DeliveryMutations:
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
        return TestDeliveryRedeliverPayload(delivery=TestDelivery.from_row(row), user_errors=[])
