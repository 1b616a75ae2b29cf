"""Messages API webhook JWTs: the platform's verifier, PyJWT claims, and every refusal."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
import pytest
from vonage_jwt.verify_jwt import verify_signature

from signing.webhook_jwt import messages_jwt, payload_hash, verify_messages_jwt

SECRET = "jwt-signature-secret-0123456789abcdef"
OTHER_SECRET = "another-signature-secret-9876543210"
BODY = b'{"message_uuid":"aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab","status":"delivered"}'
ISSUED_AT = 1_700_000_000
# Tokens in these tests outlive the run, so verifiers that read the real clock (the
# platform's, PyJWT's) see a live token; the default lifetime has its own test.
LIFETIME = 10**9
JTI = "6d5c9a1e-43f2-4f5e-9c1a-2b8a0f1e7d3c"


def token(body: bytes = BODY, secret: str = SECRET, **overrides: object) -> str:
    arguments: dict = {
        "api_key": "abcd1234",
        "issued_at": ISSUED_AT,
        "jti": JTI,
        "lifetime": LIFETIME,
        **overrides,
    }
    return messages_jwt(body, secret, **arguments)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def test_vonage_verifier_accepts_our_token() -> None:
    assert verify_signature(token(), SECRET) is True


def test_vonage_verifier_refuses_the_wrong_secret() -> None:
    assert verify_signature(token(), OTHER_SECRET) is False


def test_claims_decode_with_pyjwt() -> None:
    claims = jwt.decode(token(), SECRET, algorithms=["HS256"])
    assert claims == {
        "iat": ISSUED_AT,
        "exp": ISSUED_AT + LIFETIME,
        "jti": JTI,
        "iss": "Vonage",
        "api_key": "abcd1234",
        "payload_hash": hashlib.sha256(BODY).hexdigest(),
    }
    assert jwt.get_unverified_header(token()) == {"alg": "HS256", "typ": "JWT"}


def test_issuer_is_configurable() -> None:
    claims = jwt.decode(token(issuer="Switchboard"), SECRET, algorithms=["HS256"])
    assert claims["iss"] == "Switchboard"


def test_signature_is_hs256_over_header_and_claims() -> None:
    header, claims, signature = token().split(".")
    expected = hmac.new(SECRET.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    assert signature == b64url(expected)


def test_payload_hash_is_sha256_hex_of_exact_bytes() -> None:
    assert payload_hash(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert payload_hash(BODY) != payload_hash(BODY + b" ")


def test_verify_accepts_a_valid_token() -> None:
    verdict = verify_messages_jwt(f"Bearer {token()}", BODY, SECRET)
    assert (verdict.valid, verdict.scheme, verdict.reason) == (True, "MESSAGES_JWT", None)


def test_verify_accepts_any_case_of_bearer_and_surrounding_space() -> None:
    assert verify_messages_jwt(f"  bearer   {token()} ", BODY, SECRET).valid


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "no Authorization header"),
        ("", "no Authorization header"),
        ("   ", "no Authorization header"),
        ("Basic YWJjZDEyMzQ6c2VjcmV0", "Authorization header is not a Bearer token"),
        ("Bearer", "empty Bearer token"),
        ("Bearer not-a-jwt", "malformed token"),
        ("Bearer a.b.c", "malformed token"),
    ],
)
def test_verify_explains_unusable_headers(header: str | None, reason: str) -> None:
    verdict = verify_messages_jwt(header, BODY, SECRET)
    assert (verdict.valid, verdict.scheme, verdict.reason) == (False, "MESSAGES_JWT", reason)


def test_verify_rejects_the_wrong_secret() -> None:
    assert verify_messages_jwt(f"Bearer {token()}", BODY, OTHER_SECRET).reason == "bad signature"


def test_verify_rejects_a_changed_body() -> None:
    changed = BODY.replace(b"delivered", b"rejected")
    assert (
        verify_messages_jwt(f"Bearer {token()}", changed, SECRET).reason == "payload hash mismatch"
    )
    assert verify_messages_jwt(f"Bearer {token()}", BODY + b"\n", SECRET).reason == (
        "payload hash mismatch"
    )


def test_verify_rejects_changed_claims() -> None:
    header, claims, signature = token().split(".")
    forged = json.loads(base64.urlsafe_b64decode(claims + "=="))
    forged["api_key"] = "ffff0000"
    forged_claims = b64url(json.dumps(forged).encode())
    header_value = f"Bearer {header}.{forged_claims}.{signature}"
    assert verify_messages_jwt(header_value, BODY, SECRET).reason == "bad signature"


@pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning")
@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_verify_pins_hs256(algorithm: str) -> None:
    claims = {"iat": ISSUED_AT, "payload_hash": payload_hash(BODY)}
    other = jwt.encode(claims, SECRET, algorithm=algorithm)
    reason = verify_messages_jwt(f"Bearer {other}", BODY, SECRET).reason
    assert reason == "algorithm not allowed (only HS256)"


def test_verify_refuses_an_unsigned_token() -> None:
    header = b64url(b'{"alg":"none","typ":"JWT"}')
    claims = b64url(json.dumps({"payload_hash": payload_hash(BODY)}).encode())
    verdict = verify_messages_jwt(f"Bearer {header}.{claims}.", BODY, SECRET)
    assert not verdict.valid
    assert verdict.reason == "algorithm not allowed (only HS256)"


def test_verify_requires_payload_hash() -> None:
    bare = jwt.encode({"iat": ISSUED_AT}, SECRET, algorithm="HS256")
    assert (
        verify_messages_jwt(f"Bearer {bare}", BODY, SECRET).reason == "payload_hash claim missing"
    )


def test_verify_accepts_uppercase_payload_hash() -> None:
    claims = {"iat": ISSUED_AT, "payload_hash": payload_hash(BODY).upper()}
    shouted = jwt.encode(claims, SECRET, algorithm="HS256")
    assert verify_messages_jwt(f"Bearer {shouted}", BODY, SECRET).valid


def test_max_age_uses_the_given_clock() -> None:
    header = f"Bearer {token()}"
    assert verify_messages_jwt(header, BODY, SECRET, max_age=300, now=ISSUED_AT + 300).valid
    too_old = verify_messages_jwt(header, BODY, SECRET, max_age=300, now=ISSUED_AT + 301)
    assert too_old.reason == "token too old"
    early = verify_messages_jwt(header, BODY, SECRET, max_age=300, now=ISSUED_AT - 61)
    assert early.reason == "token issued in the future"
    assert verify_messages_jwt(header, BODY, SECRET, max_age=300, now=ISSUED_AT - 60).valid


def test_without_max_age_an_old_token_verifies_until_it_expires() -> None:
    assert verify_messages_jwt(f"Bearer {token()}", BODY, SECRET, now=ISSUED_AT + 10**6).valid
    expired = verify_messages_jwt(f"Bearer {token()}", BODY, SECRET, now=ISSUED_AT + LIFETIME)
    assert expired.reason == "token expired"


def test_max_age_needs_a_numeric_iat() -> None:
    no_iat = jwt.encode({"payload_hash": payload_hash(BODY)}, SECRET, algorithm="HS256")
    assert verify_messages_jwt(f"Bearer {no_iat}", BODY, SECRET, max_age=60).reason == (
        "iat claim missing"
    )
    text_iat = jwt.encode({"iat": "yesterday", "payload_hash": payload_hash(BODY)}, SECRET)
    assert verify_messages_jwt(f"Bearer {text_iat}", BODY, SECRET, max_age=60).reason == (
        "iat claim is not a number"
    )


def test_expired_token_is_refused() -> None:
    claims = {"iat": ISSUED_AT, "exp": ISSUED_AT + 60, "payload_hash": payload_hash(BODY)}
    expiring = jwt.encode(claims, SECRET, algorithm="HS256")
    header = f"Bearer {expiring}"
    assert verify_messages_jwt(header, BODY, SECRET, now=ISSUED_AT + 59).valid
    assert verify_messages_jwt(header, BODY, SECRET, now=ISSUED_AT + 60).reason == "token expired"


def test_tokens_expire_five_minutes_after_they_are_issued() -> None:
    made = messages_jwt(BODY, SECRET, api_key="abcd1234", issued_at=ISSUED_AT, jti=JTI)
    claims = jwt.decode(made, options={"verify_signature": False})
    assert claims["exp"] == ISSUED_AT + 300
    header = f"Bearer {made}"
    assert verify_messages_jwt(header, BODY, SECRET, now=ISSUED_AT + 299).valid
    assert verify_messages_jwt(header, BODY, SECRET, now=ISSUED_AT + 300).reason == "token expired"


def test_a_token_not_valid_yet_is_refused() -> None:
    early = jwt.encode(
        {"iat": ISSUED_AT, "nbf": ISSUED_AT + 600, "payload_hash": payload_hash(BODY)},
        SECRET,
        algorithm="HS256",
    )
    verdict = verify_messages_jwt(f"Bearer {early}", BODY, SECRET, now=ISSUED_AT)
    assert verdict.reason == "token not valid yet (nbf)"
    assert verify_messages_jwt(f"Bearer {early}", BODY, SECRET, now=ISSUED_AT + 600).valid
