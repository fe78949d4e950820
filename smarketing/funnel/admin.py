"""Django admin for every funnel record: search, list filters and a date hierarchy."""

from django.contrib import admin

from smarketing.funnel import models as m


def register(model, *, list_display, search=(), filters=(), date_hierarchy=None, raw_id=()):
    attrs = {
        "list_display": list_display,
        "search_fields": search,
        "list_filter": filters,
        "date_hierarchy": date_hierarchy,
        "raw_id_fields": raw_id,
        "list_per_page": 50,
        "show_full_result_count": False,
    }
    admin.site.register(model, type(f"{model.__name__}Admin", (admin.ModelAdmin,), attrs))


register(m.TeamMember, list_display=("name", "email", "team", "role", "user"), search=("name", "email"),
         filters=("team", "role"), raw_id=("user",))
register(m.Campaign, list_display=("name", "external_id", "channel", "start_date", "end_date", "budget"),
         search=("name", "external_id"), filters=("channel",), date_hierarchy="start_date")
register(m.Content, list_display=("title", "external_id", "content_type", "published_at", "campaign"),
         search=("title", "external_id", "url"), filters=("content_type",), date_hierarchy="published_at",
         raw_id=("campaign",))
register(m.Contact, list_display=("external_id", "email", "company", "source_channel", "owner", "lead_at",
                                  "mql_at", "customer_at"),
         search=("external_id", "email", "company"), filters=("source_channel", "owner"),
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
register(m.Spend, list_display=("external_id", "date", "channel", "category", "campaign", "amount"),
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
register(m.Target, list_display=("metric", "period", "period_start", "owner", "value"), search=("metric",),
         filters=("period", "metric"), date_hierarchy="period_start", raw_id=("owner",))
