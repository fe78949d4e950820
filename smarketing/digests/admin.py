"""Admin for everyone's digest subscriptions and the delivery log."""

from django.contrib import admin

from smarketing.digests.forms import AdminSubscriptionForm
from smarketing.digests.models import Delivery, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = AdminSubscriptionForm
    list_display = ("user", "dashboard_list", "send_time", "time_zone", "cadence", "weekday", "active")
    list_filter = ("active", "cadence", "time_zone")
    search_fields = ("user__username", "user__email", "user__first_name", "user__last_name")
    raw_id_fields = ("user",)
    list_select_related = ("user",)

    @admin.display(description="dashboards")
    def dashboard_list(self, obj: Subscription) -> str:
        return ", ".join(obj.dashboards)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("subscription", "local_date", "status", "attempts", "sent_at", "next_attempt_at", "subject")
    list_filter = ("status",)
    date_hierarchy = "local_date"
    search_fields = ("recipient", "subject", "subscription__user__username")
    list_select_related = ("subscription__user",)
    readonly_fields = [field.name for field in Delivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        # Deliveries are claims the scheduler makes; adding one by hand would suppress a send.
        return False
