"""`disqualification_reason` is a dimension name longer than 20 characters.

Only PostgreSQL enforces the length. On SQLite an AlterField would rebuild the table and
drop the raw `fact_grain_sqlite` index of 0003, so there the change is to the state only.
"""

from django.db import migrations, models


def widen(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE kpis_fact ALTER COLUMN dimension TYPE varchar(30)")


def narrow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE kpis_fact ALTER COLUMN dimension TYPE varchar(20)")


class Migration(migrations.Migration):
    dependencies = [("kpis", "0003_fact_grain_on_sqlite")]
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="fact", name="dimension", field=models.CharField(blank=True, default="", max_length=30)
                ),
            ],
            database_operations=[migrations.RunPython(widen, narrow)],
        ),
    ]
