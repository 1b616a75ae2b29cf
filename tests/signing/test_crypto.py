"""Master keys, encryption at rest and keyed digests, checked against the primitives directly."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from signing.crypto import (
    DIGEST_INFO,
    ENCRYPTION_INFO,
    SESSION_SIGNING_INFO,
    DecryptionError,
    SecretBox,
    format_master_key,
    generate_master_key,
    parse_master_key,
)

MASTER_KEY = bytes(range(32))
NONCE = bytes(range(100, 112))
PLAINTEXT = "S3cretValue9"
CONTEXT = "api_secret:abcd1234"

# Computed once from the vectors above with HKDF-SHA256 and AES-256-GCM directly; a change
# here means every ciphertext already stored would stop decrypting.
KNOWN_TOKEN = "v1.ZGVmZ2hpamtsbW5vUDQPGbDXShcXJD57qsjUbE0ckppezzf6XbXiyQ"
KNOWN_DIGEST = "50ab3ffcf1bf740d05a5938ad51b4f8913ea80c2eed9ebaef4196df1ac973a64"
KNOWN_SESSION_KEY = "18e67bf56caae2b6f13e8b1d6b8f3fcaf0bdd42b3754fd9766ff29c7c007bff6"


def hkdf(info: bytes, master_key: bytes = MASTER_KEY) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master_key)


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(MASTER_KEY)


# --- master keys ---------------------------------------------------------------------


def test_generated_master_keys_are_32_random_bytes() -> None:
    keys = {generate_master_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(len(key) == 32 for key in keys)


def test_master_key_text_round_trips() -> None:
    key = generate_master_key()
    text = format_master_key(key)
    assert text.isascii() and text.isprintable()
    assert parse_master_key(text) == key


@pytest.mark.parametrize(
    "text",
    [
        base64.urlsafe_b64encode(MASTER_KEY).decode(),
        base64.urlsafe_b64encode(MASTER_KEY).decode().rstrip("="),
        base64.b64encode(MASTER_KEY).decode(),
        MASTER_KEY.hex(),
        MASTER_KEY.hex().upper(),
        f"  {MASTER_KEY.hex()}\n",
        base64.urlsafe_b64encode(MASTER_KEY).decode() + "\n",
    ],
)
def test_master_key_spellings_accepted(text: str) -> None:
    assert parse_master_key(text) == MASTER_KEY


def test_longer_master_keys_accepted() -> None:
    long_key = bytes(range(64))
    assert parse_master_key(long_key.hex()) == long_key
    assert parse_master_key(format_master_key(long_key)) == long_key


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "not a key at all!",
        "secret-password",
        MASTER_KEY.hex()[:-2],
        base64.urlsafe_b64encode(MASTER_KEY[:31]).decode(),
        base64.urlsafe_b64encode(bytes(16)).decode(),
        MASTER_KEY.hex() + "zz!",
        "é" * 64,
        "A",
    ],
)
def test_bad_master_keys_refused_without_echoing(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_master_key(text)
    message = str(raised.value)
    assert "master key" in message
    if text.strip():
        assert text.strip() not in message
    assert raised.value.__cause__ is None


def test_short_master_keys_refused_everywhere() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        format_master_key(bytes(31))
    with pytest.raises(ValueError, match="at least 32"):
        SecretBox(bytes(31))


# --- known answers ---------------------------------------------------------------------


def test_encryption_known_answer(box: SecretBox) -> None:
    sealed = AESGCM(hkdf(ENCRYPTION_INFO)).encrypt(NONCE, PLAINTEXT.encode(), CONTEXT.encode())
    expected = "v1." + base64.urlsafe_b64encode(NONCE + sealed).decode().rstrip("=")
    assert expected == KNOWN_TOKEN
    assert box.encrypt(PLAINTEXT, context=CONTEXT, nonce=NONCE) == KNOWN_TOKEN
    assert box.decrypt(KNOWN_TOKEN, context=CONTEXT) == PLAINTEXT


def test_digest_known_answer(box: SecretBox) -> None:
    expected = hmac.new(hkdf(DIGEST_INFO), PLAINTEXT.encode(), hashlib.sha256).hexdigest()
    assert expected == KNOWN_DIGEST
    assert box.digest(PLAINTEXT) == KNOWN_DIGEST


def test_session_signing_key_known_answer(box: SecretBox) -> None:
    assert box.session_signing_key == hkdf(SESSION_SIGNING_INFO)
    assert box.session_signing_key.hex() == KNOWN_SESSION_KEY
    assert len(box.session_signing_key) == 32


def test_sub_keys_are_distinct_from_each_other_and_the_master_key() -> None:
    labels = {ENCRYPTION_INFO, DIGEST_INFO, SESSION_SIGNING_INFO}
    keys = {hkdf(label) for label in labels} | {MASTER_KEY}
    assert len(labels) == 3
    assert len(keys) == 4


# --- encryption ------------------------------------------------------------------------


@pytest.mark.parametrize("plaintext", ["", "Abcdefg1", "ünïcødé ✓ 😀", "x" * 10_000])
def test_round_trip(box: SecretBox, plaintext: str) -> None:
    token = box.encrypt(plaintext, context=CONTEXT)
    assert token.startswith("v1.")
    assert token.isascii() and " " not in token
    assert box.decrypt(token, context=CONTEXT) == plaintext


def test_fixed_nonce_is_deterministic_and_random_nonces_are_not(box: SecretBox) -> None:
    fixed = {box.encrypt(PLAINTEXT, context=CONTEXT, nonce=NONCE) for _ in range(3)}
    assert len(fixed) == 1
    fresh = {box.encrypt(PLAINTEXT, context=CONTEXT) for _ in range(100)}
    assert len(fresh) == 100


@pytest.mark.parametrize("nonce", [b"", bytes(11), bytes(13), bytes(16)])
def test_nonce_of_the_wrong_length_is_refused(box: SecretBox, nonce: bytes) -> None:
    with pytest.raises(ValueError, match="12 bytes"):
        box.encrypt(PLAINTEXT, context=CONTEXT, nonce=nonce)


def test_plaintext_is_not_visible_in_the_token(box: SecretBox) -> None:
    token = box.encrypt(PLAINTEXT, context=CONTEXT)
    raw = base64.urlsafe_b64decode(token[3:] + "==")
    assert PLAINTEXT not in token
    assert PLAINTEXT.encode() not in raw


def test_wrong_context_fails(box: SecretBox) -> None:
    token = box.encrypt(PLAINTEXT, context="api_secret:abcd1234")
    for context in ("api_secret:abcd1235", "signature_secret:abcd1234", "", "API_SECRET:ABCD1234"):
        with pytest.raises(DecryptionError):
            box.decrypt(token, context=context)


def test_wrong_master_key_fails(box: SecretBox) -> None:
    token = box.encrypt(PLAINTEXT, context=CONTEXT)
    other = SecretBox(generate_master_key())
    with pytest.raises(DecryptionError) as raised:
        other.decrypt(token, context=CONTEXT)
    assert "wrong" in str(raised.value)


def test_every_flipped_byte_is_detected(box: SecretBox) -> None:
    token = box.encrypt(PLAINTEXT, context=CONTEXT, nonce=NONCE)
    raw = bytearray(base64.urlsafe_b64decode(token[3:] + "=="))
    for index in range(len(raw)):  # nonce, ciphertext and tag alike
        tampered = bytearray(raw)
        tampered[index] ^= 0x01
        forged = "v1." + base64.urlsafe_b64encode(bytes(tampered)).decode().rstrip("=")
        with pytest.raises(DecryptionError):
            box.decrypt(forged, context=CONTEXT)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "v1",
        "v1.",
        "v2." + KNOWN_TOKEN[3:],
        "V1." + KNOWN_TOKEN[3:],
        KNOWN_TOKEN[3:],
        KNOWN_TOKEN[:-4],
        KNOWN_TOKEN + "AA",
        KNOWN_TOKEN + "A",
        KNOWN_TOKEN + "=",
        KNOWN_TOKEN.replace("v1.", "v1..", 1),
        "v1.ZGVmZ2hpamtsbW5v",
        "v1." + "A" * 38,
        "v1.not base64!",
        "v1.é",
        KNOWN_TOKEN[:10] + "/" + KNOWN_TOKEN[11:],
        KNOWN_TOKEN[:10] + "+" + KNOWN_TOKEN[11:],
    ],
)
def test_malformed_tokens_fail_with_decryption_error(box: SecretBox, token: str) -> None:
    with pytest.raises(DecryptionError) as raised:
        box.decrypt(token, context=CONTEXT)
    assert PLAINTEXT not in str(raised.value)


def test_errors_and_repr_never_show_keys_or_plaintext(box: SecretBox) -> None:
    token = box.encrypt(PLAINTEXT, context=CONTEXT)
    with pytest.raises(DecryptionError) as raised:
        box.decrypt(token, context="elsewhere")
    shown = str(raised.value) + repr(raised.value) + repr(box)
    secrets_in_play = [
        PLAINTEXT,
        MASTER_KEY.hex(),
        format_master_key(MASTER_KEY),
        *(hkdf(label).hex() for label in (ENCRYPTION_INFO, DIGEST_INFO, SESSION_SIGNING_INFO)),
    ]
    assert not any(value in shown for value in secrets_in_play)
    assert raised.value.__cause__ is None


# --- digests ---------------------------------------------------------------------------


def test_digest_is_deterministic_and_keyed(box: SecretBox) -> None:
    assert box.digest(PLAINTEXT) == box.digest(PLAINTEXT)
    assert box.digest(PLAINTEXT) != box.digest(PLAINTEXT + "x")
    assert SecretBox(generate_master_key()).digest(PLAINTEXT) != box.digest(PLAINTEXT)
    # Keyed: a plain SHA-256 of the secret, which anyone could compute, is not the digest.
    assert box.digest(PLAINTEXT) != hashlib.sha256(PLAINTEXT.encode()).hexdigest()


def test_matches(box: SecretBox) -> None:
    stored = box.digest(PLAINTEXT)
    assert box.matches(PLAINTEXT, stored)
    assert not box.matches("S3cretValue8", stored)
    assert not box.matches(PLAINTEXT, stored.upper())
    assert not box.matches(PLAINTEXT, stored[:-1])
    assert not SecretBox(generate_master_key()).matches(PLAINTEXT, stored)


@pytest.mark.parametrize("stored", ["", "not hex", "é" * 64, "\ud800", "0" * 64])
def test_matches_with_a_corrupt_stored_digest_is_false(box: SecretBox, stored: str) -> None:
    assert box.matches(PLAINTEXT, stored) is False
