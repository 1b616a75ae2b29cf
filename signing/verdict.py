"""The answer every webhook signature check gives: valid or not, by which scheme, and why."""

from __future__ import annotations

from dataclasses import dataclass

MESSAGES_JWT_SCHEME = "MESSAGES_JWT"
NO_SIGNATURE_SCHEME = "NONE"


def sms_scheme(method: str) -> str:
    """Name the SMS API `sig` scheme for one signature method, e.g. "SMS_SIG:SHA256_HMAC"."""
    return f"SMS_SIG:{method}"


@dataclass(frozen=True, slots=True)
class SignatureVerdict:
    """Whether a webhook's signature verified; `reason` says why not (None when valid)."""

    valid: bool
    scheme: str
    reason: str | None = None

    @classmethod
    def accepted(cls, scheme: str) -> SignatureVerdict:
        """A signature that verified under `scheme`."""
        return cls(valid=True, scheme=scheme, reason=None)

    @classmethod
    def rejected(cls, scheme: str, reason: str) -> SignatureVerdict:
        """A signature that did not verify under `scheme`, for `reason`."""
        return cls(valid=False, scheme=scheme, reason=reason)
