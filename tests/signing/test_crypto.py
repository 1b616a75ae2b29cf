"""Master keys, encryption at rest and keyed digests, checked against the primitives directly."""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from signing.crypto import (
    DIGEST_INFO,
    ENCRYPTION_INFO,
    KEY_ID_LABEL,
    SESSION_SIGNING_INFO,
    DecryptionError,
    SecretBox,
    format_master_key,
    generate_master_key,
    key_id,
    parse_key_ring,
    parse_master_key,
)

MASTER_KEY = bytes(range(32))
NONCE = bytes(range(100, 112))
PLAINTEXT = "S3cretValue9"
CONTEXT = "api_secret/7/abcd1234/api-secret"
LEGACY_CONTEXT = "api_secret:abcd1234"

# Stored by the code before key IDs (v1, associated data LEGACY_CONTEXT), computed once from
# the vectors above with HKDF-SHA256 and AES-256-GCM: they must keep opening and matching.
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
        "00" * 32,
        "ab" * 32,
        base64.urlsafe_b64encode(b"password" * 4).decode(),
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


# --- weak keys and key rings ----------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "reason"),
    [(bytes(32), "all zeros"), (b"\x01\x02" * 16, "repeated pattern"), (b"abcd" * 8, "pattern")],
)
def test_weak_master_keys_are_refused_with_a_clear_message(key: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as raised:
        SecretBox(key)
    assert "too weak" in str(raised.value) and key.hex() not in str(raised.value)
    with pytest.raises(ValueError, match="too weak"):
        SecretBox(generate_master_key(), old_keys=[key])
    with pytest.raises(ValueError, match="too weak"):
        SecretBox(generate_master_key(), session_keys=[key])


def test_a_key_ring_lists_the_active_key_first() -> None:
    new, old = generate_master_key(), generate_master_key()
    text = f"{format_master_key(new)}, {old.hex()}"
    assert parse_key_ring(text) == [new, old]
    with pytest.raises(ValueError, match="key 2: master key is too short"):
        parse_key_ring(f"{new.hex()},{old.hex()[:-2]}")
    with pytest.raises(ValueError, match="no keys"):
        parse_key_ring(" , ")


def test_key_ids_are_a_keyed_fingerprint() -> None:
    expected = hmac.new(MASTER_KEY, KEY_ID_LABEL, hashlib.sha256).hexdigest()[:8]
    assert key_id(MASTER_KEY) == expected == SecretBox(MASTER_KEY).key_id
    assert key_id(generate_master_key()) != expected


# --- known answers ---------------------------------------------------------------------


def test_a_v1_ciphertext_from_before_key_ids_still_opens(box: SecretBox) -> None:
    sealed = AESGCM(hkdf(ENCRYPTION_INFO)).encrypt(
        NONCE, PLAINTEXT.encode(), LEGACY_CONTEXT.encode()
    )
    assert "v1." + base64.urlsafe_b64encode(NONCE + sealed).decode().rstrip("=") == KNOWN_TOKEN
    assert box.decrypt(KNOWN_TOKEN, context=CONTEXT, legacy_context=LEGACY_CONTEXT) == PLAINTEXT
    assert not box.is_current(KNOWN_TOKEN)
    with pytest.raises(DecryptionError):
        box.decrypt(KNOWN_TOKEN, context=CONTEXT)  # no legacy context: v1 is not accepted


def test_v2_ciphertexts_name_their_key_and_bind_the_context(box: SecretBox) -> None:
    sealed = AESGCM(hkdf(ENCRYPTION_INFO)).encrypt(NONCE, PLAINTEXT.encode(), CONTEXT.encode())
    token = f"v2.{key_id(MASTER_KEY)}." + base64.urlsafe_b64encode(NONCE + sealed).decode()
    assert box.decrypt(token.rstrip("="), context=CONTEXT) == PLAINTEXT
    made = box.encrypt(PLAINTEXT, context=CONTEXT)
    assert made.startswith(f"v2.{key_id(MASTER_KEY)}.") and box.is_current(made)


def test_a_legacy_digest_still_matches(box: SecretBox) -> None:
    expected = hmac.new(hkdf(DIGEST_INFO), PLAINTEXT.encode(), hashlib.sha256).hexdigest()
    assert expected == KNOWN_DIGEST
    assert box.matches(PLAINTEXT, KNOWN_DIGEST, context=CONTEXT)
    assert not box.matches("S3cretValue8", KNOWN_DIGEST, context=CONTEXT)
    assert not box.digest_is_current(KNOWN_DIGEST)


def test_digest_known_answer_names_the_key_and_binds_the_context(box: SecretBox) -> None:
    message = CONTEXT.encode() + b"\x00" + PLAINTEXT.encode()
    mac = hmac.new(hkdf(DIGEST_INFO), message, hashlib.sha256).hexdigest()
    assert box.digest(PLAINTEXT, context=CONTEXT) == f"{key_id(MASTER_KEY)}${mac}"
    assert box.digest_is_current(box.digest(PLAINTEXT, context=CONTEXT))


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
    assert token.startswith("v2.")
    assert token.isascii() and " " not in token
    assert box.decrypt(token, context=CONTEXT) == plaintext


def test_callers_cannot_choose_the_nonce(box: SecretBox) -> None:
    assert set(inspect.signature(SecretBox.encrypt).parameters) == {
        "self",
        "plaintext",
        "context",
    }
    fresh = {box.encrypt(PLAINTEXT, context=CONTEXT) for _ in range(100)}
    assert len(fresh) == 100


def test_plaintext_is_not_visible_in_the_token(box: SecretBox) -> None:
    token = box.encrypt(PLAINTEXT, context=CONTEXT)
    raw = base64.urlsafe_b64decode(token.rsplit(".", 1)[1] + "==")
    assert PLAINTEXT not in token
    assert PLAINTEXT.encode() not in raw


def test_wrong_context_fails(box: SecretBox) -> None:
    token = box.encrypt(PLAINTEXT, context="api_secret/7/abcd1234/api-secret")
    for context in (
        "api_secret/8/abcd1234/api-secret",  # another row of the same key
        "api_secret/7/abcd1235/api-secret",
        "signature_config/api_key_id=7/abcd1234/signature-secret",
        "",
    ):
        with pytest.raises(DecryptionError):
            box.decrypt(token, context=context, legacy_context=LEGACY_CONTEXT)


def test_wrong_master_key_fails(box: SecretBox) -> None:
    token = box.encrypt(PLAINTEXT, context=CONTEXT)
    other = SecretBox(generate_master_key())
    with pytest.raises(DecryptionError) as raised:
        other.decrypt(token, context=CONTEXT)
    assert "not configured" in str(raised.value)


def test_old_keys_are_read_and_new_data_uses_the_active_key() -> None:
    old, new = generate_master_key(), generate_master_key()
    before = SecretBox(old)
    token = before.encrypt(PLAINTEXT, context=CONTEXT)
    digest = before.digest(PLAINTEXT, context=CONTEXT)
    ring = SecretBox(new, old_keys=[old])
    assert ring.decrypt(token, context=CONTEXT) == PLAINTEXT
    assert ring.matches(PLAINTEXT, digest, context=CONTEXT)
    assert not ring.is_current(token) and not ring.digest_is_current(digest)
    assert ring.encrypt(PLAINTEXT, context=CONTEXT).startswith(f"v2.{key_id(new)}.")
    dropped = SecretBox(new)
    with pytest.raises(DecryptionError):
        dropped.decrypt(token, context=CONTEXT)
    assert not dropped.matches(PLAINTEXT, digest, context=CONTEXT)


def test_every_flipped_byte_is_detected(box: SecretBox) -> None:
    token = box.encrypt(PLAINTEXT, context=CONTEXT)
    prefix, body = token.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=="))
    for index in range(len(raw)):  # nonce, ciphertext and tag alike
        tampered = bytearray(raw)
        tampered[index] ^= 0x01
        forged = f"{prefix}." + base64.urlsafe_b64encode(bytes(tampered)).decode().rstrip("=")
        with pytest.raises(DecryptionError):
            box.decrypt(forged, context=CONTEXT)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "v1",
        "v1.",
        "v2." + KNOWN_TOKEN[3:],
        "v2.00000000." + KNOWN_TOKEN[3:],
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
        box.decrypt(token, context=CONTEXT, legacy_context=CONTEXT)
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
    digest = box.digest(PLAINTEXT, context=CONTEXT)
    assert digest == box.digest(PLAINTEXT, context=CONTEXT)
    assert digest != box.digest(PLAINTEXT + "x", context=CONTEXT)
    assert digest != box.digest(PLAINTEXT, context="api_secret/8/abcd1234/api-secret")
    assert SecretBox(generate_master_key()).digest(PLAINTEXT, context=CONTEXT) != digest
    # Keyed: a plain SHA-256 of the secret, which anyone could compute, is not the digest.
    assert hashlib.sha256(PLAINTEXT.encode()).hexdigest() not in digest


def test_matches(box: SecretBox) -> None:
    stored = box.digest(PLAINTEXT, context=CONTEXT)
    assert box.matches(PLAINTEXT, stored, context=CONTEXT)
    assert not box.matches("S3cretValue8", stored, context=CONTEXT)
    assert not box.matches(PLAINTEXT, stored, context="api_secret/8/abcd1234/api-secret")
    assert not box.matches(PLAINTEXT, stored.upper(), context=CONTEXT)
    assert not box.matches(PLAINTEXT, stored[:-1], context=CONTEXT)
    assert not SecretBox(generate_master_key()).matches(PLAINTEXT, stored, context=CONTEXT)


@pytest.mark.parametrize(
    "stored", ["", "not hex", "é" * 64, "\ud800", "0" * 64, "$", "zzzzzzzz$" + "0" * 64]
)
def test_matches_with_a_corrupt_stored_digest_is_false(box: SecretBox, stored: str) -> None:
    assert box.matches(PLAINTEXT, stored, context=CONTEXT) is False


# --- session keys ----------------------------------------------------------------------


def test_session_keys_rotate_on_their_own() -> None:
    master, session_new, session_old = (generate_master_key() for _ in range(3))
    derived = SecretBox(master)
    assert derived.session_verification_keys(derived.session_key_id) == [
        derived.session_signing_key
    ]
    own = SecretBox(master, session_keys=[session_new, session_old])
    assert own.session_signing_key == hkdf(SESSION_SIGNING_INFO, session_new)
    assert own.session_verification_keys(derived.session_key_id) == []
    assert own.session_verification_keys("ffffffff") == []
    assert len(own.session_verification_keys(None)) == 2
    assert own.key_id == derived.key_id  # encryption is untouched by the session rotation
