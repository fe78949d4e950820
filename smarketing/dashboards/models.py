"""Annotations: dated notes on the timeline ("pricing page changed on the 12th"), shown on every
time series they fall in. Campaign start dates are offered as annotations without a row."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

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


class Board(models.Model):
    """A board someone composed: its panels as validated board JSON (dashboards.boards)."""

    class Visibility(models.TextChoices):
        PRIVATE = "private", _("Only me")
        TEAM = "team", _("My team")
        EVERYONE = "everyone", _("Everyone")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="boards")
    title = models.CharField(max_length=120)
    description = models.CharField(max_length=500, blank=True, default="")
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE)
    # The owner's TeamMember.team when the board was saved: who "My team" is.
    team = models.CharField(max_length=20, blank=True, default="")
    layout = models.JSONField(default=dict)  # {"panels": [...], "side_by_side"?: [...]}
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "pk"]
        indexes = [models.Index(fields=["visibility", "team"], name="board_visibility_team")]

    def __str__(self) -> str:
        return self.title

    def as_json(self) -> dict:
        """The board JSON the API and the export speak."""
        out = {"title": self.title, "description": self.description, "visibility": self.visibility,
               "panels": self.layout.get("panels", [])}
        if self.layout.get("side_by_side"):
            out["side_by_side"] = self.layout["side_by_side"]
        return out


class SavedView(models.Model):
    """A named window, comparison and filter on one board (a role key or "board-<id>"), the
    owner's own; its token makes a link anyone who can see the board may open."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    board_key = models.CharField(max_length=40)
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=2000, blank=True, default="")
    is_default = models.BooleanField(default=False)
    token = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "board_key", "name"], name="savedview_one_name"),
            models.UniqueConstraint(fields=["owner", "board_key"], condition=Q(is_default=True),
                                    name="savedview_one_default"),
        ]

    def __str__(self) -> str:
        return f"{self.board_key}: {self.name}"
