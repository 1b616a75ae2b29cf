from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_secret_digest_width')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RevokedSession',
            fields=[
                ('jti', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=36)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'revoked_session', 'app': 'models', 'pk_attr': 'jti', 'table_description': "A session token ended before its expiry (`sessionRevoke`): looked up by the token's"},
            bases=['Model'],
        ),
    ]
