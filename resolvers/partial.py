"""Partial updates: telling "leave this field as it is" apart from "clear it"."""

from __future__ import annotations

from typing import Any, Final


class Keep:
    """The value of an input field the caller did not send."""

    _instance: Keep | None = None

    def __new__(cls) -> Keep:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "KEEP"

    def __bool__(self) -> bool:
        return False


KEEP: Final[Keep] = Keep()


def provided(**fields: Any) -> dict[str, Any]:
    """Only the fields that carry a value other than KEEP."""
    return {name: value for name, value in fields.items() if value is not KEEP}
