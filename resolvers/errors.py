"""Domain errors: what an operation refuses, with a contract code and the field at fault."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_URL = "INVALID_URL"
    BLOCKED_ADDRESS = "BLOCKED_ADDRESS"
    SECRET_COMPLEXITY = "SECRET_COMPLEXITY"
    SECRET_LIMIT_REACHED = "SECRET_LIMIT_REACHED"
    API_KEY_LIMIT_REACHED = "API_KEY_LIMIT_REACHED"
    LAST_SECRET = "LAST_SECRET"
    NOT_FOUND = "NOT_FOUND"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"


class DomainError(Exception):
    """A rule refused the operation; nothing it started was kept."""

    def __init__(self, code: ErrorCode, message: str, field: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class DomainErrors(DomainError):
    """Several fields broke their rules at once; each error names its own field."""

    def __init__(self, errors: list[DomainError]) -> None:
        if not errors:
            raise ValueError("DomainErrors needs at least one error")
        super().__init__(errors[0].code, errors[0].message, errors[0].field)
        self.errors = list(errors)


class AuthenticationError(Exception):
    """Credentials were given but are wrong, expired or malformed; the message is safe to show."""


class TooManyAttempts(Exception):
    """Too many failed attempts from this address or against this key; try after a while."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("Too many failed authentication attempts; try again later.")
        self.retry_after = retry_after


class BadRequest(Exception):
    """The request itself is malformed (e.g. a page size out of range); safe to show."""


def not_found(field: list[str], what: str = "object") -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, f"No {what} with this ID exists.", field)


def forbidden(field: list[str] | None = None) -> DomainError:
    return DomainError(ErrorCode.FORBIDDEN, "This requires the ADMIN role.", field)
