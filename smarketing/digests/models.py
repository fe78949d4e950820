"""Digest subscriptions (who gets which dashboards, when, in which time zone) and deliveries.

A `Delivery` row per (subscription, subscriber's local date) is the claim that makes
every send happen at most once, whoever runs the schedule and however often.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

DEFAULT_SEND_TIME = dt.time(7, 30)


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin, America/New_York)")


def validate_dashboard_keys(value: object) -> None:
    from smarketing.dashboards.layouts import DASHBOARDS

    if not isinstance(value, list) or not all(isinstance(key, str) for key in value):
        raise ValidationError("dashboards must be a list of dashboard keys")
    from smarketing.dashboards.boards import layout_keys_unknown

    unknown = layout_keys_unknown(value)
    if unknown:
        raise ValidationError(f"unknown dashboards {', '.join(unknown)}: use {', '.join(DASHBOARDS)}")


class Cadence(models.TextChoices):
    DAILY = "daily", _("Every day")
    WEEKDAYS = "weekdays", _("Weekdays (Monday to Friday)")
    WEEKLY = "weekly", _("Once a week")


WEEKDAY_CHOICES = [(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")),
                   (4, _("Friday")), (5, _("Saturday")), (6, _("Sunday"))]


def default_time_zone() -> str:
    return settings.SMARKETING_TIMEZONE


class Subscription(models.Model):
    """One per user: the dashboards their morning email carries and when it arrives."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_subscription"
    )
    # Dashboard keys in the order the email shows them (layouts are code, not rows).
    dashboards = models.JSONField(default=list, validators=[validate_dashboard_keys])
    send_time = models.TimeField(default=DEFAULT_SEND_TIME, help_text=_("Local time of day the digest is sent."))
    time_zone = models.CharField(max_length=64, default=default_time_zone, validators=[validate_time_zone])
    cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.WEEKDAYS,
                               help_text=_("A weekly digest covers the last complete week and the month to date."))
    # The day a weekly digest is sent (Python's weekday(): Monday is 0); unused otherwise.
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAY_CHOICES, default=0)
    active = models.BooleanField(default=True)
    # Also post the headline tiles and what needs attention to this Slack or Teams channel.
    chat_destination = models.ForeignKey("alerts.Destination", on_delete=models.SET_NULL, null=True, blank=True,
                                         related_name="digest_subscriptions",
                                         limit_choices_to={"kind__in": ("slack", "teams")})
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user__username"]
        indexes = [models.Index(fields=["active"], name="digest_subscription_active")]
        constraints = [
            models.CheckConstraint(condition=Q(cadence__in=Cadence.values), name="subscription_cadence_valid"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="subscription_weekday_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {', '.join(self.dashboards) or 'no dashboards'}"

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def weekly(self) -> bool:
        return self.cadence == Cadence.WEEKLY

    @property
    def schedule_text(self) -> str:
        """When the digest arrives, in words ("every Monday", "every weekday", "every day")."""
        if self.weekly:
            return str(_("every {weekday}")).format(weekday=dict(WEEKDAY_CHOICES)[self.weekday])
        return str(_("every weekday") if self.cadence == Cadence.WEEKDAYS else _("every day"))


class DeliveryStatus(models.TextChoices):
    CLAIMED = "claimed", _("Claimed")  # row inserted, the mail not yet handed to SMTP
    SENDING = "sending", _("Sending")  # handed to SMTP, outcome not yet recorded
    SENT = "sent", _("Sent")
    RETRYING = "retrying", _("Waiting to retry")  # SMTP failed; next_attempt_at says when
    FAILED = "failed", _("Failed")  # given up: attempts exhausted or outcome unknown


class Delivery(models.Model):
    """The claim on one digest: unique per subscription and subscriber-local date."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    local_date = models.DateField(help_text="The subscriber's calendar date the digest belongs to.")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.CLAIMED)
    # Changes on every (re)claim: only the holder of the current token may move the row on.
    claim_token = models.UUIDField(default=uuid.uuid4)
    claimed_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    subject = models.CharField(max_length=300, blank=True, default="")
    recipient = models.EmailField(max_length=320, blank=True, default="")

    class Meta:
        ordering = ["-local_date", "subscription_id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "local_date"], name="delivery_once_per_local_date"),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SENT) | Q(sent_at__isnull=False),
                name="delivery_sent_has_sent_at",
            ),
        ]
        indexes = [models.Index(fields=["status", "claimed_at"], name="delivery_status_claimed")]

    def __str__(self) -> str:
        return f"{self.subscription.user} {self.local_date} {self.status}"
