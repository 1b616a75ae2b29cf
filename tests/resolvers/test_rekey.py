"""switchboard rekey at the resolver level, on the test database (PostgreSQL in CI's second run)."""

from __future__ import annotations

from typing import Any

from models.credentials import ApiSecret
from models.webhooks import SignatureConfig
from resolvers.auth import BasicCredentials, authenticate_basic
from resolvers.rekey import rekey
from resolvers.sealing import open_signature_secret
from signing.crypto import SecretBox, generate_master_key
from tests.conftest import TEST_MASTER_KEY, Seeded, seed_account


async def test_rekey_moves_every_row_to_the_active_key_then_the_old_key_can_go(
    seeded: Seeded,
) -> None:
    other = await seed_account(seeded.deps, "Other")
    deps = seeded.deps
    signature = await SignatureConfig.get(api_key_id=seeded.api_key_id)
    plaintext = open_signature_secret(
        deps, signature.secret_ciphertext, seeded.api_key, seeded.api_key_id
    )
    new_key = generate_master_key()
    deps.box = SecretBox(new_key, old_keys=[TEST_MASTER_KEY])
    progress: list[dict[str, Any]] = []
    assert await rekey(deps=deps, report=progress.append, batch_size=1) is True
    assert {line["table"] for line in progress} == {"api_secret", "signature_config"}
    assert progress[-1]["rewritten"] == progress[-1]["total"] == 2
    assert all(deps.box.is_current(row.ciphertext) for row in await ApiSecret.all())
    deps.box = SecretBox(new_key)
    for who in (seeded, other):
        principal = await authenticate_basic(
            deps=deps, credentials=BasicCredentials(who.api_key, who.secret)
        )
        assert principal.account_id == who.account_id
    signature = await SignatureConfig.get(api_key_id=seeded.api_key_id)
    reopened = open_signature_secret(
        deps, signature.secret_ciphertext, seeded.api_key, seeded.api_key_id
    )
    assert reopened == plaintext
    again: list[dict[str, Any]] = []
    assert await rekey(deps=deps, report=again.append) is True
    assert [line["rewritten"] for line in again] == [0, 0]


async def test_rows_no_key_opens_are_reported_and_left_alone(seeded: Seeded) -> None:
    deps = seeded.deps
    deps.box = SecretBox(generate_master_key())  # the data's key is missing from the ring
    progress: list[dict[str, Any]] = []
    assert await rekey(deps=deps, report=progress.append) is False
    assert progress[0]["failed"] == 1 and progress[0]["rewritten"] == 0
    assert not deps.box.is_current((await ApiSecret.get(api_key_id=seeded.api_key_id)).ciphertext)
