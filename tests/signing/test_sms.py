"""SMS API `sig`: known answers, the platform's published verifier, and tampering."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from vonage_http_client.auth import Auth

from signing.sms import (
    SIGNATURE_METHODS,
    sign_sms_params,
    sms_signature,
    sms_signature_base,
    verify_sms_signature,
)

SECRET = "kat-signature-secret-0123456789abcdef"
OTHER_SECRET = "another-signature-secret-9876543210"
HMAC_METHODS = {
    "MD5_HMAC": "md5",
    "SHA1_HMAC": "sha1",
    "SHA256_HMAC": "sha256",
    "SHA512_HMAC": "sha512",
}

KAT_PARAMS = {
    "to": "447700900999",
    "msisdn": "447700900123",
    "text": "a&b=c ünï",
    "messageId": "0A00",
    "api-key": "abcd1234",
    "timestamp": "1700000000",
}
# Written out by hand from the published algorithm: sorted names, & and = in values -> _.
KAT_BASE = (
    "&api-key=abcd1234&messageId=0A00&msisdn=447700900123"
    "&text=a_b_c ünï&timestamp=1700000000&to=447700900999"
)
# Computed once with hashlib/hmac over KAT_BASE and SECRET, independently of signing/.
KAT_SIGS = {
    "MD5_HASH": "071f5349fcd9b5c08956df7b0b55c372",
    "MD5_HMAC": "57d285b9e4104557b59cee2b331e43a9",
    "SHA1_HMAC": "9a5eac6ec297f79483c10067edf5986e7fa6bb1c",
    "SHA256_HMAC": "2e9f3578b55748fc8e00d2492adfa93de15cef67511b442ee9d955c9907d3fe0",
    "SHA512_HMAC": (
        "d4629eb20c424be77653b82db9a4d3a52f81dadf120d9b585dc6170d69596e94"
        "2e32e5f1ab0a4374813da8521aa3176047cda2a99f0858d94d0742b940a87018"
    ),
}

DELIVERY_RECEIPT = {
    "msisdn": "447700900123",
    "to": "AcmeInc",
    "network-code": "23410",
    "messageId": "0A0000001234ABCD",
    "price": "0.03330000",
    "status": "delivered",
    "scts": "2405060708",
    "err-code": "0",
    "api-key": "abcd1234",
    "message-timestamp": "2024-05-06 07:08:09",
    "client-ref": "ref=1&batch=2",
}


def vonage_auth(method: str, secret: str = SECRET) -> Auth:
    """The platform's own verifier, configured as its documentation says."""
    return Auth(api_key="abcd1234", signature_secret=secret, signature_method=HMAC_METHODS[method])


def test_base_string_matches_the_published_algorithm() -> None:
    assert sms_signature_base(KAT_PARAMS) == KAT_BASE


def test_base_string_leaves_out_sig_and_keeps_empty_values() -> None:
    params = {"b": "", "a": "x=y", "sig": "deadbeef"}
    assert sms_signature_base(params) == "&a=x_y&b="


def test_base_string_sorts_by_code_point() -> None:
    params = {"b": "1", "B": "2", "a-b": "3", "a_b": "4", "ab": "5"}
    assert sms_signature_base(params) == "&B=2&a-b=3&a_b=4&ab=5&b=1"


@pytest.mark.parametrize("method", sorted(KAT_SIGS))
def test_known_answer_vectors(method: str) -> None:
    assert sms_signature(KAT_PARAMS, SECRET, method) == KAT_SIGS[method]


def test_known_answers_were_derived_from_hashlib() -> None:
    key, base = SECRET.encode(), KAT_BASE.encode()
    assert hashlib.md5(base + key).hexdigest() == KAT_SIGS["MD5_HASH"]
    for method, digest in HMAC_METHODS.items():
        assert hmac.new(key, base, digest).hexdigest() == KAT_SIGS[method]


def test_md5_hash_is_md5_of_base_with_secret_appended() -> None:
    signed = sign_sms_params(DELIVERY_RECEIPT, SECRET, "MD5_HASH", timestamp=1715000000)
    base = "".join(
        f"&{k}={signed[k].replace('&', '_').replace('=', '_')}"
        for k in sorted(signed)
        if k != "sig"
    )
    assert signed["sig"] == hashlib.md5((base + SECRET).encode("utf-8")).hexdigest()
    assert "&client-ref=ref_1_batch_2&" in base


@pytest.mark.parametrize("method", sorted(HMAC_METHODS))
def test_vonage_verifier_accepts_our_signature(method: str) -> None:
    signed = sign_sms_params(DELIVERY_RECEIPT, SECRET, method, timestamp=1715000000)
    assert vonage_auth(method).check_signature(dict(signed)) is True
    assert vonage_auth(method, OTHER_SECRET).check_signature(dict(signed)) is False


@pytest.mark.parametrize("method", sorted(HMAC_METHODS))
def test_vonage_signer_and_ours_agree_on_awkward_values(method: str) -> None:
    params = {"text": "x=1&y=2 ✓ ünï", "keyword": "X=1&Y=2", "empty": "", "timestamp": "1"}
    assert vonage_auth(method).sign_params(dict(params)) == sms_signature(params, SECRET, method)


@pytest.mark.parametrize("method", sorted(HMAC_METHODS))
def test_vonage_verifier_rejects_a_tampered_value(method: str) -> None:
    signed = sign_sms_params(DELIVERY_RECEIPT, SECRET, method, timestamp=1715000000)
    assert vonage_auth(method).check_signature({**signed, "status": "failed"}) is False


def test_vonage_md5_is_hmac_not_the_legacy_hash() -> None:
    signed = sign_sms_params(DELIVERY_RECEIPT, SECRET, "MD5_HASH", timestamp=1715000000)
    assert vonage_auth("MD5_HMAC").check_signature(dict(signed)) is False


def test_sign_adds_timestamp_and_sig_without_changing_the_input() -> None:
    original = dict(DELIVERY_RECEIPT)
    signed = sign_sms_params(original, SECRET, "SHA256_HMAC", timestamp=1715000000)
    assert original == DELIVERY_RECEIPT
    assert signed["timestamp"] == "1715000000"
    assert {k: v for k, v in signed.items() if k not in ("timestamp", "sig")} == DELIVERY_RECEIPT
    assert signed["sig"] == signed["sig"].lower()


def test_sign_replaces_a_stale_sig_and_timestamp() -> None:
    stale = {**DELIVERY_RECEIPT, "sig": "00", "timestamp": "1"}
    signed = sign_sms_params(stale, SECRET, "SHA256_HMAC", timestamp=1715000000)
    assert signed == sign_sms_params(DELIVERY_RECEIPT, SECRET, "SHA256_HMAC", timestamp=1715000000)


def test_unknown_method_raises_when_signing() -> None:
    with pytest.raises(ValueError, match="unknown signature method"):
        sms_signature(KAT_PARAMS, SECRET, "SHA384_HMAC")


@pytest.mark.parametrize("method", SIGNATURE_METHODS)
def test_verify_accepts_a_valid_signature(method: str) -> None:
    signed = sign_sms_params(DELIVERY_RECEIPT, SECRET, method, timestamp=1715000000)
    verdict = verify_sms_signature(signed, SECRET, method)
    assert (verdict.valid, verdict.scheme, verdict.reason) == (True, f"SMS_SIG:{method}", None)


@pytest.mark.parametrize("method", SIGNATURE_METHODS)
def test_verify_accepts_uppercase_hex(method: str) -> None:
    signed = sign_sms_params(DELIVERY_RECEIPT, SECRET, method, timestamp=1715000000)
    signed["sig"] = signed["sig"].upper()
    assert verify_sms_signature(signed, SECRET, method).valid


@pytest.mark.parametrize("method", SIGNATURE_METHODS)
@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda p: p.update(status="failed"), id="changed-value"),
        pytest.param(lambda p: p.update(timestamp="1715000001"), id="changed-timestamp"),
        pytest.param(lambda p: p.update(extra="1"), id="added-param"),
        pytest.param(lambda p: p.pop("price"), id="removed-param"),
        pytest.param(lambda p: p.update(sig=p["sig"][:-1]), id="truncated-sig"),
    ],
)
def test_verify_rejects_tampering(method: str, tamper) -> None:
    signed = sign_sms_params(DELIVERY_RECEIPT, SECRET, method, timestamp=1715000000)
    tamper(signed)
    verdict = verify_sms_signature(signed, SECRET, method)
    assert (verdict.valid, verdict.reason) == (False, "signature mismatch")


@pytest.mark.parametrize("method", SIGNATURE_METHODS)
def test_verify_rejects_the_wrong_secret_and_the_wrong_method(method: str) -> None:
    signed = sign_sms_params(DELIVERY_RECEIPT, SECRET, method, timestamp=1715000000)
    assert verify_sms_signature(signed, OTHER_SECRET, method).reason == "signature mismatch"
    other = next(m for m in SIGNATURE_METHODS if m != method)
    assert not verify_sms_signature(signed, SECRET, other).valid


def test_verify_names_what_is_missing() -> None:
    signed = sign_sms_params(DELIVERY_RECEIPT, SECRET, "SHA256_HMAC", timestamp=1715000000)
    without_sig = {k: v for k, v in signed.items() if k != "sig"}
    without_timestamp = {k: v for k, v in signed.items() if k != "timestamp"}
    assert (
        verify_sms_signature(without_sig, SECRET, "SHA256_HMAC").reason == "missing sig parameter"
    )
    assert (
        verify_sms_signature({**signed, "sig": ""}, SECRET, "SHA256_HMAC").reason
        == "missing sig parameter"
    )
    assert (
        verify_sms_signature(without_timestamp, SECRET, "SHA256_HMAC").reason == "timestamp missing"
    )
    assert verify_sms_signature(signed, SECRET, "NOPE").reason == "unknown signature method"


def test_verify_never_raises_on_non_ascii_sig() -> None:
    signed = sign_sms_params(DELIVERY_RECEIPT, SECRET, "SHA256_HMAC", timestamp=1715000000)
    verdict = verify_sms_signature({**signed, "sig": "ünï"}, SECRET, "SHA256_HMAC")
    assert verdict.reason == "signature mismatch"


def test_verify_checks_freshness_only_when_asked() -> None:
    signed = sign_sms_params(DELIVERY_RECEIPT, SECRET, "SHA256_HMAC", timestamp=1715000000)
    check = verify_sms_signature
    assert check(signed, SECRET, "SHA256_HMAC").valid
    assert check(signed, SECRET, "SHA256_HMAC", max_age=300, now=1715000300).valid
    assert (
        check(signed, SECRET, "SHA256_HMAC", max_age=300, now=1715000301).reason
        == "timestamp too old"
    )
    assert check(signed, SECRET, "SHA256_HMAC", max_age=300, now=1714999000).reason == (
        "timestamp is in the future"
    )


def test_freshness_needs_a_numeric_timestamp() -> None:
    signed = {**DELIVERY_RECEIPT, "timestamp": "soon"}
    signed["sig"] = sms_signature(signed, SECRET, "SHA256_HMAC")
    verdict = verify_sms_signature(signed, SECRET, "SHA256_HMAC", max_age=300, now=0)
    assert verdict.reason == "timestamp is not a whole number of seconds"
