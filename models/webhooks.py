"""Per-key messaging and signature configuration, and the account's numbers."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enums import MessagingApi, SignatureMethod, WebhookFormat


class MessagingConfig(Model):
    id = fields.IntField(primary_key=True)
    api_key: fields.OneToOneRelation = fields.OneToOneField(
        "models.ApiKey", related_name="messaging", on_delete=fields.CASCADE
    )
    api_key_id: int
    api = fields.CharEnumField(MessagingApi, max_length=16, default=MessagingApi.SMS_API)
    sms_format = fields.CharEnumField(WebhookFormat, max_length=16, default=WebhookFormat.POST_JSON)
    delivery_receipt_url = fields.CharField(max_length=2048, null=True)
    inbound_sms_url = fields.CharField(max_length=2048, null=True)
    status_url = fields.CharField(max_length=2048, null=True)
    inbound_url = fields.CharField(max_length=2048, null=True)
    # Optimistic concurrency: every change increments it; stale writers are refused.
    version = fields.IntField(default=1)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "messaging_config"


class SignatureConfig(Model):
    id = fields.IntField(primary_key=True)
    api_key: fields.OneToOneRelation = fields.OneToOneField(
        "models.ApiKey", related_name="signature", on_delete=fields.CASCADE
    )
    api_key_id: int
    method = fields.CharEnumField(
        SignatureMethod, max_length=16, default=SignatureMethod.SHA256_HMAC
    )
    secret_ciphertext = fields.TextField()
    secret_hint = fields.CharField(max_length=4)
    sign_sms_webhooks = fields.BooleanField(default=False)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "signature_config"


class Number(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="numbers", on_delete=fields.CASCADE
    )
    account_id: int
    api_key: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.ApiKey", related_name="numbers", null=True, on_delete=fields.SET_NULL
    )
    api_key_id: int | None
    msisdn = fields.CharField(max_length=15, unique=True)
    country = fields.CharField(max_length=2)
    inbound_webhook_url = fields.CharField(max_length=2048, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "number"
