"""The signature check helper's input and answer."""

from __future__ import annotations

import strawberry

from graph.enums import SignatureMethod, SignatureScheme


@strawberry.input(description="A name and a value: an HTTP header or a webhook parameter.")
class NameValueInput:
    name: str = strawberry.field(description="The name, e.g. Authorization or msisdn.")
    value: str = strawberry.field(description="The value, exactly as received.")


@strawberry.input(description="A webhook exactly as your server received it.")
class SignatureCheckInput:
    http_method: str = strawberry.field(
        default="POST", description="The request's HTTP method, e.g. GET or POST."
    )
    url: str = strawberry.field(
        default="",
        description="The URL it was sent to, with its query (GET webhooks carry their "
        "parameters there); a path with its query is enough.",
    )
    headers: list[NameValueInput] = strawberry.field(
        default_factory=list,
        description="Its headers; Authorization and Content-Type are the ones that matter.",
    )
    body: str | None = strawberry.field(
        default=None, description="Its body, exactly as received (form or JSON)."
    )
    parameters: list[NameValueInput] | None = strawberry.field(
        default=None,
        description="SMS API parameters you already parsed; checked instead of the URL and "
        "body when given.",
    )
    max_age_seconds: int | None = strawberry.field(
        default=None,
        description="Refuse a signature whose timestamp (SMS `timestamp`, JWT `iat`) is older "
        "than this many seconds; null means 300 (five minutes), so a signature copied from a "
        "log cannot be replayed later.",
    )


@strawberry.type(description="Whether a received webhook verifies with this key's secret.")
class SignatureCheckResult:
    valid: bool = strawberry.field(description="The signature verified.")
    scheme: SignatureScheme = strawberry.field(
        description="How it was signed: MESSAGES_JWT, SMS_SIG (see `method`), or NONE when no "
        "signature was found."
    )
    method: SignatureMethod | None = strawberry.field(
        description="For SMS_SIG, the algorithm it was checked with; null otherwise."
    )
    reason: str | None = strawberry.field(description="Why it did not verify; null when valid.")

    @classmethod
    def from_verdict(cls, valid: bool, scheme: str, reason: str | None) -> SignatureCheckResult:
        """The answer from a verdict, whose scheme reads MESSAGES_JWT, SMS_SIG:<method> or NONE."""
        kind, _, method = scheme.partition(":")
        return cls(
            valid=valid,
            scheme=SignatureScheme(kind),
            method=SignatureMethod(method) if method else None,
            reason=reason,
        )
