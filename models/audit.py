"""The audit log: who changed what, when and from where, with every secret redacted."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class AuditEvent(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="audit_events", on_delete=fields.CASCADE
    )
    account_id: int
    # The key the event concerns, so a non-primary key sees only its own history.
    api_key_id = fields.IntField(null=True, db_index=True)
    action = fields.CharField(max_length=64)
    actor = fields.CharField(max_length=128)
    role = fields.CharField(max_length=16, null=True)
    target_id = fields.CharField(max_length=128, null=True)
    request_id = fields.CharField(max_length=64, null=True)
    client_address = fields.CharField(max_length=64, null=True)
    before = fields.JSONField(null=True)
    after = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "audit_event"
