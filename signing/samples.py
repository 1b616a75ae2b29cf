"""What every sample webhook shares: the caller's variable parts, sample values and time formats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

SAMPLE_INBOUND_TEXT = "Status of order 4821?"
SAMPLE_USAGE = {"currency": "EUR", "price": "0.0333"}


@dataclass(frozen=True, slots=True)
class SampleContext:
    """Everything variable in a sample payload, chosen by the caller so builders are pure.

    Names follow an outbound message: `sender` is the account's number (or sender ID)
    and `to` is the handset it wrote to. In inbound events the handset writes to the
    account's number, so there `to` carries `sender` and `msisdn`/`from` carry `to`.
    `now` should be timezone-aware; a naive value is taken to be UTC already.
    """

    api_key: str
    to: str
    sender: str
    now: datetime
    message_id: str
    message_uuid: str
    client_ref: str
    nonce: str


def keyword_of(text: str) -> str:
    """The platform's `keyword` for an inbound text: its first word, upper-cased."""
    words = text.split()
    return words[0].upper() if words else ""


def utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def sms_timestamp(moment: datetime) -> str:
    """`YYYY-MM-DD HH:MM:SS`, the SMS API's `message-timestamp`."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def iso_timestamp(moment: datetime) -> str:
    """ISO 8601 with milliseconds and `Z`, the Messages API's `timestamp`."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"
