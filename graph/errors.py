"""Expected failures as data: the `UserError` type every payload carries."""

from __future__ import annotations

import strawberry

from graph.enums import UserErrorCode
from resolvers.errors import DomainError, DomainErrors


@strawberry.type(description="Why a mutation did not do what was asked.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "deliveryReceiptUrl"].'
    )
    code: UserErrorCode = strawberry.field(description="Machine-readable reason.")
    message: str = strawberry.field(description="Human-readable reason naming the rule.")


def user_errors(error: DomainError) -> list[UserError]:
    each = error.errors if isinstance(error, DomainErrors) else [error]
    return [
        UserError(
            field=["input", *item.field] if item.field else None,
            code=UserErrorCode(item.code.value),
            message=item.message,
        )
        for item in each
    ]
