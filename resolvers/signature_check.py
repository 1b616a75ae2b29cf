"""The signature check helper: does a webhook a customer received verify with their key?"""

from __future__ import annotations

from models.webhooks import SignatureConfig
from resolvers import reads
from resolvers.deps import Deps
from resolvers.errors import BadRequest, not_found
from resolvers.principal import Principal
from resolvers.sealing import open_signature_secret
from signing.check import DEFAULT_MAX_AGE, check_webhook_signature
from signing.sms import verify_sms_signature
from signing.verdict import SignatureVerdict, sms_scheme


async def check_received_webhook(
    *,
    deps: Deps,
    principal: Principal,
    api_key_id: int,
    http_method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: bytes,
    params: list[tuple[str, str]] | None = None,
    max_age_seconds: int | None = None,
) -> SignatureVerdict:
    """Verify a received webhook with the key's signature secret and method; say why not.

    `params`, when given, are SMS API parameters the receiver already parsed, checked
    instead of reading them from the URL or body. Any caller who may see the key may ask:
    the answer is a yes or no and reveals nothing of the secret. Without `max_age_seconds`
    a signature older than DEFAULT_MAX_AGE is refused, so one copied from a log or a
    delivery step cannot be replayed here later.
    """
    if max_age_seconds is not None and max_age_seconds < 0:
        raise BadRequest("`maxAgeSeconds` must be 0 or more.")
    max_age = DEFAULT_MAX_AGE if max_age_seconds is None else max_age_seconds
    key = await reads.api_key_by_id(principal=principal, api_key_id=api_key_id)
    if key is None:
        raise not_found(["apiKeyId"], "API key")
    config = await SignatureConfig.get(api_key_id=key.id)
    secret = open_signature_secret(deps, config.secret_ciphertext, key.key, key.id)
    method = config.method.value
    now = int(deps.clock().timestamp())
    if params is not None:
        named = dict(params)
        if len(named) != len(params):
            return SignatureVerdict.rejected(sms_scheme(method), "duplicate parameter")
        return verify_sms_signature(
            named, secret, method, max_age=max_age, now=now, api_key=key.key
        )
    named_headers: dict[str, str] = {}
    for name, value in headers:
        # The first copy of a header is the one a receiver's framework usually hands over.
        named_headers.setdefault(name.lower(), value)
    return check_webhook_signature(
        http_method=http_method,
        url=url,
        headers=named_headers,
        body=body,
        secret=secret,
        method=method,
        max_age=max_age,
        now=now,
        issuer=deps.webhook_issuer,
        api_key=key.key,
    )
