import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign

MAX_DAYS = 366 * 5
# Nothing happened on the site before this; dates far outside it cannot be
# turned into times at all (year 1 in UTC, the day after 9999-12-31).
EARLIEST = datetime.date(2000, 1, 1)


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
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
        default_start, default_end = self.default_period()
        start = data.get("start") or default_start
        end = data.get("end") or default_end
        latest = timezone.localdate() + datetime.timedelta(days=366)
        if start < EARLIEST or end > latest:
            raise ValidationError(
                _("Choose dates from %(earliest)s to %(latest)s.")
                % {"earliest": EARLIEST.isoformat(), "latest": latest.isoformat()}
            )
        if end < start:
            raise ValidationError(_("The period must end after it starts."))
        if (end - start).days > MAX_DAYS:
            raise ValidationError(_("Choose a period of at most five years."))
        data["start"], data["end"] = start, end
        return data
