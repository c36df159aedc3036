from django.contrib import admin

from submissions.admin import ReadOnlyAdmin

from .models import CaseEvent


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "case", "action", "from_status", "to_status", "actor"]
    list_filter = ["action"]
    search_fields = ["case__title", "actor__username"]
    list_select_related = ["case", "actor"]
