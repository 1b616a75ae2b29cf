"""Encryption at rest and keyed digests, all derived from one server master key."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MASTER_KEY_MIN_BYTES = 32
SUB_KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
TOKEN_VERSION = "v1"

# HKDF-SHA256 `info` labels (salt: none). Part of the storage format: changing one makes
# every stored ciphertext, digest and session token unreadable.
ENCRYPTION_INFO = b"switchboard/v1/aes-256-gcm"
DIGEST_INFO = b"switchboard/v1/hmac-sha256-digest"
SESSION_SIGNING_INFO = b"switchboard/v1/session-jwt"

_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_URLSAFE_BASE64 = re.compile(r"[A-Za-z0-9_-]+")
_MASTER_KEY_FORMAT = (
    f"master key must be the URL-safe base64 or hex encoding of at least "
    f"{MASTER_KEY_MIN_BYTES} random bytes"
)


class DecryptionError(Exception):
    """A stored ciphertext could not be opened: tampered, wrong context, wrong key or garbled."""


def generate_master_key() -> bytes:
    """A new master key: 32 bytes from the OS CSPRNG."""
    return secrets.token_bytes(MASTER_KEY_MIN_BYTES)


def format_master_key(key: bytes) -> str:
    """The environment-variable form of a master key (URL-safe base64, unpadded)."""
    _check_master_key(key)
    return base64.urlsafe_b64encode(key).decode("ascii").rstrip("=")


def parse_master_key(text: str) -> bytes:
    """Read a master key from its environment-variable form: base64 or hex of ≥ 32 bytes."""
    # Errors below never include `text`: it is the key, or a typo one character away from it.
    text = text.strip()
    if _HEX.fullmatch(text) and len(text) % 2 == 0:
        key = bytes.fromhex(text)
    elif _BASE64.fullmatch(text):
        # Both alphabets are accepted, as `openssl rand -base64 32` prints the standard one.
        unpadded = text.rstrip("=").replace("+", "-").replace("/", "_")
        try:
            key = base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
        except (binascii.Error, ValueError):
            raise ValueError(_MASTER_KEY_FORMAT) from None
    else:
        raise ValueError(_MASTER_KEY_FORMAT)
    _check_master_key(key)
    return key


def _check_master_key(key: bytes) -> None:
    if len(key) < MASTER_KEY_MIN_BYTES:
        raise ValueError(
            f"master key is too short: {len(key)} bytes, at least {MASTER_KEY_MIN_BYTES} needed"
        )


def _derive(master_key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=SUB_KEY_BYTES, salt=None, info=info).derive(
        master_key
    )


class SecretBox:
    """Encrypts secrets for storage, digests them for lookup and keys session tokens."""

    __slots__ = ("_aead", "_digest_key", "_session_signing_key")

    def __init__(self, master_key: bytes) -> None:
        _check_master_key(master_key)
        # Separate sub-keys, so a weakness in one use (say a leaked session key)
        # gives nothing towards the others.
        self._aead = AESGCM(_derive(master_key, ENCRYPTION_INFO))
        self._digest_key = _derive(master_key, DIGEST_INFO)
        self._session_signing_key = _derive(master_key, SESSION_SIGNING_INFO)

    def __repr__(self) -> str:
        return "SecretBox(<keys hidden>)"

    @property
    def session_signing_key(self) -> bytes:
        """The 32-byte HS256 key for the server's own session JWTs."""
        return self._session_signing_key

    def encrypt(self, plaintext: str, *, context: str, nonce: bytes | None = None) -> str:
        """AES-256-GCM with `context` as associated data, as a `v1.<base64url>` token."""
        # `context` names the row the ciphertext belongs to, so a ciphertext copied into
        # another row fails to decrypt instead of handing over someone else's secret.
        if nonce is None:
            nonce = secrets.token_bytes(NONCE_BYTES)
        elif len(nonce) != NONCE_BYTES:
            raise ValueError(f"nonce must be {NONCE_BYTES} bytes")
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        return f"{TOKEN_VERSION}.{body}"

    def decrypt(self, token: str, *, context: str) -> str:
        """The plaintext sealed by `encrypt` under the same context, or DecryptionError."""
        version, dot, body = token.partition(".")
        if not dot or version != TOKEN_VERSION:
            raise DecryptionError(f"ciphertext is not a {TOKEN_VERSION} token")
        if not _URLSAFE_BASE64.fullmatch(body) or len(body) % 4 == 1:
            raise DecryptionError("ciphertext is not valid base64url")
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("ciphertext is truncated")
        try:
            opened = self._aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode("utf-8")
            )
        except InvalidTag:
            raise DecryptionError(
                "ciphertext failed authentication: tampered, wrong context or wrong master key"
            ) from None
        try:
            return opened.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionError("decrypted value is not UTF-8 text") from None

    def digest(self, secret: str) -> str:
        """Hex HMAC-SHA256 of a secret under the digest sub-key, for indexed lookup."""
        return hmac.new(self._digest_key, secret.encode("utf-8"), hashlib.sha256).hexdigest()

    def matches(self, secret: str, digest: str) -> bool:
        """Whether `secret` has this stored digest, compared in constant time."""
        # Compare bytes: compare_digest refuses non-ASCII str, and a corrupt stored
        # digest should mean "no match", not an exception.
        return hmac.compare_digest(
            self.digest(secret).encode("ascii"), digest.encode("utf-8", "replace")
        )
