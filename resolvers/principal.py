"""Who is calling: the account, the role and, for a non-primary key, the one key it may touch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "ADMIN"
    VIEWER = "VIEWER"


@dataclass(frozen=True)
class Principal:
    account_id: int
    role: Role
    # None: the whole account (a primary key, or a session issued from one).
    api_key_id: int | None
    # The key the caller authenticated with, for `Viewer.apiKey`.
    via_api_key_id: int | None
    actor: str
    # The secret the caller authenticated with, or that created its session token.
    secret_id: int | None = None
    # For a session token: its `jti` and expiry (what `sessionRevoke` records).
    session_id: str | None = None
    session_expires_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def may_see_key(self, api_key_id: int) -> bool:
        return self.api_key_id is None or self.api_key_id == api_key_id


@dataclass(frozen=True)
class RequestInfo:
    """Where a request came from, for audit records."""

    request_id: str | None = None
    client_address: str | None = None
    # A client's own X-Request-ID, validated and kept apart from the server-made `request_id`.
    client_request_id: str | None = None
