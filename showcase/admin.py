from django.contrib import admin
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from casehub.admin import ReadOnlyAdmin
from casehub.links import absolute_url

from .cache import public_cache_bump_on_commit
from .models import EmbedOrigin, Issue, IssueCase, Series, ShowcaseEvent, ViewCount


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
    readonly_fields = ["embedding_code"]

    @admin.display(description=_("code for the other site"))
    def embedding_code(self, obj):
        if obj is None or not obj.pk:
            return "—"
        return embed_code_html(embed_snippet(obj.slug))

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


def embed_snippet(series_slug: str = "") -> str:
    """The tag another site puts on its page to show the latest issues."""
    series = f' data-series="{series_slug}"' if series_slug else ""
    return (
        f'<script src="{absolute_url(static("js/embed.js"))}"{series} '
        'data-limit="5" async></script>'
    )


@admin.register(EmbedOrigin)
class EmbedOriginAdmin(admin.ModelAdmin):
    """Sites allowed to frame /embed/issues/ and to read /api/ from their
    pages; saving or deleting one takes effect at once (showcase.signals)."""

    list_display = ["origin", "is_active", "note", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["origin", "note"]
    readonly_fields = ["embedding_code", "created_at", "updated_at"]
    fields = [
        "origin",
        "is_active",
        "note",
        "embedding_code",
        "created_at",
        "updated_at",
    ]

    @admin.display(description=_("code for the other site"))
    def embedding_code(self, obj):
        return embed_code_html(embed_snippet())


def embed_code_html(snippet: str):
    return format_html(
        "<code>{}</code><p>{}</p>",
        snippet,
        _(
            "Put this where the list should appear; data-series chooses one "
            "series by its slug, data-limit the number of issues (1 to 20)."
        ),
    )
