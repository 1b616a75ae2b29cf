"""Sealing secrets into their rows: the associated data, digests and both storage formats."""

from __future__ import annotations

from models.credentials import ApiSecret
from resolvers.deps import Deps
from signing.secrets import secret_hint


def secret_context(api_key: str, secret_id: int) -> str:
    """Associated data (and digest context) binding an API secret to its row and key."""
    # Table, row, key and purpose: a ciphertext or digest copied to another row (even
    # another secret of the same key) no longer opens or matches there.
    return f"api_secret/{secret_id}/{api_key}/api-secret"


def signature_context(api_key: str, api_key_id: int) -> str:
    """Associated data binding a signature secret to its row (one per key) and key."""
    return f"signature_config/api_key_id={api_key_id}/{api_key}/signature-secret"


def legacy_secret_context(api_key: str) -> str:
    """The associated data of API secrets stored before key IDs (v1 ciphertexts)."""
    return f"api_secret:{api_key}"


def legacy_signature_context(api_key: str) -> str:
    """The associated data of signature secrets stored before key IDs (v1 ciphertexts)."""
    return f"signature_secret:{api_key}"


def open_api_secret(deps: Deps, secret: ApiSecret, api_key: str) -> str:
    """The plaintext of a stored API secret, in either storage format."""
    return deps.box.decrypt(
        secret.ciphertext,
        context=secret_context(api_key, secret.id),
        legacy_context=legacy_secret_context(api_key),
    )


def open_signature_secret(deps: Deps, ciphertext: str, api_key: str, api_key_id: int) -> str:
    """The plaintext of a key's stored signature secret, in either storage format."""
    return deps.box.decrypt(
        ciphertext,
        context=signature_context(api_key, api_key_id),
        legacy_context=legacy_signature_context(api_key),
    )


def seal_signature_secret(deps: Deps, plaintext: str, api_key: str, api_key_id: int) -> str:
    """A signature secret's ciphertext for its key's row, under the active master key."""
    return deps.box.encrypt(plaintext, context=signature_context(api_key, api_key_id))


def secret_matches(deps: Deps, plaintext: str, secret_id: int, digest: str, api_key: str) -> bool:
    """Whether `plaintext` is the API secret whose row and stored digest these are."""
    return deps.box.matches(plaintext, digest, context=secret_context(api_key, secret_id))


def seal_api_secret(deps: Deps, secret: ApiSecret, api_key: str, plaintext: str) -> None:
    """Set a secret row's ciphertext, digest and hint for `plaintext` (row ID known)."""
    context = secret_context(api_key, secret.id)
    secret.ciphertext = deps.box.encrypt(plaintext, context=context)
    secret.digest = deps.box.digest(plaintext, context=context)
    secret.hint = secret_hint(plaintext)
