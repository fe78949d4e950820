"""Running levels of the stocks (`kpis_factlevel`), filled from the facts already there.

SQLite ignores a unique constraint with INCLUDE columns (as for `fact_grain`, 0003): it gets
a plain unique index. The fill is one INSERT … SELECT … GROUP BY per family inside the database.
"""

from django.db import migrations, models

SQLITE_INDEX = "factlevel_grain_sqlite"


def create_and_fill(apps, schema_editor):
    from smarketing.kpis.facts import level_fill_sqls

    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {SQLITE_INDEX} ON kpis_factlevel (measure, dimension, key, bucket)"
        )
    else:
        schema_editor.execute("ALTER TABLE kpis_factlevel SET (parallel_workers = 0)")
    for sql in level_fill_sqls():
        schema_editor.execute(sql, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP INDEX IF EXISTS {SQLITE_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("kpis", "0009_lag_sums_emptied_index")]

    operations = [
        migrations.CreateModel(
            name="FactLevel",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("measure", models.CharField(max_length=40)),
                ("dimension", models.CharField(blank=True, default="", max_length=30)),
                ("key", models.CharField(blank=True, default="", max_length=500)),
                ("value", models.FloatField()),
                ("bucket", models.IntegerField(default=0)),
                ("since", models.DateField(null=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("measure", "dimension", "key", "bucket"),
                                            include=("value", "since"), name="factlevel_grain"),
                ],
                "abstract": False,
            },
        ),
        migrations.RunPython(create_and_fill, drop),
    ]
