from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_revoked_session')]

    initial = False

    operations = [
        ops.AddField(
            model_name='TestDelivery',
            name='lease_expires_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='TestDelivery',
            name='owner',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddIndex(
            model_name='TestDelivery',
            index=Index(fields=['status', 'lease_expires_at']),
        ),
    ]
