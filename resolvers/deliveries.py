"""Test deliveries: starting one under its rules, redelivering it, and following its steps."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

from tortoise.transactions import in_transaction

from models.account import Account
from models.credentials import ApiKey
from models.deliveries import DeliveryStep, TestDelivery
from models.enums import DeliveryStatus, WebhookEvent
from models.webhooks import MessagingConfig, Number
from resolvers import reads
from resolvers.delivery_run import (
    STALE_AFTER,
    close_if_abandoned,
    run_delivery,
    step_from_message,
)
from resolvers.deps import Deps
from resolvers.effective import effective_webhook
from resolvers.errors import DomainError, ErrorCode, forbidden, not_found
from resolvers.events import delivery_channel
from resolvers.principal import Principal
from signing.urls import UrlRuleError, check_webhook_url

# How long a follower waits for a live step before it re-reads the stored ones, so a lost
# broker message (or a publisher that failed to publish) delays it rather than stalls it.
FOLLOW_RECHECK_SECONDS = 5.0


async def start_test_delivery(
    *,
    deps: Deps,
    principal: Principal,
    api_key_id: int | None,
    event: WebhookEvent,
    number_id: int | None = None,
    url: str | None = None,
) -> TestDelivery:
    """A new PENDING delivery of a sample `event`, checked and counted but not yet running."""
    _require_sending(deps, principal)
    key = None
    if api_key_id is not None:
        key = await reads.api_key_by_id(principal=principal, api_key_id=api_key_id)
    if key is None:
        raise not_found(["apiKeyId"], "API key")
    number = await _number_of_key(principal, key, number_id)
    if url is not None and url.strip():
        target = _one_off_url(url)
    else:
        config = await MessagingConfig.get(api_key_id=key.id)
        target = effective_webhook(config, event, number).url or ""
    return await _create_pending(deps, key, event, number, target)


async def send_test_webhook(
    *,
    deps: Deps,
    principal: Principal,
    api_key_id: int | None,
    event: WebhookEvent,
    number_id: int | None = None,
    url: str | None = None,
) -> AsyncGenerator[DeliveryStep, None]:
    """Start a test delivery and stream its steps, ending after the final one.

    The delivery runs on its own: a follower that goes away leaves it to finish and be stored.
    """
    delivery = await start_test_delivery(
        deps=deps,
        principal=principal,
        api_key_id=api_key_id,
        event=event,
        number_id=number_id,
        url=url,
    )
    launched = False

    def launch() -> None:
        nonlocal launched
        launched = True
        launch_delivery(deps, delivery.id)

    try:
        async for step in _follow(deps, delivery.id, on_subscribed=launch):
            yield step
    finally:
        if not launched:
            launch_delivery(deps, delivery.id)


async def redeliver(*, deps: Deps, principal: Principal, delivery_id: int | None) -> TestDelivery:
    """Send a stored delivery's event again, to the same URL, as a new running delivery."""
    _require_sending(deps, principal)
    original = await _owned_delivery(principal, delivery_id, ["deliveryId"])
    key = await ApiKey.get(id=original.api_key_id)
    number = await Number.get_or_none(id=original.number_id) if original.number_id else None
    target = original.url
    if not target:
        # It had nowhere to go; the settings may have been fixed since.
        config = await MessagingConfig.get(api_key_id=key.id)
        target = effective_webhook(config, original.event, number).url or ""
    delivery = await _create_pending(deps, key, original.event, number, target)
    launch_delivery(deps, delivery.id)
    return delivery


async def delivery_steps(
    *, deps: Deps, principal: Principal, delivery_id: int | None
) -> AsyncGenerator[DeliveryStep, None]:
    """Every stored step of a delivery, then its live ones, ending after the final step."""
    delivery = await _owned_delivery(principal, delivery_id, ["deliveryId"])
    async for step in _follow(deps, delivery.id):
        yield step


def launch_delivery(deps: Deps, delivery_id: int) -> None:
    """Hand a PENDING delivery to the server's task runner, which outlives any request."""
    if deps.delivery_tasks is None:
        raise RuntimeError("no delivery task runner is configured")
    deps.delivery_tasks.spawn(
        run_delivery(deps=deps, delivery_id=delivery_id), name=f"test-delivery-{delivery_id}"
    )


def _require_sending(deps: Deps, principal: Principal) -> None:
    if deps.webhook_sender is None or deps.delivery_tasks is None:
        raise RuntimeError("this process is not set up to send test deliveries")
    # Sending is an action with effects outside Switchboard; VIEWER only reads.
    if not principal.is_admin:
        raise forbidden()


async def _owned_delivery(
    principal: Principal, delivery_id: int | None, field: list[str]
) -> TestDelivery:
    row = None
    if delivery_id is not None:
        row = await reads.get_owned(principal=principal, model=TestDelivery, pk=delivery_id)
    if row is None:
        raise not_found(field, "test delivery")
    assert isinstance(row, TestDelivery)
    return row


async def _number_of_key(principal: Principal, key: ApiKey, number_id: int | None) -> Number | None:
    if number_id is None:
        return None
    number = await reads.get_owned(principal=principal, model=Number, pk=number_id)
    if number is None:
        raise not_found(["numberId"], "number")
    assert isinstance(number, Number)
    if number.api_key_id != key.id:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "This number is linked to another API key; test it with that key.",
            ["numberId"],
        )
    return number


def _one_off_url(url: str) -> str:
    """The normalised URL, or its syntax error. Whether its address may be reached is decided
    by the sender after DNS, and shown as a BLOCKED step, so one rule covers every address."""
    try:
        return check_webhook_url(url.strip(), allow_private=True)
    except UrlRuleError as error:
        raise DomainError(ErrorCode(error.code), error.message, ["url"]) from None


async def _create_pending(
    deps: Deps, key: ApiKey, event: WebhookEvent, number: Number | None, url: str
) -> TestDelivery:
    """Count the account's deliveries in flight and add one, or refuse with RATE_LIMITED.

    The count lives in the database, so the limit holds across replicas: the account row is
    locked for the count and the insert (PostgreSQL; SQLite runs one transaction at a time).
    """
    async with in_transaction():
        await Account.select_for_update().filter(id=key.account_id).first()
        in_flight = await TestDelivery.filter(
            account_id=key.account_id,
            status=DeliveryStatus.PENDING,
            # A row a dead process left PENDING must not hold the limit forever.
            created_at__gte=deps.clock() - STALE_AFTER,
        ).count()
        if in_flight >= deps.max_deliveries_in_flight:
            raise DomainError(
                ErrorCode.RATE_LIMITED,
                f"This account already has {in_flight} test deliveries in flight (the limit is "
                f"{deps.max_deliveries_in_flight}); wait for one to finish.",
            )
        return await TestDelivery.create(
            account_id=key.account_id,
            api_key_id=key.id,
            number_id=number.id if number else None,
            event=event,
            url=url,
        )


async def _follow(
    deps: Deps, delivery_id: int, on_subscribed: Callable[[], None] | None = None
) -> AsyncGenerator[DeliveryStep, None]:
    """Stored steps then live ones, in order, each once, until the final step.

    Subscribing before reading means a step stored meanwhile arrives live as well: the
    sequence number drops the copy. A gap in the live sequence sends it back to the store.
    """
    async with deps.broker.subscribe(delivery_channel(delivery_id)) as live:
        if on_subscribed is not None:
            on_subscribed()
        seen = 0
        waiting: asyncio.Task[dict[str, Any]] | None = None
        try:
            while True:
                for step in await DeliveryStep.filter(
                    delivery_id=delivery_id, sequence__gt=seen
                ).order_by("sequence"):
                    yield step
                    seen = step.sequence
                    if step.final:
                        return
                while True:
                    if waiting is None:
                        waiting = asyncio.create_task(_next_message(live))
                    done, _ = await asyncio.wait({waiting}, timeout=FOLLOW_RECHECK_SECONDS)
                    if not done:
                        await close_if_abandoned(deps=deps, delivery_id=delivery_id)
                        break
                    step = step_from_message(waiting.result())
                    waiting = None
                    if step.sequence <= seen:
                        continue
                    if step.sequence > seen + 1:
                        break
                    yield step
                    seen = step.sequence
                    if step.final:
                        return
        finally:
            if waiting is not None:
                waiting.cancel()
                with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                    await waiting


async def _next_message(live: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
    try:
        return await anext(live)
    except StopAsyncIteration:
        raise RuntimeError("the event broker closed the delivery's channel") from None
