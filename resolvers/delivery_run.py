"""Running one test delivery: build and sign the sample, attempt, retry, store every step."""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from models.deliveries import TestDelivery
from models.enums import DeliveryStatus, DeliveryStepKind, WebhookEvent
from resolvers import reads, rows
from resolvers.delivery_leases import ENDED_DETAIL, end_lapsed, lapsed_deliveries
from resolvers.deps import Deps
from resolvers.effective import SMS_EVENTS, effective_webhook
from resolvers.events import delivery_channel
from resolvers.rows import DeliveryStep
from resolvers.sealing import open_signature_secret
from resolvers.webhook_sender import AttemptOutcome, FailureCode, StepReport
from signing.payloads import SampleContext, WebhookRequest, build_test_request
from signing.redact import redact_request

log = logging.getLogger("switchboard.deliveries")

# The handset in sample payloads, and the account's number when the key has none: both from
# the range Ofcom keeps for drama, so a sample can never reach a real phone.
SAMPLE_HANDSET = "447700900999"
SAMPLE_ACCOUNT_NUMBER = "447700900000"
RETRIED_FAILURES = frozenset({FailureCode.CONNECT_FAILED, FailureCode.CONNECT_TIMEOUT})


def step_message(step: DeliveryStep) -> dict[str, Any]:
    """A stored step as a broker message (JSON-safe, so it can cross replicas)."""
    return {
        "deliveryId": step.delivery_id,
        "sequence": step.sequence,
        "kind": step.kind.value,
        "at": step.at.isoformat(),
        "attempt": step.attempt,
        "detail": step.detail,
        "address": step.address,
        "request": step.request,
        "response": step.response,
        "errorCode": step.error_code,
        "final": step.final,
        "status": step.status.value,
    }


def step_from_message(message: dict[str, Any]) -> DeliveryStep:
    """The step a broker message carries, in the shape readers of stored steps get."""
    return DeliveryStep(
        delivery_id=message["deliveryId"],
        sequence=message["sequence"],
        kind=DeliveryStepKind(message["kind"]),
        at=datetime.fromisoformat(message["at"]),
        attempt=message["attempt"],
        detail=message["detail"],
        address=message["address"],
        request=message["request"],
        response=message["response"],
        error_code=message["errorCode"],
        final=message["final"],
        status=DeliveryStatus(message["status"]),
    )


class StepRecorder:
    """Stores each step of one delivery, then publishes it: readers never see an unstored step."""

    def __init__(self, deps: Deps, delivery: TestDelivery) -> None:
        self.deps = deps
        self.delivery = delivery
        # The STARTED step (1) was stored with the delivery (resolvers/delivery_starts.py).
        self.sequence = 1
        self.finished = False
        # Whether an attempt began: its request may have reached the receiver.
        self.may_have_sent = False
        # Called once the step saying the request went out is stored and published.
        self.on_request_sent: Callable[[], None] | None = None

    async def step(self, report: StepReport, attempt: int | None = None) -> None:
        await self.steps([report], attempt)

    async def steps(self, reports: list[StepReport], attempt: int | None = None) -> None:
        """Store the steps (in one write), then publish them in order.

        A sent request's signature is redacted first: neither the store nor the stream
        ever holds a token or `sig` someone could replay.
        """
        rows = [
            DeliveryStep(
                **self._fields(report.kind, attempt, DeliveryStatus.PENDING),
                detail=report.detail,
                address=report.address,
                request=redact_request(report.request) if report.request else None,
                response=report.response,
            )
            for report in reports
        ]
        await self.deps.step_journal.write(*rows)
        for row in rows:
            await self._publish(row)
        sent = any(row.kind is DeliveryStepKind.REQUEST_SENT for row in rows)
        if sent and self.on_request_sent is not None:
            self.on_request_sent()

    def attempting(self) -> None:
        """An attempt begins: from here its request may reach the receiver at any moment."""
        self.may_have_sent = True
        self.deps.delivery_leases.may_have_sent(self.delivery.id)

    async def finish(
        self,
        status: DeliveryStatus,
        detail: str,
        *,
        error_code: str | None = None,
        attempt: int | None = None,
    ) -> None:
        """The final step and the delivery's outcome, written together."""
        kind = (
            DeliveryStepKind.SUCCEEDED
            if status is DeliveryStatus.SUCCEEDED
            else (DeliveryStepKind.FAILED)
        )
        row = DeliveryStep(
            **self._fields(kind, attempt, status),
            detail=detail,
            error_code=error_code,
            final=True,
        )
        self.delivery.status = status
        self.delivery.error_code = error_code
        self.delivery.finished_at = row.at
        await self.deps.step_journal.write(row, finished=self.delivery)
        self.finished = True
        if self.deps.on_delivery_finished is not None:
            self.deps.on_delivery_finished(self.delivery.event.value, status.value, error_code)
        await self._publish(row)

    def _fields(
        self, kind: DeliveryStepKind, attempt: int | None, status: DeliveryStatus
    ) -> dict[str, Any]:
        self.sequence += 1
        return {
            "delivery_id": self.delivery.id,
            "sequence": self.sequence,
            "kind": kind,
            "at": self.deps.clock(),
            "attempt": attempt,
            "status": status,
        }

    async def _publish(self, row: DeliveryStep) -> None:
        await publish_step(self.deps, row)


async def run_delivery(*, deps: Deps, delivery: TestDelivery) -> None:
    """Carry a PENDING delivery to its end; interrupted or broken, it still ends FAILED."""
    recorder = StepRecorder(deps, delivery)
    try:
        with deps.delivery_leases.held(delivery.id, deps.clock):
            await _deliver(deps, delivery, recorder)
    except asyncio.CancelledError:
        if not recorder.finished:
            # Said apart, so a redeliver after OUTCOME_UNKNOWN is never a blind duplicate.
            sent = recorder.may_have_sent
            code = FailureCode.OUTCOME_UNKNOWN if sent else FailureCode.INTERRUPTED
            await recorder.finish(DeliveryStatus.FAILED, ENDED_DETAIL[code], error_code=code)
        raise
    except Exception:
        log.exception("test delivery %s broke", delivery.id)
        if not recorder.finished:
            await recorder.finish(
                DeliveryStatus.FAILED,
                "An internal error stopped this delivery.",
                error_code=FailureCode.INTERNAL,
            )


async def close_if_abandoned(*, deps: Deps, delivery_id: int) -> bool:
    """End a delivery whose lease lapsed (its process died mid-way) with its final step,
    so nobody follows it forever; False if it is finished or still held."""
    final = await end_lapsed(delivery_id, deps.clock())
    if final is None:
        return False
    await publish_step(deps, final)
    return True


async def end_lapsed_deliveries(*, deps: Deps) -> int:
    """End every delivery whose lease lapsed (its process died), on any replica; how many
    this call ended (another replica running the same sweep ends the others)."""
    ended = 0
    for delivery_id in await lapsed_deliveries(deps.clock()):
        if await close_if_abandoned(deps=deps, delivery_id=delivery_id):
            ended += 1
    if ended:
        log.warning("ended %d test deliveries whose server stopped running them", ended)
    return ended


async def publish_step(deps: Deps, row: DeliveryStep) -> None:
    try:
        await deps.broker.publish(delivery_channel(row.delivery_id), step_message(row))
    except Exception:
        # The step is stored; a follower that missed it live reads it on its next replay.
        log.warning("could not publish step %s of delivery %s", row.sequence, row.delivery_id)


async def _deliver(deps: Deps, delivery: TestDelivery, recorder: StepRecorder) -> None:
    event = WebhookEvent(delivery.event)
    # Read once for every delivery of the same key and number starting meanwhile (a burst).
    key_id, number_id = delivery.api_key_id, delivery.number_id
    context = await deps.coalesced.read(
        ("delivery-context", key_id, number_id),
        lambda: reads.delivery_context(api_key_id=key_id, number_id=number_id),
    )
    number = context.number
    if not delivery.url:
        reason = effective_webhook(context.settings.messaging, event, number).reason
        await recorder.finish(
            DeliveryStatus.FAILED, f"Nowhere to send it: {reason}", error_code=FailureCode.NO_URL
        )
        return
    # A burst's other starts first: each shows its STARTED step before any request is sent.
    await deps.delivery_starts.quiet()
    async with deps.delivery_admission.admit() as leave:
        # Out once the first request is sent, or the first attempt ends without sending it.
        recorder.on_request_sent = leave
        request = _signed_request(deps, delivery, context)
        signed_how = _signed_how(event, context.settings, deps.webhook_issuer, delivery)
        await recorder.step(StepReport(DeliveryStepKind.SIGNED, detail=signed_how))
        await _attempts(deps, request, recorder, leave)


async def _attempts(
    deps: Deps, request: WebhookRequest, recorder: StepRecorder, sent: Callable[[], None]
) -> None:
    """Attempt until success, a failure not worth retrying, or the last attempt."""
    sender = deps.webhook_sender
    if sender is None:
        raise RuntimeError("no webhook sender is configured")
    total = max(1, deps.delivery_attempts)
    for attempt in range(1, total + 1):

        async def report(steps: list[StepReport], attempt: int = attempt) -> None:
            await recorder.steps(steps, attempt)

        recorder.attempting()
        outcome = await sender.attempt(
            request, allow_private=deps.allow_private_webhooks, report=report
        )
        sent()
        error_code, retry, detail = judge(outcome)
        if error_code is None:
            await recorder.finish(DeliveryStatus.SUCCEEDED, detail, attempt=attempt)
            return
        if not retry or attempt == total:
            if retry:
                detail = f"{detail} Gave up after {total} attempts."
            await recorder.finish(
                DeliveryStatus.FAILED, detail, error_code=error_code, attempt=attempt
            )
            return
        delay = deps.delivery_backoff_seconds * 2 ** (attempt - 1)
        await recorder.step(
            StepReport(
                DeliveryStepKind.RETRY_SCHEDULED,
                detail=f"{detail} Attempt {attempt + 1} of {total} in {delay:g} s.",
            ),
            attempt,
        )
        await asyncio.sleep(delay)


def judge(outcome: AttemptOutcome) -> tuple[str | None, bool, str]:
    """(failure code or None for success, whether to retry, what to tell the user)."""
    if outcome.error_code is not None:
        return outcome.error_code, outcome.error_code in RETRIED_FAILURES, outcome.detail
    status = outcome.status_code or 0
    if 200 <= status < 300:
        return None, False, f"Delivered: the receiver answered HTTP {status}."
    if 300 <= status < 400:
        return (
            FailureCode.REDIRECT,
            False,
            f"The receiver answered HTTP {status}, a redirect; webhooks do not follow redirects, "
            "so set the URL it points to.",
        )
    retry = status == 429 or status >= 500
    return FailureCode.HTTP_STATUS, retry, f"The receiver answered HTTP {status}."


def _signed_request(
    deps: Deps, delivery: TestDelivery, context: rows.DeliveryContext
) -> WebhookRequest:
    """The sample webhook for the delivery's event, signed as a real one would be."""
    signature = context.settings.signature
    secret = open_signature_secret(
        deps, context.secret_ciphertext, context.key, delivery.api_key_id
    )
    now = deps.clock()
    sender = context.number.msisdn if context.number is not None else context.first_msisdn
    ctx = SampleContext(
        api_key=context.key,
        to=SAMPLE_HANDSET,
        sender=sender or SAMPLE_ACCOUNT_NUMBER,
        now=now,
        message_id=secrets.token_hex(8).upper(),
        message_uuid=str(uuid.uuid4()),
        client_ref=f"switchboard-test-{delivery.id}",
        nonce=str(uuid.uuid4()),
    )
    return build_test_request(
        event=delivery.event.value,
        url=delivery.url,
        ctx=ctx,
        fmt=context.settings.messaging.sms_format.value,
        sign_sms=signature.sign_sms_webhooks,
        method=signature.method.value,
        secret=secret,
        issued_at=int(now.timestamp()),
        jti=str(uuid.uuid4()),
        issuer=deps.webhook_issuer,
        channel=_channel_value(delivery),
    )


def _channel_value(delivery: TestDelivery) -> str:
    """The payload `channel` of a Messages API delivery (rows from before channels: SMS)."""
    return delivery.channel.value if delivery.channel is not None else "sms"


def _signed_how(
    event: WebhookEvent, settings: rows.KeySettings, issuer: str, delivery: TestDelivery
) -> str:
    if event not in SMS_EVENTS:
        return (
            f"Built a sample {event.value} payload ({_channel_value(delivery)} channel, JSON) "
            "and signed it with a JWT "
            f"(HS256, iss {issuer!r}) in the Authorization header."
        )
    config, signature = settings.messaging, settings.signature
    built = f"Built a sample {event.value} payload ({config.sms_format.value})"
    if not signature.sign_sms_webhooks:
        return f"{built}; not signed, because signing SMS API webhooks is off for this key."
    return f"{built} and signed it with {signature.method.value}: timestamp, nonce and sig added."
