from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import MessagesChannel
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.AddField(
            model_name='TestDelivery',
            name='channel',
            field=fields.CharEnumField(null=True, description='SMS: sms\nMMS: mms\nWHATSAPP: whatsapp\nVIBER: viber_service\nMESSENGER: messenger', enum_type=MessagesChannel, max_length=16),
        ),
    ]
