from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views import View

from campaigns.views import DepartmentRequiredMixin
from casehub.tables import FORMATS, Table, table_response

from . import charts
from .forms import PeriodForm
from .selectors import (
    Period,
    branch_figures,
    monthly_figures,
    stage_figures,
    totals,
)


def days(duration) -> float | None:
    return None if duration is None else round(duration.total_seconds() / 86400, 1)


def percent(rate) -> str:
    return "" if rate is None else f"{rate * 100:.0f}%"


class DashboardView(DepartmentRequiredMixin, View):
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
            "branches": branch_table(rows),
            "stages": stage_table(stages),
            "months": month_table(months),
        }
        wanted, fmt = request.GET.get("table"), request.GET.get("format")
        if wanted in tables and fmt in FORMATS:
            name = f"{tables[wanted].title}-{period.start}-{period.end}"
            return table_response(tables[wanted], fmt, name)
        context = {
            "form": form,
            "period": period,
            "campaign": campaign,
            "rows": rows,
            "total": totals(rows),
            "months": months,
            "stages": stages,
            "charts": dashboard_charts(rows, months, stages),
            "query": request.GET.urlencode() if form.is_bound else "",
        }
        return render(request, self.template_name, context)


def branch_table(rows) -> Table:
    return Table(
        title=_("By organisation"),
        columns=[
            _("Organisation"),
            _("Submitted"),
            _("Returned"),
            _("Rejected"),
            _("Approved"),
            _("Published"),
            _("Approval rate"),
            _("Overdue now"),
            _("Views"),
        ],
        rows=[
            [
                row.branch.name,
                row.submitted,
                row.returned,
                row.rejected,
                row.approved,
                row.published,
                percent(row.approval_rate),
                row.overdue,
                row.views,
            ]
            for row in rows
        ],
    )


def stage_table(stages) -> Table:
    return Table(
        title=_("Time in each stage"),
        columns=[
            _("Stage"),
            _("Stays ended"),
            _("Median (days)"),
            _("90th percentile (days)"),
        ],
        rows=[[s.stage.name, s.count, days(s.median), days(s.p90)] for s in stages],
    )


def month_table(months) -> Table:
    return Table(
        title=_("By month"),
        columns=[_("Month"), _("Submitted"), _("Approved"), _("Published")],
        rows=[
            [
                m["month"].strftime("%Y-%m"),
                m["submitted"],
                m["approved"],
                m["published"],
            ]
            for m in months
        ],
    )


def dashboard_charts(rows, months, stages) -> dict:
    active = [r for r in rows if r.submitted or r.approved or r.published]
    month_labels = [date_format(m["month"], "Y-m") for m in months]
    month_series = [
        charts.Series(_("Submitted"), [m["submitted"] for m in months]),
        charts.Series(_("Approved"), [m["approved"] for m in months]),
        charts.Series(_("Published"), [m["published"] for m in months]),
    ]
    branch_series = [
        charts.Series(_("Submitted"), [r.submitted for r in active]),
        charts.Series(_("Approved"), [r.approved for r in active]),
        charts.Series(_("Published"), [r.published for r in active]),
    ]
    stage_series = [
        charts.Series(_("Median (days)"), [days(s.median) or 0 for s in stages]),
        charts.Series(_("90th percentile (days)"), [days(s.p90) or 0 for s in stages]),
    ]
    return {
        "months": charts.column_chart(
            title=_("Cases by month"), categories=month_labels, series=month_series
        ),
        "months_legend": charts.legend(month_series),
        "branches": charts.bar_chart(
            title=_("Cases by organisation"),
            categories=[r.branch.name for r in active],
            series=branch_series,
        )
        if active
        else "",
        "branches_legend": charts.legend(branch_series),
        "stages": charts.column_chart(
            title=_("Days in each stage"),
            categories=[s.stage.name for s in stages],
            series=stage_series,
            height=220,
        ),
        "stages_legend": charts.legend(stage_series),
    }
