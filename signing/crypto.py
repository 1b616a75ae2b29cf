"""Encryption at rest, keyed digests and session signing keys, from a ring of master keys."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MASTER_KEY_MIN_BYTES = 32
# Random 32-byte keys have ~30 distinct byte values; fewer than this means a pattern
# (all zeros, a repeated word, a typed passphrase), not a key.
MIN_DISTINCT_BYTES = 16
SUB_KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
# v1: `v1.<base64url(nonce|sealed)>`, no key ID, associated data naming only the API key.
# v2: `v2.<key id>.<base64url(nonce|sealed)>`, associated data naming table, row and purpose.
LEGACY_VERSION = "v1"
TOKEN_VERSION = "v2"
DIGEST_SEPARATOR = "$"

# HKDF-SHA256 `info` labels (salt: none). Part of the storage format: changing one makes
# every stored ciphertext, digest and session token unreadable.
ENCRYPTION_INFO = b"switchboard/v1/aes-256-gcm"
DIGEST_INFO = b"switchboard/v1/hmac-sha256-digest"
SESSION_SIGNING_INFO = b"switchboard/v1/session-jwt"
KEY_ID_LABEL = b"switchboard/key-id"
SESSION_KEY_ID_LABEL = b"switchboard/session-key-id"

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
    check_master_key(key)
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
    check_master_key(key)
    return key


def parse_key_ring(text: str) -> list[bytes]:
    """Comma-separated master keys, the active one first; ValueError naming the position."""
    keys: list[bytes] = []
    for position, piece in enumerate(text.split(","), start=1):
        if not piece.strip():
            continue
        try:
            keys.append(parse_master_key(piece))
        except ValueError as exc:
            raise ValueError(f"key {position}: {exc}") from None
    if not keys:
        raise ValueError("no keys given")
    return keys


def check_master_key(key: bytes) -> None:
    """ValueError unless `key` is long enough and looks random (never quotes the key)."""
    if len(key) < MASTER_KEY_MIN_BYTES:
        raise ValueError(
            f"master key is too short: {len(key)} bytes, at least {MASTER_KEY_MIN_BYTES} needed"
        )
    if len(set(key)) < MIN_DISTINCT_BYTES:
        what = "all zeros" if not any(key) else "a repeated pattern, not random bytes"
        raise ValueError(
            f"master key is too weak: it is {what}; generate one with "
            "`switchboard keygen` or `openssl rand -base64 32`"
        )


def key_id(master_key: bytes) -> str:
    """The 8-hex-character ID of a master key: names it in ciphertexts and digests."""
    return hmac.new(master_key, KEY_ID_LABEL, hashlib.sha256).hexdigest()[:8]


def _derive(master_key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=SUB_KEY_BYTES, salt=None, info=info).derive(
        master_key
    )


def _seal(aead: AESGCM, nonce: bytes, plaintext: str, context: str) -> bytes:
    return nonce + aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))


@dataclass(frozen=True, repr=False)
class _Keys:
    """The sub-keys of one master key: separate, so one use's weakness gives nothing to others."""

    aead: AESGCM
    digest_key: bytes
    session_key: bytes

    @classmethod
    def of(cls, master_key: bytes) -> _Keys:
        return cls(
            aead=AESGCM(_derive(master_key, ENCRYPTION_INFO)),
            digest_key=_derive(master_key, DIGEST_INFO),
            session_key=_derive(master_key, SESSION_SIGNING_INFO),
        )


def _session_key_id(signing_key: bytes) -> str:
    return hmac.new(signing_key, SESSION_KEY_ID_LABEL, hashlib.sha256).hexdigest()[:8]


class SecretBox:
    """Encrypts secrets for storage, digests them for lookup and keys session tokens.

    `master_key` is the active key (new ciphertexts and digests); `old_keys` are only read,
    so a rotation can re-encrypt while serving. Session tokens are signed with a key derived
    from the active master key, or with `session_keys` (the first active) when given, so
    session signing can be rotated on its own.
    """

    __slots__ = ("_active", "_keys", "_session_active", "_session_keys")

    def __init__(
        self,
        master_key: bytes,
        *,
        old_keys: Sequence[bytes] = (),
        session_keys: Sequence[bytes] = (),
    ) -> None:
        ring = [master_key, *old_keys]
        for key in [*ring, *session_keys]:
            check_master_key(key)
        self._keys = {key_id(key): _Keys.of(key) for key in ring}
        self._active = key_id(master_key)
        signing = (
            [_derive(key, SESSION_SIGNING_INFO) for key in session_keys]
            if session_keys
            else [keys.session_key for keys in self._keys.values()]
        )
        self._session_keys = {_session_key_id(key): key for key in signing}
        self._session_active = _session_key_id(signing[0])

    def __repr__(self) -> str:
        return f"SecretBox(<{len(self._keys)} keys hidden>)"

    @property
    def key_id(self) -> str:
        """The active master key's ID."""
        return self._active

    @property
    def session_key_id(self) -> str:
        """The active session signing key's ID (the `kid` of new session tokens)."""
        return self._session_active

    @property
    def session_signing_key(self) -> bytes:
        """The 32-byte HS256 key new session JWTs are signed with."""
        return self._session_keys[self._session_active]

    def session_verification_keys(self, kid: str | None) -> list[bytes]:
        """The keys a session token with header `kid` may verify under (none if unknown);
        a token without `kid` (issued before key IDs) may verify under any in the ring."""
        if kid is None:
            return list(self._session_keys.values())
        key = self._session_keys.get(kid)
        return [key] if key is not None else []

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """AES-256-GCM under the active key, `context` as associated data: `v2.<kid>.<b64>`."""
        # `context` names the table, row and purpose, so a ciphertext copied into another
        # row or column fails to decrypt instead of handing over someone else's secret.
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = _seal(self._keys[self._active].aead, nonce, plaintext, context)
        body = base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")
        return f"{TOKEN_VERSION}.{self._active}.{body}"

    def decrypt(self, token: str, *, context: str, legacy_context: str | None = None) -> str:
        """The plaintext sealed by `encrypt` under the same context, or DecryptionError.

        A v1 token (no key ID) was sealed with `legacy_context` by some key of the ring.
        """
        version, _, rest = token.partition(".")
        if version == TOKEN_VERSION:
            kid, _, body = rest.partition(".")
            keys = self._keys.get(kid)
            if keys is None:
                raise DecryptionError("ciphertext names a master key that is not configured")
            return _open(keys.aead, _raw(body), context)
        if version == LEGACY_VERSION and legacy_context is not None:
            raw = _raw(rest)
            for keys in self._keys.values():
                try:
                    return _open(keys.aead, raw, legacy_context)
                except DecryptionError:
                    continue
            raise DecryptionError(
                "ciphertext failed authentication: tampered, wrong context or wrong master key"
            )
        raise DecryptionError(f"ciphertext is not a {TOKEN_VERSION} token")

    def is_current(self, token: str) -> bool:
        """Whether a ciphertext is in the current format under the active key."""
        return token.startswith(f"{TOKEN_VERSION}.{self._active}.")

    def digest(self, secret: str, *, context: str) -> str:
        """`<kid>$<hex HMAC-SHA256>` of `context` and `secret` under the active digest key."""
        return f"{self._active}{DIGEST_SEPARATOR}{self._mac(self._active, secret, context)}"

    def digest_is_current(self, stored: str) -> bool:
        """Whether a stored digest is under the active key."""
        return stored.startswith(f"{self._active}{DIGEST_SEPARATOR}")

    def matches(self, secret: str, stored: str, *, context: str) -> bool:
        """Whether `secret` has this stored digest for `context`, compared in constant time.

        A legacy digest (bare hex, from before key IDs) is checked under every key of the
        ring, without the context it never had.
        """
        kid, separator, _ = stored.partition(DIGEST_SEPARATOR)
        if separator:
            if kid not in self._keys:
                return False
            candidates = [f"{kid}{DIGEST_SEPARATOR}{self._mac(kid, secret, context)}"]
        else:
            candidates = [
                hmac.new(keys.digest_key, secret.encode("utf-8"), hashlib.sha256).hexdigest()
                for keys in self._keys.values()
            ]
        # Compare bytes: compare_digest refuses non-ASCII str, and a corrupt stored digest
        # should mean "no match", not an exception.
        given = stored.encode("utf-8", "replace")
        found = False
        for candidate in candidates:
            found |= hmac.compare_digest(candidate.encode("ascii"), given)
        return found

    def _mac(self, kid: str, secret: str, context: str) -> str:
        message = context.encode("utf-8") + b"\x00" + secret.encode("utf-8")
        return hmac.new(self._keys[kid].digest_key, message, hashlib.sha256).hexdigest()


def _raw(body: str) -> bytes:
    if not _URLSAFE_BASE64.fullmatch(body) or len(body) % 4 == 1:
        raise DecryptionError("ciphertext is not valid base64url")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("ciphertext is truncated")
    return raw


def _open(aead: AESGCM, raw: bytes, context: str) -> str:
    try:
        opened = aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode("utf-8"))
    except InvalidTag:
        raise DecryptionError(
            "ciphertext failed authentication: tampered, wrong context or wrong master key"
        ) from None
    try:
        return opened.decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionError("decrypted value is not UTF-8 text") from None
