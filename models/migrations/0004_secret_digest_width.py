from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_delivery_idempotency_key')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='ApiSecret',
            name='digest',
            field=fields.CharField(db_index=True, max_length=80),
        ),
    ]
