"""Month sums of the facts (`kpis_factmonth`), filled from the facts already there.

SQLite ignores a unique constraint with INCLUDE columns (as for `fact_grain`, 0003): it gets
a plain unique index. The fill is one INSERT … SELECT … GROUP BY inside the database.
"""

from django.db import migrations, models

SQLITE_INDEX = "factmonth_grain_sqlite"


def create_and_fill(apps, schema_editor):
    from smarketing.kpis.facts import month_rollup_all_sql

    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {SQLITE_INDEX} ON kpis_factmonth (measure, dimension, month, key, bucket)"
        )
    else:
        schema_editor.execute("ALTER TABLE kpis_factmonth SET (parallel_workers = 0)")
    schema_editor.execute(month_rollup_all_sql())


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP INDEX IF EXISTS {SQLITE_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("kpis", "0006_mark_rejection_lags")]

    operations = [
        migrations.CreateModel(
            name="FactMonth",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("measure", models.CharField(max_length=40)),
                ("month", models.DateField()),
                ("dimension", models.CharField(blank=True, default="", max_length=30)),
                ("key", models.CharField(blank=True, default="", max_length=500)),
                ("bucket", models.IntegerField(default=0)),
                ("value", models.FloatField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("measure", "dimension", "month", "key", "bucket"),
                                            include=("value",), name="factmonth_grain"),
                ],
            },
        ),
        migrations.RunPython(create_and_fill, drop),
    ]
