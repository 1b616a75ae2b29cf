from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.enums import DeliveryStatus, DeliveryStepKind, MessagingApi, SignatureMethod, WebhookEvent, WebhookFormat
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Account',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('hipaa_enabled', fields.BooleanField(default=False)),
                ('api_key_limit', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'account', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='api_keys', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(unique=True, max_length=8)),
                ('nickname', fields.CharField(null=True, max_length=80)),
                ('is_primary', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'api_key', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiSecret',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('api_key', fields.ForeignKeyField('models.ApiKey', source_field='api_key_id', db_constraint=True, to_field='id', related_name='secrets', on_delete=OnDelete.CASCADE)),
                ('ciphertext', fields.TextField(unique=False)),
                ('digest', fields.CharField(db_index=True, max_length=64)),
                ('hint', fields.CharField(max_length=4)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expiry_recorded', fields.BooleanField(default=False)),
            ],
            options={'table': 'api_secret', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='audit_events', on_delete=OnDelete.CASCADE)),
                ('api_key_id', fields.IntField(null=True, db_index=True)),
                ('action', fields.CharField(max_length=64)),
                ('actor', fields.CharField(max_length=128)),
                ('role', fields.CharField(null=True, max_length=16)),
                ('target_id', fields.CharField(null=True, max_length=128)),
                ('request_id', fields.CharField(null=True, max_length=64)),
                ('client_address', fields.CharField(null=True, max_length=64)),
                ('before', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('after', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'audit_event', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MessagingConfig',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('api_key', fields.OneToOneField('models.ApiKey', source_field='api_key_id', db_constraint=True, to_field='id', related_name='messaging', on_delete=OnDelete.CASCADE)),
                ('api', fields.CharEnumField(default=MessagingApi.SMS_API, description='SMS_API: SMS_API\nMESSAGES_API: MESSAGES_API', enum_type=MessagingApi, max_length=16)),
                ('sms_format', fields.CharEnumField(default=WebhookFormat.POST_JSON, description='GET: GET\nPOST: POST\nPOST_JSON: POST_JSON', enum_type=WebhookFormat, max_length=16)),
                ('delivery_receipt_url', fields.CharField(null=True, max_length=2048)),
                ('inbound_sms_url', fields.CharField(null=True, max_length=2048)),
                ('status_url', fields.CharField(null=True, max_length=2048)),
                ('inbound_url', fields.CharField(null=True, max_length=2048)),
                ('version', fields.IntField(default=1)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'messaging_config', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Number',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='numbers', on_delete=OnDelete.CASCADE)),
                ('api_key', fields.ForeignKeyField('models.ApiKey', source_field='api_key_id', null=True, db_constraint=True, to_field='id', related_name='numbers', on_delete=OnDelete.SET_NULL)),
                ('msisdn', fields.CharField(unique=True, max_length=15)),
                ('country', fields.CharField(max_length=2)),
                ('inbound_webhook_url', fields.CharField(null=True, max_length=2048)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'number', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SignatureConfig',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('api_key', fields.OneToOneField('models.ApiKey', source_field='api_key_id', db_constraint=True, to_field='id', related_name='signature', on_delete=OnDelete.CASCADE)),
                ('method', fields.CharEnumField(default=SignatureMethod.SHA256_HMAC, description='MD5_HASH: MD5_HASH\nMD5_HMAC: MD5_HMAC\nSHA1_HMAC: SHA1_HMAC\nSHA256_HMAC: SHA256_HMAC\nSHA512_HMAC: SHA512_HMAC', enum_type=SignatureMethod, max_length=16)),
                ('secret_ciphertext', fields.TextField(unique=False)),
                ('secret_hint', fields.CharField(max_length=4)),
                ('sign_sms_webhooks', fields.BooleanField(default=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'signature_config', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TestDelivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='test_deliveries', on_delete=OnDelete.CASCADE)),
                ('api_key', fields.ForeignKeyField('models.ApiKey', source_field='api_key_id', db_constraint=True, to_field='id', related_name='test_deliveries', on_delete=OnDelete.CASCADE)),
                ('number', fields.ForeignKeyField('models.Number', source_field='number_id', null=True, db_constraint=True, to_field='id', related_name='test_deliveries', on_delete=OnDelete.SET_NULL)),
                ('event', fields.CharEnumField(description='DELIVERY_RECEIPT: DELIVERY_RECEIPT\nINBOUND_SMS: INBOUND_SMS\nMESSAGE_STATUS: MESSAGE_STATUS\nINBOUND_MESSAGE: INBOUND_MESSAGE', enum_type=WebhookEvent, max_length=32)),
                ('url', fields.CharField(max_length=2048)),
                ('status', fields.CharEnumField(default=DeliveryStatus.PENDING, description='PENDING: PENDING\nSUCCEEDED: SUCCEEDED\nFAILED: FAILED', enum_type=DeliveryStatus, max_length=16)),
                ('error_code', fields.CharField(null=True, max_length=32)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'test_delivery', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DeliveryStep',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('delivery', fields.ForeignKeyField('models.TestDelivery', source_field='delivery_id', db_constraint=True, to_field='id', related_name='steps', on_delete=OnDelete.CASCADE)),
                ('sequence', fields.IntField()),
                ('kind', fields.CharEnumField(description='STARTED: STARTED\nSIGNED: SIGNED\nRESOLVED: RESOLVED\nBLOCKED: BLOCKED\nCONNECTED: CONNECTED\nREQUEST_SENT: REQUEST_SENT\nRESPONSE: RESPONSE\nRETRY_SCHEDULED: RETRY_SCHEDULED\nSUCCEEDED: SUCCEEDED\nFAILED: FAILED', enum_type=DeliveryStepKind, max_length=16)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('attempt', fields.IntField(null=True)),
                ('detail', fields.TextField(null=True, unique=False)),
                ('address', fields.CharField(null=True, max_length=64)),
                ('request', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('response', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('error_code', fields.CharField(null=True, max_length=32)),
                ('final', fields.BooleanField(default=False)),
                ('status', fields.CharEnumField(description='PENDING: PENDING\nSUCCEEDED: SUCCEEDED\nFAILED: FAILED', enum_type=DeliveryStatus, max_length=16)),
            ],
            options={'table': 'delivery_step', 'app': 'models', 'unique_together': (('delivery', 'sequence'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
