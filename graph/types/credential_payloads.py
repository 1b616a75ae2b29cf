"""Inputs and payloads of the credential mutations: sessions, API keys and API secrets."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graph.enums import Role
from graph.errors import UserError
from graph.relay import Edge
from graph.types.api_key import ApiKey, ApiSecret

_USER_ERRORS = "Why the mutation did nothing; empty on success."
_PLAINTEXT = (
    "The new secret in plaintext. Shown only here, once: copy it now. Null when the mutation "
    "failed."
)


@strawberry.input(description="Exchange an API key and secret for a session token.")
class SessionCreateInput:
    api_key: str = strawberry.field(description="The API key (8 lowercase hex characters).")
    api_secret: str = strawberry.field(description="One of the key's live secrets.")
    role: Role | None = strawberry.field(
        default=None,
        description="The role the session acts with; at most what the key allows (ADMIN). "
        "Ask for VIEWER to get a read-only session.",
    )


@strawberry.type(description="A session token, or why none was issued.")
class SessionCreatePayload:
    token: str | None = strawberry.field(
        default=None,
        description="Send as `Authorization: Bearer <token>`. Null when credentials were refused.",
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the token stops working."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list, description=_USER_ERRORS)


@strawberry.type(description="A logged-out session, or why it could not be ended.")
class SessionRevokePayload:
    revoked: bool = strawberry.field(
        default=False,
        description="True when the token that sent this mutation no longer works, on every "
        "replica, from the next request on; open WebSockets using it are closed (code 4401).",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list, description=_USER_ERRORS)


@strawberry.input(description='Create another API key ("Request more API keys").')
class ApiKeyCreateInput:
    nickname: str | None = strawberry.field(
        default=None,
        description='A name such as "Production": 1 to 80 characters, trimmed; blank means none.',
    )


@strawberry.type(description="The new key and its first secret.")
class ApiKeyCreatePayload:
    api_key: ApiKey | None = strawberry.field(default=None, description="The new key.")
    api_key_edge: Edge[ApiKey] | None = strawberry.field(
        default=None,
        description="The new key as an edge of `Account.apiKeys`, to append to a cached list.",
    )
    secret_plaintext: str | None = strawberry.field(default=None, description=_PLAINTEXT)
    user_errors: list[UserError] = strawberry.field(default_factory=list, description=_USER_ERRORS)


@strawberry.input(description="Rename an API key.")
class ApiKeyUpdateInput:
    api_key_id: strawberry.ID = strawberry.field(description="The key's global ID.")
    nickname: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The new nickname (1 to 80 characters, trimmed); null or blank clears it, "
        "leaving it out keeps it.",
    )


@strawberry.type(description="The renamed key.")
class ApiKeyUpdatePayload:
    api_key: ApiKey | None = strawberry.field(default=None, description="The key after the change.")
    user_errors: list[UserError] = strawberry.field(default_factory=list, description=_USER_ERRORS)


@strawberry.input(description="Add a secret to a key (at most two live secrets per key).")
class ApiSecretCreateInput:
    api_key_id: strawberry.ID = strawberry.field(description="The key's global ID.")
    secret: str | None = strawberry.field(
        default=None,
        description="A secret of your choosing: 8 to 25 characters with a lowercase letter, an "
        "uppercase letter and a digit. Leave out to have one generated.",
    )


@strawberry.type(description="The new secret, in plaintext this once.")
class ApiSecretCreatePayload:
    api_secret: ApiSecret | None = strawberry.field(default=None, description="The new secret.")
    secret_plaintext: str | None = strawberry.field(default=None, description=_PLAINTEXT)
    api_key: ApiKey | None = strawberry.field(default=None, description="The key with its secrets.")
    user_errors: list[UserError] = strawberry.field(default_factory=list, description=_USER_ERRORS)


@strawberry.input(description="Revoke a secret at once (never the key's last lasting one).")
class ApiSecretRevokeInput:
    secret_id: strawberry.ID = strawberry.field(description="The secret's global ID.")


@strawberry.type(description="Which secret was revoked.")
class ApiSecretRevokePayload:
    revoked_secret_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global ID of the revoked secret."
    )
    api_key: ApiKey | None = strawberry.field(
        default=None, description="The key with its remaining secrets."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list, description=_USER_ERRORS)


@strawberry.input(description="Replace a secret, keeping the old one working for a grace period.")
class ApiSecretRollInput:
    secret_id: strawberry.ID = strawberry.field(description="The secret to replace.")
    expires_in_seconds: int | None = strawberry.field(
        default=None,
        description="How long the old secret keeps working: 0 (stops now) to 604800 (7 days); "
        "default 86400 (24 hours).",
    )


@strawberry.type(description="The new secret (plaintext this once) and the one it replaces.")
class ApiSecretRollPayload:
    api_secret: ApiSecret | None = strawberry.field(default=None, description="The new secret.")
    secret_plaintext: str | None = strawberry.field(default=None, description=_PLAINTEXT)
    previous_secret: ApiSecret | None = strawberry.field(
        default=None, description="The rolled secret, with the time it stops working."
    )
    api_key: ApiKey | None = strawberry.field(default=None, description="The key with its secrets.")
    user_errors: list[UserError] = strawberry.field(default_factory=list, description=_USER_ERRORS)


@strawberry.input(description="Show a secret in plaintext (ADMIN only; audited, rate-limited).")
class ApiSecretRevealInput:
    secret_id: strawberry.ID = strawberry.field(description="The secret's global ID.")


@strawberry.type(description="A secret in plaintext.")
class ApiSecretRevealPayload:
    secret_plaintext: str | None = strawberry.field(
        default=None, description="The secret in plaintext; null when refused."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list, description=_USER_ERRORS)
