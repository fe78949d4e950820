"""The same-age MQL rejection facts (family `mql_rejection_lags`) are new: mark every MQL day
dirty for that family, so the next recompute sweep builds them. Until then the rejection
rate's `previous` would read no rejections at all and report a change that is not there."""

from django.db import migrations
from django.utils import timezone

FAMILY = "mql_rejection_lags"


def mark(apps, schema_editor):
    contact = apps.get_model("funnel", "Contact")
    dirty = apps.get_model("kpis", "DirtyDay")
    # order_by(): the model's default ordering would make DISTINCT keep one row per contact.
    days = set(contact.objects.filter(mql_on__isnull=False).order_by().values_list("mql_on", flat=True).distinct())
    now = timezone.now()
    known = set(dirty.objects.filter(family=FAMILY).values_list("day", flat=True))
    dirty.objects.bulk_create([dirty(day=day, family=FAMILY, marked_at=now) for day in sorted(days - known)],
                              batch_size=2000)


def unmark(apps, schema_editor):
    apps.get_model("kpis", "DirtyDay").objects.filter(family=FAMILY).delete()


class Migration(migrations.Migration):
    dependencies = [("kpis", "0005_merge_lag_buckets_dimension_names"), ("funnel", "0005_merge_parallel_work")]

    operations = [migrations.RunPython(mark, unmark)]
