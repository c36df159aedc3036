from django.contrib import admin

from casehub.dates import DateHierarchyInCalendarMixin
from submissions.admin import ReadOnlyAdmin

from .models import Campaign, Extension


class ExtensionInline(admin.TabularInline):
    model = Extension
    fields = ["branch", "until", "reason", "granted_by", "granted_at"]
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Campaign)
class CampaignAdmin(DateHierarchyInCalendarMixin, ReadOnlyAdmin):
    """Calls are opened and changed on the editors' pages; here admins look
    them up and remove one opened by mistake before any case answered it."""

    list_display = ["title", "series", "opens_on", "closes_on", "created_by"]
    list_filter = ["series"]
    search_fields = ["title"]
    list_select_related = ["series", "created_by"]
    date_hierarchy = "closes_on"
    inlines = [ExtensionInline]

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
