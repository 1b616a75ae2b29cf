"""Re-encrypting stored secrets under the active master key, a batch at a time, while serving."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
from typing import Any

from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.credentials import ApiSecret
from models.webhooks import SignatureConfig
from resolvers.deps import Deps
from resolvers.sealing import (
    legacy_secret_context,
    open_signature_secret,
    seal_signature_secret,
    secret_context,
)
from signing.crypto import DecryptionError
from signing.secrets import secret_hint

DEFAULT_BATCH = 200


@dataclass
class TableProgress:
    """How far one table's rekey got: rows looked at, rows rewritten, rows that would not open."""

    table: str
    total: int
    scanned: int = 0
    rewritten: int = 0
    failed: int = 0


Report = Callable[[dict[str, Any]], None]


async def _batches(
    model: type[Model], batch_size: int, *fields: str
) -> AsyncIterator[list[dict[str, Any]]]:
    """`model`'s rows (`id` and `fields`) in id order, a batch at a time; the next batch is
    read only once the caller is done with the last, so rows may change in between."""
    last = 0
    while (
        rows := await model.filter(id__gt=last)
        .order_by("id")
        .limit(batch_size)
        .values("id", *fields)
    ):
        last = rows[-1]["id"]
        yield rows


async def rekey(*, deps: Deps, report: Report, batch_size: int = DEFAULT_BATCH) -> bool:
    """Move every stored secret to the active key and current format; True if none failed.

    Idempotent: rows already current are skipped, so it can be stopped and run again. A row
    changed while its batch ran (a secret rolled, say) is left alone: the change already
    used the active key. The old key must stay configured until this returns True.
    """
    if batch_size < 1:
        raise ValueError("batch size must be at least 1")
    api_secrets = TableProgress("api_secret", await ApiSecret.all().count())
    await _rekey_api_secrets(deps, api_secrets, report, batch_size)
    signatures = TableProgress("signature_config", await SignatureConfig.all().count())
    await _rekey_signature_secrets(deps, signatures, report, batch_size)
    return api_secrets.failed == 0 and signatures.failed == 0


async def _rekey_api_secrets(
    deps: Deps, progress: TableProgress, report: Report, batch_size: int
) -> None:
    async for rows in _batches(ApiSecret, batch_size, "ciphertext", "digest", "api_key__key"):
        async with in_transaction():
            for row in rows:
                progress.scanned += 1
                if deps.box.is_current(row["ciphertext"]) and deps.box.digest_is_current(
                    row["digest"]
                ):
                    continue
                key, context = row["api_key__key"], secret_context(row["api_key__key"], row["id"])
                try:
                    plaintext = deps.box.decrypt(
                        row["ciphertext"],
                        context=context,
                        legacy_context=legacy_secret_context(key),
                    )
                except DecryptionError:
                    progress.failed += 1
                    continue
                progress.rewritten += await ApiSecret.filter(
                    id=row["id"], ciphertext=row["ciphertext"]
                ).update(
                    ciphertext=deps.box.encrypt(plaintext, context=context),
                    digest=deps.box.digest(plaintext, context=context),
                    # Rewritten too: hints stored before the quarter rule may show too much.
                    hint=secret_hint(plaintext),
                )
        report(asdict(progress))


async def _rekey_signature_secrets(
    deps: Deps, progress: TableProgress, report: Report, batch_size: int
) -> None:
    async for rows in _batches(
        SignatureConfig, batch_size, "api_key_id", "secret_ciphertext", "api_key__key"
    ):
        async with in_transaction():
            for row in rows:
                progress.scanned += 1
                if deps.box.is_current(row["secret_ciphertext"]):
                    continue
                key, key_id = row["api_key__key"], row["api_key_id"]
                try:
                    plaintext = open_signature_secret(deps, row["secret_ciphertext"], key, key_id)
                except DecryptionError:
                    progress.failed += 1
                    continue
                progress.rewritten += await SignatureConfig.filter(
                    id=row["id"], secret_ciphertext=row["secret_ciphertext"]
                ).update(
                    secret_ciphertext=seal_signature_secret(deps, plaintext, key, key_id),
                    secret_hint=secret_hint(plaintext),
                )
        report(asdict(progress))
