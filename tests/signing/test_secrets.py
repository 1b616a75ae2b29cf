"""API key and secret generation, the caller-chosen secret rule, and masking."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from signing.secrets import (
    SECRET_MAX_LENGTH,
    SECRET_MIN_LENGTH,
    generate_api_key,
    generate_api_secret,
    generate_signature_secret,
    mask,
    mask_hint,
    secret_hint,
    secret_rule_violation,
)

SAMPLES = 1000
BULLETS = "•" * 12


def test_api_key_is_eight_lowercase_hex_characters() -> None:
    keys = [generate_api_key() for _ in range(SAMPLES)]
    assert all(re.fullmatch(r"[0-9a-f]{8}", key) for key in keys)
    # 32 bits: a repeat among 1000 draws has odds of about 1 in 10,000.
    assert len(set(keys)) >= SAMPLES - 1


@pytest.mark.parametrize(
    "secret",
    [
        "Abcdefg1",
        "aB3aB3aB3aB3aB3aB3aB3aB3a",
        "Passw0rd!#$%&'()*+,-./:;<",
        "zZ9~~~~~",
        "1234567aB",
    ],
)
def test_acceptable_secrets(secret: str) -> None:
    assert secret_rule_violation(secret) is None


@pytest.mark.parametrize(
    ("secret", "rule"),
    [
        ("", "8 to 25 characters"),
        ("Abcdef1", "8 to 25 characters"),
        ("aB3aB3aB3aB3aB3aB3aB3aB3aB", "8 to 25 characters"),
        ("Abc def12", "spaces"),
        ("Abcdef12\n", "line breaks"),
        ("Abc\tdef12", "spaces"),
        ("Abc\x00def12", "control characters"),
        ("Abc\x7fdef12", "control characters"),
        ("Abc\u00a0def12", "spaces"),
        ("Abc\u2028def12", "line breaks"),
        ("Abc\u200bdef12", "control characters"),
        ("Abcdéf12", "ASCII"),
        ("Abcdef12😀", "ASCII"),
        ("ABCDEF12", "lowercase letter"),
        ("abcdef12", "uppercase letter"),
        ("Abcdefgh", "digit"),
        ("!!!!!!!!", "lowercase letter"),
    ],
)
def test_secret_rule_names_the_rule_and_never_the_secret(secret: str, rule: str) -> None:
    message = secret_rule_violation(secret)
    assert message is not None
    assert rule in message
    if secret:
        assert secret not in message
        assert secret.strip() not in message


def test_generated_secrets_always_satisfy_the_rule() -> None:
    generated = [generate_api_secret() for _ in range(SAMPLES)]
    assert all(secret_rule_violation(secret) is None for secret in generated)
    assert all(len(secret) == 16 for secret in generated)
    assert all(set(secret) <= set(string.ascii_letters + string.digits) for secret in generated)
    assert len(set(generated)) == SAMPLES


@pytest.mark.parametrize("length", [SECRET_MIN_LENGTH, 12, SECRET_MAX_LENGTH])
def test_generated_secrets_of_any_allowed_length_satisfy_the_rule(length: int) -> None:
    for _ in range(SAMPLES):
        secret = generate_api_secret(length)
        assert len(secret) == length
        assert secret_rule_violation(secret) is None


def test_generated_secrets_use_every_position() -> None:
    # The required characters are shuffled in, so each class shows up everywhere.
    generated = [generate_api_secret() for _ in range(SAMPLES)]
    for position in range(16):
        column = {secret[position] for secret in generated}
        for required in (string.ascii_lowercase, string.ascii_uppercase, string.digits):
            assert column & set(required)


@pytest.mark.parametrize("length", [0, 3, SECRET_MIN_LENGTH - 1, SECRET_MAX_LENGTH + 1, 100])
def test_generated_secret_length_outside_the_rule_is_refused(length: int) -> None:
    with pytest.raises(ValueError, match="length"):
        generate_api_secret(length)


def test_signature_secret_has_at_least_32_bytes_of_entropy() -> None:
    generated = [generate_signature_secret() for _ in range(SAMPLES)]
    assert all(re.fullmatch(r"[0-9a-f]{64}", secret) for secret in generated)
    assert all(len(bytes.fromhex(secret)) >= 32 for secret in generated)
    assert len(set(generated)) == SAMPLES


@pytest.mark.parametrize(
    ("secret", "masked"),
    [
        ("aB3dEf7h9k3fQa1d", f"{BULLETS}Qa1d"),
        # Never more than a quarter: 8 characters show 2, 14 show 3, under 4 show none.
        ("aB3dEf7h9k3fQa", "•" * 13 + "fQa"),
        ("Abcdefg1", "•" * 14 + "g1"),
        ("aB3aB3aB3aB3aB3aB3aB3aB3a", f"{BULLETS}aB3a"),
        ("0123456789abcdef" * 4, f"{BULLETS}cdef"),
        ("Abcdef1", "•" * 15 + "1"),
        ("abcd", "•" * 15 + "d"),
        ("ab", "•" * 16),
        ("", "•" * 16),
    ],
)
def test_mask(secret: str, masked: str) -> None:
    assert mask(secret) == masked


def test_mask_length_does_not_depend_on_the_secret_length() -> None:
    lengths = {len(mask(generate_api_secret(length))) for length in range(8, 26)}
    assert lengths == {16}
    assert len(mask(generate_signature_secret())) == 16


@pytest.mark.parametrize(
    ("hint", "masked"),
    [
        ("3fQa", f"{BULLETS}3fQa"),
        ("", "•" * 16),
        ("Qa", "•" * 14 + "Qa"),
        ("a-much-longer-value", f"{BULLETS}alue"),
    ],
)
def test_mask_hint(hint: str, masked: str) -> None:
    assert mask_hint(hint) == masked


def test_mask_from_hint_matches_mask_from_secret() -> None:
    for _ in range(100):
        secret = generate_api_secret()
        assert secret_hint(secret) == secret[-4:]
        assert mask_hint(secret_hint(secret)) == mask(secret)


def test_short_secrets_give_no_hint() -> None:
    assert secret_hint("Abc") == ""
    assert secret_hint("") == ""


@pytest.mark.parametrize("length", range(26))
def test_a_mask_never_shows_more_than_a_quarter_of_the_secret(length: int) -> None:
    secret = "".join(chr(0x41 + i) for i in range(length))
    shown = mask(secret).lstrip("•")
    assert 4 * len(shown) <= length and len(mask(secret)) == 16
    assert secret.endswith(shown)


def test_signing_imports_nothing_else_of_the_project() -> None:
    # signing/ is the bottom layer: models, resolvers, graph and server build on it.
    forbidden = {"models", "resolvers", "graph", "server", "tests"}
    package = Path(__file__).resolve().parents[2] / "signing"
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert not roots & forbidden, f"{module.name} imports {roots & forbidden}"
