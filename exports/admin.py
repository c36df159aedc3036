from django.contrib import admin

from casehub.admin import ReadOnlyAdmin

from .models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "title",
        "kind",
        "requested_by",
        "status",
        "done_count",
        "total_count",
        "finished_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["title", "requested_by__username"]
    list_select_related = ["requested_by"]
