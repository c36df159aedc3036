from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from casehub.dates import TypedDateField
from submissions.models import Branch

from .models import Campaign


class CampaignForm(forms.ModelForm):
    branches = forms.ModelMultipleChoiceField(
        label=_("Expected organisations"),
        queryset=Branch.objects.filter(is_active=True).order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to expect every active organisation."),
    )

    class Meta:
        model = Campaign
        fields = ["title", "description", "series", "opens_on", "closes_on"]
        field_classes = {"opens_on": TypedDateField, "closes_on": TypedDateField}
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The form field reads its choices through the model's own relation.
        series = self.fields["series"]
        series.queryset = series.queryset.filter(is_active=True)
        self.fields["series"].empty_label = None
        if self.instance.pk:
            self.fields["branches"].initial = list(
                self.instance.branches.values_list("pk", flat=True)
            )

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_on"), data.get("closes_on")
        if opens and closes and closes < opens:
            raise ValidationError(
                {"closes_on": _("A call cannot close before it opens.")}
            )
        return data


class ExtensionForm(forms.Form):
    branch = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Branch.objects.none(), empty_label=None
    )
    until = TypedDateField(label=_("Submissions taken until"))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = campaign.branches.order_by("name")
