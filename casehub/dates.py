"""The dates a user may type: one range for every form, filter and model field.

Django takes any date from year 1 to 9999, but the ends of that calendar do
harm here: 0001-01-01 00:00 in Beijing is a BC timestamp to PostgreSQL, which
Python then cannot read back, so one such row stops every page and job that
loads it; near 9999-12-31 a date cannot be turned into a time or moved to
another time zone. Nothing on the site happened before 2000, and nothing is
planned more than a few years ahead, so a date outside 2000-01-01 … ten years
from today is a typo, refused with a message before it reaches the database.
"""

import datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _
from django_filters.fields import DateRangeField, RangeField

# The site, and the cases it collects, are all from this century.
EARLIEST = datetime.date(2000, 1, 1)
# Calls for cases and issues are planned weeks or months ahead; ten years is
# far beyond that and far from the end of the calendar.
YEARS_AHEAD = 10


def latest_date(today: datetime.date | None = None) -> datetime.date:
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # 29 February, ten years on, is not a leap day
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def earliest_datetime() -> datetime.datetime:
    """The first moment of EARLIEST on the site's clock."""
    return timezone.make_aware(datetime.datetime.combine(EARLIEST, datetime.time.min))


def date_in_range(value: datetime.date | datetime.datetime) -> bool:
    # The calendar day the user typed: no time zone arithmetic, which is what
    # overflows at the ends of the calendar.
    day = value.date() if isinstance(value, datetime.datetime) else value
    return EARLIEST <= day <= latest_date()


def out_of_range_message() -> str:
    return _("Choose a date from %(earliest)s to %(latest)s.") % {
        "earliest": EARLIEST.isoformat(),
        "latest": latest_date().isoformat(),
    }


@deconstructible
class TypedDateValidator:
    """Refuse a date or time outside the range above (model and form fields)."""

    code = "date_out_of_range"

    def __call__(self, value):
        if value is not None and not date_in_range(value):
            raise ValidationError(out_of_range_message(), code=self.code)

    def __eq__(self, other):
        return isinstance(other, TypedDateValidator)

    def __hash__(self):
        return hash(self.code)


_INPUT_FORMATS = {"date": "%Y-%m-%d", "datetime-local": "%Y-%m-%dT%H:%M"}


def _range_attrs(widget, attrs: dict) -> dict:
    # The browser's own date picker then offers only the dates the server takes.
    # An input keeps its type apart; a pair of them (django-filter's) in attrs.
    kind = getattr(widget, "input_type", None) or widget.attrs.get("type")
    fmt = _INPUT_FORMATS.get(kind)
    if fmt:
        last = datetime.datetime.combine(latest_date(), datetime.time(23, 59))
        attrs.setdefault("min", EARLIEST.strftime(fmt))
        attrs.setdefault("max", last.strftime(fmt))
    return attrs


class TypedDateField(forms.DateField):
    """A date a user types, within the site's range."""

    default_validators = [TypedDateValidator()]

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        )
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        return _range_attrs(widget, super().widget_attrs(widget))


class TypedDateTimeField(forms.DateTimeField):
    """A date and time a user types, within the site's range."""

    default_validators = [TypedDateValidator()]

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        )
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        return _range_attrs(widget, super().widget_attrs(widget))


class TypedDateRangeField(DateRangeField):
    """django-filter's from–to date pair, each end within the site's range."""

    def __init__(self, *args, **kwargs):
        # DateRangeField's own __init__ would make plain DateFields.
        fields = (TypedDateField(), TypedDateField())
        RangeField.__init__(self, fields, *args, **kwargs)

    def widget_attrs(self, widget):
        return _range_attrs(widget, super().widget_attrs(widget))


class TypedDateFromToRangeFilter(django_filters.DateFromToRangeFilter):
    field_class = TypedDateRangeField
