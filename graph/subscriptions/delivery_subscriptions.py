"""Test deliveries streamed step by step: start one and watch it, or follow one already started."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from graph.context import principal_of
from graph.relay import pk_of
from graph.subscriptions.settings_subscriptions import SOCKET_CREDENTIALS
from graph.types.delivery import DeliveryStep
from graph.types.test_webhook_input import TestWebhookFields
from resolvers import deliveries
from resolvers.errors import DomainError
from resolvers.rows import DeliveryStep as DeliveryStepRow


@strawberry.input(description="Which sample webhook to send, and where.")
class TestWebhookInput(TestWebhookFields):
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Any string of yours (1 to 255 characters), e.g. a UUID per click. Within 24 "
        "hours the same key on the same API key follows the delivery it first started instead "
        "of sending another webhook (whatever the rest of the input says), so a reconnect or a "
        "re-subscribe does not send twice.",
    )


async def _as_steps(
    rows: AsyncGenerator[DeliveryStepRow, None],
) -> AsyncGenerator[DeliveryStep, None]:
    """Graph steps from resolver rows; a refusal becomes an error with its code and field."""
    async with contextlib.aclosing(rows) as steps:
        try:
            async for row in steps:
                yield DeliveryStep.from_row(row)
        except DomainError as error:
            field = ["input", *error.field] if error.field else None
            raise GraphQLError(
                error.message, extensions={"code": error.code.value, "field": field}
            ) from None


@strawberry.type
class DeliverySubscriptions:
    @strawberry.subscription(
        description="Send a sample webhook and stream every step until the final one "
        "(SUCCEEDED or FAILED). ADMIN only. The delivery goes on if you unsubscribe; follow "
        "it again with `deliverySteps`. Every subscribe sends a webhook unless you pass an "
        "`idempotencyKey`; a page should rather start one with the `testDeliveryStart` "
        "mutation and follow `deliverySteps`. Refusals are errors with extensions.code: "
        "NOT_FOUND, FORBIDDEN, INVALID_URL, INVALID_INPUT or RATE_LIMITED (too many in flight). "
        "A delivery already running finishes even if its socket is closed (4401). "
        + SOCKET_CREDENTIALS
    )
    async def test_webhook(
        self,
        info: Info,
        input: Annotated[TestWebhookInput, strawberry.argument(description="What to send.")],
    ) -> AsyncGenerator[DeliveryStep, None]:
        rows = deliveries.send_test_webhook(
            deps=info.context.deps,
            principal=principal_of(info),
            **input.sample(input.idempotency_key),
        )
        async for step in _as_steps(rows):
            yield step

    @strawberry.subscription(
        description="Every step of a test delivery: the stored ones first, then live ones "
        "as they happen, each once and in order, ending after the final step. " + SOCKET_CREDENTIALS
    )
    async def delivery_steps(
        self,
        info: Info,
        delivery_id: Annotated[
            strawberry.ID, strawberry.argument(description="The TestDelivery's global ID.")
        ],
    ) -> AsyncGenerator[DeliveryStep, None]:
        rows = deliveries.delivery_steps(
            deps=info.context.deps,
            principal=principal_of(info),
            delivery_id=pk_of(delivery_id, "TestDelivery"),
        )
        async for step in _as_steps(rows):
            yield step
