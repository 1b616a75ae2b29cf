"""API keys, API secrets and signature secrets: generation, the secret rule and masking."""

from __future__ import annotations

import secrets
import string

API_KEY_LENGTH = 8
SECRET_MIN_LENGTH = 8
SECRET_MAX_LENGTH = 25
GENERATED_SECRET_LENGTH = 16
SIGNATURE_SECRET_BYTES = 32
HINT_LENGTH = 4
# A mask never shows more than this share of a secret: a caller may choose an 8-character
# secret, and its last four characters would be half of it.
HINT_SHARE = 4
MASK_LENGTH = 16
MASK = "•" * (MASK_LENGTH - HINT_LENGTH)

_SECRET_ALPHABET = string.ascii_letters + string.digits
_REQUIRED_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
_PRINTABLE_ASCII = frozenset(chr(code) for code in range(0x21, 0x7F))
_random = secrets.SystemRandom()


def is_api_key(value: str) -> bool:
    """Whether `value` is shaped like an API key (8 lowercase hex characters)."""
    return len(value) == API_KEY_LENGTH and all(c in "0123456789abcdef" for c in value)


def generate_api_key() -> str:
    """A new public API key: 8 lowercase hex characters from the OS CSPRNG."""
    return secrets.token_hex(API_KEY_LENGTH // 2)


def secret_rule_violation(secret: str) -> str | None:
    """None when a caller-chosen API secret is acceptable, else a sentence naming the rule."""
    # Every message is fixed text: the secret must never travel inside an error.
    if not SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH:
        return f"API secret must be {SECRET_MIN_LENGTH} to {SECRET_MAX_LENGTH} characters long."
    if any(char.isspace() or not char.isprintable() for char in secret):
        return "API secret must not contain spaces, line breaks or control characters."
    if any(char not in _PRINTABLE_ASCII for char in secret):
        return "API secret must use only ASCII letters, digits and punctuation."
    if not any(char in string.ascii_lowercase for char in secret):
        return "API secret must contain at least one lowercase letter."
    if not any(char in string.ascii_uppercase for char in secret):
        return "API secret must contain at least one uppercase letter."
    if not any(char in string.digits for char in secret):
        return "API secret must contain at least one digit."
    return None


def generate_api_secret(length: int = GENERATED_SECRET_LENGTH) -> str:
    """A new API secret of letters and digits that always satisfies the secret rule."""
    if not SECRET_MIN_LENGTH <= length <= SECRET_MAX_LENGTH:
        raise ValueError(
            f"length must be between {SECRET_MIN_LENGTH} and {SECRET_MAX_LENGTH}, got {length}"
        )
    # One character from each required class guarantees the rule by construction
    # (no unbounded retry loop); the shuffle hides where those characters sit.
    chars = [secrets.choice(required) for required in _REQUIRED_CLASSES]
    chars += [secrets.choice(_SECRET_ALPHABET) for _ in range(length - len(chars))]
    _random.shuffle(chars)
    return "".join(chars)


def generate_signature_secret() -> str:
    """A new webhook signature secret: 32 CSPRNG bytes as 64 lowercase hex characters."""
    # Hex keeps it copyable (one double-click selects it) and safe in any config format,
    # while 32 bytes of entropy match the SHA-256 output size HS256 and the HMACs want.
    return secrets.token_hex(SIGNATURE_SECRET_BYTES)


def secret_hint(secret: str) -> str:
    """The part of a secret that may be stored and shown beside the mask: its last
    characters, at most a quarter of it and at most four (none for under four)."""
    shown = min(HINT_LENGTH, len(secret) // HINT_SHARE)
    return secret[-shown:] if shown else ""


def mask(secret: str) -> str:
    """Sixteen characters: bullets, then at most the last quarter (up to four) of the secret."""
    return mask_hint(secret_hint(secret))


def mask_hint(hint: str) -> str:
    """The mask drawn from a stored hint, so the plaintext need not be decrypted; always
    MASK_LENGTH long, so the mask does not tell how long the secret is."""
    shown = hint[-HINT_LENGTH:]
    return "•" * (MASK_LENGTH - len(shown)) + shown
