"""Test webhook deliveries and every step of their attempts."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enums import DeliveryStatus, DeliveryStepKind, MessagesChannel, WebhookEvent


class TestDelivery(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="test_deliveries", on_delete=fields.CASCADE
    )
    account_id: int
    api_key: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.ApiKey", related_name="test_deliveries", on_delete=fields.CASCADE
    )
    api_key_id: int
    number: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Number", related_name="test_deliveries", null=True, on_delete=fields.SET_NULL
    )
    number_id: int | None
    event = fields.CharEnumField(WebhookEvent, max_length=32)
    # The channel a Messages API event is shaped for (kept so a redelivery sends the same);
    # null for SMS API events, which have no channel.
    channel = fields.CharEnumField(MessagesChannel, max_length=16, null=True)
    url = fields.CharField(max_length=2048)
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.PENDING)
    error_code = fields.CharField(max_length=32, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)
    # A client's retry token: a start repeated with the same key (a reconnect, a re-render)
    # finds this delivery instead of sending a second webhook. Unique per API key in the
    # database, so two replicas racing on one key still start one delivery.
    idempotency_key = fields.CharField(max_length=255, null=True)
    # The process running a PENDING delivery renews this lease every few seconds; once it
    # lapses (the process died) any replica ends the delivery. Null on rows older than
    # leases and on finished deliveries.
    owner = fields.CharField(max_length=64, null=True)
    lease_expires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "test_delivery"
        unique_together = (("api_key", "idempotency_key"),)
        indexes = (("status", "lease_expires_at"),)


class DeliveryStep(Model):
    id = fields.IntField(primary_key=True)
    delivery: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.TestDelivery", related_name="steps", on_delete=fields.CASCADE
    )
    delivery_id: int
    sequence = fields.IntField()
    kind = fields.CharEnumField(DeliveryStepKind, max_length=16)
    at = fields.DatetimeField()
    attempt = fields.IntField(null=True)
    detail = fields.TextField(null=True)
    address = fields.CharField(max_length=64, null=True)
    request = fields.JSONField(null=True)
    response = fields.JSONField(null=True)
    error_code = fields.CharField(max_length=32, null=True)
    final = fields.BooleanField(default=False)
    status = fields.CharEnumField(DeliveryStatus, max_length=16)

    class Meta:
        table = "delivery_step"
        unique_together = (("delivery", "sequence"),)
