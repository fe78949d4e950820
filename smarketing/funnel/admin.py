"""Django admin for every funnel record: search, list filters and a date hierarchy.

Add and change forms validate through the resource's row schema (the one validation
path), and writes go through `funnel.services` so `kpis` hears about them.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q

from smarketing.funnel import models as m
from smarketing.funnel import services
from smarketing.funnel.schemas import RESOURCE_BY_MODEL, RESOURCES, row_validate
from smarketing.funnel.selectors import is_data_manager


class SchemaForm(forms.ModelForm):
    """A model form whose rules are the resource schema's rules."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        resource = RESOURCE_BY_MODEL[self._meta.model]
        meta = resource.model._meta
        row: dict[str, Any] = {}
        for column in resource.columns:
            name = resource.field_name(column)
            if name not in self.fields:
                # Not on the form (or already rejected by it): keep the instance's value.
                if name in self.errors:
                    return cleaned
                value = getattr(self.instance, name, None)
            else:
                value = cleaned.get(name)
            col = resource.col(column)
            if col.ref and value is not None:
                value = getattr(value, RESOURCES[col.ref].key[0])
            row[column] = value
        values, errors = row_validate(resource, row)
        for column, message in errors:
            name = resource.field_name(column)
            self.add_error(name if name in self.fields else None, f"{column}: {message}")
        if values is not None:
            for column, value in values.items():
                name = resource.field_name(column)
                if name in self.fields and not resource.col(column).ref:
                    field = meta.get_field(name)
                    cleaned[name] = value if value is not None or field.null else field.get_default()
        return cleaned


class SchemaAdmin(admin.ModelAdmin):
    form = SchemaForm
    list_per_page = 50
    show_full_result_count = False

    # Funnel data changes the numbers everyone reads: a model permission (add_campaign) is
    # not enough, the writer must be a data manager as on the upload page and the API.
    def _manages_data(self, request) -> bool:
        return is_data_manager(request.user)

    def has_add_permission(self, request) -> bool:
        return self._manages_data(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._manages_data(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._manages_data(request) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        services.record_save(instance=obj)

    def delete_model(self, request, obj) -> None:
        services.record_delete(instance=obj)

    def delete_queryset(self, request, queryset) -> None:
        resource = RESOURCE_BY_MODEL[queryset.model]
        services.records_delete_matching(resource=resource.name, condition=Q(pk__in=queryset.values("pk")))


def register(model, *, list_display, search=(), filters=(), date_hierarchy=None, raw_id=()):
    attrs = {
        "list_display": list_display,
        "search_fields": search,
        "list_filter": filters,
        "date_hierarchy": date_hierarchy,
        "raw_id_fields": raw_id,
    }
    admin.site.register(model, type(f"{model.__name__}Admin", (SchemaAdmin,), attrs))


register(m.TeamMember, list_display=("name", "email", "team", "role", "user"), search=("name", "email"),
         filters=("team", "role"), raw_id=("user",))
register(m.Campaign, list_display=("name", "external_id", "channel", "start_date", "end_date", "budget"),
         search=("name", "external_id"), filters=("channel",), date_hierarchy="start_date")
register(m.Content, list_display=("title", "external_id", "content_type", "published_at", "campaign"),
         search=("title", "external_id", "url"), filters=("content_type",), date_hierarchy="published_at",
         raw_id=("campaign",))
register(m.Contact, list_display=("external_id", "email", "company", "industry", "offer", "source_channel", "owner",
                                  "lead_at", "mql_at", "customer_at", "disqualification_reason"),
         search=("external_id", "email", "company", "industry"),
         filters=("source_channel", "offer", "disqualification_reason", "owner"),
         date_hierarchy="lead_at", raw_id=("campaign", "owner", "referred_by"))
register(m.Deal, list_display=("external_id", "name", "status", "amount", "mrr", "owner", "created_at",
                               "closed_at"),
         search=("external_id", "name"), filters=("status", "owner"), date_hierarchy="created_at",
         raw_id=("contact", "owner"))
register(m.Activity, list_display=("external_id", "activity_type", "contact", "owner", "occurred_at",
                                   "connected"),
         search=("external_id", "contact__external_id"), filters=("activity_type", "connected", "owner"),
         date_hierarchy="occurred_at", raw_id=("contact", "owner"))
register(m.Touch, list_display=("external_id", "contact", "channel", "campaign", "content", "occurred_at"),
         search=("external_id", "contact__external_id"), filters=("channel",), date_hierarchy="occurred_at",
         raw_id=("contact", "campaign", "content"))
register(m.WebTraffic, list_display=("date", "page", "section", "source", "visits", "entrances", "bounces"),
         search=("page",), filters=("section", "source"), date_hierarchy="date")
register(m.CtaStat, list_display=("date", "cta", "placement", "views", "clicks"), search=("cta",),
         filters=("placement",), date_hierarchy="date")
register(m.LandingPage, list_display=("date", "page", "source", "campaign", "views", "submissions"),
         search=("page",), filters=("source",), date_hierarchy="date", raw_id=("campaign",))
register(m.EmailSend, list_display=("external_id", "name", "email_type", "sent_at", "sent", "delivered",
                                    "unique_opens", "unique_clicks", "unsubscribes"),
         search=("external_id", "name"), filters=("email_type",), date_hierarchy="sent_at",
         raw_id=("campaign",))
register(m.Audience, list_display=("date", "channel", "size"), filters=("channel",), date_hierarchy="date")
register(m.SocialStat, list_display=("date", "network", "impressions", "engagements", "clicks"),
         filters=("network",), date_hierarchy="date")
register(m.Spend, list_display=("external_id", "date", "channel", "category", "campaign", "amount", "impressions",
                                "clicks"),
         search=("external_id", "description"), filters=("category", "channel"), date_hierarchy="date",
         raw_id=("campaign",))
register(m.Webinar, list_display=("external_id", "name", "held_at", "registrants", "attendees"),
         search=("external_id", "name"), date_hierarchy="held_at", raw_id=("campaign",))
register(m.DirectMail, list_display=("external_id", "name", "sent_at", "sent", "claimed", "meetings_booked"),
         search=("external_id", "name"), date_hierarchy="sent_at", raw_id=("campaign",))
register(m.FeatureUsage, list_display=("date", "feature", "customers_total", "customers_activated",
                                       "content_readers", "readers_activated", "upgrade_revenue"),
         search=("feature",), date_hierarchy="date")
register(m.TargetAccount, list_display=("name", "domain"), search=("name", "domain"))
register(m.Target, list_display=("metric", "period", "period_start", "owner", "channel", "campaign", "value"),
         search=("metric",), filters=("period", "metric", "channel"), date_hierarchy="period_start",
         raw_id=("owner", "campaign"))
