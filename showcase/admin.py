from django.contrib import admin

from casehub.admin import ReadOnlyAdmin

from .cache import public_cache_bump_on_commit
from .models import Issue, IssueCase, Series, ShowcaseEvent, ViewCount


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "slug",
        "column",
        "publish_weekday",
        "publish_time",
        "is_active",
    ]
    prepopulated_fields = {"slug": ["name"]}

    # A series' title, column and note appear on every public page of it, and
    # anonymous readers get those pages from the cache: retire them on change.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        public_cache_bump_on_commit()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        public_cache_bump_on_commit()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        public_cache_bump_on_commit()


class IssueCaseInline(admin.TabularInline):
    model = IssueCase
    extra = 0
    can_delete = False
    readonly_fields = ["case", "position"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Issue)
class IssueAdmin(ReadOnlyAdmin):
    """Issues are planned and published on the editors' desk, through the services."""

    list_display = ["__str__", "status", "scheduled_at", "published_at"]
    list_filter = ["series", "status"]
    list_select_related = ["series"]
    inlines = [IssueCaseInline]


@admin.register(ShowcaseEvent)
class ShowcaseEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "issue", "case", "actor"]
    list_filter = ["action"]
    list_select_related = ["issue__series", "case", "actor"]


@admin.register(ViewCount)
class ViewCountAdmin(ReadOnlyAdmin):
    list_display = ["case", "count"]
    list_select_related = ["case"]
