from django import forms
from django.utils.translation import gettext_lazy as _

from casehub.dates import TypedDateTimeField
from casehub.richtext import validate_richtext
from submissions.models import Case

from .models import Series


class IssuePlanForm(forms.Form):
    series = forms.ModelChoiceField(
        label=_("Series"),
        queryset=Series.objects.filter(is_active=True),
        empty_label=None,
    )
    scheduled_at = TypedDateTimeField(
        label=_("Publish at"), help_text=_("Beijing time.")
    )
    take_from_queue = forms.IntegerField(
        label=_("Cases from the front of the queue"),
        min_value=0,
        max_value=10,
        initial=1,
        help_text=_("Pinned cases first; held cases are skipped."),
    )


class IssueCaseAddForm(forms.Form):
    case = forms.ModelChoiceField(
        label=_("Case"), queryset=Case.objects.filter(status=Case.Status.APPROVED)
    )


class IssueCaseForm(forms.Form):
    case = forms.ModelChoiceField(queryset=Case.objects.all(), widget=forms.HiddenInput)


class IssueNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note of this issue"),
        required=False,
        max_length=5000,
        validators=[validate_richtext],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown above the cases; empty shows the series' editor's note."),
    )


class IssueUnpublishForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Readers of the issue's pages see this."),
    )


class QueueFlagForm(forms.Form):
    case = forms.ModelChoiceField(
        queryset=Case.objects.filter(status=Case.Status.APPROVED),
        widget=forms.HiddenInput,
    )
    value = forms.BooleanField(required=False, widget=forms.HiddenInput)
