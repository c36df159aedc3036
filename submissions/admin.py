from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from casehub.admin import DateHierarchyInCalendarMixin, ReadOnlyAdmin

from .models import Branch, Case, CaseRevision, EditorImage, Membership, Theme


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


class UserMembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["branch"]


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    autocomplete_fields = ["parent"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "branch", "role"]
    list_filter = ["role", "branch"]
    search_fields = ["user__username", "user__first_name", "branch__name"]
    autocomplete_fields = ["user", "branch"]
    list_select_related = ["user", "branch"]


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "is_active"]
    list_editable = ["position", "is_active"]


@admin.register(Case)
class CaseAdmin(DateHierarchyInCalendarMixin, ReadOnlyAdmin):
    list_display = ["title", "branch", "status", "updated_at", "submitted_at"]
    list_filter = ["status", "themes", "branch"]
    search_fields = ["title", "tagline", "branch__name"]
    list_select_related = ["branch"]
    date_hierarchy = "updated_at"


@admin.register(CaseRevision)
class CaseRevisionAdmin(ReadOnlyAdmin):
    list_display = ["title", "number", "branch_name", "submitted_by", "created_at"]
    search_fields = ["title", "branch_name"]
    list_select_related = ["submitted_by"]


@admin.register(EditorImage)
class EditorImageAdmin(ReadOnlyAdmin):
    list_display = ["image", "width", "height", "uploaded_by", "created_at"]
    list_select_related = ["uploaded_by"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class CaseHubUserAdmin(UserAdmin):
    inlines = [UserMembershipInline]
