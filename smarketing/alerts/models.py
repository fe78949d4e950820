"""Alert rules, where they send, what they fired, and the outbox of deliveries.

A rule's `state` is the persisted truth of its condition ("ok" or "firing"); every change
of state writes one `AlertEvent` and, in the same transaction, one `AlertDelivery` per
destination (the outbox). Delivering moves those rows on with conditional UPDATEs, so a
worker that dies between evaluation and delivery loses nothing: the rows wait for the next run.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from smarketing.funnel.models import Team


class DestinationKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SLACK = "slack", _("Slack")
    TEAMS = "teams", _("Microsoft Teams")
    WEBHOOK = "webhook", _("Signed webhook")


class Destination(models.Model):
    """Where alerts go. The target (address or URL) and the signing secret are stored sealed."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="alert_destinations")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=DestinationKind.choices)
    # Fernet tokens (see vault.py); the plain values are never stored nor shown back.
    target_sealed = models.TextField()
    target_hint = models.CharField(max_length=200, help_text="A masked form of the target, safe to show.")
    secret_sealed = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=DestinationKind.values),
                                              name="alert_destination_kind_valid")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()} {self.target_hint})"


class RuleState(models.TextChoices):
    OK = "ok", _("OK")
    FIRING = "firing", _("Firing")


class Rule(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_rules")
    # A team's rule (set by a data manager) may be edited by every member of that team.
    team = models.CharField(max_length=20, choices=Team.choices, blank=True, default="")
    name = models.CharField(max_length=200)
    metric = models.CharField(max_length=60)
    dimension = models.CharField(max_length=20, blank=True, default="")
    key = models.CharField(max_length=500, blank=True, default="")
    window = models.CharField(max_length=10)
    # {"type": "below"|"above", "value": N} or {"type": "change", "percent": P, "direction": ...}
    condition = models.JSONField()
    destinations = models.ManyToManyField(Destination, blank=True, related_name="rules")
    active = models.BooleanField(default=True)
    state = models.CharField(max_length=10, choices=RuleState.choices, default=RuleState.OK)
    state_since = models.DateTimeField(null=True, blank=True)
    last_value = models.FloatField(null=True, blank=True)
    last_reference = models.FloatField(null=True, blank=True)
    last_as_of = models.DateField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.CheckConstraint(condition=Q(state__in=RuleState.values),
                                              name="alert_rule_state_valid"),
                       models.CheckConstraint(condition=Q(team__in=["", *Team.values]),
                                              name="alert_rule_team_valid")]
        indexes = [models.Index(fields=["active", "metric"], name="alert_rule_active_metric")]

    def __str__(self) -> str:
        return self.name


class EventState(models.TextChoices):
    FIRING = "firing", _("Firing")
    RESOLVED = "resolved", _("Resolved")


class AlertEvent(models.Model):
    """One change of a rule's state: what was measured and the message sent about it."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="events")
    state = models.CharField(max_length=10, choices=EventState.choices)
    value = models.FloatField(null=True)
    reference = models.FloatField(null=True)
    as_of = models.DateField()
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.rule} {self.state} {self.created_at:%Y-%m-%d %H:%M}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    CLAIMED = "claimed", _("Claimed")  # a run holds it, not yet handed over
    SENDING = "sending", _("Sending")  # handed to SMTP / HTTP, outcome not yet recorded
    SENT = "sent", _("Sent")
    RETRYING = "retrying", _("Waiting to retry")
    FAILED = "failed", _("Failed")


class AlertDelivery(models.Model):
    """The outbox: one event to one destination, written with the event; or (no event) a message
    another app hands over, such as the morning digest to Slack, with its own `payload` and a
    `dedupe_key` that makes handing it over twice a no-op."""

    event = models.ForeignKey(AlertEvent, on_delete=models.CASCADE, related_name="deliveries", null=True,
                              blank=True)
    payload = models.JSONField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    # Changes on every (re)claim: only the holder of the current token may move the row on.
    claim_token = models.UUIDField(default=uuid.uuid4)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name_plural = "alert deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "destination"], name="alert_delivery_once"),
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="alert_delivery_status_valid"),
            models.CheckConstraint(condition=Q(event__isnull=False) | Q(payload__isnull=False, dedupe_key__isnull=False),
                                   name="alert_delivery_has_content"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="alert_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event or self.dedupe_key} → {self.destination} {self.status}"


class DeliveryAttempt(models.Model):
    """The delivery log: every hand-off to a destination, with the receiver's status code."""

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="attempts")
    delivery = models.ForeignKey(AlertDelivery, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="log")
    test = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.destination} {self.at:%Y-%m-%d %H:%M} {self.status_code or ''} {'ok' if self.ok else 'failed'}"
