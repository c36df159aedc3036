"""The dictionaries in the admin: every save and delete goes through the
services, so an admin's edit is audited and re-checks revisions like an
import. Who may do what is the admin's own model permissions."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casehub.admin import ReadOnlyAdmin

from .models import (
    BuiltinCheck,
    FindingOverride,
    RevisionCheck,
    Term,
    TermEvent,
    dictionary_version,
)
from .services import (
    builtin_mode_save,
    term_save,
    terms_delete,
    terms_export,
    terms_import,
    terms_read,
)
from .terms_csv import MAX_BYTES


class TermImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "UTF-8, first row kind,term,replacement,severity,note. Entries with "
            "the same kind and term are replaced; nothing is deleted."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(
                _("The file is larger than %(max)d MB.") % {"max": MAX_BYTES // 2**20},
                code="too_big",
            )
        self.rows = terms_read(upload.read())
        return upload


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    list_display = ["term", "kind", "replacement", "severity", "updated_at"]
    list_filter = ["kind", "severity"]
    search_fields = ["term", "replacement", "note"]
    fields = ["kind", "term", "replacement", "severity", "note"]
    change_list_template = "admin/textcheck/term/change_list.html"

    def get_urls(self):
        own = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="textcheck_term_import",
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="textcheck_term_export",
            ),
        ]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "dictionary_version": dictionary_version(),
            "may_import": self.has_add_permission(request)
            and self.has_change_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        saved = term_save(
            kind=obj.kind,
            term=obj.term,
            replacement=obj.replacement,
            severity=obj.severity,
            note=obj.note,
            acting_user=request.user,
            current=obj if change else None,
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        terms_delete(terms=[obj], acting_user=request.user)

    def delete_queryset(self, request, queryset):
        terms_delete(terms=list(queryset), acting_user=request.user)

    def import_view(self, request):
        if not (
            self.has_add_permission(request) and self.has_change_permission(request)
        ):
            raise PermissionDenied
        form = TermImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                counts = terms_import(rows=form.rows, acting_user=request.user)
            except ValidationError as error:
                for message in error.messages:
                    form.add_error("file", message)
            else:
                self.message_user(
                    request,
                    _(
                        "Imported: %(added)d added, %(changed)d changed, "
                        "%(unchanged)d unchanged."
                    )
                    % counts,
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:textcheck_term_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import dictionary terms"),
            "form": form,
        }
        return TemplateResponse(request, "admin/textcheck/term/import.html", context)

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="terms.csv"'
        terms_export(response)
        return response


@admin.register(TermEvent)
class TermEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "kind", "term", "version", "actor"]
    list_filter = ["action", "kind"]
    search_fields = ["term", "actor__username"]
    list_select_related = ["actor"]


@admin.register(BuiltinCheck)
class BuiltinCheckAdmin(admin.ModelAdmin):
    list_display = ["kind", "mode"]
    list_editable = ["mode"]
    fields = ["kind", "mode"]
    readonly_fields = ["kind"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        builtin_mode_save(kind=obj.kind, mode=obj.mode, acting_user=request.user)


@admin.register(RevisionCheck)
class RevisionCheckAdmin(ReadOnlyAdmin):
    list_display = ["revision", "version", "checked_at"]
    list_select_related = ["revision"]
    search_fields = ["revision__title"]


@admin.register(FindingOverride)
class FindingOverrideAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "revision", "field", "kind", "term", "actor"]
    list_filter = ["kind"]
    list_select_related = ["revision", "actor"]
    search_fields = ["term", "reason"]
