# The digest cadence and the chat destination were added side by side; this joins them.
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('digests', '0002_chat_destination'),
        ('digests', '0002_subscription_cadence'),
    ]

    operations = []
