"""Every date a user can type stays inside the site's range (casehub.dates)."""

import datetime
import importlib
import inspect

import django_filters
import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.forms import CampaignForm, ExtensionForm
from campaigns.models import Campaign, Extension
from casehub.dates import (
    EARLIEST,
    TypedDateValidator,
    date_in_range,
    latest_date,
    out_of_range_message,
)
from review.filters import ReviewQueueFilter
from showcase.forms import IssuePlanForm
from showcase.models import Issue
from stats.forms import PeriodForm
from submissions.models import Case
from tests.showcase.factories import people, series
from tests.submissions.factories import signed_in

pytestmark = pytest.mark.django_db

APPS = ["campaigns", "casehub", "exports", "review", "showcase", "stats", "submissions"]
OUT_OF_RANGE = ["0001-01-01", "9999-12-31", "1999-12-31"]


def _in_range_day() -> str:
    return (timezone.localdate() + datetime.timedelta(days=30)).isoformat()


@pytest.fixture
def context():
    who = people()
    the_series = series()
    campaign = Campaign.objects.create(
        title="年度案例征集",
        series=the_series,
        opens_on=timezone.localdate(),
        closes_on=timezone.localdate() + datetime.timedelta(days=10),
        created_by=who.editor,
    )
    campaign.branches.add(who.branch)
    return {"who": who, "series": the_series, "campaign": campaign}


# (name, form built from the typed value, the field whose error is expected,
# how the value is typed). Every form and filter with a date is here; the
# inventory test below fails when one is added without a row.
def _plan(ctx, value):
    return IssuePlanForm(
        {"series": ctx["series"].pk, "scheduled_at": value, "take_from_queue": 1}
    )


def _campaign(field):
    def build(ctx, value):
        data = {
            "title": "征集",
            "series": ctx["series"].pk,
            "opens_on": timezone.localdate().isoformat(),
            "closes_on": latest_date().isoformat(),
        }
        data[field] = value
        if field == "opens_on" and value > data["closes_on"]:
            data["closes_on"] = value
        return CampaignForm(data)

    return build


def _extension(ctx, value):
    return ExtensionForm(
        {"branch": ctx["who"].branch.pk, "until": value}, campaign=ctx["campaign"]
    )


def _period(field):
    def build(ctx, value):
        return PeriodForm({field: value})

    return build


def _queue_filter(suffix):
    def build(ctx, value):
        return ReviewQueueFilter(
            {f"submitted_{suffix}": value}, queryset=Case.objects.none()
        ).form

    return build


DATE_INPUTS = [
    ("showcase.IssuePlanForm.scheduled_at", _plan, "scheduled_at", "{}T09:00"),
    ("campaigns.CampaignForm.opens_on", _campaign("opens_on"), "opens_on", "{}"),
    ("campaigns.CampaignForm.closes_on", _campaign("closes_on"), "closes_on", "{}"),
    ("campaigns.ExtensionForm.until", _extension, "until", "{}"),
    ("stats.PeriodForm.start", _period("start"), "start", "{}"),
    ("stats.PeriodForm.end", _period("end"), "end", "{}"),
    (
        "review.ReviewQueueFilter.submitted_after",
        _queue_filter("after"),
        "submitted",
        "{}",
    ),
    (
        "review.ReviewQueueFilter.submitted_before",
        _queue_filter("before"),
        "submitted",
        "{}",
    ),
]
INPUT_NAMES = [row[0] for row in DATE_INPUTS]


class DateInputTests:
    @pytest.mark.parametrize(
        ("name", "build", "field", "typed"),
        DATE_INPUTS,
        ids=[r[0] for r in DATE_INPUTS],
    )
    @pytest.mark.parametrize("day", OUT_OF_RANGE)
    def test_a_date_outside_the_calendar_is_refused_with_the_message(
        self, context, name, build, field, typed, day
    ):
        form = build(context, typed.format(day))
        assert not form.is_valid()
        assert out_of_range_message() in form.errors[field], form.errors
        assert "请选择 2000-01-01 至" in out_of_range_message()

    @pytest.mark.parametrize(
        ("name", "build", "field", "typed"),
        DATE_INPUTS,
        ids=[r[0] for r in DATE_INPUTS],
    )
    def test_a_date_inside_the_range_is_taken(self, context, name, build, field, typed):
        form = build(context, typed.format(_in_range_day()))
        assert field not in form.errors, form.errors

    def test_every_date_field_of_every_form_and_filter_has_a_row(self):
        """The inventory: a new date input without the range fails here."""
        found = set()
        for app in APPS:
            for part in ("forms", "filters"):
                try:
                    module = importlib.import_module(f"{app}.{part}")
                except ModuleNotFoundError:
                    continue
                for cls_name, cls in inspect.getmembers(module, inspect.isclass):
                    if cls.__module__ != module.__name__:
                        continue
                    for field_name, field in _fields_of(cls):
                        if _takes_a_date(field):
                            found.add(f"{app}.{cls_name}.{field_name}")
                            assert _bounded(field), f"{cls_name}.{field_name}"
        listed = {
            name.removesuffix("_after").removesuffix("_before")
            for name, *_rest in DATE_INPUTS
        }
        assert found == listed

    def test_the_browser_offers_only_dates_in_range(self):
        widget = IssuePlanForm().fields["scheduled_at"].widget
        assert widget.attrs["min"] == "2000-01-01T00:00"
        assert widget.attrs["max"].startswith(latest_date().isoformat())


def _fields_of(cls):
    if issubclass(cls, forms.BaseForm):
        return cls.base_fields.items()
    if issubclass(cls, django_filters.FilterSet):
        return [(name, f.field) for name, f in cls.base_filters.items()]
    return []


def _subfields(field):
    return getattr(field, "fields", None) or [field]


def _takes_a_date(field) -> bool:
    return any(
        isinstance(sub, forms.DateField | forms.DateTimeField)
        for sub in _subfields(field)
    )


def _bounded(field) -> bool:
    return all(
        any(isinstance(v, TypedDateValidator) for v in sub.validators)
        for sub in _subfields(field)
        if isinstance(sub, forms.DateField | forms.DateTimeField)
    )


class ModelDateTests:
    """The models carry the same rule, for the admin and any full_clean."""

    @pytest.mark.parametrize(
        ("model", "field"),
        [
            (Issue, "scheduled_at"),
            (Campaign, "opens_on"),
            (Campaign, "closes_on"),
            (Extension, "until"),
        ],
    )
    def test_the_field_refuses_the_ends_of_the_calendar(self, model, field):
        model_field = model._meta.get_field(field)
        for value in (datetime.date(1, 1, 1), datetime.date(9999, 12, 31)):
            with pytest.raises(ValidationError) as refused:
                model_field.run_validators(value)
            assert refused.value.messages == [out_of_range_message()]
        model_field.run_validators(EARLIEST)

    def test_a_time_is_judged_by_the_day_typed_not_converted(self):
        beijing = timezone.get_current_timezone()
        first = datetime.datetime(2000, 1, 1, 0, 0, tzinfo=beijing)
        assert date_in_range(first)  # 1999-12-31 16:00 in UTC, still fine
        assert not date_in_range(datetime.datetime(1, 1, 1, tzinfo=beijing))


class DatePagesTests:
    """The pages behind those forms: refused with the message, typing kept."""

    def test_a_call_cannot_open_in_year_one(self, context):
        client = signed_in(context["who"].editor)
        response = client.post(
            "/campaigns/new/",
            {
                "title": "年份错误的征集",
                "series": context["series"].pk,
                "opens_on": "0001-01-01",
                "closes_on": "9999-12-31",
            },
        )
        html = response.content.decode()
        assert "请选择 2000-01-01 至" in html
        assert 'value="0001-01-01"' in html and "年份错误的征集" in html
        assert not Campaign.objects.filter(title="年份错误的征集").exists()

    def test_an_extension_to_9999_is_refused(self, context):
        campaign = context["campaign"]
        client = signed_in(context["who"].editor)
        response = client.post(
            f"/campaigns/{campaign.pk}/extend/",
            {"branch": context["who"].branch.pk, "until": "9999-12-31"},
        )
        assert response.status_code == 400
        assert "请选择 2000-01-01 至" in response.content.decode()
        assert not Extension.objects.exists()

    def test_the_review_queue_explains_a_date_outside_the_calendar(self, context):
        client = signed_in(context["who"].reviewer1)
        response = client.get("/review/?submitted_after=0001-01-01")
        assert response.status_code == 200
        assert "请选择 2000-01-01 至" in response.content.decode()

    @pytest.mark.parametrize(
        "url",
        [
            "/admin/campaigns/campaign/?closes_on__year=9999",
            "/admin/campaigns/campaign/?closes_on__year=0",
            "/admin/submissions/case/?updated_at__year=9999",
            "/admin/submissions/case/?updated_at__year=1",
        ],
    )
    def test_an_admin_date_drill_down_outside_the_calendar_is_a_bad_filter(
        self, admin_client, url
    ):
        response = admin_client.get(url)
        assert response.status_code == 302
        assert response.url.endswith("?e=1")

    def test_an_admin_date_drill_down_in_range_works(self, admin_client, context):
        year = context["campaign"].closes_on.year
        response = admin_client.get(
            f"/admin/campaigns/campaign/?closes_on__year={year}"
        )
        assert response.status_code == 200
        assert "年度案例征集" in response.content.decode()
