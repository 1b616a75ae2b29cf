"""API keys and their secrets; secrets are stored encrypted with a keyed digest beside them."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ApiKey(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="api_keys", on_delete=fields.CASCADE
    )
    account_id: int
    key = fields.CharField(max_length=8, unique=True)
    nickname = fields.CharField(max_length=80, null=True)
    is_primary = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "api_key"


class ApiSecret(Model):
    id = fields.IntField(primary_key=True)
    api_key: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.ApiKey", related_name="secrets", on_delete=fields.CASCADE
    )
    api_key_id: int
    ciphertext = fields.TextField()
    # `<key id>$<HMAC of row, key and plaintext>` (bare hex before key IDs): authentication
    # compares digests, never decrypts.
    digest = fields.CharField(max_length=80, db_index=True)
    # The last characters (at most a quarter of the secret, up to four), enough to draw the
    # mask without decrypting.
    hint = fields.CharField(max_length=4)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    # Set once the sweeper has written the audit event for a secret that expired.
    expiry_recorded = fields.BooleanField(default=False)

    class Meta:
        table = "api_secret"


class RevokedSession(Model):
    """A session token ended before its expiry (`sessionRevoke`): looked up by the token's
    `jti` on every request, and pruned once the token would have expired anyway."""

    jti = fields.CharField(max_length=36, primary_key=True)
    expires_at = fields.DatetimeField(db_index=True)
    revoked_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "revoked_session"
