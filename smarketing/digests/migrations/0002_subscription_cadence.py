"""A digest's cadence (daily, weekdays, weekly on a weekday) replaces the weekdays-only flag.

Existing subscriptions keep their schedule: weekdays-only becomes `weekdays`, the rest `daily`.
"""

from django.conf import settings
from django.db import migrations, models


def flag_to_cadence(apps, schema_editor):
    Subscription = apps.get_model("digests", "Subscription")
    Subscription.objects.filter(weekdays_only=True).update(cadence="weekdays")
    Subscription.objects.filter(weekdays_only=False).update(cadence="daily")


def cadence_to_flag(apps, schema_editor):
    Subscription = apps.get_model("digests", "Subscription")
    Subscription.objects.update(weekdays_only=True)
    Subscription.objects.filter(cadence="daily").update(weekdays_only=False)


class Migration(migrations.Migration):

    dependencies = [
        ('digests', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='subscription',
            name='cadence',
            field=models.CharField(choices=[('daily', 'Every day'), ('weekdays', 'Weekdays (Monday to Friday)'), ('weekly', 'Once a week')], default='weekdays', help_text='A weekly digest covers the last complete week and the month to date.', max_length=10),
        ),
        migrations.AddField(
            model_name='subscription',
            name='weekday',
            field=models.PositiveSmallIntegerField(choices=[(0, 'Monday'), (1, 'Tuesday'), (2, 'Wednesday'), (3, 'Thursday'), (4, 'Friday'), (5, 'Saturday'), (6, 'Sunday')], default=0),
        ),
        migrations.RunPython(flag_to_cadence, cadence_to_flag),
        migrations.RemoveField(
            model_name='subscription',
            name='weekdays_only',
        ),
        migrations.AddConstraint(
            model_name='subscription',
            constraint=models.CheckConstraint(condition=models.Q(('cadence__in', ['daily', 'weekdays', 'weekly'])), name='subscription_cadence_valid'),
        ),
        migrations.AddConstraint(
            model_name='subscription',
            constraint=models.CheckConstraint(condition=models.Q(('weekday__lte', 6)), name='subscription_weekday_valid'),
        ),
    ]
