"""Annotations: dated notes on the timeline ("pricing page changed on the 12th"), shown on every
time series they fall in. Campaign start dates are offered as annotations without a row."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from smarketing.funnel.models import Campaign, Channel


class Annotation(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="annotations")
    day = models.DateField(help_text="The day it happened (company time zone).")
    end_day = models.DateField(null=True, blank=True, help_text="Optional: the last day, for a period.")
    text = models.CharField(max_length=300)
    # Optional scope: the note shows on charts of everything and of this channel / campaign.
    channel = models.CharField(max_length=30, choices=Channel.choices, blank=True, default="")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="annotations")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end_day__isnull=True) | Q(end_day__gte=F("day")),
                                   name="annotation_end_not_before_day"),
            models.CheckConstraint(condition=Q(channel="") | Q(campaign__isnull=True),
                                   name="annotation_one_scope"),
        ]
        indexes = [models.Index(fields=["day"], name="annotation_day")]

    def __str__(self) -> str:
        return f"{self.day}: {self.text}"
