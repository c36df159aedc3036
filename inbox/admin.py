from django.contrib import admin

from casehub.admin import ReadOnlyAdmin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "kind", "case", "read_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["recipient__username", "case__title"]
    list_select_related = ["recipient", "case"]
