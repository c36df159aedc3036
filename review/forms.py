from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import normalize_newlines
from django.utils.translation import gettext_lazy as _

from casehub.normalise import MAX_CHARS as MAX_RICH_TEXT

from .models import Decision, Note, NoteResponse, Score

# Also checked by the services (review.notes).
MAX_TEXT = 2000
MAX_QUOTE = 500


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


class NoteForm(forms.Form):
    """批注: a passage of the revision (filled in by static/js/notes.js from the
    reviewer's selection, or by a finding's button) and what to say of it."""

    field = forms.ChoiceField(choices=Note.Field.choices, widget=forms.HiddenInput)
    # Offsets in the visible text, which is never longer than the rich text
    # a body may be (casehub.normalise).
    start = forms.IntegerField(
        min_value=0, max_value=MAX_RICH_TEXT, widget=forms.HiddenInput
    )
    end = forms.IntegerField(
        min_value=1, max_value=MAX_RICH_TEXT, widget=forms.HiddenInput
    )
    quote = forms.CharField(max_length=MAX_QUOTE, strip=False, widget=forms.HiddenInput)
    text = forms.CharField(
        label=_("Note"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    suggestion = forms.CharField(
        label=_("Suggested text"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional: what the passage could say instead."),
    )

    def clean_quote(self):
        # A browser sends every line break of a form's values as "\r\n"; the
        # text the passage is looked for in has "\n" (review.anchors).
        return normalize_newlines(self.cleaned_data["quote"])

    def clean(self):
        cleaned = super().clean()
        if self.errors.keys() & {"field", "start", "end", "quote"}:
            # The hidden fields speak of the selection, not of themselves.
            for name in ("field", "start", "end", "quote"):
                self.errors.pop(name, None)
            raise ValidationError(
                _(
                    "Select a passage of the text (at most %(limit)d characters) "
                    "for the note."
                )
                % {"limit": MAX_QUOTE},
                code="selection",
            )
        return cleaned


class NoteReplyForm(forms.Form):
    kind = forms.ChoiceField(choices=NoteResponse.Kind.choices)
    text = forms.CharField(
        label=_("Answer"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ScoreForm(forms.Form):
    """One field per criterion of the stage's rubric, within its scale."""

    kind = forms.ChoiceField(
        label=_("Your verdict"),
        choices=Score.Kind.choices,
        initial=Score.Kind.SCORED,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, criteria, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for criterion in self.criteria:
            self.fields[f"criterion_{criterion.pk}"] = forms.IntegerField(
                label=criterion.name,
                required=False,
                min_value=0,
                max_value=criterion.scale_max,
                help_text=_("Weight %(weight)d, from 0 to %(max)d.")
                % {"weight": criterion.weight, "max": criterion.scale_max},
            )

    def criterion_fields(self):
        return [self[f"criterion_{criterion.pk}"] for criterion in self.criteria]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == Score.Kind.SCORED:
            for criterion in self.criteria:
                name = f"criterion_{criterion.pk}"
                if cleaned.get(name) is None and name not in self.errors:
                    self.add_error(
                        name,
                        ValidationError(
                            _("Score every criterion."), code="criterion_missing"
                        ),
                    )
        return cleaned

    def points(self) -> dict[int, int]:
        return {
            criterion.pk: self.cleaned_data[f"criterion_{criterion.pk}"]
            for criterion in self.criteria
            if self.cleaned_data.get(f"criterion_{criterion.pk}") is not None
        }


class ReassignForm(forms.Form):
    new_scorer = forms.IntegerField(label=_("New scorer"))


class ScoringCloseForm(forms.Form):
    """An editor returns or rejects a case waiting at a scoring stage."""

    outcome = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (Decision.Outcome.RETURN, Decision.Outcome.RETURN.label),
            (Decision.Outcome.REJECT, Decision.Outcome.REJECT.label),
        ],
    )
    comment = forms.CharField(
        label=_("Reason"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The branch reads it."),
    )
    # The round the editor was looking at: if the case moved on meanwhile,
    # the decision is refused instead of landing on another round.
    revision = forms.IntegerField(widget=forms.HiddenInput)


class ScoredAcceptForm(forms.Form):
    campaign = forms.IntegerField(required=False, widget=forms.HiddenInput)
    count = forms.IntegerField(label=_("How many"), min_value=1, max_value=500)
