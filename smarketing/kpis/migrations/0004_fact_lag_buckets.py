"""`kpis_fact.bucket` becomes an integer: same-age facts carry a lag in days × 128 there.

SQLite stores both sizes alike (INTEGER affinity), and rebuilding its table would drop the
raw `fact_grain_sqlite` index: only PostgreSQL changes the column type.
"""

from django.db import migrations, models


def widen(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE kpis_fact ALTER COLUMN bucket TYPE integer")


def narrow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DELETE FROM kpis_fact WHERE bucket > 32767")
        schema_editor.execute("ALTER TABLE kpis_fact ALTER COLUMN bucket TYPE smallint")


class Migration(migrations.Migration):
    dependencies = [("kpis", "0003_fact_grain_on_sqlite")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AlterField(model_name="fact", name="bucket",
                                                    field=models.IntegerField(default=0))],
            database_operations=[migrations.RunPython(widen, narrow)],
        ),
    ]
