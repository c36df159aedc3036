from django.contrib import admin

from submissions.admin import ReadOnlyAdmin

from .models import CaseEvent, Decision, Notification, ReviewStage


@admin.register(ReviewStage)
class ReviewStageAdmin(admin.ModelAdmin):
    list_display = [
        "position",
        "name",
        "reviewer_group",
        "due_in_days",
        "resume_after_return",
        "is_active",
    ]
    list_display_links = ["name"]
    list_editable = ["position", "due_in_days", "resume_after_return", "is_active"]
    list_select_related = ["reviewer_group"]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "case",
        "action",
        "stage",
        "from_status",
        "to_status",
        "actor",
    ]
    list_filter = ["action", "stage"]
    search_fields = ["case__title", "actor__username"]
    list_select_related = ["case", "actor", "stage"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "case", "stage", "outcome", "reviewer"]
    list_filter = ["outcome", "stage"]
    search_fields = ["case__title", "reviewer__username"]
    list_select_related = ["case", "stage", "reviewer"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "kind", "case", "read_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["recipient__username", "case__title"]
    list_select_related = ["recipient", "case"]
