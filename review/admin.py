from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from casehub.admin import ReadOnlyAdmin
from casehub.exceptions import CaseActionError

from .models import (
    CaseEvent,
    Criterion,
    Decision,
    ReviewStage,
    Score,
    ScoreAssignment,
    StageEvent,
)
from .stages import (
    STAGE_FIELDS,
    StageInUse,
    scoring_setup_problems,
    stage_create,
    stage_deactivation_check,
    stage_update,
)


class ReviewStageForm(forms.ModelForm):
    """Says why a stage cannot be deactivated, with what the admin typed kept.

    The service checks again under the stage's lock when it saves.
    """

    class Meta:
        model = ReviewStage
        fields = list(STAGE_FIELDS)

    def clean(self):
        data = super().clean()
        stage = self.instance
        deactivating = stage.pk is not None and data.get("is_active") is False
        if deactivating and "is_active" in self.changed_data:
            try:
                stage_deactivation_check(stage=stage)
            except StageInUse as refusal:
                raise ValidationError(refusal.message, code="stage_in_use") from None
        # The service checks again when it saves (review.stages).
        problems = scoring_setup_problems(
            kind=data.get("kind"),
            reviewer_group=data.get("reviewer_group"),
            scorers_per_case=data.get("scorers_per_case"),
        )
        for name, message in problems.items():
            if name not in self.errors:
                self.add_error(name, ValidationError(message, code="scoring_setup"))
        return data


class CriterionFormSet(forms.BaseInlineFormSet):
    """A scoring stage has at least one criterion, each with a weight above 0."""

    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        for form in kept:
            if (form.cleaned_data.get("weight") or 0) <= 0:
                form.add_error(
                    "weight",
                    ValidationError(_("A weight is above 0."), code="weight"),
                )
            if (form.cleaned_data.get("scale_max") or 0) <= 0:
                form.add_error(
                    "scale_max",
                    ValidationError(_("The highest score is above 0."), code="scale"),
                )
        kind = self.data.get("kind", getattr(self.instance, "kind", ""))
        if kind == ReviewStage.Kind.SCORING and not kept:
            raise ValidationError(
                _("A scoring stage needs at least one criterion."),
                code="no_criteria",
            )


class CriterionInline(admin.TabularInline):
    model = Criterion
    formset = CriterionFormSet
    extra = 1
    fields = ["order", "name", "weight", "scale_max"]


@admin.register(ReviewStage)
class ReviewStageAdmin(admin.ModelAdmin):
    """Every save goes through review.stages, on the change form and the list."""

    form = ReviewStageForm
    inlines = [CriterionInline]
    list_display = [
        "position",
        "name",
        "reviewer_group",
        "due_in_days",
        "resume_after_return",
        "is_active",
        "kind",
    ]
    list_display_links = ["name"]
    list_editable = ["position", "due_in_days", "resume_after_return", "is_active"]
    list_select_related = ["reviewer_group"]

    def get_changelist_form(self, request, **kwargs):
        kwargs.setdefault("form", ReviewStageForm)
        return super().get_changelist_form(request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            stage_update(
                stage=obj,
                acting_user=request.user,
                **{
                    name: form.cleaned_data[name]
                    for name in form.changed_data
                    if name in STAGE_FIELDS
                },
            )
            obj.refresh_from_db()
            return
        created = stage_create(
            acting_user=request.user,
            **{name: form.cleaned_data[name] for name in STAGE_FIELDS},
        )
        obj.pk = created.pk
        obj._state.adding = False

    def changeform_view(self, request, *args, **kwargs):
        return self._refused_as_message(
            request, super().changeform_view, request, *args, **kwargs
        )

    def changelist_view(self, request, *args, **kwargs):
        return self._refused_as_message(
            request, super().changelist_view, request, *args, **kwargs
        )

    def _refused_as_message(self, request, view, *args, **kwargs):
        # A case can arrive between the form's check and the locked save: the
        # admin's transaction is rolled back and the admin told why.
        try:
            return view(*args, **kwargs)
        except CaseActionError as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(StageEvent)
class StageEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "stage", "action", "actor", "changes"]
    list_filter = ["action", "stage"]
    search_fields = ["stage__name", "actor__username"]
    list_select_related = ["stage", "actor"]


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


@admin.register(ScoreAssignment)
class ScoreAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "case", "stage", "scorer", "reminded_at"]
    list_filter = ["stage"]
    list_select_related = ["case", "stage", "scorer"]


@admin.register(Score)
class ScoreAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "case", "stage", "scorer", "kind", "total"]
    list_filter = ["kind", "stage"]
    list_select_related = ["case", "stage", "scorer"]
