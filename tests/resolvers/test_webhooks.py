"""The webhook-settings operations themselves: concurrency, events, and what each leaves stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from models.enums import MessagingApi, WebhookEvent, WebhookFormat
from models.webhooks import MessagingConfig, Number
from resolvers import provisioning, signature, webhooks
from resolvers.deps import Deps
from resolvers.effective import EffectiveSource
from resolvers.errors import DomainError, DomainErrors, ErrorCode
from resolvers.events import settings_channel
from resolvers.principal import RequestInfo
from tests.conftest import Seeded, on_postgres

DLR = "https://example.com/dlr"


@asynccontextmanager
async def heard(deps: Deps, api_key_id: int) -> AsyncIterator[list[dict[str, Any]]]:
    """Collects what the broker carries on a key's settings channel during the block."""
    messages: list[dict[str, Any]] = []
    async with deps.broker.subscribe(settings_channel(api_key_id)) as stream:

        async def collect() -> None:
            async for message in stream:
                messages.append(message)

        task = asyncio.create_task(collect())
        try:
            yield messages
            for _ in range(10):
                await asyncio.sleep(0)
        finally:
            task.cancel()


async def sms(seeded: Seeded, **fields: Any) -> webhooks.MessagingResult:
    return await webhooks.update_sms_webhooks(
        deps=seeded.deps,
        principal=seeded.principal(),
        request=RequestInfo(request_id="r1", client_address="127.0.0.1"),
        api_key_id=seeded.api_key_id,
        **fields,
    )


async def test_each_change_is_published_once_and_no_ops_are_not(seeded: Seeded) -> None:
    async with heard(seeded.deps, seeded.api_key_id) as messages:
        await sms(seeded, delivery_receipt_url=DLR)
        await sms(seeded, delivery_receipt_url=DLR)
        await webhooks.set_messaging_api(
            deps=seeded.deps,
            principal=seeded.principal(),
            api_key_id=seeded.api_key_id,
            api=MessagingApi.MESSAGES_API,
        )
        await signature.rotate_signature_secret(
            deps=seeded.deps, principal=seeded.principal(), api_key_id=seeded.api_key_id
        )
        await signature.reveal_signature_secret(
            deps=seeded.deps, principal=seeded.principal(), api_key_id=seeded.api_key_id
        )
    assert [m["section"] for m in messages] == ["smsWebhooks", "messaging", "signature"]
    assert {m["apiKeyId"] for m in messages} == {seeded.api_key_id}
    assert {m["actor"] for m in messages} == {f"key:{seeded.api_key}"}


async def test_number_changes_are_published_on_the_numbers_key(seeded: Seeded) -> None:
    number = await provisioning.add_number(
        api_key=seeded.api_key, msisdn="447700900123", country="GB"
    )
    async with heard(seeded.deps, seeded.api_key_id) as messages:
        await webhooks.set_number_webhook(
            deps=seeded.deps,
            principal=seeded.principal(),
            number_id=number.id,
            inbound_webhook_url="https://example.com/n",
        )
    assert [m["section"] for m in messages] == ["numbers"]


async def test_refused_changes_are_not_published(seeded: Seeded) -> None:
    async with heard(seeded.deps, seeded.api_key_id) as messages:
        with pytest.raises(DomainErrors) as refused:
            await sms(seeded, delivery_receipt_url="http://127.1/", inbound_sms_url="nope")
        with pytest.raises(DomainError):
            await sms(seeded, delivery_receipt_url=DLR, expected_version=5)
    assert [e.code for e in refused.value.errors] == [
        ErrorCode.BLOCKED_ADDRESS,
        ErrorCode.INVALID_URL,
    ]
    assert messages == []


async def test_concurrent_writers_without_a_version_both_apply(seeded: Seeded) -> None:
    await asyncio.gather(
        sms(seeded, delivery_receipt_url=DLR),
        sms(seeded, sms_format=WebhookFormat.GET),
    )
    row = await MessagingConfig.get(api_key_id=seeded.api_key_id)
    assert (row.version, row.delivery_receipt_url, row.sms_format) == (3, DLR, WebhookFormat.GET)


@pytest.mark.skipif(not on_postgres(), reason="row locks need PostgreSQL; SQLite runs one writer")
async def test_two_writers_with_the_same_version_cannot_both_win(seeded: Seeded) -> None:
    for round_number in range(5):
        current = (await MessagingConfig.get(api_key_id=seeded.api_key_id)).version
        results = await asyncio.gather(
            sms(seeded, delivery_receipt_url=f"{DLR}/a{round_number}", expected_version=current),
            sms(seeded, delivery_receipt_url=f"{DLR}/b{round_number}", expected_version=current),
            return_exceptions=True,
        )
        won = [r for r in results if isinstance(r, webhooks.MessagingResult)]
        lost = [r for r in results if isinstance(r, DomainError)]
        assert len(won) == 1 and len(lost) == 1, results
        assert lost[0].code is ErrorCode.VERSION_CONFLICT
        row = await MessagingConfig.get(api_key_id=seeded.api_key_id)
        assert row.version == current + 1
        assert row.delivery_receipt_url == won[0].messaging.delivery_receipt_url


async def test_effective_webhook_of_a_number_without_a_key() -> None:
    number = Number(msisdn="447700900123", country="GB", inbound_webhook_url="https://e.com/")
    result = webhooks.number_effective_webhook(
        number=number, config=None, event=WebhookEvent.INBOUND_SMS
    )
    assert (result.url, result.source) == (None, EffectiveSource.NOT_SET)
