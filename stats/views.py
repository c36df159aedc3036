from operator import attrgetter, itemgetter

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views import View

from casehub.roles import RoleRequiredMixin
from casehub.tables import (
    COUNT,
    DAYS,
    FORMATS,
    PERCENT,
    YEAR_MONTH,
    Column,
    Table,
    table_response,
)

from . import charts
from .forms import PeriodForm
from .selectors import (
    Period,
    branch_figures,
    monthly_figures,
    stage_figures,
    totals,
)


class DashboardView(RoleRequiredMixin, View):
    required_role = "department"
    template_name = "stats/dashboard.html"

    def get(self, request):
        form = PeriodForm(request.GET or None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            period, campaign = Period(data["start"], data["end"]), data["campaign"]
        else:
            # Nothing chosen, or a choice that makes no sense: this year so
            # far, with the form's errors shown above the figures.
            period, campaign = Period(*PeriodForm.default_period()), None
            if not form.is_bound:
                form = PeriodForm(initial={"start": period.start, "end": period.end})
        rows = branch_figures(period=period, campaign=campaign)
        months = monthly_figures(period=period, campaign=campaign)
        stages = stage_figures(period=period, campaign=campaign)
        tables = {
            "branches": Table(
                title=_("By organisation"),
                columns=BRANCH_COLUMNS,
                rows=rows,
                empty=_("No organisation has figures for this period."),
            ),
            "stages": Table(
                title=_("Time in each stage"),
                columns=STAGE_COLUMNS,
                rows=stages,
                empty=_("No review stage is set up."),
            ),
            "months": Table(title=_("By month"), columns=MONTH_COLUMNS, rows=months),
        }
        wanted, fmt = request.GET.get("table"), request.GET.get("format")
        if wanted in tables and fmt in FORMATS:
            name = f"{tables[wanted].title}-{period.start}-{period.end}"
            return table_response(tables[wanted], fmt, name)
        context = {
            "form": form,
            "period": period,
            "campaign": campaign,
            "tables": tables,
            "total": tables["branches"].summary(totals(rows)),
            "charts": dashboard_charts(rows, months, stages),
            "query": request.GET.urlencode() if form.is_bound else "",
        }
        return render(request, self.template_name, context)


# One column each, read by the page, the downloads and the charts alike.
ORGANISATION = Column(_("Organisation"), lambda row: row.branch.name)
SUBMITTED = Column(_("Submitted"), attrgetter("submitted"), COUNT)
APPROVED = Column(_("Approved"), attrgetter("approved"), COUNT)
PUBLISHED = Column(_("Published"), attrgetter("published"), COUNT)
BRANCH_COLUMNS = [
    ORGANISATION,
    SUBMITTED,
    Column(_("Returned"), attrgetter("returned"), COUNT),
    Column(_("Rejected"), attrgetter("rejected"), COUNT),
    APPROVED,
    PUBLISHED,
    # approved ÷ (approved + rejected), as the note under the table says.
    Column(_("Approval rate"), attrgetter("approval_rate"), PERCENT),
    Column(_("Overdue now"), attrgetter("overdue"), COUNT),
    Column(_("Views"), attrgetter("views"), COUNT),
]

STAGE = Column(_("Stage"), lambda figures: figures.stage.name)
MEDIAN = Column(_("Median (days)"), attrgetter("median"), DAYS)
P90 = Column(_("90th percentile (days)"), attrgetter("p90"), DAYS)
STAGE_COLUMNS = [
    STAGE,
    Column(_("Stays ended"), attrgetter("count"), COUNT),
    MEDIAN,
    P90,
]

MONTH = Column(_("Month"), itemgetter("month"), YEAR_MONTH)
MONTH_COLUMNS = [
    MONTH,
    Column(_("Submitted"), itemgetter("submitted"), COUNT),
    Column(_("Approved"), itemgetter("approved"), COUNT),
    Column(_("Published"), itemgetter("published"), COUNT),
]


def series(columns, rows) -> list[charts.Series]:
    return [
        charts.Series(str(c.header), [c.number(row) for row in rows]) for c in columns
    ]


def dashboard_charts(rows, months, stages) -> dict:
    active = [r for r in rows if r.submitted or r.approved or r.published]
    month_series = series(MONTH_COLUMNS[1:], months)
    branch_series = series([SUBMITTED, APPROVED, PUBLISHED], active)
    stage_series = series([MEDIAN, P90], stages)
    return {
        "months": charts.column_chart(
            title=_("Cases by month"),
            categories=[MONTH.text(m) for m in months],
            series=month_series,
        ),
        "months_legend": charts.legend(month_series),
        "branches": charts.bar_chart(
            title=_("Cases by organisation"),
            categories=[ORGANISATION.text(r) for r in active],
            series=branch_series,
        )
        if active
        else "",
        "branches_legend": charts.legend(branch_series),
        "stages": charts.column_chart(
            title=_("Days in each stage"),
            categories=[STAGE.text(s) for s in stages],
            series=stage_series,
            height=220,
        ),
        "stages_legend": charts.legend(stage_series),
    }
