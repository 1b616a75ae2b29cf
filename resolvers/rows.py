"""Plain rows for the read path: small SELECTs sent as written, answered as frozen records."""

# Building a Tortoise query costs several hundred µs of CPU each time and converting a
# datetime through a model field about 10 µs; the dashboard sends the same few statements on
# every request, so its reads skip both. The records carry the models' attribute names, so
# whatever reads a model's attributes reads a record the same way.

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, Self, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient

from models.enums import (
    DeliveryStatus,
    DeliveryStepKind,
    MessagingApi,
    SignatureMethod,
    WebhookFormat,
)
from resolvers.pagination import Window


class Record(Protocol):
    # Plain class attributes on each record (a ClassVar here would not match them).
    SOURCE: str  # what follows FROM
    COLUMNS: str

    @classmethod
    def from_db(cls, record: dict[str, Any]) -> Self: ...


R = TypeVar("R", bound=Record)


def when(value: Any) -> datetime | None:
    """A stored timestamp as an aware UTC datetime: SQLite hands back text, PostgreSQL a
    datetime."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if value.tzinfo is UTC else value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    name: str
    hipaa_enabled: bool

    SOURCE = '"account"'
    COLUMNS = '"id", "name", "hipaa_enabled"'

    @classmethod
    def from_db(cls, record: dict[str, Any]) -> Account:
        return cls(record["id"], record["name"], bool(record["hipaa_enabled"]))


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    account_id: int
    key: str
    nickname: str | None
    is_primary: bool
    created_at: datetime

    SOURCE = '"api_key"'
    COLUMNS = '"id", "account_id", "key", "nickname", "is_primary", "created_at"'

    @classmethod
    def from_db(cls, record: dict[str, Any]) -> ApiKey:
        return cls(
            record["id"],
            record["account_id"],
            record["key"],
            record["nickname"],
            bool(record["is_primary"]),
            when(record["created_at"]),  # type: ignore[arg-type]
        )


@dataclass(frozen=True, slots=True)
class ApiSecret:
    """What may be shown of a secret: never its ciphertext or digest."""

    id: int
    api_key_id: int
    hint: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None

    SOURCE = '"api_secret"'
    COLUMNS = '"id", "api_key_id", "hint", "created_at", "last_used_at", "expires_at"'

    @classmethod
    def from_db(cls, record: dict[str, Any]) -> ApiSecret:
        return cls(
            record["id"],
            record["api_key_id"],
            record["hint"],
            when(record["created_at"]),  # type: ignore[arg-type]
            when(record["last_used_at"]),
            when(record["expires_at"]),
        )


@dataclass(frozen=True, slots=True)
class MessagingConfig:
    api_key_id: int
    api: MessagingApi
    sms_format: WebhookFormat
    delivery_receipt_url: str | None
    inbound_sms_url: str | None
    status_url: str | None
    inbound_url: str | None
    version: int

    @classmethod
    def from_db(cls, record: dict[str, Any]) -> MessagingConfig:
        return cls(
            record["api_key_id"],
            MessagingApi(record["api"]),
            WebhookFormat(record["sms_format"]),
            record["delivery_receipt_url"],
            record["inbound_sms_url"],
            record["status_url"],
            record["inbound_url"],
            record["version"],
        )


@dataclass(frozen=True, slots=True)
class SignatureConfig:
    """The signature settings without the secret's ciphertext."""

    api_key_id: int
    method: SignatureMethod
    secret_hint: str
    sign_sms_webhooks: bool

    @classmethod
    def from_db(cls, record: dict[str, Any]) -> SignatureConfig:
        return cls(
            record["api_key_id"],
            SignatureMethod(record["method"]),
            record["secret_hint"],
            bool(record["sign_sms_webhooks"]),
        )


# MessagingConfig's columns, read from a join where "m" is messaging_config.
MESSAGING_COLUMNS = (
    '"m"."api_key_id", "m"."api", "m"."sms_format", "m"."delivery_receipt_url", '
    '"m"."inbound_sms_url", "m"."status_url", "m"."inbound_url", "m"."version"'
)


@dataclass(frozen=True, slots=True)
class KeySettings:
    """A key's messaging and signature configuration: both one-to-one with the key, so one
    statement reads both."""

    messaging: MessagingConfig
    signature: SignatureConfig

    SOURCE = (
        '"messaging_config" AS "m" '
        'JOIN "signature_config" AS "s" ON "s"."api_key_id" = "m"."api_key_id"'
    )
    COLUMNS = MESSAGING_COLUMNS + ', "s"."method", "s"."secret_hint", "s"."sign_sms_webhooks"'

    @classmethod
    def from_db(cls, record: dict[str, Any]) -> KeySettings:
        return cls(MessagingConfig.from_db(record), SignatureConfig.from_db(record))


@dataclass(frozen=True, slots=True)
class KeyMessaging:
    """A key with its messaging configuration (one-to-one), read in one statement."""

    key: ApiKey
    messaging: MessagingConfig

    SOURCE = '"api_key" AS "k" JOIN "messaging_config" AS "m" ON "m"."api_key_id" = "k"."id"'
    COLUMNS = (
        '"k"."id", "k"."account_id", "k"."key", "k"."nickname", "k"."is_primary", '
        '"k"."created_at", ' + MESSAGING_COLUMNS
    )

    @classmethod
    def from_db(cls, record: dict[str, Any]) -> KeyMessaging:
        return cls(ApiKey.from_db(record), MessagingConfig.from_db(record))


@dataclass(frozen=True, slots=True)
class Number:
    id: int
    account_id: int
    api_key_id: int | None
    msisdn: str
    country: str
    inbound_webhook_url: str | None
    # The key the number links to, when it was read in the same statement (LINKED_*).
    linked_key: ApiKey | None = None

    SOURCE = '"number"'
    COLUMNS = '"id", "account_id", "api_key_id", "msisdn", "country", "inbound_webhook_url"'
    LINKED_SOURCE = '"number" AS "n" LEFT JOIN "api_key" AS "k" ON "k"."id" = "n"."api_key_id"'
    LINKED_COLUMNS = (
        '"n"."id", "n"."account_id", "n"."api_key_id", "n"."msisdn", "n"."country", '
        '"n"."inbound_webhook_url", "k"."account_id" AS "key_account_id", "k"."key", '
        '"k"."nickname", "k"."is_primary", "k"."created_at"'
    )

    @classmethod
    def from_db(cls, record: dict[str, Any]) -> Number:
        linked = None
        if record.get("key") is not None:
            linked = ApiKey(
                record["api_key_id"],
                record["key_account_id"],
                record["key"],
                record["nickname"],
                bool(record["is_primary"]),
                when(record["created_at"]),  # type: ignore[arg-type]
            )
        return cls(
            record["id"],
            record["account_id"],
            record["api_key_id"],
            record["msisdn"],
            record["country"],
            record["inbound_webhook_url"],
            linked,
        )


@dataclass(frozen=True, slots=True)
class DeliveryContext:
    """What running a test delivery reads about its key, in one statement: the key, its
    settings, its signature secret (still sealed), the number the delivery is for, and the
    key's first number (the sample's sender when it is for none)."""

    key: str
    settings: KeySettings
    secret_ciphertext: str
    number: Number | None
    first_msisdn: str | None

    # Constant names only: no value is spliced into the statement.
    COLUMNS = (
        KeySettings.COLUMNS  # noqa: S608
        + ', "k"."key", "s"."secret_ciphertext", '
        '"n"."id" AS "number_id", "n"."account_id" AS "number_account_id", '
        '"n"."msisdn" AS "number_msisdn", "n"."country" AS "number_country", '
        '"n"."inbound_webhook_url" AS "number_inbound_webhook_url", '
        '(SELECT "f"."msisdn" FROM "number" AS "f" WHERE "f"."api_key_id" = "k"."id" '
        'ORDER BY "f"."id" LIMIT 1) AS "first_msisdn"'
    )
    # {number}: the number's placeholder, which comes before the key's in the statement.
    SOURCE = (
        KeySettings.SOURCE + ' JOIN "api_key" AS "k" ON "k"."id" = "m"."api_key_id" '
        'LEFT JOIN "number" AS "n" ON "n"."id" = {number}'
    )

    @classmethod
    def from_db(cls, record: dict[str, Any]) -> DeliveryContext:
        number = None
        if record["number_id"] is not None:
            number = Number(
                record["number_id"],
                record["number_account_id"],
                record["api_key_id"],
                record["number_msisdn"],
                record["number_country"],
                record["number_inbound_webhook_url"],
            )
        return cls(
            record["key"],
            KeySettings.from_db(record),
            record["secret_ciphertext"],
            number,
            record["first_msisdn"],
        )


def _json(value: Any) -> Any:
    """A stored JSON column: SQLite and asyncpg both hand back its text."""
    return json.loads(value) if isinstance(value, str | bytes) else value


@dataclass(frozen=True, slots=True)
class DeliveryStep:
    """One step of a test delivery: written, published and streamed in this shape. A busy
    server builds several thousand a second, which model objects made costly."""

    delivery_id: int
    sequence: int
    kind: DeliveryStepKind
    at: datetime
    status: DeliveryStatus
    attempt: int | None = None
    detail: str | None = None
    address: str | None = None
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    error_code: str | None = None
    final: bool = False

    SOURCE = '"delivery_step"'
    COLUMNS = (
        '"delivery_id", "sequence", "kind", "at", "status", "attempt", "detail", "address", '
        '"request", "response", "error_code", "final"'
    )

    @classmethod
    def from_db(cls, record: dict[str, Any]) -> DeliveryStep:
        return cls(
            record["delivery_id"],
            record["sequence"],
            DeliveryStepKind(record["kind"]),
            when(record["at"]),  # type: ignore[arg-type]
            DeliveryStatus(record["status"]),
            record["attempt"],
            record["detail"],
            record["address"],
            _json(record["request"]),
            _json(record["response"]),
            record["error_code"],
            bool(record["final"]),
        )

    def to_db(self) -> list[Any]:
        """Its values in COLUMNS' order, as the drivers take them."""
        return [
            self.delivery_id,
            self.sequence,
            self.kind.value,
            self.at,
            self.status.value,
            self.attempt,
            self.detail,
            self.address,
            _dumps(self.request),
            _dumps(self.response),
            self.error_code,
            self.final,
        ]


def _dumps(value: Any) -> str | None:
    # As the model's JSONField writes it (models/deliveries.py), so either reads it back.
    return None if value is None else json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Credential:
    """A key with one of its secrets' digest: what Basic authentication compares."""

    key_id: int
    account_id: int
    key: str
    is_primary: bool
    secret_id: int
    digest: str

    SOURCE = '"api_key" AS "k" JOIN "api_secret" AS "s" ON "s"."api_key_id" = "k"."id"'
    COLUMNS = (
        '"k"."id" AS "key_id", "k"."account_id", "k"."key", "k"."is_primary", '
        '"s"."id" AS "secret_id", "s"."digest"'
    )

    @classmethod
    def from_db(cls, record: dict[str, Any]) -> Credential:
        return cls(
            record["key_id"],
            record["account_id"],
            record["key"],
            bool(record["is_primary"]),
            record["secret_id"],
            record["digest"],
        )


class Select:
    """One statement being written: its parameters, in the connection's placeholder style."""

    def __init__(self, db: BaseDBAsyncClient) -> None:
        dialect = db.capabilities.dialect
        if dialect not in ("sqlite", "postgres"):
            raise NotImplementedError(f"plain reads speak SQLite and PostgreSQL, not {dialect}")
        self.db = db
        self.values: list[Any] = []
        self._numbered = dialect == "postgres"

    def __call__(self, value: Any) -> str:
        """The placeholder for one more parameter."""
        self.values.append(value)
        return f"${len(self.values)}" if self._numbered else "?"

    def each(self, values: Iterable[Any]) -> str:
        return ", ".join(self(value) for value in values)

    def bounded(self, bounds: Window, pk: str = '"id"') -> str:
        """The conditions and order that cut one page out of the rows already filtered."""
        where = ""
        if bounds.above is not None:
            where += f" AND {pk} > {self(bounds.above)}"
        if bounds.below is not None:
            where += f" AND {pk} < {self(bounds.below)}"
        order = "DESC" if bounds.descending else "ASC"
        return f"{where} ORDER BY {pk} {order} LIMIT {self(bounds.limit)}"

    async def fetch(
        self,
        row: type[R],
        where: str,
        tail: str = "",
        *,
        source: str | None = None,
        columns: str | None = None,
    ) -> list[R]:
        """The `row` records matching `where`; `tail` orders or limits them. `source` and
        `columns` replace the record's own, for a record read joined with another."""
        source, columns = source or row.SOURCE, columns or row.COLUMNS
        # Only constant names and placeholders are spliced in: every value is a parameter.
        sql = f"SELECT {columns} FROM {source} WHERE {where}{tail}"  # noqa: S608
        # Through the client, so the statement is logged and counted like any other.
        records = await self.db.execute_query_dict(sql, self.values)
        return [row.from_db(record) for record in records]
