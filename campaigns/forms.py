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
        fields = [
            "title",
            "description",
            "series",
            "opens_on",
            "closes_on",
            "min_zishu",
            "max_zishu",
            "max_images",
        ]
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
        # The fewest characters above the most: Campaign.clean says so on
        # max_zishu, when the form hands the values to the model.
        return data


class CampaignSelect(forms.Select):
    """The calls a case can answer, each option carrying the call's limits for
    the 字数 counter under the editor (static/js/zishu.js)."""

    def create_option(self, name, value, label, selected, index, **kwargs):
        option = super().create_option(name, value, label, selected, index, **kwargs)
        campaign = getattr(value, "instance", None)
        if isinstance(campaign, Campaign) and campaign.has_limits:
            option["attrs"].update(
                {
                    "data-limits": campaign.limits_text,
                    "data-min-zishu": _blank_if_none(campaign.min_zishu),
                    "data-max-zishu": _blank_if_none(campaign.max_zishu),
                    "data-max-images": _blank_if_none(campaign.max_images),
                }
            )
        return option


def _blank_if_none(number: int | None) -> str:
    return "" if number is None else str(number)


class CampaignChoiceField(forms.ModelChoiceField):
    """A call to answer, named with its limits where the writer picks it."""

    widget = CampaignSelect

    def label_from_instance(self, campaign):
        if not campaign.has_limits:
            return campaign.title
        return _("%(title)s (%(limits)s)") % {
            "title": campaign.title,
            "limits": campaign.limits_text,
        }


class ExtensionForm(forms.Form):
    branch = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Branch.objects.none(), empty_label=None
    )
    until = TypedDateField(label=_("Submissions taken until"))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = campaign.branches.order_by("name")
