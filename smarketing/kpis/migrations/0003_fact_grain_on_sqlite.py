"""SQLite ignores `fact_grain` (a unique constraint with INCLUDE columns): give it a plain one.

Without it the embedded database would have neither the uniqueness guarantee nor an index
for the window queries. PostgreSQL keeps the covering constraint alone.
"""

from django.db import migrations

INDEX = "fact_grain_sqlite"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {INDEX} ON kpis_fact (measure, dimension, day, key, bucket)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("kpis", "0002_fact_grain_covers_value")]
    operations = [migrations.RunPython(create, drop)]
