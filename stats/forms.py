import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign
from casehub.dates import TypedDateField

MAX_DAYS = 366 * 5


class PeriodForm(forms.Form):
    start = TypedDateField(label=_("From"), required=False)
    end = TypedDateField(label=_("To"), required=False)
    campaign = forms.ModelChoiceField(
        label=_("Call for cases"),
        queryset=Campaign.objects.order_by("-opens_on", "-pk"),
        required=False,
        empty_label=_("All cases"),
    )

    @staticmethod
    def default_period() -> tuple[datetime.date, datetime.date]:
        today = timezone.localdate()
        return today.replace(month=1, day=1), today

    def clean(self):
        data = super().clean()
        if self.has_error("start") or self.has_error("end"):
            return data  # the field's own message says what is wrong
        default_start, default_end = self.default_period()
        start = data.get("start") or default_start
        end = data.get("end") or default_end
        if end < start:
            raise ValidationError(_("The period must end after it starts."))
        if (end - start).days > MAX_DAYS:
            raise ValidationError(_("Choose a period of at most five years."))
        data["start"], data["end"] = start, end
        return data
