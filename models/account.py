"""The customer account: owner of keys, numbers, compliance status and the audit log."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Account(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    # Only the operator CLI flips this; customers ask their account manager.
    hipaa_enabled = fields.BooleanField(default=False)
    # None means the deployment-wide default applies.
    api_key_limit = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "account"
