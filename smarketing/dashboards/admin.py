"""Admin for timeline notes: everyone's are listed; only their author and data managers change them."""

from django.contrib import admin

from smarketing.dashboards.annotations import annotation_can_edit
from smarketing.dashboards.models import Annotation


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ("day", "end_day", "text", "channel", "campaign", "author")
    list_filter = ("channel",)
    search_fields = ("text",)
    raw_id_fields = ("author", "campaign")
    date_hierarchy = "day"

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and not annotation_can_edit(user=request.user, annotation=obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and not annotation_can_edit(user=request.user, annotation=obj):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        if not change and obj.author_id is None:
            obj.author = request.user
        super().save_model(request, obj, form, change)
