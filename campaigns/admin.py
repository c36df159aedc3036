from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from casehub.admin import DateHierarchyInCalendarMixin, ReadOnlyAdmin
from casehub.exceptions import CaseActionError

from .models import Campaign, CampaignEvent, Extension
from .services import campaign_delete


class ExtensionInline(admin.TabularInline):
    """Every grant, the one in force and the ones later grants replaced."""

    model = Extension
    fields = ["branch", "until", "reason", "granted_by", "granted_at", "superseded_at"]
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

    list_display = ["title", "series", "opens_on", "closes_on", "limits", "created_by"]
    list_filter = ["series"]
    search_fields = ["title"]
    list_select_related = ["series", "created_by"]
    date_hierarchy = "closes_on"
    inlines = [ExtensionInline]

    @admin.display(description=_("limits"))
    def limits(self, campaign):
        return campaign.limits_text or "—"

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def delete_model(self, request, obj):
        try:
            campaign_delete(campaign=obj, acting_user=request.user)
        except CaseActionError as refusal:
            self.message_user(request, refusal.message, messages.ERROR)

    def delete_queryset(self, request, queryset):
        for campaign in queryset:
            self.delete_model(request, campaign)


@admin.register(CampaignEvent)
class CampaignEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "campaign", "action", "branch", "actor"]
    list_filter = ["action"]
    search_fields = ["campaign__title", "detail", "actor__username"]
    list_select_related = ["campaign", "branch", "actor"]
