"""Same-age lag facts summed by cohort month and conversion month / day (`kpis_factlagmonth`,
`kpis_factlagday`), filled from the lag facts already there.

SQLite ignores unique constraints with INCLUDE columns (see 0003): plain unique indexes there.
"""

from django.db import migrations, models

INDEXES = {
    "kpis_factlagmonth": ("factlagmonth_grain_sqlite", "measure, dimension, month, converted, key, number"),
    "kpis_factlagday": ("factlagday_grain_sqlite", "measure, dimension, converted, month, key, number"),
}


def create_and_fill(apps, schema_editor):
    from smarketing.kpis.facts import lag_rollup_all_sqls

    for table, (index, columns) in INDEXES.items():
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {index} ON {table} ({columns})")
        else:
            schema_editor.execute(f"ALTER TABLE {table} SET (parallel_workers = 0)")
    for sql in lag_rollup_all_sqls():
        # params=None: the `%` in this SQL is the modulo operator, so the driver must not read it.
        schema_editor.execute(sql, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for index, _columns in INDEXES.values():
            schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


def lag_model(name: str, grain: list[str]) -> migrations.CreateModel:
    return migrations.CreateModel(
        name=name,
        fields=[
            ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
            ("measure", models.CharField(max_length=40)),
            ("dimension", models.CharField(blank=True, default="", max_length=30)),
            ("key", models.CharField(blank=True, default="", max_length=500)),
            ("number", models.IntegerField(default=0)),
            ("month", models.DateField()),
            ("converted", models.DateField()),
            ("value", models.FloatField()),
        ],
        options={
            "constraints": [models.UniqueConstraint(fields=grain, include=("value",),
                                                    name=f"{name.lower()}_grain")],
            "abstract": False,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("kpis", "0007_factmonth")]

    operations = [
        lag_model("FactLagMonth", ["measure", "dimension", "month", "converted", "key", "number"]),
        lag_model("FactLagDay", ["measure", "dimension", "converted", "month", "key", "number"]),
        migrations.RunPython(create_and_fill, drop),
    ]
