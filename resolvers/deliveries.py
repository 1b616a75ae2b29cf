"""Test deliveries: starting one under its rules, redelivering it, and following its steps."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from models.credentials import ApiKey
from models.deliveries import TestDelivery
from models.enums import DeliveryStatus, DeliveryStepKind, MessagesChannel, WebhookEvent
from models.webhooks import MessagingConfig, Number
from resolvers import reads, rows
from resolvers.delivery_run import close_if_abandoned, run_delivery, step_from_message
from resolvers.delivery_starts import PendingStart
from resolvers.deps import Deps, is_events_missed
from resolvers.effective import SMS_EVENTS, effective_webhook
from resolvers.errors import DomainError, ErrorCode, forbidden, not_found
from resolvers.events import delivery_channel
from resolvers.principal import Principal
from resolvers.rows import DeliveryStep
from signing.urls import UrlRuleError, check_webhook_url

# How long an idempotency key names its delivery; after that the same key starts a new one.
IDEMPOTENCY_WINDOW = timedelta(hours=24)
IDEMPOTENCY_KEY_MAX = 255
# How long a follower waits for a live step before it re-reads the stored ones, so a lost
# broker message (or a publisher that failed to publish) delays it rather than stalls it.
FOLLOW_RECHECK_SECONDS = 5.0


@dataclass(frozen=True)
class Started:
    delivery: TestDelivery
    # False when the idempotency key named a delivery started earlier: nothing new to launch.
    is_new: bool
    # A new delivery's STARTED step, stored with it (None for one started earlier).
    first_step: DeliveryStep | None = None


async def begin_test_delivery(
    *,
    deps: Deps,
    principal: Principal,
    api_key_id: int | None,
    event: WebhookEvent,
    number_id: int | None = None,
    url: str | None = None,
    channel: MessagesChannel | None = None,
    idempotency_key: str | None = None,
) -> Started:
    """A new PENDING delivery (not yet running), or the one `idempotency_key` already names
    for this key within IDEMPOTENCY_WINDOW, whatever the rest of the input says."""
    _require_sending(deps, principal)
    stored_channel = _channel_of(event, channel)
    token = _clean_idempotency_key(idempotency_key)
    found = None
    if api_key_id is not None:
        # Read afresh, once for every start of the same key asked meanwhile (a burst).
        scope = ("key-messaging", principal.account_id, principal.api_key_id, api_key_id)
        found = await deps.coalesced.read(
            scope, lambda: reads.api_key_with_messaging(principal=principal, api_key_id=api_key_id)
        )
    if found is None:
        raise not_found(["apiKeyId"], "API key")
    if token is not None and (earlier := await _by_idempotency_key(deps, found.key.id, token)):
        return Started(earlier, is_new=False)
    number = await _number_of_key(principal, found.key, number_id)
    if url is not None and url.strip():
        target = _one_off_url(url)
    else:
        target = effective_webhook(found.messaging, event, number).url or ""
    try:
        delivery, first_step = await _create_pending(
            deps, found.key, event, number, target, stored_channel, token
        )
    except IntegrityError:
        # Another request (perhaps on another replica) started one with this key meanwhile.
        earlier = await _by_idempotency_key(deps, found.key.id, token) if token else None
        if earlier is None:
            raise
        return Started(earlier, is_new=False)
    return Started(delivery, is_new=True, first_step=first_step)


def _clean_idempotency_key(token: str | None) -> str | None:
    if token is None:
        return None
    if not 1 <= len(token) <= IDEMPOTENCY_KEY_MAX or not token.isprintable():
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"idempotencyKey must be 1 to {IDEMPOTENCY_KEY_MAX} printable characters.",
            ["idempotencyKey"],
        )
    return token


async def _by_idempotency_key(deps: Deps, api_key_id: int, token: str) -> TestDelivery | None:
    """The delivery `token` names for this key, if still within its window. An older one lets
    go of the key (the column is unique), so the caller starts a new delivery."""
    earlier = await TestDelivery.get_or_none(api_key_id=api_key_id, idempotency_key=token)
    if earlier is None or earlier.created_at >= deps.clock() - IDEMPOTENCY_WINDOW:
        return earlier
    await TestDelivery.filter(id=earlier.id).update(idempotency_key=None)
    return None


async def send_test_webhook(
    *,
    deps: Deps,
    principal: Principal,
    api_key_id: int | None,
    event: WebhookEvent,
    number_id: int | None = None,
    url: str | None = None,
    channel: MessagesChannel | None = None,
    idempotency_key: str | None = None,
) -> AsyncGenerator[DeliveryStep, None]:
    """Start a test delivery and stream its steps, ending after the final one; with an
    `idempotency_key` already used, follow that delivery instead of starting another.

    The delivery runs on its own: a follower that goes away leaves it to finish and be stored.
    """
    steps: AsyncGenerator[DeliveryStep, None] | None = None
    try:
        async with deps.delivery_starts.starting():
            started = await begin_test_delivery(
                deps=deps,
                principal=principal,
                api_key_id=api_key_id,
                event=event,
                number_id=number_id,
                url=url,
                channel=channel,
                idempotency_key=idempotency_key,
            )
            steps = _started_steps(deps, started)
            # In progress until the first step is shown (the subscriber asked for the next).
            first = await anext(steps, None)
            if first is None:
                return
            yield first
        async for step in steps:
            yield step
    finally:
        if steps is not None:
            await steps.aclose()


async def _started_steps(deps: Deps, started: Started) -> AsyncGenerator[DeliveryStep, None]:
    """The steps of a delivery just begun (launching it once subscribed to its channel), or
    of the one its idempotency key named."""
    delivery = started.delivery
    if not started.is_new:
        async for step in _follow(deps, delivery.id):
            yield step
        return
    launched = False

    def launch() -> None:
        nonlocal launched
        launched = True
        launch_delivery(deps, delivery)

    try:
        async for step in _follow(
            deps, delivery.id, on_subscribed=launch, first_step=started.first_step
        ):
            yield step
    finally:
        if not launched:
            launch_delivery(deps, delivery)


async def redeliver(*, deps: Deps, principal: Principal, delivery_id: int | None) -> TestDelivery:
    """Send a stored delivery's event again (same channel, same URL) as a new running delivery."""
    _require_sending(deps, principal)
    original = await _owned_delivery(principal, delivery_id, ["deliveryId"])
    key = await ApiKey.get(id=original.api_key_id)
    number = await Number.get_or_none(id=original.number_id) if original.number_id else None
    target = original.url
    if not target:
        # It had nowhere to go; the settings may have been fixed since.
        config = await MessagingConfig.get(api_key_id=key.id)
        target = effective_webhook(config, original.event, number).url or ""
    # A Messages API delivery stored before channels existed was an SMS-channel one.
    channel = _channel_of(original.event, original.channel)
    delivery, _started = await _create_pending(deps, key, original.event, number, target, channel)
    launch_delivery(deps, delivery)
    return delivery


async def delivery_steps(
    *, deps: Deps, principal: Principal, delivery_id: int | None
) -> AsyncGenerator[DeliveryStep, None]:
    """Every stored step of a delivery, then its live ones, ending after the final step."""
    delivery = await _owned_delivery(principal, delivery_id, ["deliveryId"])
    async for step in _follow(deps, delivery.id):
        yield step


def launch_delivery(deps: Deps, delivery: TestDelivery) -> None:
    """Hand a PENDING delivery to the server's task runner, which outlives any request."""
    if deps.delivery_tasks is None:
        raise RuntimeError("no delivery task runner is configured")
    deps.delivery_tasks.spawn(
        run_delivery(deps=deps, delivery=delivery), name=f"test-delivery-{delivery.id}"
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


async def _number_of_key(
    principal: Principal, key: ApiKey | rows.ApiKey, number_id: int | None
) -> Number | None:
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


def _channel_of(event: WebhookEvent, channel: MessagesChannel | None) -> MessagesChannel | None:
    """The channel to store: SMS by default for Messages API events, none for SMS API ones."""
    if event not in SMS_EVENTS:
        return channel or MessagesChannel.SMS
    if channel not in (None, MessagesChannel.SMS):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"{event.value} is an SMS API webhook, which has no channel; a channel applies "
            "only to MESSAGE_STATUS and INBOUND_MESSAGE.",
            ["channel"],
        )
    return None


def _one_off_url(url: str) -> str:
    """The normalised URL, or its syntax error. Whether its address may be reached is decided
    by the sender after DNS, and shown as a BLOCKED step, so one rule covers every address."""
    try:
        return check_webhook_url(url.strip(), allow_private=True)
    except UrlRuleError as error:
        raise DomainError(ErrorCode(error.code), error.message, ["url"]) from None


async def _create_pending(
    deps: Deps,
    key: ApiKey | rows.ApiKey,
    event: WebhookEvent,
    number: Number | None,
    url: str,
    channel: MessagesChannel | None = None,
    idempotency_key: str | None = None,
) -> tuple[TestDelivery, DeliveryStep]:
    """Add a PENDING delivery with its STARTED step if the account has fewer than its limit
    in flight, or refuse with RATE_LIMITED.

    The count lives in the database, so the limit holds across replicas; starts are written
    a batch at a time (resolvers/delivery_starts.py), counted per account under its lock.
    """
    now = deps.clock()
    delivery = TestDelivery(
        account_id=key.account_id,
        api_key_id=key.id,
        number_id=number.id if number else None,
        event=event,
        channel=channel,
        url=url,
        status=DeliveryStatus.PENDING,
        created_at=now,
        idempotency_key=idempotency_key,
    )
    detail = f"Test {event.value} webhook of key {key.key}"
    if number is not None:
        detail += f" for number {number.msisdn}"
    start = PendingStart(
        account_id=key.account_id,
        values=[
            key.account_id,
            key.id,
            delivery.number_id,
            event.value,
            channel.value if channel is not None else None,
            url,
            DeliveryStatus.PENDING.value,
            now,
            idempotency_key,
            deps.delivery_leases.owner,
            deps.delivery_leases.expiry(now),
        ],
        started=DeliveryStep(
            delivery_id=0,
            sequence=1,
            kind=DeliveryStepKind.STARTED,
            at=now,
            status=DeliveryStatus.PENDING,
            detail=f"{detail}.",
        ),
        limit=deps.max_deliveries_in_flight,
    )
    started = await deps.delivery_starts.begin(start)
    if started is None:
        raise DomainError(
            ErrorCode.RATE_LIMITED,
            f"This account already has {deps.max_deliveries_in_flight} test deliveries in "
            "flight, its limit; wait for one to finish.",
        )
    delivery.id = started.delivery_id
    # Written by the statement above, not by the ORM: tell the model, so it can be refreshed.
    delivery._saved_in_db = True
    return delivery, started


async def _follow(
    deps: Deps,
    delivery_id: int,
    on_subscribed: Callable[[], None] | None = None,
    first_step: DeliveryStep | None = None,
) -> AsyncGenerator[DeliveryStep, None]:
    """Stored steps then live ones, in order, each once, until the final step.

    Subscribing before reading means a step stored meanwhile arrives live as well: the
    sequence number drops the copy. A gap in the live sequence sends it back to the store.
    """
    async with deps.broker.subscribe(delivery_channel(delivery_id)) as live:
        # A delivery launched only now has stored nothing but the STARTED step it was begun
        # with (`first_step`): every later step will come live.
        read_store = on_subscribed is None
        if on_subscribed is not None:
            on_subscribed()
        seen = 0
        if first_step is not None and not read_store:
            yield first_step
            seen = first_step.sequence
        waiting: asyncio.Task[dict[str, Any]] | None = None
        try:
            while True:
                replay = await _stored_steps(delivery_id, seen) if read_store else []
                for step in replay:
                    yield step
                    seen = step.sequence
                    if step.final:
                        return
                read_store = True  # from here on, a gap or a silence sends it back there
                while True:
                    if waiting is None:
                        waiting = asyncio.create_task(_next_message(live))
                    done, _ = await asyncio.wait({waiting}, timeout=FOLLOW_RECHECK_SECONDS)
                    if not done:
                        await close_if_abandoned(deps=deps, delivery_id=delivery_id)
                        break
                    message = waiting.result()
                    waiting = None
                    if is_events_missed(message):
                        break  # the broker may have lost steps: the store has them all
                    step = step_from_message(message)
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


async def _stored_steps(delivery_id: int, after: int) -> list[DeliveryStep]:
    select = rows.Select(TestDelivery._meta.db)
    where = f'"delivery_id" = {select(delivery_id)} AND "sequence" > {select(after)}'
    return await select.fetch(DeliveryStep, where, ' ORDER BY "sequence"')


async def _next_message(live: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
    try:
        return await anext(live)
    except StopAsyncIteration:
        raise RuntimeError("the event broker closed the delivery's channel") from None
