from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Decision


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Decision"), choices=Decision.Outcome.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Required when returning or rejecting; the branch reads it."),
    )
    # What the reviewer was looking at; if the case moved on meanwhile, the
    # decision is refused instead of landing on something else.
    revision = forms.IntegerField(widget=forms.HiddenInput)
    stage = forms.IntegerField(widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        outcome = cleaned.get("outcome")
        needs_comment = outcome in (Decision.Outcome.RETURN, Decision.Outcome.REJECT)
        if needs_comment and not cleaned.get("comment", "").strip():
            self.add_error(
                "comment",
                ValidationError(
                    _("Say why: a return or a rejection needs a comment."),
                    code="comment_required",
                ),
            )
        return cleaned


class ReopenForm(forms.Form):
    comment = forms.CharField(
        label=_("Reason"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The branch reads this with the reopened case."),
    )
