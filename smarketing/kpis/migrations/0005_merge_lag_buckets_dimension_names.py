# Lag buckets and longer dimension names were added side by side; this joins them.
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('kpis', '0004_fact_dimension_longer_names'),
        ('kpis', '0004_fact_lag_buckets'),
    ]

    operations = []
